// The jobs tray: maintenance jobs newest first (`jobs`, then `job` events through the
// store), each with its state word — running (spinner and elapsed time), done (what it
// did), failed (code, message, "Copy details") — and when. DuckLake's maintenance
// functions report nothing until they return, so a running job shows its elapsed time,
// not a percentage.

import type { Job } from '../lib/bindings';
import { h, replace, setAttr, setText, spinner, syncList, timeAgo } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { bytes, duration } from '../lib/format';
import type { Store } from '../lib/store';

/** Jobs shown in the tray (the backend keeps the last 50). */
const SHOWN = 8;

/** What a finished job did, in the console's units (`deleted 2 files (358.2 KiB)`). */
export function jobResultText(job: Job): string {
  const r = job.result;
  if (!r) return '';
  // The backend writes raw bytes ("(366592 bytes)"); show them in IEC units.
  const text = r.message.replace(/\((\d+) bytes\)/, (_, n: string) => `(${bytes(Number(n))})`);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `expire 12 snapshots` → `Expire 12 snapshots`. */
export function jobTitle(job: Job): string {
  return job.title ? job.title.charAt(0).toUpperCase() + job.title.slice(1) : `Job ${job.id}`;
}

/** How long a job ran (or has been running). */
export function jobElapsed(job: Job, now = Date.now()): number {
  return Math.max(0, (job.finished_ms ?? now) - job.started_ms);
}

/** `4.2 s` while running, `took 130 ms` once finished. */
export function elapsedText(job: Job, now = Date.now()): string {
  const d = duration(jobElapsed(job, now));
  return job.state === 'running' ? d : `took ${d}`;
}

/** The state word with its icon (a colour is never the only cue). */
export function jobBadge(job: Job): HTMLElement {
  if (job.state === 'running') return h('span', { class: 'badge tone-info job-badge' }, spinner(), 'running');
  if (job.state === 'done')
    return h('span', { class: 'badge tone-ok job-badge' }, h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '✓'), 'done');
  return h('span', { class: 'badge tone-crit job-badge' }, h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '✕'), 'failed');
}

export interface JobsTray {
  el: HTMLElement;
  /** Updates the elapsed times of running jobs (call once a second). */
  tick(): void;
  destroy(): void;
}

export function jobsTray(store: Store): JobsTray {
  const list = h('ul', {
    class: 'job-list',
    dataset: { testid: 'jobs' },
    'aria-label': 'Maintenance jobs, newest first',
    'aria-live': 'polite',
  });
  const empty = h('p', { class: 'muted small job-empty' }, 'No maintenance jobs yet.');
  const more = h('p', { class: 'muted small' });
  const el = h('div', { class: 'jobs-tray' }, list, empty, more);

  const create = (job: Job): HTMLLIElement => {
    const li = h('li', { class: 'job', dataset: { jobId: String(job.id) } });
    return li;
  };

  const update = (li: HTMLLIElement, job: Job) => {
    // Redrawn only when the state changes, so a focused "Copy details" keeps its focus.
    if (li.dataset.jobState === job.state) {
      const t = li.querySelector<HTMLElement>('[data-elapsed]');
      if (t) setText(t, elapsedText(job));
      return;
    }
    setAttr(li, 'data-job-state', job.state);
    const started = new Date(job.started_ms).toISOString();
    const elapsed = elapsedText(job);
    replace(
      li,
      jobBadge(job),
      h('span', { class: 'job-title' }, jobTitle(job)),
      h(
        'span',
        { class: 'job-result small', title: job.state === 'done' ? jobResultText(job) : undefined },
        job.state === 'done' ? jobResultText(job) : '',
      ),
      h(
        'span',
        { class: 'job-time muted small nowrap', title: `job ${job.id}, started ${started.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` },
        h('span', { dataset: { elapsed: '' } }, elapsed),
        job.finished_ms !== null ? [' · ', timeAgo(job.finished_ms)] : null,
      ),
      job.state === 'failed' && job.error ? errorBox(job.error, jobTitle(job), { compact: true }) : null,
    );
  };

  const render = () => {
    const shown = store.jobs.slice(0, SHOWN);
    syncList(list, shown, (j) => String(j.id), create, update);
    empty.hidden = store.jobs.length > 0;
    list.hidden = store.jobs.length === 0;
    setText(more, store.jobs.length > SHOWN ? `and ${store.jobs.length - SHOWN} older jobs` : '');
  };

  const off = store.on('jobs', render);
  render();

  return {
    el,
    tick() {
      for (const job of store.jobs.slice(0, SHOWN)) {
        if (job.state !== 'running') continue;
        const t = list.querySelector<HTMLElement>(`li[data-job-id="${job.id}"] [data-elapsed]`);
        if (t) setText(t, elapsedText(job));
      }
    },
    destroy: off,
  };
}
