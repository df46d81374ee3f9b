// A page of table rows as a grid: sticky header, columns sortable within the page, exact
// values (NULL shown as such), double-click copies a cell, and the page as CSV.

import type { JsonValue } from './bindings';
import { toCsv } from './csv';
import { copyText, h, replace, setAttr, setText } from './dom';
import { cellText, compareValues } from './sort';

export interface Grid {
  el: HTMLElement;
  /** The page as CSV (header + rows in the order shown). */
  csv(): string;
}

export function dataGrid(
  columns: string[],
  rows: JsonValue[][],
  opts: {
    label: string;
    onCopy?: (text: string) => void /** Right-aligned columns (default: those holding only numbers). */;
    numeric?: boolean[];
  },
): Grid {
  let order = rows.map((_, i) => i);
  let sortCol: number | null = null;
  let asc = true;
  const numeric = opts.numeric ?? columns.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === 'number'));

  const tbody = h('tbody');
  const marks: HTMLElement[] = [];
  const ths = columns.map((name, c) => {
    const mark = h('span', { class: 'sort-mark', 'aria-hidden': 'true' });
    marks.push(mark);
    const b = h('button', { type: 'button', class: 'th-sort', title: `Sort this page by ${name}` }, name, mark);
    b.addEventListener('click', () => {
      if (sortCol === c) asc = !asc;
      else {
        sortCol = c;
        asc = true;
      }
      order = rows
        .map((_, i) => i)
        .sort((i, j) => {
          const r = compareValues(rows[i]![c], rows[j]![c]);
          return asc ? r : -r;
        });
      draw();
    });
    return h('th', { scope: 'col', class: numeric[c] ? 'num' : undefined }, b);
  });

  const draw = () => {
    ths.forEach((th, c) => {
      setAttr(th, 'aria-sort', sortCol === c ? (asc ? 'ascending' : 'descending') : null);
      setText(marks[c]!, sortCol === c ? (asc ? ' ▲' : ' ▼') : '');
    });
    const frag = document.createDocumentFragment();
    for (const i of order) {
      const r = rows[i]!;
      const tr = document.createElement('tr');
      for (let c = 0; c < columns.length; c++) {
        const v = r[c] ?? null;
        const td = document.createElement('td');
        const text = cellText(v);
        td.textContent = text;
        if (v === null) td.className = 'null';
        else if (numeric[c]) td.className = 'num';
        if (text.length > 40) td.title = text;
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    replace(tbody, frag);
  };

  tbody.addEventListener('dblclick', (e) => {
    const td = (e.target as HTMLElement).closest('td');
    if (!td) return;
    const text = td.classList.contains('null') ? '' : (td.textContent ?? '');
    void copyText(text).then(() => opts.onCopy?.(text));
    td.classList.add('copied');
    window.setTimeout(() => td.classList.remove('copied'), 600);
  });

  draw();
  const table = h('table', { class: 'table data-grid', 'aria-label': opts.label }, h('thead', null, h('tr', null, ths)), tbody);
  return {
    el: h('div', { class: 'grid-wrap', tabindex: '0', role: 'region', 'aria-label': `${opts.label} (scrolls)` }, table),
    csv() {
      return toCsv(
        columns,
        order.map((i) => rows[i]!),
      );
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
