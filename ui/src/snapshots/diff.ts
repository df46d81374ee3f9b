// The snapshot diff's words (Diff.svelte draws it): the route that names a diff, the counts as
// "+12 −3 ~5", the key it was matched by, one line per schema change, a cell as "old → new",
// and the CSV export (one line per version of a row: a changed row gives its old and its new).

import type { Cell, DiffKind, DiffRow, TableDiff } from '../lib/bindings';
import { toCsv } from '../lib/csv';
import { count } from '../lib/format';
import { href } from '../lib/router';

/** Rows a page of the diff holds. */
export const DIFF_PAGE_SIZES = [50, 100, 500] as const;
export const DIFF_PAGE_DEFAULT = 50;

/** What `#/snapshots/diff/TABLE/FROM/TO[/KIND/OFFSET]` names. */
export interface DiffRoute {
  table: string;
  from: number;
  to: number;
  /** `null`: every kind. */
  only: DiffKind | null;
  offset: number;
}

const KINDS: readonly DiffKind[] = ['added', 'removed', 'changed'];

export function parseDiffRoute(rest: readonly string[]): DiffRoute | null {
  const [table, fromText, toText, kindText, offText] = rest;
  if (!table || !fromText || !toText || !/^\d+$/.test(fromText) || !/^\d+$/.test(toText)) return null;
  const only = KINDS.find((k) => k === kindText) ?? null;
  const offset = offText && /^\d+$/.test(offText) ? Number(offText) : 0;
  return { table, from: Number(fromText), to: Number(toText), only, offset };
}

/** The hash of a diff. */
export function diffHref(r: DiffRoute): string {
  return href('snapshots', 'diff', r.table, r.from, r.to, r.only ?? 'all', r.offset);
}

/** `+12 −3 ~5`. */
export function diffCounts(d: Pick<TableDiff, 'added' | 'removed' | 'changed'>): string {
  return `+${count(d.added)} −${count(d.removed)} ~${count(d.changed)}`;
}

/** What the counts mean, for a title. */
export function diffCountsTitle(d: Pick<TableDiff, 'added' | 'removed' | 'changed'>): string {
  return `${count(d.added)} added, ${count(d.removed)} removed, ${count(d.changed)} changed`;
}

/** `matched by the cache's key (id)`, `matched by key (id)`, `whole rows compared`. */
export function keyText(d: Pick<TableDiff, 'key' | 'key_source'>): string {
  if (!d.key.length) return 'whole rows compared (a multiset difference: duplicates count)';
  const cols = d.key.join(', ');
  return d.key_source === 'cache' ? `matched by the cache's key (${cols})` : `matched by key (${cols})`;
}

/** One line per schema change: `column added: n int`, `column retyped: v INTEGER → BIGINT`. */
export function schemaLines(d: Pick<TableDiff, 'schema'>): string[] {
  return [
    ...d.schema.added.map((c) => `column added: ${c.name} ${c.data_type}`),
    ...d.schema.dropped.map((c) => `column dropped: ${c.name} ${c.data_type}`),
    ...d.schema.retyped.map((c) => `column retyped: ${c.name} ${c.from} → ${c.to}`),
  ];
}

/** A cell as text: `null` for SQL NULL. */
export function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return 'null';
  return typeof c === 'string' ? c : typeof c === 'object' ? JSON.stringify(c) : String(c);
}

/** The cells of a row to show: the new version, else the old one. */
export function shownCells(r: DiffRow): Cell[] {
  return r.new ?? r.old ?? [];
}

/** `+`, `−`, `~`. */
export function kindMark(k: DiffKind): string {
  return k === 'added' ? '+' : k === 'removed' ? '−' : '~';
}

/** The page as CSV: `kind,version,<columns>`, a changed row as its old line then its new one. */
export function diffCsv(d: TableDiff): string {
  const lines: Cell[][] = [];
  for (const r of d.rows) {
    if (r.old) lines.push([r.kind, `old@${d.from}`, ...r.old]);
    if (r.new) lines.push([r.kind, `new@${d.to}`, ...r.new]);
  }
  return toCsv(['kind', 'version', ...d.columns], lines);
}

/** The CSV file name: `orders_diff_36-37.csv`. */
export function diffCsvName(d: TableDiff): string {
  return `${d.table.replace(/[^\w.-]+/g, '_')}_diff_${d.from}-${d.to}${d.only ? `_${d.only}` : ''}.csv`;
}

/** `rows 1–50 of 17 added`, `no changed rows`. */
export function diffRange(d: TableDiff): string {
  const total =
    d.only === 'added' ? d.added : d.only === 'removed' ? d.removed : d.only === 'changed' ? d.changed : d.added + d.removed + d.changed;
  const what = d.only ? `${d.only} rows` : 'differing rows';
  if (total === 0) return `no ${what}`;
  return `rows ${count(d.offset + 1)}–${count(d.offset + d.rows.length)} of ${count(total)} ${what}`;
}
