// Snapshots: lake maintenance (summary, expire, clean up, jobs; Maintenance.svelte), the lake's
// history newest first (`snapshots {limit, before}`, paged with "Newer" / "Older"), the
// selected snapshot's per-table changes (`snapshot_changes`), and the time-travel panel. The selection is in the URL (`#/snapshots/37`), so the back
// button and bookmarks work. A `lake` event with a new current snapshot reloads the first
// page when the user is on it.

import { mount, unmount } from 'svelte';
import type { JsonValue, Snapshot, SnapshotChanges, SnapshotPage } from '../lib/bindings';
import { filterBox, h, replace, setAttr, setText, timeAgo } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { count, plural, truncate, utc } from '../lib/format';
import { Disposer, type PageFactory } from '../lib/page';
import { href, navigate, type Route } from '../lib/router';
import Maintenance from './Maintenance.svelte';
import { travelPanel } from './travel';

const PAGE_SIZE = 50;

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

/** One line for a snapshot's `changes` map: `created main.pricing_summary · inlined insert into 2 tables`. */
/** Schema evolution (a column added, dropped, renamed or retyped; a table or schema dropped)
 * gets a mark in the history; a cache refresh re-creating its table does not. The snapshot
 * detail lists every change. */
function schemaMark(changes: string[]): HTMLElement | null {
  // CREATE OR REPLACE (every cache refresh) records a table created and one dropped.
  const replaced = changes.includes('tables_created');
  const evolution = changes.filter((c) => c !== 'tables_created' && c !== 'schemas_created' && !(replaced && c === 'tables_dropped'));
  if (!evolution.length) return null;
  return h(
    'span',
    { class: 'tag tag-info schema-mark', title: `schema change: ${evolution.join(', ')}`, dataset: { schemaChange: evolution.join(' ') } },
    '◆ schema',
  );
}

export function changesSummary(changes: JsonValue): string {
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

export const snapshotsPage: PageFactory = (ctx, route) => {
  const { store, backend } = ctx;
  const d = new Disposer();
  /** `before` cursors of the pages walked so far; the last one is shown. */
  const cursors: (number | null)[] = [null];
  let page: SnapshotPage | null = null;
  let selected: number | null = null;
  let lastCurrent: number | null = store.lake?.current_snapshot ?? null;
  let tablesAt: number | null = store.lake?.current_snapshot ?? null;
  let loadSeq = 0;
  let detailSeq = 0;

  const travel = travelPanel(ctx);
  d.add(() => travel.destroy());

  // A finished job changed the history: reload the page shown (a job that expired the
  // selected snapshot also drops the selection, whose changes are gone with it).
  const maintenanceEl = h('div', { class: 'page-host' });
  const maintenanceView = mount(Maintenance, {
    target: maintenanceEl,
    props: {
      app: store.app,
      onJobFinished: (job) => {
        if (job.state === 'done' && job.kind.kind === 'expire_snapshots') {
          if (selected !== null && job.kind.versions.includes(selected)) navigate(href('snapshots'), true);
          // Older pages may be gone: back to the newest.
          cursors.length = 1;
        }
        void load();
      },
    },
  });
  const maintenance = { el: maintenanceEl, previewVersions: (ids: number[]) => maintenanceView.previewVersions(ids) };
  d.add(() => void unmount(maintenanceView));

  const total = h('span', { class: 'muted small', dataset: { testid: 'snapshot-total' } });
  const filter = filterBox('Filter this page', 'Filter snapshots on this page');
  const newerBtn = h('button', { type: 'button', class: 'btn btn-small' }, '← Newer');
  const olderBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Older →');
  const pageInfo = h('span', { class: 'small muted' });
  const newNote = h('span', { class: 'small' });
  const notice = h('div', { class: 'notice-slot' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'table snapshots-table', dataset: { testid: 'snapshots-table' }, 'aria-label': 'Snapshot history, newest first' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'num' }, 'Id'),
        h('th', { scope: 'col' }, 'Time (UTC)'),
        h('th', { scope: 'col' }, 'Author'),
        h('th', { scope: 'col' }, 'Message'),
        h('th', { scope: 'col' }, 'Changes'),
      ),
    ),
    tbody,
  );
  const detail = h('aside', { class: 'panel snapshot-detail', dataset: { testid: 'snapshot-detail' }, 'aria-live': 'polite' });

  const el = h(
    'section',
    { class: 'page-inner snapshots' },
    h('div', { class: 'page-head' }, h('h1', null, 'Snapshots'), total, h('div', { class: 'spacer' }), filter),
    notice,
    maintenance.el,
    h(
      'div',
      { class: 'snapshots-layout' },
      h(
        'div',
        { class: 'panel history' },
        h('div', { class: 'grid-toolbar' }, newerBtn, olderBtn, pageInfo, newNote),
        h('div', { class: 'table-wrap history-wrap' }, table),
      ),
      detail,
    ),
    travel.el,
  );

  const renderDetailEmpty = () =>
    replace(
      detail,
      h('h2', { class: 'panel-title' }, 'Snapshot'),
      h('p', { class: 'muted' }, 'Select a snapshot (click, or Tab to a row and press Enter) to see what it changed.'),
    );

  const renderRows = () => {
    const list = page?.snapshots ?? [];
    const q = filter.value.trim().toLowerCase();
    const vis = q
      ? list.filter((s) =>
          [String(s.id), s.author ?? '', s.commit_message ?? '', changesSummary(s.changes)].some((x) => x.toLowerCase().includes(q)),
        )
      : list;
    if (!vis.length) {
      replace(
        tbody,
        h(
          'tr',
          null,
          h(
            'td',
            { colspan: '5', class: 'empty' },
            page ? (q ? `No snapshot on this page matches “${filter.value}”.` : 'No snapshots.') : 'Loading…',
          ),
        ),
      );
      return;
    }
    replace(
      tbody,
      vis.map((s) => {
        const tr = h(
          'tr',
          {
            class: 'selectable',
            tabindex: '0',
            dataset: { snapshotId: String(s.id) },
            'aria-selected': String(s.id === selected),
            title: s.commit_extra_info ?? undefined,
          },
          h('td', { class: 'num mono' }, String(s.id)),
          h(
            'td',
            { class: 'nowrap' },
            h('span', { class: 'mono' }, utc(s.time_ms).replace(' UTC', '')),
            ' ',
            h('span', { class: 'muted small' }, timeAgo(s.time_ms)),
          ),
          h('td', null, s.author ?? h('span', { class: 'muted' }, '—')),
          h('td', { class: 'message' }, s.commit_message ? truncate(s.commit_message, 80) : h('span', { class: 'muted' }, '—')),
          h('td', { class: 'changes small' }, schemaMark(s.schema_changes), changesSummary(s.changes)),
        );
        const pick = () => navigate(href('snapshots', s.id));
        tr.addEventListener('click', pick);
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            pick();
          } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const sib = (e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
            sib?.focus();
          }
        });
        return tr;
      }),
    );
  };

  const markSelected = () => {
    for (const tr of tbody.querySelectorAll<HTMLElement>('tr[data-snapshot-id]')) {
      setAttr(tr, 'aria-selected', String(Number(tr.dataset.snapshotId) === selected));
    }
  };

  const load = async () => {
    const seq = ++loadSeq;
    const before = cursors[cursors.length - 1] ?? null;
    newerBtn.disabled = true;
    olderBtn.disabled = true;
    try {
      const p = await backend.rpc({ method: 'snapshots', params: { limit: PAGE_SIZE, before } });
      if (seq !== loadSeq) return;
      page = p;
      replace(notice);
      setText(total, `${plural(p.total, 'snapshot')} in the lake`);
      const first = p.snapshots[0]?.id;
      const last = p.snapshots[p.snapshots.length - 1]?.id;
      setText(pageInfo, p.snapshots.length ? `ids ${first}–${last} · page ${cursors.length}` : '');
      if (cursors.length === 1) {
        lastCurrent = first ?? lastCurrent;
        setText(newNote, '');
        // With nothing selected, time travel defaults to the current snapshot.
        if (selected === null) travel.selected(lastCurrent);
        if (p.snapshots[0]) travel.history(p.snapshots[0].time_ms);
      }
      newerBtn.disabled = cursors.length <= 1;
      olderBtn.disabled = p.next_before === null;
      renderRows();
    } catch (e) {
      if (seq !== loadSeq) return;
      newerBtn.disabled = cursors.length <= 1;
      olderBtn.disabled = true;
      replace(notice, errorBox(e, 'Reading the snapshot history', { compact: true, retry: () => void load() }));
      if (!page) replace(tbody, h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'The history could not be read.')));
    }
  };

  const showDetail = async (id: number) => {
    const seq = ++detailSeq;
    replace(
      detail,
      h('h2', { class: 'panel-title' }, `Snapshot ${id}`),
      h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Reading its changes…'),
    );
    try {
      const c = await backend.rpc({ method: 'snapshot_changes', params: { id } });
      if (seq !== detailSeq) return;
      renderDetail(c);
    } catch (e) {
      if (seq !== detailSeq) return;
      replace(
        detail,
        h('h2', { class: 'panel-title' }, `Snapshot ${id}`),
        errorBox(e, `Reading snapshot ${id}`, { compact: true, retry: () => void showDetail(id) }),
      );
    }
  };

  const renderDetail = (c: SnapshotChanges) => {
    const s: Snapshot = c.snapshot;
    const travelBtn = h('button', { type: 'button', class: 'btn btn-primary btn-small' }, 'Travel to this snapshot');
    const firstTable = c.tables.find((t) => !t.table.startsWith('__'))?.table;
    travelBtn.addEventListener('click', () => travel.prefill(s.id, firstTable));
    const expireBtn = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        title: 'Preview expiring this snapshot (nothing goes before you confirm)',
        on: { click: () => maintenance.previewVersions([s.id]) },
      },
      'Expire this snapshot…',
    );
    let extra: string | null = s.commit_extra_info;
    if (extra) {
      try {
        const o: unknown = JSON.parse(extra);
        if (o && typeof o === 'object' && !Array.isArray(o))
          extra = Object.entries(o as Record<string, unknown>)
            .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' · ');
      } catch {
        /* shown as is */
      }
    }
    replace(
      detail,
      h('h2', { class: 'panel-title' }, `Snapshot ${s.id}`, h('span', { class: 'spacer' }), travelBtn),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Time'),
        h('dd', null, h('span', { class: 'mono' }, utc(s.time_ms)), ' · ', timeAgo(s.time_ms)),
        h('dt', null, 'Author'),
        h('dd', null, s.author ?? '—'),
        h('dt', null, 'Message'),
        h('dd', null, s.commit_message ?? '—'),
        h('dt', null, 'Schema version'),
        h('dd', { class: 'mono' }, String(s.schema_version)),
        extra ? h('dt', null, 'Extra info') : null,
        extra ? h('dd', { class: 'mono small break' }, extra) : null,
      ),
      c.tables.length === 0
        ? h('p', { class: 'muted' }, 'No table changes recorded (', changesSummary(s.changes) || 'empty', ').')
        : h(
            'table',
            { class: 'table compact', dataset: { testid: 'snapshot-changes' } },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', { scope: 'col' }, 'Table'),
                h('th', { scope: 'col' }, 'Schema'),
                h('th', { scope: 'col', class: 'num' }, 'Inserted'),
                h('th', { scope: 'col', class: 'num' }, 'Deleted'),
                h('th', { scope: 'col', class: 'num' }, 'Updated'),
              ),
            ),
            h(
              'tbody',
              null,
              c.tables.map((t) =>
                h(
                  'tr',
                  { dataset: { table: t.table } },
                  h('td', { class: 'mono' }, t.table),
                  h(
                    'td',
                    null,
                    [t.created ? 'created' : null, t.altered ? 'altered' : null].filter(Boolean).join(', ') ||
                      h('span', { class: 'muted' }, '—'),
                  ),
                  h('td', { class: 'num' }, count(t.inserted)),
                  h('td', { class: 'num' }, count(t.deleted)),
                  h('td', { class: 'num' }, count(t.updated)),
                ),
              ),
            ),
          ),
      h('p', { class: 'hint' }, 'Rows from lake.table_changes; “created” also marks a cache refresh, which re-creates its table.'),
      h(
        'div',
        { class: 'detail-actions' },
        expireBtn,
        h(
          'span',
          { class: 'small muted' },
          s.id === lastCurrent ? 'The latest snapshot is never expired.' : 'Previews first; time travel to it stops once expired.',
        ),
      ),
    );
  };

  const select = (id: number | null) => {
    if (id === selected) return;
    selected = id;
    markSelected();
    travel.selected(id ?? lastCurrent);
    if (id === null) renderDetailEmpty();
    else void showDetail(id);
  };

  const applyRoute = (r: Route) => {
    const first = r.rest[0];
    if (first === 'travel') {
      travel.openRoute(r.rest.slice(1));
      window.setTimeout(() => travel.el.scrollIntoView({ block: 'start' }), 0);
      return;
    }
    const id = first !== undefined && /^\d+$/.test(first) ? Number(first) : null;
    select(id);
  };

  newerBtn.addEventListener('click', () => {
    if (cursors.length > 1) {
      cursors.pop();
      void load();
    }
  });
  olderBtn.addEventListener('click', () => {
    if (page?.next_before !== null && page?.next_before !== undefined) {
      cursors.push(page.next_before);
      void load();
    }
  });
  filter.addEventListener('input', renderRows);

  d.add(
    store.on('lake', () => {
      if (store.lake?.reachable) {
        travel.lakeBack();
        if (!page) void load();
      }
      const cur = store.lake?.current_snapshot ?? null;
      if (cur !== null && cur !== tablesAt) {
        tablesAt = cur;
        travel.lakeChanged();
      }
      if (store.lake?.snapshots !== null && store.lake?.snapshots !== undefined)
        setText(total, `${plural(store.lake.snapshots, 'snapshot')} in the lake`);
      if (cur === null || cur === lastCurrent) return;
      if (cursors.length === 1) void load();
      else {
        const newer = h('button', { type: 'button', class: 'btn btn-link' }, 'new snapshots — show the newest');
        newer.addEventListener('click', () => {
          cursors.length = 1;
          void load();
        });
        replace(newNote, newer);
      }
    }),
  );

  renderRows();
  renderDetailEmpty();
  void load();
  applyRoute(route);

  return {
    el,
    update: applyRoute,
    destroy: () => d.dispose(),
  };
};
