// The one ordering of cell values every sortable table uses: NULL last, numbers by value
// (also numbers written as text, as PostgreSQL's text output gives them), booleans false
// first, everything else by the locale's string order.

import type { JsonValue } from './bindings';

/** A cell as the tables show it: `NULL`, JSON text for objects, else the value as text. */
export function cellText(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Ascending order of two cell values (NULL after everything). */
export function compareValues(a: JsonValue | undefined, b: JsonValue | undefined): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an && bn) return 0;
  if (an) return 1;
  if (bn) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = cellText(a);
  const y = cellText(b);
  const nx = Number(x);
  const ny = Number(y);
  if (x.trim() !== '' && y.trim() !== '' && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
  return x.localeCompare(y);
}

/**
 * The indexes of `items` in sorted order (stable: equal keys keep their order); `desc`
 * reverses the whole order (NULL then comes first).
 */
export function sortedIndexes<T>(items: readonly T[], key: (item: T) => JsonValue | undefined, desc = false): number[] {
  const keys = items.map(key);
  return items
    .map((_, i) => i)
    .sort((i, j) => {
      const c = compareValues(keys[i], keys[j]);
      return (desc ? -c : c) || i - j;
    });
}
