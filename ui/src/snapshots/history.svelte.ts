// The lake's snapshot history as the Snapshots page walks it: pages of `snapshots {limit,
// before}` newest first ("Newer" / "Older" move along the `before` cursors walked so far),
// the error of the last read (the page shown stays readable), and whether the lake moved on
// while an older page is shown. A `lake` summary with a new current snapshot reloads the first
// page when it is the one shown. Answers to a superseded read are dropped.

import type { Backend } from '../lib/backend';
import type { LakeSummary, SnapshotPage } from '../lib/bindings';
import { HISTORY_PAGE } from './words';

export class SnapshotHistory {
  /** The page shown (`null` until the first answer). */
  page = $state.raw<SnapshotPage | null>(null);
  /** Why the last read failed (the page shown, if any, is the one before). */
  error = $state.raw<unknown>(null);
  /** A read is on its way. */
  loading = $state(false);
  /** The lake has snapshots newer than the first page, and an older page is shown. */
  newerWaiting = $state(false);
  /** The `before` cursors walked so far; the last one is shown (`null`: the newest page). */
  cursors = $state.raw<(number | null)[]>([null]);
  /** The lake's current (newest) snapshot as last seen. */
  current = $state<number | null>(null);
  /** Snapshots in the lake: the newest of the history's `total` and the lake summary's count. */
  total = $state<number | null>(null);

  #seq = 0;

  constructor(
    private readonly backend: Backend,
    lake: LakeSummary | null = null,
  ) {
    this.current = lake?.current_snapshot ?? null;
    this.total = lake?.snapshots ?? null;
  }

  /** The page number shown (1 = the newest). */
  get pageNumber(): number {
    return this.cursors.length;
  }

  get hasNewer(): boolean {
    return this.cursors.length > 1;
  }

  get hasOlder(): boolean {
    return this.page?.next_before !== null && this.page?.next_before !== undefined;
  }

  /** Reads the page the cursors point at. */
  async load(): Promise<void> {
    const seq = ++this.#seq;
    const before = this.cursors[this.cursors.length - 1] ?? null;
    this.loading = true;
    try {
      const p = await this.backend.rpc({ method: 'snapshots', params: { limit: HISTORY_PAGE, before } });
      if (seq !== this.#seq) return;
      this.page = p;
      this.error = null;
      this.total = p.total;
      if (this.cursors.length === 1) {
        this.current = p.snapshots[0]?.id ?? this.current;
        this.newerWaiting = false;
      }
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = e;
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  /** One page towards the newest. */
  newer(): Promise<void> {
    if (this.cursors.length <= 1) return Promise.resolve();
    this.cursors = this.cursors.slice(0, -1);
    return this.load();
  }

  /** One page towards the oldest. */
  older(): Promise<void> {
    const next = this.page?.next_before;
    if (next === null || next === undefined) return Promise.resolve();
    this.cursors = [...this.cursors, next];
    return this.load();
  }

  /** Back to the newest page (after an expiry, older pages may be gone). */
  newest(): Promise<void> {
    this.cursors = [null];
    return this.load();
  }

  /** The lake summary changed: a new current snapshot reloads the newest page when shown. */
  lakeChanged(lake: LakeSummary | null): void {
    if (!lake) return;
    if (lake.snapshots !== null) this.total = lake.snapshots;
    if (lake.reachable && !this.page && !this.loading) {
      void this.load();
      return;
    }
    const cur = lake.current_snapshot;
    if (cur === null || cur === this.current) return;
    if (this.cursors.length === 1) void this.load();
    else this.newerWaiting = true;
  }
}
