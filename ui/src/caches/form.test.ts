import { describe, expect, it } from 'vitest';
import { formError, nameProblem, parseMonitor, parseTtl, sameTables } from './form';

describe('monitored tables', () => {
  it('splits on commas and spaces, drops empties and repeats', () => {
    expect(parseMonitor('nation, orders')).toEqual(['nation', 'orders']);
    expect(parseMonitor(' nation,,orders  nation ,')).toEqual(['nation', 'orders']);
    expect(parseMonitor('   ')).toEqual([]);
  });
  it('compares two texts by the tables they name', () => {
    expect(sameTables('a, b', 'a,b')).toBe(true);
    expect(sameTables('a, b', 'b, a')).toBe(false);
    expect(sameTables('', ' , ')).toBe(true);
  });
});

describe('TTL', () => {
  it('is null when empty, a whole number of seconds otherwise', () => {
    expect(parseTtl('  ')).toEqual({ value: null });
    expect(parseTtl(' 60 ')).toEqual({ value: 60 });
  });
  it('refuses zero, fractions, signs, words and unsafe numbers, naming what was typed', () => {
    for (const t of ['0', '1.5', '-3', 'ten', '99999999999999999999']) {
      const r = parseTtl(t);
      expect('error' in r && r.error).toContain(`“${t}”`);
    }
  });
});

describe('cache name', () => {
  it('accepts a letter or _ then letters, digits, _', () => {
    expect(nameProblem('top_customers')).toBeNull();
    expect(nameProblem('_x1')).toBeNull();
  });
  it('says what is wrong', () => {
    expect(nameProblem(' ')).toMatch(/^Give the cache a name/);
    expect(nameProblem('1abc')).toContain('starts with “1”');
    expect(nameProblem('a-b')).toContain('holds “-”');
    expect(nameProblem('a'.repeat(64))).toContain('64 characters long');
  });
});

describe('backend errors in the form’s words', () => {
  it('names the fields instead of the command line’s flags', () => {
    expect(formError({ code: 'InvalidInput', message: 'give --monitor TABLE' })).toEqual({
      code: 'InvalidInput',
      message: 'Name at least one monitored table: a change in it makes the cache stale.',
    });
    expect((formError({ code: 'InvalidInput', message: '--ttl must be ≥ 1' }) as { message: string }).message).toMatch(/^The TTL/);
    expect((formError({ code: 'InvalidInput', message: 'bad --query-file' }) as { message: string }).message).toBe('bad query-file');
  });
  it('passes other errors as they are', () => {
    const e = { code: 'Conflict', message: 'cache x exists' };
    expect(formError(e)).toBe(e);
    expect(formError('boom')).toBe('boom');
  });
});
