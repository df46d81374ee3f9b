// Maintenance jobs in the console's words: the title, what a finished job did (in IEC
// units), and how long it ran. DuckLake's maintenance functions report nothing until they
// return, so a running job shows its elapsed time, not a percentage.

import type { Job } from './bindings';
import { bytes, duration } from './format';

/** What a finished job did, in the console's units (`Deleted 2 files (358.2 KiB)`). */
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

/** How long a job ran (or has been running), ms. */
export function jobElapsed(job: Job, now = Date.now()): number {
  return Math.max(0, (job.finished_ms ?? now) - job.started_ms);
}

/** `4.2 s` while running, `took 130 ms` once finished. */
export function elapsedText(job: Job, now = Date.now()): string {
  const d = duration(jobElapsed(job, now));
  return job.state === 'running' ? d : `took ${d}`;
}

/** `2026-11-22 09:14:03 UTC` of the job's start (its tooltip). */
export function startedText(job: Job): string {
  return new Date(job.started_ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}
