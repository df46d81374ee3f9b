// The last hour of lag, in columns ready for uPlot: one shared time axis (seconds since
// the epoch; every node is sampled in the same tick) and, per node, replay, write and flush
// lag in seconds, bytes behind, and recovery conflicts (cumulative, and a minute). Filled
// once from `lag_history`, then one sample a tick from `tick` events (conflicts from the
// replication reading a tick carries once a second); the oldest samples fall off past the
// retention.
//
// Every sample of the last `fullS` seconds (5 minutes) is kept; an older one folds into the
// second it was taken in, as the backend's history does (crates/skein-console/src/history.rs):
// of a node's samples within a second the one with the greatest replay lag is kept, an unknown
// lag counting as the greatest and the newer winning a tie, and its time becomes the second's
// start. So a spike or an outage shorter than a second is never thinned away, and the charts
// show the points the backend's `lag_history` answers.

import type { LagHistory, LagSample, NodeRole, ReplicationReading } from './bindings';

export interface NodeColumns {
  name: string;
  role: NodeRole;
  /** Replay lag, seconds (`null`: unknown, drawn as a gap). */
  lag: (number | null)[];
  /** Bytes of WAL behind the primary. */
  bytes: (number | null)[];
  /** `pg_stat_replication.write_lag`, seconds (the network). */
  write: (number | null)[];
  /** `pg_stat_replication.flush_lag`, seconds (network and fsync). */
  flush: (number | null)[];
  /** Recovery conflicts since the statistics were reset (`pg_stat_database_conflicts`). */
  conflicts: (number | null)[];
  /** Recovery conflicts a minute at each sample, over the minute before it. */
  conflictRate: (number | null)[];
}

/** The columns a node keeps, each one value a sample. */
const COLUMNS = ['lag', 'bytes', 'write', 'flush', 'conflicts', 'conflictRate'] as const;

/** A rate needs counts at least this far apart, seconds (as the backend's). */
const RATE_MIN_SPAN_S = 5;
/** The window a rate is measured over, seconds. */
const RATE_WINDOW_S = 60;

const secs = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : ms / 1000);

/** Whether a 1-a-second series keeps `next` over `kept` (replay lags of one second). */
const keeps = (next: number | null | undefined, kept: number | null | undefined): boolean =>
  (next ?? Number.POSITIVE_INFINITY) >= (kept ?? Number.POSITIVE_INFINITY);

export class LagTimeline {
  retentionS = 3600;
  /** The newest seconds kept at full resolution. */
  fullS = 300;
  /** Samples before this index are thinned to one a second. */
  #fineStart = 0;
  /** Sample times, seconds since the epoch, oldest first. */
  readonly t: number[] = [];
  readonly nodes: NodeColumns[] = [];
  /** Whether `load` ran (before it, events are still kept). */
  loaded = false;

  /** Empties the timeline (another profile was opened). */
  reset(): void {
    this.t.length = 0;
    this.nodes.length = 0;
    this.loaded = false;
    this.#fineStart = 0;
  }

  node(name: string): NodeColumns | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  private ensure(name: string, role: NodeRole): NodeColumns {
    let n = this.node(name);
    if (!n) {
      const empty = () => new Array<number | null>(this.t.length).fill(null);
      n = { name, role, lag: empty(), bytes: empty(), write: empty(), flush: empty(), conflicts: empty(), conflictRate: empty() };
      this.nodes.push(n);
    }
    return n;
  }

  /** Replaces the contents with a `lag_history` answer, keeping newer samples already pushed. */
  load(h: LagHistory): void {
    this.retentionS = h.retention_s > 0 ? h.retention_s : 3600;
    this.fullS = h.full_resolution_s > 0 ? Math.min(h.full_resolution_s, this.retentionS) : 300;
    this.#fineStart = 0;
    const keepT = this.t.slice();
    const keep = this.nodes.map((n) => {
      const copy = { ...n };
      for (const c of COLUMNS) copy[c] = n[c].slice();
      return copy;
    });
    const times = new Set<number>();
    for (const n of h.nodes) for (const t of n.t_ms) times.add(t);
    const sorted = [...times].sort((a, b) => a - b);
    const index = new Map<number, number>();
    for (const [i, t] of sorted.entries()) index.set(t, i);
    this.t.length = 0;
    for (const t of sorted) this.t.push(t / 1000);
    this.nodes.length = 0;
    for (const s of h.nodes) {
      const col = this.ensure(s.name, s.role);
      s.t_ms.forEach((t, i) => {
        const at = index.get(t);
        if (at === undefined) return;
        const b = s.lag_bytes[i];
        col.lag[at] = secs(s.replay_lag_ms[i]);
        col.bytes[at] = b === undefined ? null : b;
        col.write[at] = secs(s.write_lag_ms?.[i]);
        col.flush[at] = secs(s.flush_lag_ms?.[i]);
        col.conflicts[at] = s.conflicts?.[i] ?? null;
      });
      for (let i = 0; i < col.conflicts.length; i++) col.conflictRate[i] = this.rateAt(col, i);
    }
    // Samples that arrived while the history was on its way.
    const last = this.t.length ? this.t[this.t.length - 1]! : -Infinity;
    keepT.forEach((t, i) => {
      if (t <= last) return;
      this.t.push(t);
      for (const n of this.nodes) {
        const k = keep.find((x) => x.name === n.name);
        for (const c of COLUMNS) n[c].push(k ? (k[c][i] ?? null) : null);
      }
    });
    this.loaded = true;
    this.thin();
    this.trim();
  }

  /** Appends one sample; false when it is not newer than the last one. */
  push(s: LagSample): boolean {
    const t = s.taken_at_ms / 1000;
    if (this.t.length && t <= this.t[this.t.length - 1]!) return false;
    for (const n of s.nodes) this.ensure(n.name, n.role);
    this.t.push(t);
    for (const col of this.nodes) {
      const n = s.nodes.find((x) => x.name === col.name);
      col.lag.push(secs(n?.replay_lag_ms));
      col.bytes.push(n ? n.lag_bytes : null);
      col.write.push(secs(n?.write_lag_ms));
      col.flush.push(secs(n?.flush_lag_ms));
      col.conflicts.push(null);
      col.conflictRate.push(null);
    }
    this.thin();
    this.trim();
    return true;
  }

  /**
   * Sets the newest sample's recovery conflicts from the replication reading of the same
   * tick (once a second) and the rate they make.
   */
  noteConflicts(r: ReplicationReading): void {
    const last = this.t.length - 1;
    if (last < 0) return;
    for (const n of r.nodes) {
      const col = this.node(n.name);
      if (!col || !n.conflicts) continue;
      col.conflicts[last] = n.conflicts.snapshot + n.conflicts.lock + n.conflicts.bufferpin + n.conflicts.deadlock + n.conflicts.tablespace;
      col.conflictRate[last] = this.rateAt(col, last);
    }
  }

  /** Conflicts a minute at sample `i`: from the oldest count within the minute before it. */
  private rateAt(col: NodeColumns, i: number): number | null {
    const now = col.conflicts[i];
    const t = this.t[i];
    if (now === null || now === undefined || t === undefined) return null;
    // The first sample within the window (times are sorted), then the first with a count.
    let lo = 0;
    let hi = i;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid]! < t - RATE_WINDOW_S) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < i; j++) {
      const tj = this.t[j]!;
      const cj = col.conflicts[j];
      if (cj === null || cj === undefined) continue;
      const span = t - tj;
      if (span < RATE_MIN_SPAN_S) return null;
      // A reset (or a restarted server) counts from zero again.
      return (Math.max(0, now - cj) * 60) / span;
    }
    return null;
  }

  /** Folds the samples that left the full-resolution window into their seconds. */
  private thin(): void {
    const n = this.t.length;
    if (!n) return;
    // In whole ms, as the backend compares (seconds carry float error).
    const ms = (i: number) => Math.round(this.t[i]! * 1000);
    const cut = ms(n - 1) - this.fullS * 1000;
    let r = this.#fineStart;
    let w = r;
    while (r < n && ms(r) < cut) {
      const sec = Math.floor(this.t[r]!);
      if (w > 0 && this.t[w - 1] === sec) {
        for (const col of this.nodes) {
          if (keeps(col.lag[r], col.lag[w - 1])) for (const c of COLUMNS) col[c][w - 1] = col[c][r]!;
        }
      } else {
        this.t[w] = sec;
        if (w !== r) for (const col of this.nodes) for (const c of COLUMNS) col[c][w] = col[c][r]!;
        w++;
      }
      r++;
    }
    if (r > w) {
      this.t.splice(w, r - w);
      for (const col of this.nodes) for (const c of COLUMNS) col[c].splice(w, r - w);
    }
    this.#fineStart = w;
  }

  private trim(): void {
    if (!this.t.length) return;
    const cut = this.t[this.t.length - 1]! - this.retentionS;
    let k = 0;
    while (k < this.t.length && this.t[k]! < cut) k++;
    if (k === 0) return;
    this.t.splice(0, k);
    for (const n of this.nodes) for (const c of COLUMNS) n[c].splice(0, k);
    this.#fineStart = Math.max(0, this.#fineStart - k);
  }
}
