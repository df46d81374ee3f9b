// The columns of a `DataTable` and what the table does with them, apart from drawing: the
// order rows are shown in, and the CSV of what is shown.

import type { JsonValue } from '../bindings';
import { toCsv } from '../csv';
import { sortedIndexes } from '../sort';

export interface Column<T> {
  /** Unique within the table; `data-col` of its cells. */
  key: string;
  label: string;
  /** The header's tooltip (where the value comes from). */
  title?: string;
  /** Extra class of the header and the cells (`col-secondary`, `select-col`, …). */
  class?: string;
  /** Right-aligned. */
  numeric?: boolean;
  /** The cell's value: what sorting compares, CSV writes and a cell without a snippet shows. */
  value?: (row: T) => JsonValue;
  /** Whether its header sorts (default: when it has a value). */
  sortable?: boolean;
}

export interface SortState {
  key: string;
  desc: boolean;
}

/** Clicking a header: first ascending, then the other way. */
export function nextSort(current: SortState | null, key: string): SortState {
  return current?.key === key ? { key, desc: !current.desc } : { key, desc: false };
}

/** The rows in the order shown (as given when unsorted or sorted by a column without a value). */
export function orderRows<T>(rows: readonly T[], columns: readonly Column<T>[], sort: SortState | null): T[] {
  const col = sort ? columns.find((c) => c.key === sort.key) : undefined;
  const value = col?.value;
  if (!sort || !value) return rows.slice();
  return sortedIndexes(rows, value, sort.desc).map((i) => rows[i]!);
}

/** The rows as CSV: the columns with a value, header first, in the order given. */
export function tableCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cols = columns.filter((c) => c.value);
  return toCsv(
    cols.map((c) => c.label),
    rows.map((r) => cols.map((c) => c.value!(r))),
  );
}
