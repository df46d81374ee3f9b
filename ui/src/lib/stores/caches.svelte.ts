// The caches as the console knows them (`overview`, then `caches`, `refresh_started` and
// `refresh_finished` events, and this window's own answers) and the actions on them: refresh,
// snapshot together, create or update, pause or resume, delete, and the monitored tables a
// query reads. Each action changes the list only once the backend answered; a failed one
// rejects with the `RpcError` and leaves the list as it was. Views are replaced, never
// changed in place, so whoever holds the old array keeps a consistent copy and every reader
// of `list` sees the change.

import type { Backend } from '../backend';
import type { CacheDefinition, CacheSpec, CachesSnapshot, CacheView, KeySuggestion, RefreshOutcome, RefreshRecord } from '../bindings';

export class CachesStore {
  list = $state.raw<CacheView[]>([]);
  /** Caches with a refresh asked from this window and not answered yet. */
  pending = $state.raw<ReadonlySet<string>>(new Set());

  constructor(private readonly backend: Backend) {}

  /** The view of one cache. */
  get(name: string): CacheView | undefined {
    return this.list.find((c) => c.status.name === name);
  }

  /** Whether a refresh of `name` is running (asked here, or anywhere per the backend). */
  isRefreshing(name: string): boolean {
    return this.pending.has(name) || !!this.get(name)?.refreshing;
  }

  /** Every cache anew (the `caches` answer or event). */
  replace(list: CacheView[]): void {
    this.list = list;
  }

  /** Asks for the list now (the watcher's reading may be a few seconds old). */
  async reread(): Promise<void> {
    this.replace(await this.backend.rpc({ method: 'caches' }));
  }

  /** A refresh started somewhere (`refresh_started`). */
  markRefreshing(name: string): void {
    this.#update(name, (v) => ({ ...v, refreshing: true }));
  }

  /** Records a refresh's outcome on its cache (from the rpc answer or an event). */
  recordOutcome(o: RefreshOutcome): void {
    this.#update(o.cache, (v) => ({ ...v, last_outcome: o, refreshing: false }));
  }

  /** A definition saved or paused here: shown at once (the next `caches` event confirms it). */
  applyDefinition(def: CacheDefinition): void {
    this.#update(def.name, (v) => ({
      ...v,
      status: { ...v.status, query: def.query, monitor: def.monitor, ttl_seconds: def.ttl_seconds, paused: def.paused },
      next_run_ms: def.paused ? null : v.next_run_ms,
    }));
  }

  /** A cache deleted here. */
  #forget(name: string): void {
    this.list = this.list.filter((c) => c.status.name !== name);
  }

  /** Marks refreshes asked from this window as running (or no longer). */
  setPending(names: readonly string[], on: boolean): void {
    const next = new Set(this.pending);
    for (const n of names) {
      if (on) next.add(n);
      else next.delete(n);
    }
    this.pending = next;
  }

  /**
   * Refreshes `name` (`force`: even when its sources did not change) and records the
   * outcome; rejects with the `RpcError` when the request failed. A refresh already running
   * is not asked twice (resolves with null).
   */
  async refresh(name: string, force: boolean): Promise<RefreshOutcome | null> {
    if (this.isRefreshing(name)) return null;
    this.setPending([name], true);
    try {
      const o = await this.backend.rpc({ method: 'refresh_cache', params: { name, force } });
      this.setPending([name], false);
      this.recordOutcome(o);
      return o;
    } catch (e) {
      this.setPending([name], false);
      throw e;
    }
  }

  /** Refreshes `names` from one PostgreSQL snapshot in one lake commit. */
  async snapshotTogether(names: readonly string[]): Promise<CachesSnapshot> {
    this.setPending(names, true);
    try {
      return await this.backend.rpc({ method: 'snapshot_caches', params: { names: [...names] } });
    } finally {
      this.setPending(names, false);
    }
  }

  /**
   * Defines a cache (`creating`: `create_cache`) or changes one (`update_cache`), and shows
   * the saved definition at once. A new cache has no view yet: the next `caches` answer or
   * event lists it.
   */
  async save(spec: CacheSpec, { creating }: { creating: boolean }): Promise<CacheDefinition> {
    const def = creating
      ? await this.backend.rpc({ method: 'create_cache', params: spec })
      : await this.backend.rpc({ method: 'update_cache', params: spec });
    this.applyDefinition(def);
    return def;
  }

  /** Pauses (or resumes) the scheduler's refreshes of `name` and shows the answer at once. */
  async setPaused(name: string, paused: boolean): Promise<CacheDefinition> {
    const def = await this.backend.rpc({ method: 'set_cache_paused', params: { name, paused } });
    this.applyDefinition(def);
    return def;
  }

  /** Deletes `name` (its definition, lake table, refresh records and settings) and drops it from the list. */
  async remove(name: string): Promise<void> {
    await this.backend.rpc({ method: 'delete_cache', params: { name } });
    this.#forget(name);
  }

  /** The tables `query` reads, by PostgreSQL's parser (rejects with `InvalidInput` when it does not parse). */
  suggestMonitor(query: string): Promise<string[]> {
    return this.backend.rpc({ method: 'suggest_monitor', params: { query } });
  }

  /** A key to propose for `query`: its GROUP BY or the primary key it keeps (`null`: none). */
  suggestKey(query: string): Promise<KeySuggestion | null> {
    return this.backend.rpc({ method: 'suggest_key', params: { query } });
  }

  /** What the cache's last refreshes wrote, newest first, each with its and the previous snapshot. */
  refreshes(name: string, limit = 20): Promise<RefreshRecord[]> {
    return this.backend.rpc({ method: 'cache_refreshes', params: { name, limit } });
  }

  /** Forgets everything (another profile was opened). */
  reset(): void {
    this.list = [];
    this.pending = new Set();
  }

  #update(name: string, f: (v: CacheView) => CacheView): void {
    this.list = this.list.map((c) => (c.status.name === name ? f(c) : c));
  }
}
