import { describe, expect, it } from 'vitest';
import type { Alert, AlertRules, AlertsView, ReplicationReading } from '../lib/bindings';
import { AlertsStore } from '../lib/stores/alerts.svelte';
import { LagTimeline } from '../lib/timeline';
import { ScriptedBackend } from '../test/fixtures';
import { activeFor, alertBadge, RULES } from './words';

const RULES_DEFAULT: AlertRules = {
  fire_after: 3,
  clear_after: 5,
  lag_ms: 30000,
  lag_bytes: 1073741824,
  node_down: true,
  promoted: true,
  slot_retained_bytes: 1073741824,
  slot_headroom_bytes: 1073741824,
  conflicts_per_minute: 1,
  xmin_age: 1000000,
  cache_stale_s: 600,
  cache_age_s: 0,
  refresh_failed: true,
  maintenance_failed: true,
};

const alert = (id: number, over: Partial<Alert> = {}): Alert => ({
  id,
  rule: 'slot_retained',
  subject: 'slot forgotten on primary',
  severity: 'warning',
  message: 'retains 2.0 MiB of WAL (alert at 1.0 MiB)',
  value: 2097152,
  threshold: 1048576,
  fired_at_ms: 1_000,
  acknowledged_at_ms: null,
  cleared_at_ms: null,
  ...over,
});

const view = (active: Alert[], history = active): AlertsView => ({
  active,
  history,
  rules: RULES_DEFAULT,
  deliveries: [],
  log_path: '/state/alerts/p.jsonl',
});

describe('AlertsStore', () => {
  it('keeps the active list and the history one truth through fired, acknowledged and cleared', async () => {
    const backend = new ScriptedBackend().answer('alerts', view([alert(1)]));
    const store = new AlertsStore(backend, () => 0);
    const fired: number[] = [];
    store.onFired = (a) => fired.push(a.id);
    await store.load(0);
    expect(store.active.map((a) => a.id)).toEqual([1]);
    store.record({ change: 'fired', alert: alert(2, { rule: 'node_down', severity: 'critical', subject: 'replica1' }) });
    expect(store.active.map((a) => a.id)).toEqual([2, 1]);
    expect(store.unacknowledged).toBe(2);
    expect(fired).toEqual([2]);
    backend.answer('acknowledge_alert', alert(1, { acknowledged_at_ms: 2_000 }));
    await store.acknowledge(1);
    expect(store.unacknowledged).toBe(1);
    expect(store.view?.history.find((a) => a.id === 1)?.acknowledged_at_ms).toBe(2_000);
    store.record({ change: 'cleared', alert: alert(2, { rule: 'node_down', cleared_at_ms: 9_000 }) });
    expect(store.active.map((a) => a.id)).toEqual([1]);
    expect(store.view?.history.map((a) => [a.id, a.cleared_at_ms])).toEqual([
      [2, 9_000],
      [1, null],
    ]);
    expect(fired).toEqual([2]);
  });

  it('replaces a delivery target by kind and target', async () => {
    const store = new AlertsStore(new ScriptedBackend().answer('alerts', view([])), () => 0);
    await store.load(0);
    const d = {
      kind: 'webhook',
      target: 'https://hooks.example',
      failing: true,
      last_error: 'HTTP 500',
      delivered: 0,
      dropped: 0,
      queued: 1,
      last_ok_ms: null,
    };
    store.recordDelivery(d);
    store.recordDelivery({ ...d, failing: false, last_error: null, delivered: 1, queued: 0, last_ok_ms: 5 });
    expect(store.view?.deliveries).toHaveLength(1);
    expect(store.view?.deliveries[0]?.failing).toBe(false);
  });
});

describe('alert words', () => {
  it('names every rule with its threshold, and off when turned off', () => {
    const lag = RULES.find((r) => r.rule === 'lag')!;
    expect(lag.threshold(RULES_DEFAULT)).toBe('≥ 30 s');
    expect(lag.threshold({ ...RULES_DEFAULT, lag_ms: 0 })).toBe('off');
    expect(RULES.find((r) => r.rule === 'slot_retained')!.threshold(RULES_DEFAULT)).toBe('≥ 1.0 GiB');
    expect(RULES).toHaveLength(12);
  });

  it('badges by severity until cleared, and counts how long it was active', () => {
    expect(alertBadge(alert(1, { severity: 'critical' })).tone).toBe('crit');
    expect(alertBadge(alert(1, { cleared_at_ms: 5_000 })).word).toBe('cleared');
    expect(activeFor(alert(1, { cleared_at_ms: 61_000 }), 999_999)).toBe('1 min');
    expect(activeFor(alert(1), 31_000)).toBe('30 s');
  });
});

describe('conflict rates in the timeline', () => {
  const reading = (t: number, total: number): ReplicationReading => ({
    taken_at_ms: t,
    nodes: [
      {
        name: 'replica1',
        role: 'replica',
        reachable: true,
        in_recovery: true,
        position: null,
        flush_position: null,
        replay_lsn: null,
        senders: [],
        upstream_sender: null,
        upstream: null,
        receiver: null,
        slots: [],
        conflicts: { snapshot: total, lock: 0, bufferpin: 0, deadlock: 0, tablespace: 0, per_minute: null },
        settings: null,
        notes: [],
        error: null,
      },
    ],
  });
  it('rates the conflicts of the minute before each sample, from counts at least 5 s apart', () => {
    const tl = new LagTimeline();
    for (let s = 0; s <= 90; s += 1) {
      tl.push({
        taken_at_ms: s * 1000,
        nodes: [
          {
            name: 'replica1',
            role: 'replica',
            reachable: true,
            state: 'streaming',
            lag_bytes: 0,
            replay_lag_ms: 0,
            write_lag_ms: 5,
            flush_lag_ms: 7,
            lsn: null,
            receive_lsn: null,
            last_replay_at: null,
            timeline_id: 1,
            tls: null,
            level: 'ok',
            error: null,
            upstream: null,
            upstream_lag_bytes: null,
            upstream_replay_lag_ms: null,
          },
        ],
      });
      // One conflict at 30 s, two more at 40 s.
      tl.noteConflicts(reading(s * 1000, s < 30 ? 0 : s < 40 ? 1 : 3));
    }
    const col = tl.node('replica1')!;
    expect(col.conflictRate[2]).toBeNull();
    expect(col.conflictRate[20]).toBe(0);
    // At 50 s the history is 50 s long: three conflicts in 50 s is 3.6 a minute.
    expect(col.conflictRate[50]).toBeCloseTo(3.6);
    // At 90 s the minute before starts at 30 s (count 1): two conflicts in 60 s.
    expect(col.conflictRate[90]).toBe(2);
    expect(col.write[10]).toBe(0.005);
    expect(col.flush[10]).toBe(0.007);
  });
});
