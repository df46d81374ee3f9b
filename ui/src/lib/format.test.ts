import { describe, expect, it } from 'vitest';
import { bytes, count, duration, parseTime, plural, relative, seconds, truncate, utc, utcClock } from './format';

describe('duration', () => {
  it('adapts its unit to the size', () => {
    expect(duration(0)).toBe('0 ms');
    expect(duration(850)).toBe('850 ms');
    expect(duration(999.4)).toBe('999 ms');
    expect(duration(4200)).toBe('4.2 s');
    expect(duration(1000)).toBe('1.0 s');
    expect(duration(9960)).toBe('10 s');
    expect(duration(42_000)).toBe('42 s');
    expect(duration(190_000)).toBe('3 min 10 s');
    expect(duration(180_000)).toBe('3 min');
    expect(duration(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(duration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
  });
  it('says a negative duration with a minus sign and an unknown one as a dash', () => {
    expect(duration(-4200)).toBe('−4.2 s');
    expect(duration(null)).toBe('—');
    expect(duration(undefined)).toBe('—');
    expect(duration(Number.NaN)).toBe('—');
  });
  it('formats chart seconds the same way', () => {
    expect(seconds(4.2)).toBe('4.2 s');
    expect(seconds(null)).toBe('—');
  });
});

describe('bytes', () => {
  it('uses IEC units', () => {
    expect(bytes(0)).toBe('0 B');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1024)).toBe('1.0 KiB');
    expect(bytes(12.4 * 1024 * 1024)).toBe('12.4 MiB');
    expect(bytes(124 * 1024 * 1024)).toBe('124 MiB');
    expect(bytes(-2048)).toBe('−2.0 KiB');
    expect(bytes(null)).toBe('—');
  });
});

describe('counts', () => {
  it('are exact with thousands separators', () => {
    expect(count(1204)).toBe('1,204');
    expect(count(866_000)).toBe('866,000');
    expect(count(Number.POSITIVE_INFINITY)).toBe('—');
    expect(plural(1, 'row')).toBe('1 row');
    expect(plural(1204, 'row')).toBe('1,204 rows');
    expect(plural(2, 'query', 'queries')).toBe('2 queries');
  });
});

describe('times', () => {
  const t = Date.UTC(2026, 10, 22, 9, 14, 3);
  it('writes UTC timestamps and clock times', () => {
    expect(utc(t)).toBe('2026-11-22 09:14:03 UTC');
    expect(utcClock(t)).toBe('09:14:03');
    expect(utc(null)).toBe('—');
  });
  it('says relative times against the given now', () => {
    expect(relative(t, t + 1000)).toBe('just now');
    expect(relative(t, t + 5000)).toBe('5 s ago');
    expect(relative(t, t + 3 * 60_000 + 30_000)).toBe('3 min ago');
    expect(relative(t, t + 2 * 3_600_000)).toBe('2 h ago');
    expect(relative(t, t + 3 * 86_400_000)).toBe('3 d ago');
    expect(relative(t + 5000, t)).toBe('in 5 s');
    expect(relative(undefined, t)).toBe('—');
  });
  it('parses RFC 3339 and refuses what is not a time', () => {
    expect(parseTime('2026-11-22T09:14:03Z')).toBe(t);
    expect(parseTime('yesterday')).toBeNull();
    expect(parseTime(null)).toBeNull();
  });
  it('cuts long texts to one line', () => {
    expect(truncate('SELECT  *\n FROM t', 40)).toBe('SELECT * FROM t');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
  });
});
