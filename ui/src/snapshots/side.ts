// Side by side (SideBySide.svelte draws it): the route that names it, a snapshot typed as an id,
// a bookmark's name or "now", the counts of the aligned lines, and where a jump to a
// difference lands.

import type { Bookmark, SideBySide } from '../lib/bindings';
import { count } from '../lib/format';
import { href } from '../lib/router';

/** Lines a page of the two grids holds. */
export const SIDE_PAGE_SIZES = [100, 200, 500] as const;
export const SIDE_PAGE_DEFAULT = 100;
/** Lines of context kept above a difference jumped to. */
export const JUMP_CONTEXT = 3;

/** What `#/snapshots/side/TABLE/FROM/TO[/OFFSET]` names; `to: null` is `now`, the lake's current snapshot. */
export interface SideRoute {
  table: string;
  from: number;
  to: number | null;
  offset: number;
}

export function parseSideRoute(rest: readonly string[]): SideRoute | null {
  const [table, fromText, toText, offText] = rest;
  if (!table || !fromText || !/^\d+$/.test(fromText) || !toText || !(/^\d+$/.test(toText) || toText === 'now')) return null;
  const offset = offText && /^\d+$/.test(offText) ? Number(offText) : 0;
  return { table, from: Number(fromText), to: toText === 'now' ? null : Number(toText), offset };
}

/** The hash of a side-by-side view. */
export function sideHref(r: SideRoute): string {
  return href('snapshots', 'side', r.table, r.from, r.to ?? 'now', r.offset);
}

/** A snapshot as typed: an id, a bookmark's name, or empty / `now` for the current snapshot. */
export type TypedSnapshot = { id: number } | { now: true } | { error: string };

export function parseSnapshot(text: string, bookmarks: readonly Bookmark[], what: string): TypedSnapshot {
  const t = text.trim();
  if (!t || t.toLowerCase() === 'now') return { now: true };
  if (/^\d+$/.test(t)) return { id: Number(t) };
  const b = bookmarks.find((m) => m.name === t);
  if (b) return { id: b.snapshot_id };
  const names = bookmarks.map((m) => m.name);
  return {
    error: `“${t}” in ${what} is neither a snapshot id nor a bookmark: ${names.length ? `the bookmarks are ${names.join(', ')}` : 'the lake has no bookmarks'}.`,
  };
}

/** `aligned by the cache's key (id)`, `aligned by key (id)`, `whole rows aligned`. */
export function alignText(s: Pick<SideBySide, 'key' | 'key_source'>): string {
  if (!s.key.length) return 'whole rows aligned (the n-th copy of a repeated row beside the n-th)';
  const cols = s.key.join(', ');
  return s.key_source === 'cache' ? `aligned by the cache's key (${cols})` : `aligned by key (${cols})`;
}

/** `12 lines: 8 the same, +2 −1 ~1`. */
export function sideSummary(s: Pick<SideBySide, 'total' | 'same' | 'added' | 'removed' | 'changed'>): string {
  return `${count(s.total)} ${s.total === 1 ? 'line' : 'lines'}: ${count(s.same)} the same, +${count(s.added)} −${count(s.removed)} ~${count(s.changed)}`;
}

/** `lines 1–100 of 1,204`. */
export function sideRange(s: Pick<SideBySide, 'offset' | 'rows' | 'total'>): string {
  if (s.total === 0) return 'no rows in either version';
  if (!s.rows.length) return `no lines from ${count(s.offset + 1)}: ${count(s.total)} in all`;
  return `lines ${count(s.offset + 1)}–${count(s.offset + s.rows.length)} of ${count(s.total)}`;
}

/** The page start that shows line `line` (0-based) with a few lines above it. */
export function jumpOffset(line: number): number {
  return Math.max(0, line - JUMP_CONTEXT);
}

/** `snapshot 37`, `now (snapshot 41)`. */
export function sideLabel(id: number, current: boolean, asNow: boolean): string {
  return asNow ? `now (snapshot ${id})` : current ? `snapshot ${id} (current)` : `snapshot ${id}`;
}
