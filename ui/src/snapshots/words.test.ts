import { describe, expect, it } from 'vitest';
import { TIME_TRAVEL_PAGE_MAX, type TimeTravelPage } from '../lib/bindings';
import {
  atSegment,
  bannerText,
  changesSummary,
  extraInfoText,
  parseTravelRoute,
  schemaEvolution,
  TRAVEL_PAGE_SIZES,
  travelCsvName,
  travelHref,
  travelRange,
} from './words';

const page = (over: Partial<TimeTravelPage> = {}): TimeTravelPage => ({
  table: 'main.orders',
  snapshot: { id: 37, time_ms: Date.UTC(2026, 10, 22, 9, 14, 3) },
  latest: false,
  schema: [{ name: 'o_orderkey', data_type: 'BIGINT' }],
  rows: { columns: ['o_orderkey'], rows: [[1], [2]], total: 1204 },
  offset: 100,
  note: null,
  ...over,
});

describe('changesSummary', () => {
  it('names up to two tables, counts more or ids, creations first', () => {
    expect(changesSummary({ inlined_insert: ['1', '2'], tables_created: ['main.pricing_summary'] })).toBe(
      'created main.pricing_summary · inlined insert into 2 tables',
    );
    expect(changesSummary({ tables_inserted_into: ['a', 'b', 'c'] })).toBe('inserted into 3 tables');
    expect(changesSummary({ tables_altered: ['7'] })).toBe('altered 1 table');
    expect(changesSummary({ some_new_kind: ['x'] })).toBe('some new kind x');
    expect(changesSummary({})).toBe('');
    expect(changesSummary(null)).toBe('');
  });
});

describe('schemaEvolution', () => {
  it('marks an altered or dropped table, not a cache refresh re-creating its table', () => {
    expect(schemaEvolution(['tables_created', 'tables_dropped'])).toEqual([]);
    expect(schemaEvolution(['schemas_created', 'tables_created'])).toEqual([]);
    expect(schemaEvolution(['tables_altered'])).toEqual(['tables_altered']);
    expect(schemaEvolution(['tables_dropped'])).toEqual(['tables_dropped']);
    expect(schemaEvolution(['tables_created', 'views_dropped'])).toEqual(['views_dropped']);
  });
});

describe('extraInfoText', () => {
  it('reads a JSON object as words, anything else as is', () => {
    expect(extraInfoText('{"cache":"revenue","refresh":12}')).toBe('cache revenue · refresh 12');
    expect(extraInfoText('not json')).toBe('not json');
    expect(extraInfoText('[1,2]')).toBe('[1,2]');
    expect(extraInfoText(null)).toBeNull();
  });
});

describe('the time-travel route', () => {
  it('round-trips every kind of AT through the URL', () => {
    for (const at of ['latest', { version: 37 }, { timestamp: '2026-11-22 09:14:03' }] as const) {
      const h = travelHref({ table: 'main.orders', at, offset: 50, size: 50 });
      const rest = h
        .replace(/^#\/snapshots\/travel\//, '')
        .split('/')
        .map(decodeURIComponent);
      expect(parseTravelRoute(rest)).toEqual({ table: 'main.orders', at, offset: 50, size: 50 });
    }
    expect(atSegment({ version: 3 })).toBe('v3');
  });

  it('names nothing without a table or a readable AT; a size not offered falls back to 100', () => {
    expect(parseTravelRoute([])).toBeNull();
    expect(parseTravelRoute(['main.orders'])).toBeNull();
    expect(parseTravelRoute(['main.orders', 'x37'])).toBeNull();
    expect(parseTravelRoute(['main.orders', 'v37', 'abc', '7'])).toEqual({
      table: 'main.orders',
      at: { version: 37 },
      offset: 0,
      size: 100,
    });
  });

  it('offers page sizes up to the backend cap', () => {
    expect(Math.max(...TRAVEL_PAGE_SIZES)).toBe(TIME_TRAVEL_PAGE_MAX);
  });
});

describe('the time-travel page words', () => {
  it('says the snapshot, its time and the row count', () => {
    expect(bannerText(page())).toBe('as of snapshot 37 · 2026-11-22 09:14:03 UTC · 1,204 rows');
    expect(bannerText(page({ rows: { columns: [], rows: [], total: 1 } }))).toBe('as of snapshot 37 · 2026-11-22 09:14:03 UTC · 1 row');
  });

  it('says which rows are shown, and names the CSV after them', () => {
    expect(travelRange(page())).toBe('rows 101–102 of 1,204');
    expect(travelRange(page({ offset: 0, rows: { columns: ['a'], rows: [], total: 0 } }))).toBe('no rows');
    expect(travelCsvName(page({ table: 'main."odd name"' }), 101, 102)).toBe('main._odd_name_@37_rows101-102.csv');
  });
});
