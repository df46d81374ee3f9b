// The data grid for the pages still built by hand (time travel, Workbench results):
// `components/DataTable.svelte` mounted on a page of rows (sticky header, columns sortable
// within the page, exact values with NULL shown as such, double-click copies a cell, the page
// as CSV). `destroy()` unmounts it; a grid dropped without it holds no timer or listener
// outside its own element.

import { mount, unmount } from 'svelte';
import type { JsonValue } from './bindings';
import DataTable from './components/DataTable.svelte';
import type { Column } from './components/table';
import { h } from './dom';

export interface Grid {
  el: HTMLElement;
  /** The page as CSV (header + rows in the order shown). */
  csv(): string;
  destroy(): void;
}

type Row = readonly JsonValue[];

/** Right-aligned columns by default: those holding only numbers (and NULL). */
function numericDefault(columns: readonly string[], rows: readonly Row[]): boolean[] {
  return columns.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number'));
}

export function dataGrid(
  columns: string[],
  rows: JsonValue[][],
  opts: {
    label: string;
    onCopy?: (text: string) => void;
    /** Right-aligned columns (default: those holding only numbers). */ numeric?: boolean[];
  },
): Grid {
  const numeric = opts.numeric ?? numericDefault(columns, rows);
  const cols: Column<Row>[] = columns.map((name, c) => ({
    key: String(c),
    label: name,
    numeric: numeric[c] ?? false,
    value: (r) => r[c] ?? null,
  }));
  const el = h('div', { class: 'page-host' });
  const table = mount(DataTable<Row>, {
    target: el,
    props: { rows, columns: cols, label: opts.label, sortTitle: (l: string) => `Sort this page by ${l}`, onCopy: opts.onCopy },
  });
  return {
    el,
    csv: () => table.csv(),
    destroy() {
      void unmount(table);
    },
  };
}

/** Offers `body` (text, or bytes) as a file download of MIME type `type`. */
export function download(filename: string, body: string | Uint8Array<ArrayBuffer>, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = h('a', { href: url, download: filename, style: { display: 'none' } });
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
