import { describe, expect, it } from 'vitest';
import type { TimelineMark } from '../lib/bindings';
import { fullView, hit, LAKE_LANE, lanesOf, markLanes, markTitle, pan, ticks, xOf, zoom } from './lanes';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const mark = (id: number, s: number, tables: string[] = [], kind: TimelineMark['kind'] = 'refresh'): TimelineMark => ({
  id,
  time_ms: T0 + s * 1000,
  kind,
  tables,
  author: 'skein',
  message: `refresh cache ${tables[0] ?? 'x'}`,
});

describe('the snapshot timeline', () => {
  const marks = [mark(1, 0), mark(2, 10, ['main.a']), mark(3, 20, ['main.a', 'main.b']), mark(4, 100, ['main.b'])];

  it('puts a mark without tables on the lake lane, the lake first', () => {
    expect(lanesOf(['main.a', 'main.b'])).toEqual([LAKE_LANE, 'main.a', 'main.b']);
    expect(markLanes(marks[0]!)).toEqual([LAKE_LANE]);
    expect(markLanes(marks[2]!)).toEqual(['main.a', 'main.b']);
  });

  it('shows the whole history, zooms around the pointer and pans within it', () => {
    const full = fullView(marks, 1000);
    expect(xOf(marks[0]!.time_ms, full)).toBeGreaterThan(0);
    expect(xOf(marks[3]!.time_ms, full)).toBeLessThan(1000);
    // Zooming in keeps the time under the pointer under it.
    const at = xOf(marks[2]!.time_ms, full);
    const z = zoom(full, 0.25, at, full);
    expect(xOf(marks[2]!.time_ms, z)).toBeCloseTo(at, 6);
    expect(z.t1 - z.t0).toBeCloseTo((full.t1 - full.t0) / 4, 6);
    // Zooming out never goes past the whole history; panning stops at its ends.
    expect(zoom(z, 100, 500, full)).toEqual(full);
    const left = pan(z, 1e6, full);
    expect(left.t0).toBe(full.t0);
    expect(left.t1 - left.t0).toBeCloseTo(z.t1 - z.t0, 6);
    // Never narrower than a second.
    const tight = zoom(full, 1e-9, 500, full);
    expect(tight.t1 - tight.t0).toBe(1000);
  });

  it('finds the mark under the pointer on its lane only', () => {
    const v = fullView(marks, 1000);
    const x = xOf(marks[2]!.time_ms, v);
    expect(hit(marks, 'main.b', x + 3, v)?.id).toBe(3);
    expect(hit(marks, 'main.a', x - 4, v)?.id).toBe(3);
    expect(hit(marks, LAKE_LANE, x, v)).toBeNull();
    expect(hit(marks, 'main.b', x + 40, v)).toBeNull();
  });

  it('ticks on round UTC times, and says what a mark is', () => {
    const t = ticks({ t0: T0, t1: T0 + 600_000, width: 1100 });
    expect(t[0]!.label).toBe('09:00');
    expect(t.every((x) => x.t % 60_000 === 0)).toBe(true);
    expect(markTitle(marks[1]!)).toBe('#2 · cache refresh · 2026-11-22 09:00:10 UTC · skein: refresh cache main.a · main.a');
  });
});
