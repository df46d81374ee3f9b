// CSV as every export of the console writes it (RFC 4180): fields joined by commas, lines
// ended by CRLF, a field quoted when it holds a quote, a comma, a line break or leading or
// trailing white space (quotes doubled inside). NULL is an empty field; a JSON value (an
// object or array cell) is written as its JSON text.

import type { JsonValue } from './bindings';

/** One field: `a` → `a`, `a,b` → `"a,b"`, `say "hi"` → `"say ""hi"""`, null → empty. */
export function csvField(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header line and the rows, each line ended by CRLF (the last one too). */
export function toCsv(header: readonly string[], rows: Iterable<readonly (JsonValue | undefined)[]>): string {
  const lines = [header.map(csvField).join(',')];
  for (const r of rows) lines.push(header.map((_, c) => csvField(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
