// Test data in the shapes the backend answers with, and a backend that answers from a script:
// each method's answers are queued (a value, an error, or a promise the test resolves later),
// and every request is recorded.

import { type Backend, type Method, type RequestOf, type ResultOf, RpcError } from '../lib/backend';
import type {
  CacheView,
  ErrorCode,
  Event,
  Job,
  LagSample,
  LakeStats,
  NodeRouting,
  NodeStatus,
  Overview,
  RefreshOutcome,
  Snapshot,
  Tick,
} from '../lib/bindings';

type Answer = unknown | { error: { code: ErrorCode; message: string } } | Promise<unknown>;

export class ScriptedBackend implements Backend {
  readonly notifiesNatively = false;
  readonly calls: { method: Method; params?: unknown }[] = [];
  readonly #answers = new Map<Method, Answer[]>();
  #listener: ((e: Event) => void) | null = null;

  /** Queues answers for `method` (the last one repeats). */
  answer<M extends Method>(
    method: M,
    ...answers: (ResultOf<M> | { error: { code: ErrorCode; message: string } } | Promise<ResultOf<M>>)[]
  ): this {
    this.#answers.set(method, [...(this.#answers.get(method) ?? []), ...answers]);
    return this;
  }

  async rpc<M extends Method>(req: RequestOf<M>): Promise<ResultOf<M>> {
    const params = 'params' in req ? (req as { params: unknown }).params : undefined;
    this.calls.push({ method: req.method, params });
    const queue = this.#answers.get(req.method);
    if (!queue?.length) throw new RpcError('Internal', `no scripted answer for ${req.method}`);
    const a = queue.length > 1 ? queue.shift() : queue[0];
    const v = await a;
    if (v && typeof v === 'object' && 'error' in v && v.error && typeof v.error === 'object' && 'code' in v.error) {
      const e = v.error as { code: ErrorCode; message: string };
      throw new RpcError(e.code, e.message);
    }
    return v as ResultOf<M>;
  }

  subscribe(cb: (e: Event) => void): () => void {
    this.#listener = cb;
    return () => {
      this.#listener = null;
    };
  }

  /** Delivers an event as the backend would. */
  emit(e: Event): void {
    this.#listener?.(e);
  }

  /** How many times `method` was asked. */
  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

/** A promise and the functions that settle it. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const T0 = Date.UTC(2026, 10, 22, 9, 14, 3);

export function node(name: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    name,
    role: name === 'primary' ? 'primary' : 'replica',
    reachable: true,
    state: name === 'primary' ? 'primary' : 'streaming',
    level: 'ok',
    lsn: '0/5611B90',
    receive_lsn: null,
    lag_bytes: 0,
    replay_lag_ms: name === 'primary' ? null : 0,
    write_lag_ms: null,
    flush_lag_ms: null,
    upstream: name === 'primary' ? null : 'primary',
    upstream_lag_bytes: name === 'primary' ? null : 0,
    upstream_replay_lag_ms: name === 'primary' ? null : 0,
    last_replay_at: null,
    timeline_id: 1,
    tls: null,
    error: null,
    ...over,
  };
}

export function sample(at: number, nodes: NodeStatus[] = [node('primary'), node('replica1'), node('replica2')]): LagSample {
  return { taken_at_ms: at, nodes };
}

/** A `tick` event of `s`, with an empty rotation and attention list unless given. */
export function tick(s: LagSample, over: Partial<Tick> = {}): Event {
  return {
    kind: 'tick',
    data: {
      lag: s,
      replication: null,
      routing: { read_splitting: true, policy: 'round_robin', all_out: false, fallbacks: 0, cache_reads: 0, nodes: [] },
      attention: [],
      ...over,
    },
  };
}

export function cache(name: string, over: Partial<CacheView> = {}): CacheView {
  return {
    status: {
      last_refresh: null,
      age_ms: null,
      state: 'fresh',
      state_error: null,
      checked_at_ms: T0,
      name,
      query: `SELECT * FROM ${name}_src`,
      monitor: [`${name}_src`],
      ttl_seconds: 60,
      created_at_ms: T0 - 3_600_000,
      paused: false,
      key: [],
    },
    stale_since_ms: null,
    refreshing: false,
    last_outcome: null,
    next_run_ms: T0 + 60_000,
    ...over,
  };
}

export function outcome(cacheName: string, result: RefreshOutcome['result'] = 'REFRESHED', snapshot: number | null = 8): RefreshOutcome {
  return { cache: cacheName, result, message: 'ok', rows: 4, duration_ms: 433, snapshot_id: snapshot, served_by: 'replica1', error: null };
}

export function job(id: number, state: Job['state'], over: Partial<Job> = {}): Job {
  return {
    id,
    kind: { kind: 'expire_snapshots', versions: [1] },
    title: `expire ${id} snapshots`,
    state,
    started_ms: T0,
    finished_ms: state === 'running' ? null : T0 + 130,
    result: state === 'done' ? { message: 'deleted 2 files (366592 bytes)', items: 2, bytes: 366592 } : null,
    error: state === 'failed' ? { code: 'Conflict', message: 'another maintenance operation runs' } : null,
    ...over,
  };
}

export function overview(over: Partial<Overview> = {}): Overview {
  return {
    profile: {
      name: 'sandbox',
      path: '/tmp/skein-sandbox/profile.toml',
      nodes: [
        { name: 'primary', role: 'primary', address: '127.0.0.1:5432' },
        { name: 'replica1', role: 'replica', address: '127.0.0.1:5433' },
        { name: 'replica2', role: 'replica', address: '127.0.0.1:5434' },
      ],
      lake_name: 'lake',
      lake_data_path: '/tmp/lake/',
      thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000, slot_wal_warning_bytes: 1073741824 },
    },
    lag: sample(T0),
    lake: { reachable: true, snapshots: 41, current_snapshot: 41, error: null, store: null, writers: [] },
    caches: [cache('pricing_summary'), cache('revenue_by_nation')],
    attention: [],
    privileges: [],
    ...over,
  };
}

/** A node's routing row as `routing` reports it: in rotation, weight 1, nothing served yet. */
export function routed(name: string, over: Partial<NodeRouting> = {}): NodeRouting {
  return {
    name,
    role: name === 'primary' ? 'primary' : 'replica',
    in_rotation: true,
    reason: null,
    configured_weight: 1,
    weight: 1,
    recovering_ms: null,
    lag_ms: 0,
    conflicts_per_minute: null,
    replay_lsn: null,
    reads: 0,
    writes: 0,
    retried: 0,
    ...over,
  };
}

/** A lake snapshot as `snapshots` lists it: a cache refresh by Skein, `20 - id` minutes before T0. */
export function snapshot(id: number, over: Partial<Snapshot> = {}): Snapshot {
  return {
    id,
    time_ms: T0 - (20 - id) * 60_000,
    time: '',
    schema_version: 1,
    changes: {},
    author: 'skein',
    commit_message: `refresh ${id}`,
    commit_extra_info: null,
    writer: null,
    schema_changes: [],
    ...over,
  };
}

/** `lake_stats`: 12 snapshots over two hours, some files reclaimable and some scheduled. */
export function lakeStats(over: Partial<LakeStats> = {}): LakeStats {
  return {
    snapshots: 12,
    oldest_snapshot: { id: 1, time_ms: T0 - 7_200_000 },
    newest_snapshot: { id: 12, time_ms: T0 },
    files: 30,
    bytes: 366_592,
    old_files: 3,
    old_bytes: 2048,
    scheduled_files: 2,
    scheduled_bytes: 4096,
    inlined_rows: 0,
    ...over,
  };
}
