// Time travel: a lake table as of a snapshot id or a timestamp (`time_travel`), with the
// banner "as of snapshot 37 · 2026-11-22 09:14:03 UTC · 1,204 rows", the rows as a paged
// grid (sortable within the page, sticky header) and CSV export of the page. What is shown
// is in the URL — `#/snapshots/travel/TABLE/AT/OFFSET/SIZE`, AT being `v37`, `latest` or
// `t` + a timestamp — so a reload shows it again and the back button walks the pages. The
// timestamp's placeholder is a time inside the lake's history (its newest snapshot's); the
// backend checks the timestamp and says which forms it accepts.

import type { At, LakeTable, TimeTravelPage } from '../lib/bindings';
import { copyText, flash, h, replace, setText } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { count, utc } from '../lib/format';
import { dataGrid, download, type Grid } from '../lib/grid';
import type { Ctx } from '../lib/page';
import { href, navigate } from '../lib/router';

const PAGE_SIZES = [50, 100, 500, 1000];

export interface Travel {
  el: HTMLElement;
  /** The selected snapshot changed: becomes the default id unless the user typed one. */
  selected(id: number | null): void;
  /** Fills the form (from "Travel to this snapshot") and focuses "Show". */
  prefill(id: number, table?: string): void;
  /** The lake answered again: list its tables if that failed before. */
  lakeBack(): void;
  /** The lake has a new snapshot: its tables may have changed. */
  lakeChanged(): void;
  /** The history's newest snapshot time (ms): the timestamp's placeholder lies there. */
  history(newestMs: number): void;
  /** Shows what a `#/snapshots/travel/…` route names (`rest` after `travel`). */
  openRoute(rest: string[]): void;
  destroy(): void;
}

/** What the URL holds of a time-travel read. */
export interface TravelRoute {
  table: string;
  at: At;
  offset: number;
  size: number;
}

/** `v37` / `latest` / `t2026-11-22 09:14:03` for the URL. */
function atSegment(at: At): string {
  if (at === 'latest') return 'latest';
  if ('version' in at) return `v${at.version}`;
  return `t${at.timestamp}`;
}

/** The route's segments after `travel`, or `null` when they name nothing readable. */
export function parseTravelRoute(rest: string[]): TravelRoute | null {
  const [table, atText, offText, sizeText] = rest;
  if (!table || !atText) return null;
  let at: At;
  if (atText === 'latest') at = 'latest';
  else if (/^v\d+$/.test(atText)) at = { version: Number(atText.slice(1)) };
  else if (atText.startsWith('t') && atText.length > 1) at = { timestamp: atText.slice(1) };
  else return null;
  const offset = offText && /^\d+$/.test(offText) ? Number(offText) : 0;
  const size = sizeText && PAGE_SIZES.includes(Number(sizeText)) ? Number(sizeText) : 100;
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

export function travelPanel({ backend }: Ctx): Travel {
  let tables: LakeTable[] = [];
  let idTouched = false;
  let offset = 0;
  let last: TimeTravelPage | null = null;
  let grid: Grid | null = null;
  let busy = false;

  const tableInput = h(
    'select',
    { class: 'input mono', id: 'travel-table', required: true },
    h('option', { value: '' }, 'loading tables…'),
  );
  const tablesNote = h('span', { class: 'small muted' });

  const modeName = 'travel-at';
  const radio = (value: string, label: string, checked = false) => {
    const input = h('input', { type: 'radio', name: modeName, value, checked });
    return { input, label: h('label', { class: 'radio' }, input, ` ${label}`) };
  };
  // The radios' own labels stay short ("id", "time", "latest"); the inputs carry the names.
  const rVersion = radio('version', 'at id', true);
  const rTime = radio('timestamp', 'at time');
  const rLatest = radio('latest', 'latest');
  const idInput = h('input', {
    type: 'number',
    class: 'input num-input',
    id: 'travel-snapshot',
    min: '0',
    step: '1',
    'aria-label': 'Snapshot id',
  });
  const tsInput = h('input', {
    type: 'text',
    class: 'input mono',
    id: 'travel-timestamp',
    placeholder: 'YYYY-MM-DD HH:MM:SS',
    'aria-label': 'Timestamp (UTC)',
    spellcheck: 'false',
    title: 'UTC: YYYY-MM-DD HH:MM:SS (seconds optional), a date alone, or RFC 3339 with an offset',
  });
  const sizeSelect = h(
    'select',
    { class: 'input', id: 'travel-size', 'aria-label': 'Rows per page' },
    PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === 100 }, `${n} rows a page`)),
  );
  const showBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Show');

  idInput.addEventListener('input', () => {
    idTouched = true;
    rVersion.input.checked = true;
  });
  idInput.addEventListener('focus', () => (rVersion.input.checked = true));
  tsInput.addEventListener('input', () => (rTime.input.checked = true));
  tsInput.addEventListener('focus', () => (rTime.input.checked = true));

  const form = h(
    'form',
    { class: 'travel-form', 'aria-label': 'Time travel' },
    h('div', { class: 'field' }, h('label', { for: 'travel-table', class: 'label' }, 'Table'), tableInput, tablesNote),
    h(
      'fieldset',
      { class: 'field at-field' },
      h('legend', { class: 'label' }, 'As of'),
      h('div', { class: 'row gap' }, rVersion.label, idInput),
      h('div', { class: 'row gap' }, rTime.label, tsInput),
      h('div', { class: 'row gap' }, rLatest.label),
    ),
    h('div', { class: 'field' }, h('label', { for: 'travel-size', class: 'label' }, 'Page'), sizeSelect),
    h('div', { class: 'field field-submit' }, showBtn),
  );

  const result = h('div', { class: 'travel-result', 'aria-live': 'polite' });

  /** Where the form says to read, or why it cannot (`{ error }`). */
  const at = (): At | { error: string } => {
    if (rLatest.input.checked) return 'latest';
    if (rTime.input.checked) {
      const t = tsInput.value.trim();
      // The backend checks the form (and says which it accepts) and the lake's history.
      if (!t) return { error: `Type a timestamp, e.g. ${tsInput.placeholder} (UTC).` };
      return { timestamp: t };
    }
    const v = idInput.value.trim();
    if (!/^\d+$/.test(v)) return { error: 'Type a snapshot id (or select a snapshot in the history).' };
    return { version: Number(v) };
  };

  /** Reads what the form says: through the URL, so reload and back restore it. */
  const go = (newOffset: number) => {
    const table = tableInput.value.trim();
    const a = at();
    if (!table || (typeof a === 'object' && 'error' in a)) return void show(newOffset);
    // Later pages read the snapshot the first page resolved to, so every page is one version.
    const where: At = newOffset > 0 && last ? { version: last.snapshot.id } : a;
    const to = travelHref({ table, at: where, offset: newOffset, size: Number(sizeSelect.value) || 100 });
    if (window.location.hash === to) void show(newOffset, where);
    else navigate(to);
  };

  const show = async (newOffset: number, fixed?: At) => {
    const table = tableInput.value.trim();
    const a = fixed ?? at();
    if (!table) {
      replace(result, errorBox({ code: 'InvalidInput', message: 'Pick a table.' }, 'Time travel', { compact: true }));
      tableInput.focus();
      return;
    }
    if (typeof a === 'object' && 'error' in a) {
      replace(result, errorBox({ code: 'InvalidInput', message: a.error }, 'Time travel', { compact: true }));
      return;
    }
    if (busy) return;
    busy = true;
    showBtn.disabled = true;
    showBtn.setAttribute('aria-busy', 'true');
    const limit = Number(sizeSelect.value) || 100;
    const loading = h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ` Reading ${table}…`);
    if (!last) replace(result, loading);
    else result.prepend(loading);
    try {
      // Page on the snapshot the first page resolved to, so every page is the same version.
      const where: At = fixed ?? (newOffset > 0 && last ? { version: last.snapshot.id } : a);
      const page = await backend.rpc({ method: 'time_travel', params: { table, at: where, limit, offset: newOffset } });
      offset = newOffset;
      last = page;
      renderPage(page, limit);
    } catch (e) {
      replace(result, errorBox(e, `Reading ${table}`, { compact: true }));
      last = null;
    } finally {
      loading.remove();
      busy = false;
      showBtn.disabled = false;
      showBtn.removeAttribute('aria-busy');
    }
  };

  const renderPage = (p: TimeTravelPage, limit: number) => {
    const total = p.rows.total;
    const from = total === 0 ? 0 : p.offset + 1;
    const to = p.offset + p.rows.rows.length;
    const status = h('span', { class: 'small muted' });
    grid?.destroy();
    grid = dataGrid(p.rows.columns, p.rows.rows, { label: 'Time-travel rows', onCopy: () => setText(status, 'Cell copied') });
    const prev = h('button', { type: 'button', class: 'btn btn-small', disabled: p.offset === 0 }, '← Previous rows');
    const next = h('button', { type: 'button', class: 'btn btn-small', disabled: to >= total }, 'Next rows →');
    prev.addEventListener('click', () => go(Math.max(0, offset - limit)));
    next.addEventListener('click', () => go(offset + limit));
    const csvBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Export CSV');
    csvBtn.addEventListener('click', () => {
      if (!grid) return;
      const name = `${p.table.replace(/[^\w.-]+/g, '_')}@${p.snapshot.id}_rows${from}-${to}.csv`;
      download(name, grid.csv());
      setText(status, `Saved ${name}`);
    });
    const copyBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy CSV');
    copyBtn.addEventListener('click', () => {
      if (grid) void copyText(grid.csv()).then(() => flash(copyBtn, 'Copied'));
    });
    replace(
      result,
      h(
        'div',
        { class: 'travel-head' },
        h(
          'div',
          {
            class: 'banner',
            dataset: { testid: 'travel-banner' },
            title: `${p.table} · snapshot ${p.snapshot.id} taken ${utc(p.snapshot.time_ms)}`,
          },
          bannerText(p),
        ),
        h('span', { class: `tag ${p.latest ? 'tag-ok' : 'tag-info'}` }, p.latest ? 'current snapshot' : 'past snapshot'),
        h('span', { class: 'mono small' }, p.table),
      ),
      p.note ? h('p', { class: 'small travel-note tone-info-text', dataset: { testid: 'travel-note' } }, `ⓘ ${p.note}`) : null,
      h(
        'p',
        { class: 'small travel-schema', dataset: { testid: 'travel-schema' }, title: "DESCRIBE at this snapshot: the table's schema then" },
        h('span', { class: 'muted' }, `Schema at snapshot ${p.snapshot.id}: `),
        ...p.schema.flatMap((c, i) => [
          i > 0 ? ', ' : '',
          h('span', { class: 'mono' }, c.name),
          ' ',
          h('span', { class: 'muted mono' }, c.data_type),
        ]),
      ),
      h(
        'div',
        { class: 'grid-toolbar' },
        h(
          'span',
          { class: 'small', dataset: { testid: 'travel-range' } },
          total === 0 ? 'no rows' : `rows ${count(from)}–${count(to)} of ${count(total)}`,
        ),
        prev,
        next,
        h('span', { class: 'spacer' }),
        status,
        csvBtn,
        copyBtn,
      ),
      p.rows.columns.length === 0 ? h('p', { class: 'muted' }, 'This table has no columns.') : grid.el,
      h('p', { class: 'hint' }, 'Sorting applies to this page. Double-click a cell to copy it.'),
    );
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    last = null;
    go(0);
  });

  /** A route to show once the tables are listed (the select needs its option). */
  let routed: TravelRoute | null = null;
  const applyRouted = () => {
    const r = routed;
    if (!r) return;
    if (!tables.some((t) => t.name === r.table) && tables.length) {
      // Not a table now (dropped since, or a typo in the URL): keep it as an option, and
      // let the read say which tables exist at that snapshot.
      tableInput.append(h('option', { value: r.table }, r.table));
    }
    tableInput.value = r.table;
    if (r.at === 'latest') rLatest.input.checked = true;
    else if ('version' in r.at) {
      rVersion.input.checked = true;
      idInput.value = String(r.at.version);
      idTouched = true;
    } else {
      rTime.input.checked = true;
      tsInput.value = r.at.timestamp;
    }
    sizeSelect.value = String(r.size);
    routed = null;
    if (r.offset === 0) last = null;
    void show(r.offset, r.at);
  };

  const loadTables = () => {
    if (!tables.length) setText(tablesNote, 'loading tables…');
    backend
      .rpc({ method: 'lake_tables' })
      .then((list) => {
        tables = list;
        const keep = tableInput.value;
        replace(
          tableInput,
          list.map((t) => h('option', { value: t.name, title: t.columns.join(', ') }, t.name)),
        );
        if (keep && list.some((t) => t.name === keep)) tableInput.value = keep;
        setText(tablesNote, `${list.length} tables in the lake now`);
        applyRouted();
      })
      .catch((e: unknown) => {
        if (!tables.length) replace(tableInput, h('option', { value: '' }, 'no tables: the lake did not answer'));
        replace(tablesNote, errorBox(e, 'Listing the lake tables', { compact: true, retry: loadTables }));
      });
  };
  loadTables();

  const el = h(
    'section',
    { class: 'panel travel', id: 'travel', 'aria-labelledby': 'travel-title', dataset: { testid: 'time-travel' } },
    h('h2', { class: 'panel-title', id: 'travel-title' }, 'Time travel'),
    form,
    result,
  );

  return {
    el,
    selected(id) {
      if (id !== null && !idTouched) idInput.value = String(id);
    },
    prefill(id, table) {
      idInput.value = String(id);
      idTouched = true;
      rVersion.input.checked = true;
      if (table && tables.some((t) => t.name === table)) tableInput.value = table;
      el.scrollIntoView({ behavior: 'smooth', block: 'start' });
      showBtn.focus({ preventScroll: true });
    },
    lakeBack() {
      if (!tables.length) loadTables();
    },
    lakeChanged() {
      loadTables();
    },
    history(newestMs) {
      tsInput.placeholder = utc(newestMs).replace(' UTC', '');
    },
    openRoute(rest) {
      const r = parseTravelRoute(rest);
      if (!r) return;
      routed = r;
      if (tables.length) applyRouted();
    },
    destroy() {
      grid?.destroy();
      grid = null;
    },
  };
}
