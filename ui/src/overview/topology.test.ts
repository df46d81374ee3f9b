import { describe, expect, it } from 'vitest';
import { node } from '../test/fixtures';
import { lagText, topologyRows } from './topology';

const shape = (rows: ReturnType<typeof topologyRows>) => rows.map((r) => `${'  '.repeat(r.depth)}${r.node.name}${r.last ? '.' : ''}`);

describe('the replication tree', () => {
  it('is a flat list under the primary without a cascade', () => {
    const rows = topologyRows([node('primary'), node('replica1', { upstream: 'primary' }), node('replica2', { upstream: 'primary' })]);
    expect(shape(rows)).toEqual(['replica1', 'replica2.']);
    expect(rows.every((r) => r.cascadesFrom === null)).toBe(true);
  });

  it('puts each replica under the replica it streams from, depth first, in sample order', () => {
    const rows = topologyRows([
      node('primary'),
      node('replica1', { upstream: 'primary' }),
      node('replica2', { upstream: 'replica1' }),
      node('replica3', { upstream: 'primary' }),
      node('replica4', { upstream: 'replica2' }),
      node('replica5', { upstream: 'replica1' }),
    ]);
    expect(shape(rows)).toEqual(['replica1', '  replica2', '    replica4.', '  replica5.', 'replica3.']);
    expect(rows.find((r) => r.node.name === 'replica4')?.cascadesFrom).toBe('replica2');
  });

  it('keeps replicas without a known upstream under the primary, and survives a loop', () => {
    const down = node('replica2', { state: 'down', reachable: false, upstream: null });
    const rows = topologyRows([
      node('primary'),
      node('replica1', { upstream: 'primary' }),
      down,
      node('replica3', { upstream: 'elsewhere' }),
      node('replica4', { upstream: 'replica5' }),
      node('replica5', { upstream: 'replica4' }),
    ]);
    expect(shape(rows)).toEqual(['replica1', 'replica2', 'replica3.', 'replica4', 'replica5.']);
  });
});

describe('lag words', () => {
  it('says the lag against the primary, and for a cascade against its upstream first', () => {
    const direct = node('replica1', { upstream: 'primary', replay_lag_ms: 850, lag_bytes: 13_002_342 });
    expect(lagText({ node: direct, cascadesFrom: null })).toBe('850 ms · 12.4 MiB · timeline 1 · not encrypted');
    const cascaded = node('replica2', {
      upstream: 'replica1',
      replay_lag_ms: 900,
      lag_bytes: 3_482,
      upstream_replay_lag_ms: 400,
      upstream_lag_bytes: 1_229,
    });
    expect(lagText({ node: cascaded, cascadesFrom: 'replica1' }, 'pg-main')).toBe(
      '400 ms · 1.2 KiB behind replica1 · 900 ms · 3.4 KiB behind pg-main · timeline 1 · not encrypted',
    );
    expect(lagText({ node: node('replica2', { state: 'down' }), cascadesFrom: 'replica1' })).toBe('');
  });
});
