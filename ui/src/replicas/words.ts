// The Replicas page's words: where each number comes from, a replica's lag line, and what
// its replay button may do.

import type { NodeStatus, Privileges } from '../lib/bindings';
import { bytes, duration } from '../lib/format';
import { tlsFact } from '../lib/status';

export const LAG_SOURCE =
  'Replay lag: pg_stat_replication.replay_lag on the primary (now() − pg_last_xact_replay_timestamp() only while the replica is behind).';
export const BYTES_SOURCE = 'Bytes behind: primary pg_current_wal_lsn() − replica pg_last_wal_replay_lsn().';

/** Up to this many replicas, one chart each; past it, combined charts and small multiples. */
export const PER_REPLICA_MAX = 4;

/** `lag 850 ms · 12.4 MiB behind · timeline 1 · TLSv1.3`, or why there is no lag. */
export function lagLine(n: NodeStatus): string {
  const tls = tlsFact(n);
  const tli = (n.timeline_id !== null ? ` · timeline ${n.timeline_id}` : '') + (tls ? ` · ${tls.word}` : '');
  if (n.state === 'down') return 'lag unknown';
  if (n.state === 'promoted') return `no replay lag: promoted, out of recovery, it replays nothing${tli}`;
  return `lag ${duration(n.replay_lag_ms)} · ${bytes(n.lag_bytes)} behind${tli}`;
}

export interface ReplayControl {
  action: 'pause' | 'resume';
  label: string;
  /** Why the role may not (the privileges probe's reason); the button is then disabled. */
  denied: string | null;
  /** Why there is nothing to control (down, promoted). */
  noReplay: string | null;
  title: string;
}

/** The replay button: Resume on a paused replica, else Pause; disabled with the probe's reason. */
export function replayControl(n: NodeStatus | undefined, privileges: Privileges | null): ReplayControl {
  const paused = n?.state === 'paused';
  const allowed = privileges?.replay_control;
  const denied = allowed && !allowed.allowed ? (allowed.reason ?? "the profile's role may not control replay") : null;
  const noReplay =
    !n || n.state === 'down' || n.state === 'promoted' ? 'no WAL replay to control: the replica is down or out of recovery' : null;
  return {
    action: paused ? 'resume' : 'pause',
    label: paused ? 'Resume replay' : 'Pause replay',
    denied,
    noReplay,
    title:
      denied ??
      noReplay ??
      (paused ? 'Resume WAL replay (pg_wal_replay_resume())' : 'Pause WAL replay (pg_wal_replay_pause()): lag then grows with writes'),
  };
}
