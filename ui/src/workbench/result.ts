// One run's result, as words and facts for ResultPanel.svelte: "25 rows · 12.3 ms · served
// by replica2 (read)", how stale the serving node was, which columns are numbers, the range
// of rows a page shows, the CSV of every row held and its file name.

import type { QueryResult, QueryRoute, Thresholds } from '../lib/bindings';
import { toCsv } from '../lib/csv';
import { bytes, count, duration, plural } from '../lib/format';
import type { Badge } from '../lib/status';

/** Rows a page of the grid shows. */
export const PAGE_ROWS = 100;

export interface Run {
  sql: string;
  session: string | null;
  /** The explain of this same statement and session just before it ran, if there was one. */
  explained: QueryRoute | null;
  result: QueryResult;
  /** When it finished (client clock). */
  at: number;
  /** The grid's page (0-based), kept across page visits. */
  page: number;
}

/** The export's file name: `skein-query-20261122T091403Z.csv`. */
export function csvName(at: number): string {
  return `skein-query-${stamp(at)}.csv`;
}

/** `rows 101–200 of 1,204`, or `no rows`. */
export function rangeText(page: number, shown: number, rowCount: number): string {
  const from = page * PAGE_ROWS;
  return rowCount === 0 ? 'no rows' : `rows ${count(from + 1)}–${count(from + shown)} of ${count(rowCount)}`;
}

/** Pages of `PAGE_ROWS` the rows held fill (at least one). */
export function pageCount(rows: number): number {
  return Math.max(1, Math.ceil(rows / PAGE_ROWS));
}

/** `12.3 ms`, `850.0 ms`, `4.2 s`. */
export function elapsed(ms: number): string {
  return ms < 1000 ? `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms` : duration(ms);
}

/** `20261122T091403Z` (for file names). */
export function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Every row held as CSV (header first, rows in the order the statement returned them). */
export function resultCsv(r: QueryResult): string {
  return toCsv(r.columns, r.rows);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Columns whose every non-NULL value is a number (right-aligned); none when all are NULL. */
export function numericColumns(r: QueryResult): boolean[] {
  return r.columns.map((_, c) => {
    let any = false;
    for (const row of r.rows) {
      const v = row[c] ?? null;
      if (v === null) continue;
      if (!NUMBER.test(v)) return false;
      any = true;
    }
    return any;
  });
}

/** The statement's first word(s), upper case: `UPDATE`, `CREATE TABLE`, `SET`. */
export function verb(sql: string): string {
  const body = sql
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .trim();
  const words = body
    .split(/[\s;(]+/)
    .filter(Boolean)
    .map((w) => w.toUpperCase());
  const [a = '', b = ''] = words;
  if (['CREATE', 'DROP', 'ALTER', 'TRUNCATE'].includes(a) && /^[A-Z]+$/.test(b)) {
    if (b === 'OR' || b === 'UNIQUE' || b === 'TEMP' || b === 'TEMPORARY' || b === 'UNLOGGED') return `${a} ${b} ${words[2] ?? ''}`.trim();
    return `${a} ${b}`;
  }
  return a || 'STATEMENT';
}

/** What a statement without rows did: `UPDATE · 3 rows affected`, `SET · done`. */
export function affectedText(sql: string, affected: number | null): string {
  const v = verb(sql);
  const counts =
    ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'SELECT', 'MOVE', 'FETCH', 'WITH'].includes(v) ||
    /^CREATE (TABLE|MATERIALIZED)/.test(v);
  if (affected !== null && (counts || affected > 0)) return `${v} · ${plural(affected, 'row')} affected`;
  return `${v} · done`;
}

/** How stale the serving node was, as a badge (coloured by the profile's lag thresholds). */
export function stalenessBadge(r: QueryResult, t: Thresholds | null): Badge {
  const s = r.staleness;
  if (s.live) return { word: 'live', tone: 'ok', icon: '●' };
  if (r.route.target === 'cache')
    return { word: s.snapshot_id !== null ? `cache · snapshot ${s.snapshot_id}` : 'cache', tone: 'muted', icon: '▤' };
  const lag = s.replay_lag_ms;
  if (lag === null) return { word: 'lag unknown', tone: 'muted', icon: '?' };
  const word = `${duration(lag)} behind`;
  if (t && lag >= t.lag_critical_ms) return { word, tone: 'crit', icon: '✕' };
  if (t && lag >= t.lag_warning_ms) return { word, tone: 'warn', icon: '▲' };
  return { word, tone: 'ok', icon: '●' };
}

/** How stale the serving node was, as a sentence. */
export function stalenessText(r: QueryResult): string {
  const s = r.staleness;
  if (s.live) return `live data: ${r.route.node} is the primary`;
  if (r.route.target === 'cache') return s.summary;
  if (s.replay_lag_ms === null) return `${r.route.node}: replay lag unknown at the last sample`;
  const b = s.lag_bytes === null ? '' : ` (${bytes(s.lag_bytes)} of WAL)`;
  return `${r.route.node} was ${duration(s.replay_lag_ms)}${b} behind the primary at the last sample`;
}

/** What a run gave: `25 rows`, or for a statement without rows `UPDATE · 3 rows affected`. */
export function summaryWhat(run: Pick<Run, 'sql' | 'result'>): string {
  const r = run.result;
  return r.columns.length > 0 ? plural(r.row_count, 'row') : affectedText(run.sql, r.affected);
}
