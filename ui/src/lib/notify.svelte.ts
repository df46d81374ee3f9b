// Browser notifications of fired alerts in web mode (the desktop shell shows its own): asked
// for once by a click (browsers refuse a prompt nobody asked for), then one notification a
// fired alert, tagged by its id so a repeat replaces rather than piles up.

import type { Alert } from './bindings';

export type Permission = NotificationPermission | 'unsupported';

export class WebNotifications {
  permission = $state<Permission>(WebNotifications.current());

  static current(): Permission {
    return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  }

  /** Asks the browser (from a click); resolves with the answer. */
  async enable(): Promise<Permission> {
    if (typeof Notification === 'undefined') return 'unsupported';
    this.permission = await Notification.requestPermission();
    return this.permission;
  }

  /** Shows one fired alert, when allowed; returns whether it did. */
  show(a: Alert, text: { title: string; body: string }): boolean {
    if (this.permission !== 'granted' || typeof Notification === 'undefined') return false;
    new Notification(text.title, { body: text.body, tag: `skein-alert-${a.id}` });
    return true;
  }
}
