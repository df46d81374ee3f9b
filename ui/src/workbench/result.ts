// One run's result: "25 rows · 12.3 ms · served by replica2 (read)", how stale the serving
// node was, the route as it actually ran (with a note when it differs from the explain),
// and the rows as a grid paged 100 at a time (sticky header, sortable within the page,
// CSV export and copy of every row held).

import type { QueryResult, QueryRoute, Thresholds } from '../lib/bindings';
import { toCsv } from '../lib/csv';
import { copyText, flash, h, replace, setText } from '../lib/dom';
import { bytes, count, duration, plural, utc } from '../lib/format';
import { dataGrid, download, type Grid } from '../lib/grid';
import { type Badge, badge } from '../lib/status';
import { differs, sentence } from './route';

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

/** `12.3 ms`, `850.0 ms`, `4.2 s`. */
export function elapsed(ms: number): string {
  return ms < 1000 ? `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms` : duration(ms);
}

/** `20261122T091403Z` (for file names). */
function stamp(ms: number): string {
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

/** Columns whose every non-NULL value is a number (right-aligned). */
function numericColumns(r: QueryResult): boolean[] {
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

function stalenessBadge(r: QueryResult, t: Thresholds | null): Badge {
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

function stalenessText(r: QueryResult): string {
  const s = r.staleness;
  if (s.live) return `live data: ${r.route.node} is the primary`;
  if (r.route.target === 'cache') return s.summary;
  if (s.replay_lag_ms === null) return `${r.route.node}: replay lag unknown at the last sample`;
  const b = s.lag_bytes === null ? '' : ` (${bytes(s.lag_bytes)} of WAL)`;
  return `${r.route.node} was ${duration(s.replay_lag_ms)}${b} behind the primary at the last sample`;
}

/** The result panel (`[data-testid=result]`); `onPage` keeps the page across visits. */
/** The result panel and the function that unmounts its grid (call it when the panel goes). */
export interface ResultPanel {
  el: HTMLElement;
  destroy(): void;
}

export function resultPanel(run: Run, opts: { thresholds: Thresholds | null; onPage: (page: number) => void }): ResultPanel {
  const r = run.result;
  const route = r.route;
  const hasRows = r.columns.length > 0;
  const el = h('section', {
    class: 'panel wb-result',
    'aria-label': 'Result',
    dataset: { testid: 'result', node: route.node, target: route.target, rule: route.rule, rowCount: String(r.row_count) },
  });

  // "25 rows · 12.3 ms · served by replica2 (read)"
  const what = hasRows ? plural(r.row_count, 'row') : affectedText(run.sql, r.affected);
  const summary = h(
    'div',
    { class: 'wb-summary' },
    h(
      'span',
      { dataset: { testid: 'result-summary' } },
      h('b', null, what),
      ' · ',
      h('span', { title: 'Wall time of the statement on the node, as the router measured it' }, elapsed(r.elapsed_ms)),
      ' · served by ',
      h('span', { class: 'mono wb-node' }, route.node),
      ' ',
      h('span', { class: 'muted' }, `(${route.rule})`),
    ),
    h('span', { class: 'spacer' }),
    h('span', { class: 'small muted', title: utc(run.at) }, `ran ${utc(run.at)}`),
  );

  const sb = stalenessBadge(r, opts.thresholds);
  const staleness = h(
    'div',
    {
      class: 'wb-staleness small',
      title: r.staleness.summary,
      dataset: {
        testid: 'staleness',
        live: String(r.staleness.live),
        ...(r.staleness.replay_lag_ms !== null ? { replayLagMs: String(r.staleness.replay_lag_ms) } : {}),
      },
    },
    badge(sb),
    ' ',
    h('span', null, stalenessText(r)),
    r.staleness.live ? null : h('span', { class: 'muted' }, ' · pg_stat_replication.replay_lag'),
  );

  const changed = run.explained && differs(run.explained, route, !!run.session);
  const how = h(
    'div',
    { class: 'wb-ran small' },
    h(
      'p',
      { class: 'wb-ran-reason', dataset: { testid: 'result-reason' } },
      h('span', { class: 'muted' }, 'Routed: '),
      sentence(route.reason),
    ),
    changed
      ? h(
          'p',
          { class: 'wb-changed small', dataset: { testid: 'route-changed' } },
          h('span', { 'aria-hidden': 'true' }, '↪ '),
          `routed differently at run time: ${sentence(route.reason)}`,
          h('span', { class: 'muted' }, ` (the explain said ${run.explained!.target} ${run.explained!.node}, rule ${run.explained!.rule})`),
        )
      : null,
  );

  el.append(summary, staleness, how);
  if (!hasRows) return { el, destroy() {} };

  if (r.truncated)
    el.append(
      h(
        'p',
        { class: 'notice tone-warn-row small wb-truncated', dataset: { testid: 'truncated' } },
        h('span', { 'aria-hidden': 'true' }, '▲ '),
        `showing the first ${count(r.rows.length)} of ${plural(r.row_count, 'row')}`,
        h('span', { class: 'muted' }, ' · add a LIMIT or a WHERE to see the rest'),
      ),
    );

  const numeric = numericColumns(r);
  const pages = Math.max(1, Math.ceil(r.rows.length / PAGE_ROWS));
  let page = Math.min(run.page, pages - 1);
  const range = h('span', { class: 'small', dataset: { testid: 'result-range' } });
  const status = h('span', { class: 'small muted', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'btn btn-small', on: { click: () => go(page - 1) } }, '← Previous rows');
  const next = h('button', { type: 'button', class: 'btn btn-small', on: { click: () => go(page + 1) } }, 'Next rows →');
  const csvBtn = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small',
      title: `Every row held (${count(r.rows.length)}), in the order the statement returned them`,
      on: {
        click: () => {
          const name = `skein-query-${stamp(run.at)}.csv`;
          download(name, resultCsv(r));
          setText(status, `Saved ${name} (${plural(r.rows.length, 'row')})`);
        },
      },
    },
    'Export CSV',
  );
  const copyBtn = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small',
      title: `Copies every row held (${count(r.rows.length)}) as CSV`,
      on: { click: () => void copyText(resultCsv(r)).then(() => flash(copyBtn, 'Copied')) },
    },
    'Copy CSV',
  );
  const gridSlot = h('div', { class: 'wb-grid' });

  const go = (p: number) => {
    page = Math.max(0, Math.min(pages - 1, p));
    opts.onPage(page);
    draw();
  };
  let grid: Grid | null = null;
  const draw = () => {
    const from = page * PAGE_ROWS;
    const rows = r.rows.slice(from, from + PAGE_ROWS);
    setText(range, r.row_count === 0 ? 'no rows' : `rows ${count(from + 1)}–${count(from + rows.length)} of ${count(r.row_count)}`);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    grid?.destroy();
    grid = dataGrid(r.columns, rows, { label: 'Result rows', numeric, onCopy: () => setText(status, 'Cell copied') });
    replace(gridSlot, grid.el);
  };

  el.append(
    h('div', { class: 'grid-toolbar' }, range, prev, next, h('span', { class: 'spacer' }), status, csvBtn, copyBtn),
    gridSlot,
    h('p', { class: 'hint' }, "Values are PostgreSQL's text output. Sorting applies to this page. Double-click a cell to copy it."),
  );
  draw();
  return { el, destroy: () => grid?.destroy() };
}
