// Where one maintenance area (expire, clean up, a compaction's job) stands: nothing shown, a
// dry run being read, its answer (a list, nothing to do, or an error), a preview a finished
// job made stale, or the job a confirm started, shown in place. Each request takes a sequence
// number: an answer to one the user moved on from is dropped.

import type { Job } from '../lib/bindings';

/** What the area shows; `T` is what a preview lists. */
export type View<T> =
  | { kind: 'idle' }
  | { kind: 'loading'; text: string }
  | { kind: 'failed'; error: unknown; action: string; retry: (() => void) | null; closable: boolean }
  | { kind: 'empty'; title: string; why: string }
  | { kind: 'list'; data: T; count: number }
  | { kind: 'stale'; why: string }
  | { kind: 'job'; id: number; focus: boolean };

export type Mode = 'idle' | 'loading' | 'preview' | 'job';

/** A confirm's answer: the job it started, and the request number it answers. */
export interface Started {
  seq: number;
  job: Job;
}

export class PreviewSection<T> {
  view = $state.raw<View<T>>({ kind: 'idle' });
  /** A confirm was sent and not answered yet (its job's end may arrive first). */
  starting = false;
  #seq = 0;

  get mode(): Mode {
    const k = this.view.kind;
    return k === 'loading' ? 'loading' : k === 'empty' || k === 'list' ? 'preview' : k === 'job' ? 'job' : 'idle';
  }

  /** The job shown in place, if any. */
  get job(): number | null {
    return this.view.kind === 'job' ? this.view.id : null;
  }

  /** Starts a request: shows `text` while it runs; returns its number for `current`. */
  loading(text: string): number {
    this.view = { kind: 'loading', text };
    return ++this.#seq;
  }

  /** The request numbered `seq` is still the one shown. */
  current(seq: number): boolean {
    return seq === this.#seq;
  }

  /** The number answers must carry to be shown now (a confirm's). */
  get seq(): number {
    return this.#seq;
  }

  /** Shows an answer (a list, nothing to do, an error) unless the user moved on. */
  show(seq: number, view: View<T>): boolean {
    if (seq !== this.#seq) return false;
    this.view = view;
    return true;
  }

  /** Shows something that is no request's answer (a refusal of the input, a started job). */
  set(view: View<T>): void {
    this.#seq++;
    this.view = view;
  }

  clear(): void {
    this.set({ kind: 'idle' });
  }

  /** A finished job made an open preview (or one being read) stale. */
  invalidate(why: string): void {
    if ((this.mode !== 'preview' && this.mode !== 'loading') || this.starting) return;
    this.set({ kind: 'stale', why });
  }

  /** Sends a confirm (`start` asks for the job); resolves with the job and what it answers. */
  async confirm(start: () => Promise<Job>): Promise<Started> {
    const seq = this.#seq;
    this.starting = true;
    try {
      return { seq, job: await start() };
    } finally {
      this.starting = false;
    }
  }

  /** Shows the job a confirm started, unless the user moved on; `focus`: the keyboard goes to it. */
  started(s: Started, focus: boolean): void {
    if (s.seq === this.#seq) this.set({ kind: 'job', id: s.job.id, focus });
  }
}
