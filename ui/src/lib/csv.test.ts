import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from './csv';

describe('csv', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(42)).toBe('42');
    expect(csvField(false)).toBe('false');
  });
  it('writes NULL as an empty field and JSON cells as JSON', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField({ a: [1, 'x'] })).toBe('"{""a"":[1,""x""]}"');
  });
  it('ends every line with CRLF, header first', () => {
    expect(
      toCsv(
        ['id', 'name'],
        [
          [1, 'a'],
          [2, null],
        ],
      ),
    ).toBe('id,name\r\n1,a\r\n2,\r\n');
    expect(toCsv(['only'], [])).toBe('only\r\n');
  });
  it('fills a short row with empty fields', () => {
    expect(toCsv(['a', 'b'], [[1]])).toBe('a,b\r\n1,\r\n');
  });
});
