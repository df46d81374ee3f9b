import { describe, expect, it } from 'vitest';
import type { NodeReplication, ReplicationReading, Slot, WalSender } from '../lib/bindings';
import { ReplicationStore } from '../lib/stores/replication.svelte';
import { ScriptedBackend, T0 } from '../test/fixtures';
import { pipelineLines } from './words';

const sender = (over: Partial<WalSender> = {}): WalSender => ({
  pid: 4242,
  application_name: 'replica1',
  client_addr: '127.0.0.1',
  state: 'streaming',
  sent_lsn: '0/3000148',
  write_lsn: '0/3000148',
  flush_lsn: '0/3000148',
  replay_lsn: '0/3000000',
  sent_lag_bytes: 0,
  write_lag_bytes: 0,
  flush_lag_bytes: 0,
  replay_lag_bytes: 328,
  write_lag_ms: 1,
  flush_lag_ms: 2,
  replay_lag_ms: 1200,
  sync_state: 'async',
  sync_priority: 0,
  reply_time: null,
  reply_age_ms: 400,
  backend_xmin_age: 3,
  ...over,
});

const replica = (over: Partial<NodeReplication> = {}): NodeReplication => ({
  name: 'replica1',
  role: 'replica',
  reachable: true,
  in_recovery: true,
  position: '0/3000148',
  flush_position: null,
  replay_lsn: '0/3000000',
  senders: [],
  upstream_sender: sender(),
  upstream: 'primary',
  receiver: {
    status: 'streaming',
    receive_start_lsn: '0/3000000',
    written_lsn: '0/3000148',
    flushed_lsn: '0/3000148',
    latest_end_lsn: '0/3000148',
    received_tli: 1,
    last_msg_send_time: null,
    last_msg_receipt_time: null,
    receipt_age_ms: 300,
    slot_name: null,
    sender_host: '127.0.0.1',
    sender_port: 5432,
    conninfo: 'user=postgres host=127.0.0.1 port=5432',
    stalled: null,
  },
  slots: [],
  conflicts: { snapshot: 2, lock: 1, bufferpin: 0, deadlock: 0, tablespace: 0, per_minute: null },
  settings: { hot_standby_feedback: true, max_standby_streaming_delay_ms: 30000, max_slot_wal_keep_size_bytes: -1, wal_keep_size_bytes: 0 },
  notes: [],
  error: null,
  ...over,
});

const slot = (name: string, over: Partial<Slot> = {}): Slot => ({
  name,
  slot_type: 'physical',
  plugin: null,
  database: null,
  temporary: false,
  active: false,
  active_pid: null,
  used_by: null,
  wal_status: 'reserved',
  safe_wal_size: null,
  restart_lsn: '0/1000000',
  confirmed_flush_lsn: null,
  retained_bytes: 33_554_432,
  xmin_age: null,
  catalog_xmin_age: null,
  inactive_since_ms: T0,
  ...over,
});

const reading = (at: number, nodes: NodeReplication[]): ReplicationReading => ({ taken_at_ms: at, nodes });

describe('a replica’s stream from both sides', () => {
  it('says what is behind at each step, the receiver and the conflicts', () => {
    expect(pipelineLines(replica())).toEqual([
      'behind the primary: sent 0 B · written 0 B · flushed 0 B · replayed 328 B · lag write 1 ms / flush 2 ms / replay 1.2 s · async · last reply 400 ms ago',
      'receiver streaming from 127.0.0.1:5432 · last message 300 ms ago · received 0/3000148 · replayed 0/3000000',
      'recovery conflicts 3 (snapshot 2, lock 1, buffer pin 0, deadlock 0) · hot_standby_feedback on · max_standby_streaming_delay 30 s',
      "holds the primary's xmin back by 3 transactions",
    ]);
  });
  it('reads a cascading replica’s stream from the replica it streams from', () => {
    const lines = pipelineLines(replica({ name: 'replica2', upstream: 'replica1' }), 'replica1');
    expect(lines?.[0]).toMatch(/^behind replica1: sent 0 B · /);
    expect(lines?.[3]).toBe("holds replica1's xmin back by 3 transactions");
  });
  it('says a lag PostgreSQL did not show as —, never as 0 ms', () => {
    const hidden = pipelineLines(replica({ upstream_sender: sender({ write_lag_ms: null, flush_lag_ms: null, replay_lag_ms: null }) }));
    expect(hidden?.[0]).toContain(' · replayed 328 B · lag write — / flush — / replay — · async');
    const some = pipelineLines(replica({ upstream_sender: sender({ write_lag_ms: null }) }));
    expect(some?.[0]).toContain(' · lag write — / flush 2 ms / replay 1.2 s · ');
  });
  it('says what is missing rather than inventing it', () => {
    const lines = pipelineLines(replica({ upstream_sender: null, receiver: null, conflicts: null }));
    expect(lines?.[0]).toBe('no node lists a WAL sender for it (neither the primary nor another replica)');
    expect(lines?.[1]).toBe('no WAL receiver running (pg_stat_wal_receiver is empty)');
    expect(pipelineLines(replica({ reachable: false }))).toBeNull();
    expect(pipelineLines(undefined)).toBeNull();
  });
});

describe('the replication store', () => {
  it('keeps the newest reading and lists every slot with its node', () => {
    const s = new ReplicationStore(new ScriptedBackend(), () => 1);
    const primary = replica({ name: 'primary', role: 'primary', slots: [slot('a'), slot('b', { active: true })] });
    s.record(reading(T0 + 1000, [primary, replica({ slots: [slot('c')] })]));
    s.record(reading(T0, [primary]));
    expect(s.reading?.taken_at_ms).toBe(T0 + 1000);
    expect(s.slots.map((x) => `${x.node}/${x.slot.name}`)).toEqual(['primary/a', 'primary/b', 'replica1/c']);
    expect(s.node('replica1')?.slots.length).toBe(1);
  });
  it('drops a slot through drop_slot and rejects with the backend’s error', async () => {
    const b = new ScriptedBackend().answer('drop_slot', {
      error: { code: 'Conflict', message: 'slot held is active (used by pg_receivewal)' },
    });
    const s = new ReplicationStore(b, () => 1);
    await expect(s.dropSlot('primary', 'held')).rejects.toMatchObject({ code: 'Conflict' });
    expect(b.calls.at(-1)).toEqual({ method: 'drop_slot', params: { node: 'primary', slot: 'held' } });
  });
});
