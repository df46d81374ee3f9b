import { describe, expect, it } from 'vitest';
import { node, sample } from '../test/fixtures';
import type { LagSample } from './bindings';
import { LagTimeline } from './timeline';

/** replica1 with `lag` ms of replay lag (`null`: unknown) at `t` ms. */
const at = (t: number, lag: number | null): LagSample =>
  sample(t, [node('replica1', { replay_lag_ms: lag, lag_bytes: lag === null ? null : lag * 10 })]);

function timeline(fullS: number, retentionS: number): LagTimeline {
  const tl = new LagTimeline();
  tl.load({
    thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000, slot_wal_warning_bytes: 1 << 30 },
    retention_s: retentionS,
    full_resolution_s: fullS,
    interval_ms: 250,
    nodes: [],
  });
  return tl;
}

describe('thinning the timeline as the backend thins its history', () => {
  // The same samples as history.rs's keeps_every_sample_of_the_window_and_one_a_second_before_it.
  it('keeps every sample of the window and, before it, the greatest lag of each second', () => {
    const tl = timeline(2, 5);
    for (let k = 0; k < 16; k++) tl.push(at(10_000 + k * 250, k === 10 ? null : k === 5 ? 900 : k));
    expect(tl.t.map((t) => Math.round(t * 1000))).toEqual([
      10_000, 11_000, 11_750, 12_000, 12_250, 12_500, 12_750, 13_000, 13_250, 13_500, 13_750,
    ]);
    const col = tl.node('replica1')!;
    expect(col.lag.slice(0, 3)).toEqual([0.003, 0.9, 0.007]);
    expect(col.bytes.slice(0, 3)).toEqual([30, 9000, 70]);
    expect(col.lag[5]).toBeNull();
    for (let k = 16; k < 40; k++) tl.push(at(10_000 + k * 250, 1));
    expect(tl.t[0]).toBe(15);
    expect(tl.t[tl.t.length - 1]).toBe(19.75);
    // Every column as long as the time axis.
    for (const c of [col.lag, col.bytes, col.write, col.flush, col.conflicts, col.conflictRate]) expect(c.length).toBe(tl.t.length);
  });

  it('keeps an unknown lag through thinning: a second with a node down stays a gap', () => {
    const tl = timeline(2, 5);
    for (let k = 0; k < 16; k++) tl.push(at(20_000 + k * 250, k === 2 ? null : 5));
    expect(tl.t[0]).toBe(20);
    expect(tl.node('replica1')!.lag[0]).toBeNull();
    expect(tl.node('replica1')!.lag[1]).toBe(0.005);
  });

  it('thins a loaded history and the samples pushed after it alike', () => {
    const pushed = timeline(2, 60);
    const samples = Array.from({ length: 24 }, (_, k) => at(30_000 + k * 250, (k * 37) % 11));
    for (const s of samples) pushed.push(s);
    // The same samples, half as a history answer, half as ticks.
    const loaded = new LagTimeline();
    loaded.load({
      thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000, slot_wal_warning_bytes: 1 << 30 },
      retention_s: 60,
      full_resolution_s: 2,
      interval_ms: 250,
      nodes: [
        {
          name: 'replica1',
          role: 'replica',
          t_ms: samples.slice(0, 12).map((s) => s.taken_at_ms),
          replay_lag_ms: samples.slice(0, 12).map((s) => s.nodes[0]!.replay_lag_ms),
          lag_bytes: samples.slice(0, 12).map((s) => s.nodes[0]!.lag_bytes),
          write_lag_ms: samples.slice(0, 12).map(() => null),
          flush_lag_ms: samples.slice(0, 12).map(() => null),
          conflicts: samples.slice(0, 12).map(() => null),
          state: samples.slice(0, 12).map(() => 'streaming'),
        },
      ],
    });
    for (const s of samples.slice(12)) loaded.push(s);
    expect(loaded.t).toEqual(pushed.t);
    expect(loaded.node('replica1')!.lag).toEqual(pushed.node('replica1')!.lag);
  });
});
