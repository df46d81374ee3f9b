// The jobs tray for the Snapshots page (still built by hand): `components/JobsTray.svelte`
// mounted on the store's jobs, and the state badge the maintenance sections draw beside a job
// in place. The words are lib/jobs.ts's.

import { mount, unmount } from 'svelte';
import type { Job } from '../lib/bindings';
import JobsTray from '../lib/components/JobsTray.svelte';
import { h, spinner } from '../lib/dom';
import type { Store } from '../lib/store';

export { elapsedText, jobElapsed, jobResultText, jobTitle } from '../lib/jobs';

/** The state word with its icon (a colour is never the only cue). */
export function jobBadge(job: Job): HTMLElement {
  if (job.state === 'running') return h('span', { class: 'badge tone-info job-badge' }, spinner(), 'running');
  if (job.state === 'done')
    return h('span', { class: 'badge tone-ok job-badge' }, h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '✓'), 'done');
  return h('span', { class: 'badge tone-crit job-badge' }, h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '✕'), 'failed');
}

export interface JobsTrayHandle {
  el: HTMLElement;
  /** Nothing to do: the tray's elapsed times follow the clock (kept for the callers). */
  tick(): void;
  destroy(): void;
}

export function jobsTray(store: Store): JobsTrayHandle {
  const el = h('div', { class: 'page-host' });
  const tray = mount(JobsTray, {
    target: el,
    props: {
      get jobs() {
        return store.app.jobs.list;
      },
    },
  });
  return {
    el,
    tick() {},
    destroy() {
      void unmount(tray);
    },
  };
}
