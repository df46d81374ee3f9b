// The Snapshots page's words, as pure functions: a snapshot's `changes` map in one line, its
// schema-evolution mark, its `commit_extra_info` readable, and the time-travel route (what
// the URL holds of a read: `#/snapshots/travel/TABLE/AT/OFFSET/SIZE`).

import { type At, TIME_TRAVEL_PAGE_MAX, type TimeTravelPage } from '../lib/bindings';
import { count, utc } from '../lib/format';
import { href } from '../lib/router';

/** Snapshots a history page asks for (`snapshots {limit}`; the backend allows up to `SNAPSHOTS_PAGE_MAX`). */
export const HISTORY_PAGE = 50;

/** Rows a time-travel page may hold: the sizes offered, the largest the backend's cap. */
export const TRAVEL_PAGE_SIZES: readonly number[] = [50, 100, 500, TIME_TRAVEL_PAGE_MAX];
/** The size offered first. */
export const TRAVEL_PAGE_DEFAULT = 100;

const CHANGE_WORDS: Record<string, string> = {
  schemas_created: 'created schema',
  schemas_dropped: 'dropped schema',
  tables_created: 'created',
  tables_dropped: 'dropped',
  tables_altered: 'altered',
  tables_inserted_into: 'inserted into',
  tables_deleted_from: 'deleted from',
  inlined_insert: 'inlined insert into',
  inlined_delete: 'inlined delete from',
  flushed_inlined: 'flushed inlined data of',
  merge_adjacent: 'merged files of',
  rewrite_delete: 'rewrote deletes of',
  compacted_table: 'compacted',
  views_created: 'created view',
  views_dropped: 'dropped view',
};

/**
 * One line for a snapshot's `changes` map (`ducklake_snapshots().changes`):
 * `created main.pricing_summary · inlined insert into 2 tables`. Named tables are listed when
 * there are at most two; ids (DuckLake records some changes by table id) are counted.
 */
export function changesSummary(changes: Readonly<Record<string, readonly string[] | string | null>> | null | undefined): string {
  if (!changes || typeof changes !== 'object' || Array.isArray(changes)) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    const list = Array.isArray(value) ? value.map((v) => String(v)) : value === null ? [] : [String(value)];
    const word = CHANGE_WORDS[key] ?? key.replace(/_/g, ' ');
    const named = list.filter((v) => !/^\d+$/.test(v));
    if (named.length === list.length && list.length > 0 && list.length <= 2) parts.push(`${word} ${list.join(', ')}`);
    else parts.push(`${word} ${list.length} ${list.length === 1 ? 'table' : 'tables'}`);
  }
  // Creations first: they name the table.
  return parts.sort((a, b) => Number(b.startsWith('created')) - Number(a.startsWith('created'))).join(' · ');
}

/**
 * The schema evolution among a snapshot's `schema_changes` (a column added, dropped, renamed
 * or retyped; a table, view or schema dropped), for the history's "◆ schema" mark; empty for a
 * cache refresh, which re-creates its table (CREATE OR REPLACE records one table created and
 * one dropped) and for a new schema.
 */
export function schemaEvolution(changes: readonly string[]): string[] {
  const replaced = changes.includes('tables_created');
  return changes.filter((c) => c !== 'tables_created' && c !== 'schemas_created' && !(replaced && c === 'tables_dropped'));
}

/** `commit_extra_info` readable: a JSON object as `cache revenue · refresh 12`, anything else as is. */
export function extraInfoText(extra: string | null): string | null {
  if (!extra) return null;
  try {
    const o: unknown = JSON.parse(extra);
    if (o && typeof o === 'object' && !Array.isArray(o))
      return Object.entries(o as Record<string, unknown>)
        .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' · ');
  } catch {
    /* shown as is */
  }
  return extra;
}

/** What the URL holds of a time-travel read. */
export interface TravelRoute {
  table: string;
  at: At;
  offset: number;
  size: number;
}

/** `v37` / `latest` / `t2026-11-22 09:14:03` for the URL. */
export function atSegment(at: At): string {
  if (at === 'latest') return 'latest';
  if ('version' in at) return `v${at.version}`;
  return `t${at.timestamp}`;
}

/** The route's segments after `travel`, or `null` when they name nothing readable. */
export function parseTravelRoute(rest: readonly string[]): TravelRoute | null {
  const [table, atText, offText, sizeText] = rest;
  if (!table || !atText) return null;
  let at: At;
  if (atText === 'latest') at = 'latest';
  else if (/^v\d+$/.test(atText)) at = { version: Number(atText.slice(1)) };
  else if (atText.startsWith('t') && atText.length > 1) at = { timestamp: atText.slice(1) };
  else return null;
  const offset = offText && /^\d+$/.test(offText) ? Number(offText) : 0;
  const size = sizeText && TRAVEL_PAGE_SIZES.includes(Number(sizeText)) ? Number(sizeText) : TRAVEL_PAGE_DEFAULT;
  return { table, at, offset, size };
}

/** The hash of a time-travel read. */
export function travelHref(r: TravelRoute): string {
  return href('snapshots', 'travel', r.table, atSegment(r.at), r.offset, r.size);
}

/** `as of snapshot 37 · 2026-11-22 09:14:03 UTC · 1,204 rows`. */
export function bannerText(p: TimeTravelPage): string {
  return `as of snapshot ${p.snapshot.id} · ${utc(p.snapshot.time_ms)} · ${count(p.rows.total)} ${p.rows.total === 1 ? 'row' : 'rows'}`;
}

/** The CSV file name of a time-travel page: `main.orders@37_rows1-100.csv`. */
export function travelCsvName(p: TimeTravelPage, from: number, to: number): string {
  return `${p.table.replace(/[^\w.-]+/g, '_')}@${p.snapshot.id}_rows${from}-${to}.csv`;
}

/** `rows 51–100 of 120`, or `no rows`. */
export function travelRange(p: TimeTravelPage): string {
  const total = p.rows.total;
  if (total === 0) return 'no rows';
  return `rows ${count(p.offset + 1)}–${count(p.offset + p.rows.rows.length)} of ${count(total)}`;
}
