// Alerts: the `alerts` view once (active alerts, the kept history, the rules, the delivery
// targets), then `alert` events (fired, acknowledged, cleared) and `delivery` events keep it
// current. The top bar's count and the Alerts page read it from here; `acknowledge` is the
// one action. A fired alert is also passed to `onFired` (browser notifications in web mode).

import { type Backend, RpcError } from '../backend';
import type { Alert, AlertChange, AlertsView, DeliveryStatus } from '../bindings';

export class AlertsStore {
  view = $state.raw<AlertsView | null>(null);
  /** Why `alerts` failed, while no event has answered since. */
  error = $state.raw<RpcError | null>(null);
  /** Called with every fired alert (after it is recorded). */
  onFired: ((a: Alert) => void) | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly generation: () => number,
  ) {}

  /** Active alerts, newest first. */
  get active(): Alert[] {
    return this.view?.active ?? [];
  }

  /** Active alerts nobody acknowledged yet: the top bar's count. */
  get unacknowledged(): number {
    return this.active.filter((a) => a.acknowledged_at_ms === null).length;
  }

  async load(gen = this.generation()): Promise<void> {
    try {
      const v = await this.backend.rpc({ method: 'alerts' });
      if (gen !== this.generation()) return;
      this.view = v;
      this.error = null;
    } catch (e) {
      if (gen !== this.generation()) return;
      if (!this.view) this.error = RpcError.from(e);
    }
  }

  /** An `alert` event: the alert replaces its older self in the active list and the history. */
  record(c: AlertChange): void {
    const v = this.view;
    if (!v) {
      if (c.change === 'fired') this.onFired?.(c.alert);
      return;
    }
    const a = c.alert;
    const history = [a, ...v.history.filter((h) => h.id !== a.id)].sort((x, y) => y.id - x.id);
    const active =
      a.cleared_at_ms === null
        ? [a, ...v.active.filter((h) => h.id !== a.id)].sort((x, y) => y.id - x.id)
        : v.active.filter((h) => h.id !== a.id);
    this.view = { ...v, active, history };
    if (c.change === 'fired') this.onFired?.(a);
  }

  /** A `delivery` event. */
  recordDelivery(d: DeliveryStatus): void {
    const v = this.view;
    if (!v) return;
    const others = v.deliveries.filter((x) => !(x.kind === d.kind && x.target === d.target));
    this.view = { ...v, deliveries: [...others, d].sort((x, y) => x.kind.localeCompare(y.kind)) };
  }

  /** Acknowledges an active alert; rejects with the `RpcError` (`NotFound` once it cleared). */
  async acknowledge(id: number): Promise<void> {
    const a = await this.backend.rpc({ method: 'acknowledge_alert', params: { id } });
    this.record({ change: 'acknowledged', alert: a });
  }

  /**
   * Writes the rules into the profile's `[alerts]` and reopens it (a `profile_opened` event
   * follows); rejects with the `RpcError` (`InvalidInput` naming `alerts.KEY`).
   */
  async saveRules(rules: AlertsView['rules']): Promise<void> {
    this.view = await this.backend.rpc({ method: 'save_alert_rules', params: { rules } });
  }

  reset(): void {
    this.view = null;
    this.error = null;
  }
}
