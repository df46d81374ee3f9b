import { describe, expect, it } from 'vitest';
import type { Bookmark } from '../lib/bindings';
import { alignText, jumpOffset, parseSideRoute, parseSnapshot, sideHref, sideLabel, sideRange, sideSummary } from './side';

const marks: Bookmark[] = [
  { name: 'before-migration', snapshot_id: 12, created_at_ms: 0, expired: false },
  { name: 'v2', snapshot_id: 30, created_at_ms: 0, expired: false },
];

describe('side by side', () => {
  it('routes round-trip, "now" included', () => {
    const r = { table: 'main.items', from: 3, to: 9, offset: 100 };
    expect(sideHref(r)).toBe('#/snapshots/side/main.items/3/9/100');
    expect(parseSideRoute(['main.items', '3', '9', '100'])).toEqual(r);
    expect(sideHref({ ...r, to: null, offset: 0 })).toBe('#/snapshots/side/main.items/3/now/0');
    expect(parseSideRoute(['items', '3', 'now'])).toEqual({ table: 'items', from: 3, to: null, offset: 0 });
    expect(parseSideRoute(['items', 'x', 'now'])).toBeNull();
    expect(parseSideRoute(['items', '3', 'later'])).toBeNull();
    expect(parseSideRoute(['items', '3'])).toBeNull();
  });

  it('reads a snapshot as an id, a bookmark or now, and names the bookmarks when it is neither', () => {
    expect(parseSnapshot(' 37 ', marks, 'From')).toEqual({ id: 37 });
    expect(parseSnapshot('before-migration', marks, 'From')).toEqual({ id: 12 });
    // A bookmark named like a number is not one: digits are an id.
    expect(parseSnapshot('30', marks, 'From')).toEqual({ id: 30 });
    expect(parseSnapshot('', marks, 'To')).toEqual({ now: true });
    expect(parseSnapshot('NOW', marks, 'To')).toEqual({ now: true });
    expect(parseSnapshot('Before-Migration', marks, 'From')).toEqual({
      error: '“Before-Migration” in From is neither a snapshot id nor a bookmark: the bookmarks are before-migration, v2.',
    });
    expect(parseSnapshot('x', [], 'To')).toEqual({
      error: '“x” in To is neither a snapshot id nor a bookmark: the lake has no bookmarks.',
    });
  });

  it('counts, ranges and jumps', () => {
    const s = { total: 1204, same: 1190, added: 12, removed: 1, changed: 1, offset: 100, rows: new Array(100) };
    expect(sideSummary(s)).toBe('1,204 lines: 1,190 the same, +12 −1 ~1');
    expect(sideSummary({ ...s, total: 1 })).toMatch(/^1 line:/);
    expect(sideRange(s)).toBe('lines 101–200 of 1,204');
    expect(sideRange({ ...s, total: 0, rows: [] })).toBe('no rows in either version');
    expect(sideRange({ ...s, offset: 2000, rows: [] })).toBe('no lines from 2,001: 1,204 in all');
    expect(jumpOffset(149)).toBe(146);
    expect(jumpOffset(1)).toBe(0);
    expect(alignText({ key: ['id'], key_source: 'cache' })).toBe("aligned by the cache's key (id)");
    expect(alignText({ key: ['a', 'b'], key_source: 'asked' })).toBe('aligned by key (a, b)');
    expect(alignText({ key: [], key_source: null })).toMatch(/^whole rows aligned/);
    expect(sideLabel(41, true, true)).toBe('now (snapshot 41)');
    expect(sideLabel(41, true, false)).toBe('snapshot 41 (current)');
    expect(sideLabel(37, false, false)).toBe('snapshot 37');
  });
});
