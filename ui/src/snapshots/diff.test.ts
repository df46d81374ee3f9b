import { describe, expect, it } from 'vitest';
import type { TableDiff } from '../lib/bindings';
import { cellText, diffCounts, diffCsv, diffCsvName, diffHref, diffRange, keyText, parseDiffRoute, schemaLines } from './diff';

const diff = (over: Partial<TableDiff> = {}): TableDiff => ({
  table: 'items',
  from: 36,
  to: 37,
  key: ['id'],
  key_source: 'cache',
  only: null,
  offset: 0,
  note: null,
  columns: ['id', 'name', 'qty'],
  schema: { added: [], dropped: [], retyped: [] },
  added: 1,
  removed: 1,
  changed: 1,
  rows: [
    { kind: 'added', old: null, new: [11, 'item, 11', 1], changed: [] },
    { kind: 'removed', old: [1, 'item 1', 1], new: null, changed: [] },
    { kind: 'changed', old: [5, 'item 5', 2], new: [5, 'item 5', 500], changed: ['qty'] },
  ],
  ...over,
});

describe('the snapshot diff', () => {
  it('routes round-trip, with the kind and the offset', () => {
    const r = { table: 'main.items', from: 3, to: 9, only: 'changed' as const, offset: 50 };
    expect(diffHref(r)).toBe('#/snapshots/diff/main.items/3/9/changed/50');
    expect(parseDiffRoute(['main.items', '3', '9', 'changed', '50'])).toEqual(r);
    expect(parseDiffRoute(['items', '3', '9'])).toEqual({ table: 'items', from: 3, to: 9, only: null, offset: 0 });
    expect(parseDiffRoute(['items', 'x', '9'])).toBeNull();
    expect(parseDiffRoute(['items', '3'])).toBeNull();
  });

  it('counts, the key and the schema in words', () => {
    expect(diffCounts({ added: 1200, removed: 3, changed: 0 })).toBe('+1,200 −3 ~0');
    expect(keyText(diff())).toBe("matched by the cache's key (id)");
    expect(keyText(diff({ key_source: 'asked' }))).toBe('matched by key (id)');
    expect(keyText(diff({ key: [], key_source: null }))).toMatch(/^whole rows compared/);
    const s = diff({
      schema: {
        added: [{ name: 'n', data_type: 'INTEGER' }],
        dropped: [{ name: 'w', data_type: 'VARCHAR' }],
        retyped: [{ name: 'v', from: 'INTEGER', to: 'BIGINT' }],
      },
    });
    expect(schemaLines(s)).toEqual(['column added: n INTEGER', 'column dropped: w VARCHAR', 'column retyped: v INTEGER → BIGINT']);
  });

  it('exports a changed row as its old and its new line', () => {
    expect(diffCsv(diff())).toBe(
      'kind,version,id,name,qty\r\nadded,new@37,11,"item, 11",1\r\nremoved,old@36,1,item 1,1\r\nchanged,old@36,5,item 5,2\r\nchanged,new@37,5,item 5,500\r\n',
    );
    expect(diffCsvName(diff({ table: 'main.items', only: 'added' }))).toBe('main.items_diff_36-37_added.csv');
  });

  it('says which rows a page holds', () => {
    expect(diffRange(diff())).toBe('rows 1–3 of 3 differing rows');
    expect(diffRange(diff({ only: 'changed', rows: [], changed: 0, offset: 0 }))).toBe('no changed rows');
    expect(cellText(null)).toBe('null');
    expect(cellText([1, 'a'])).toBe('[1,"a"]');
  });
});
