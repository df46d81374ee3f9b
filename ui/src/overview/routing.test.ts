import { describe, expect, it } from 'vitest';
import type { NodeRouting } from '../lib/bindings';
import { count } from '../lib/format';
import { routed } from '../test/fixtures';
import { rotationTitle, routingFoot, weightText } from './routing';

const n = (over: Partial<NodeRouting>): NodeRouting => routed('replica1', { lag_ms: 850, replay_lsn: '0/5611B90', reads: 3, ...over });

describe('routing words', () => {
  it('writes configured → effective weight only when they differ', () => {
    expect(weightText(n({}))).toBe('1');
    expect(weightText(n({ configured_weight: 1, weight: 0.5 }))).toBe('1 → 0.5');
    expect(weightText(n({ configured_weight: 2, weight: 0.67 }))).toBe('2 → 0.67');
    expect(weightText(n({ configured_weight: 1, weight: 0 }))).toBe('1 → 0');
    expect(weightText(n({ role: 'primary' }))).toBe('—');
  });
  it('says why a node is in or out, with its lag', () => {
    expect(rotationTitle(n({}))).toBe('Reads may go here · replay lag 850 ms at the last sample · replayed 0/5611B90');
    expect(rotationTitle(n({ in_rotation: false, reason: 'past the critical lag', lag_ms: null, replay_lsn: null }))).toBe(
      'past the critical lag · replay lag unknown',
    );
  });
  it('sums up the rotation and the reads served elsewhere', () => {
    expect(
      routingFoot(
        { nodes: [n({ role: 'primary', name: 'primary' }), n({}), n({ name: 'r2', in_rotation: false })], cache_reads: 1, fallbacks: 2 },
        count,
      ),
    ).toBe(
      '1 of 2 replicas in rotation · 1 read served from the lake by fresh caches · 2 reads fell back to the primary (no replica qualified, or read-your-writes timed out) · counted since this console started',
    );
  });
});
