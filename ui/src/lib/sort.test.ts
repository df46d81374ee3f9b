import { describe, expect, it } from 'vitest';
import { cellText, compareValues, sortedIndexes } from './sort';

describe('compareValues', () => {
  it('orders numbers by value, also when PostgreSQL wrote them as text', () => {
    expect(compareValues(2, 10)).toBeLessThan(0);
    expect(compareValues('2', '10')).toBeLessThan(0);
    expect(compareValues('-1.5', '0')).toBeLessThan(0);
  });
  it('orders text by the locale and booleans false first', () => {
    expect(compareValues('apple', 'banana')).toBeLessThan(0);
    expect(compareValues(false, true)).toBeLessThan(0);
  });
  it('puts NULL after everything', () => {
    expect(compareValues(null, 'a')).toBeGreaterThan(0);
    expect(compareValues('a', null)).toBeLessThan(0);
    expect(compareValues(null, null)).toBe(0);
  });
  it('shows cells as the tables do', () => {
    expect(cellText(null)).toBe('NULL');
    expect(cellText({ a: 1 })).toBe('{"a":1}');
    expect(cellText(3)).toBe('3');
  });
});

describe('sortedIndexes', () => {
  const rows = [{ v: '10' }, { v: null }, { v: '2' }, { v: '2' }];
  it('sorts ascending, keeps equal keys in order, NULL last', () => {
    expect(sortedIndexes(rows, (r) => r.v)).toEqual([2, 3, 0, 1]);
  });
  it('reverses the whole order when descending', () => {
    expect(sortedIndexes(rows, (r) => r.v, true)).toEqual([1, 0, 2, 3]);
  });
});
