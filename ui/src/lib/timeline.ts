// The last hour of lag, in columns ready for uPlot: one shared time axis (seconds since
// the epoch; every node is sampled in the same tick) and, per node, replay lag in seconds
// and bytes behind. Filled once from `lag_history`, then one sample a second from `lag`
// events; the oldest samples fall off past the retention.

import type { LagHistory, LagSample, NodeRole } from './bindings';

export interface NodeColumns {
  name: string;
  role: NodeRole;
  /** Replay lag, seconds (`null`: unknown, drawn as a gap). */
  lag: (number | null)[];
  /** Bytes of WAL behind the primary. */
  bytes: (number | null)[];
}

export class LagTimeline {
  retentionS = 3600;
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
  }

  node(name: string): NodeColumns | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  private ensure(name: string, role: NodeRole): NodeColumns {
    let n = this.node(name);
    if (!n) {
      n = {
        name,
        role,
        lag: new Array<number | null>(this.t.length).fill(null),
        bytes: new Array<number | null>(this.t.length).fill(null),
      };
      this.nodes.push(n);
    }
    return n;
  }

  /** Replaces the contents with a `lag_history` answer, keeping newer samples already pushed. */
  load(h: LagHistory): void {
    this.retentionS = h.retention_s > 0 ? h.retention_s : 3600;
    const keepT = this.t.slice();
    const keep = this.nodes.map((n) => ({ ...n, lag: n.lag.slice(), bytes: n.bytes.slice() }));
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
        const lag = s.replay_lag_ms[i];
        const b = s.lag_bytes[i];
        col.lag[at] = lag === null || lag === undefined ? null : lag / 1000;
        col.bytes[at] = b === undefined ? null : b;
      });
    }
    // Samples that arrived while the history was on its way.
    const last = this.t.length ? this.t[this.t.length - 1]! : -Infinity;
    keepT.forEach((t, i) => {
      if (t <= last) return;
      this.t.push(t);
      for (const n of this.nodes) {
        const k = keep.find((x) => x.name === n.name);
        n.lag.push(k ? (k.lag[i] ?? null) : null);
        n.bytes.push(k ? (k.bytes[i] ?? null) : null);
      }
    });
    this.loaded = true;
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
      col.lag.push(n && n.replay_lag_ms !== null ? n.replay_lag_ms / 1000 : null);
      col.bytes.push(n ? n.lag_bytes : null);
    }
    this.trim();
    return true;
  }

  private trim(): void {
    if (!this.t.length) return;
    const cut = this.t[this.t.length - 1]! - this.retentionS;
    let k = 0;
    while (k < this.t.length && this.t[k]! < cut) k++;
    if (k === 0) return;
    this.t.splice(0, k);
    for (const n of this.nodes) {
      n.lag.splice(0, k);
      n.bytes.splice(0, k);
    }
  }
}
