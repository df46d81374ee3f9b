// The Replicas page's words: where each number comes from, a replica's lag line, and what
// its replay button may do.

import type { NodeReplication, NodeStatus, Privileges } from '../lib/bindings';
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

/**
 * The WAL sender's write/flush/replay lags: 0 ms at a step that has caught up (the backend says
 * so), "—" where PostgreSQL shows none (hidden without `pg_monitor`), never a 0 it did not read.
 */
function senderLags(s: { write_lag_ms: number | null; flush_lag_ms: number | null; replay_lag_ms: number | null }): string {
  return `lag write ${duration(s.write_lag_ms)} / flush ${duration(s.flush_lag_ms)} / replay ${duration(s.replay_lag_ms)}`;
}

/**
 * The stream from both sides, for a replica's card: bytes not yet sent, written, flushed and
 * replayed (the upstream's `pg_stat_replication`), the write/flush/replay lags, the sync state
 * and the reply's age; for a cascading replica (`cascadesFrom`) the same from the WAL sender
 * on the replica it streams from; then the replica's WAL receiver (`pg_stat_wal_receiver`) and its
 * upstream; then recovery conflicts and `hot_standby_feedback`. Null before a reading.
 */
export function pipelineLines(r: NodeReplication | undefined, cascadesFrom: string | null = null): string[] | null {
  if (!r?.reachable) return null;
  const out: string[] = [];
  const s = r.upstream_sender;
  const upstream = cascadesFrom ?? 'the primary';
  if (s) {
    out.push(
      `behind ${upstream}: sent ${bytes(s.sent_lag_bytes)} · written ${bytes(s.write_lag_bytes)} · flushed ${bytes(s.flush_lag_bytes)} · replayed ${bytes(s.replay_lag_bytes)}` +
        ` · ${senderLags(s)}` +
        ` · ${s.sync_state ?? 'sync state hidden'}${s.reply_age_ms !== null ? ` · last reply ${duration(s.reply_age_ms)} ago` : ''}`,
    );
  } else {
    out.push('no node lists a WAL sender for it (neither the primary nor another replica)');
  }
  const rx = r.receiver;
  if (rx) {
    const from = rx.sender_host ? ` from ${rx.sender_host}:${rx.sender_port ?? ''}` : '';
    out.push(
      `receiver ${rx.status ?? 'hidden'}${from}${rx.slot_name ? ` · slot ${rx.slot_name}` : ''}` +
        (rx.receipt_age_ms !== null ? ` · last message ${duration(rx.receipt_age_ms)} ago` : '') +
        (rx.written_lsn ? ` · received ${rx.written_lsn}` : '') +
        (r.replay_lsn ? ` · replayed ${r.replay_lsn}` : ''),
    );
  } else if (r.in_recovery) {
    out.push('no WAL receiver running (pg_stat_wal_receiver is empty)');
  }
  const c = r.conflicts;
  const set = r.settings;
  if (c || set) {
    const total = c ? c.snapshot + c.lock + c.bufferpin + c.deadlock + c.tablespace : null;
    out.push(
      (total !== null
        ? `recovery conflicts ${total} (snapshot ${c?.snapshot}, lock ${c?.lock}, buffer pin ${c?.bufferpin}, deadlock ${c?.deadlock})` +
          (c?.per_minute !== null && c?.per_minute !== undefined ? `, ${perMinute(c.per_minute)} over the last minute` : '')
        : '') +
        (set
          ? `${total !== null ? ' · ' : ''}hot_standby_feedback ${set.hot_standby_feedback ? 'on' : 'off'} · max_standby_streaming_delay ${set.max_standby_streaming_delay_ms < 0 ? 'forever' : duration(set.max_standby_streaming_delay_ms)}`
          : ''),
    );
  }
  if (s?.backend_xmin_age !== null && s?.backend_xmin_age !== undefined)
    out.push(`holds ${cascadesFrom ? `${cascadesFrom}'s` : "the primary's"} xmin back by ${s.backend_xmin_age} transactions`);
  return out;
}

/** A rate of recovery conflicts: `0.5 a minute`. */
export function perMinute(rate: number): string {
  return `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} a minute`;
}
