// Caches: every cache with its definition, last refresh, state and the last result this
// console got, with "Refresh" and "Force refresh" on each row. A refresh shows progress in
// its row (spinner, buttons disabled) and then its result in place, from the rpc answer
// and from `refresh_started` / `refresh_finished` / `caches` events (another window's
// refresh shows up here too). Errors stay in the row that caused them.

import type { CacheView, RefreshOutcome } from '../lib/bindings';
import { h, replace, setAttr, setText, spinner, timeAgo, filterBox } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { count, duration, truncate, utc } from '../lib/format';
import { Disposer, type PageFactory } from '../lib/page';
import { badge, cacheBadge } from '../lib/status';

type SortKey = 'name' | 'state' | 'refreshed' | 'rows' | 'duration' | 'ttl';

interface Row {
  tr: HTMLTableRowElement;
  errorTr: HTMLTableRowElement;
  cells: Record<string, HTMLTableCellElement>;
  refresh: HTMLButtonElement;
  force: HTMLButtonElement;
  sig: Record<string, string>;
}

const STATE_ORDER: Record<string, number> = { error: 0, expired: 1, stale: 2, unknown: 3, empty: 4, refreshing: 5, fresh: 6 };

/** One line for a refresh outcome: `REFRESHED · 25 rows · 186 ms · replica1`. */
export function outcomeText(o: RefreshOutcome): string {
  switch (o.result) {
    case 'REFRESHED':
      return `REFRESHED · ${o.rows === null ? '?' : count(o.rows)} rows · ${duration(o.duration_ms)}${o.served_by ? ` · ${o.served_by}` : ''}`;
    case 'SKIPPED':
      return `SKIPPED · ${o.message} · ${duration(o.duration_ms)}`;
    case 'ERROR':
      return `ERROR · ${o.error ? `${o.error.code}: ${o.error.message}` : o.message}`;
  }
}

export const cachesPage: PageFactory = ({ store, backend }) => {
  const d = new Disposer();
  const rows = new Map<string, Row>();
  const rowErrors = new Map<string, HTMLElement>();
  let sortKey: SortKey = 'name';
  let sortAsc = true;

  const notice = h('div', { class: 'notice-slot' });
  const filter = filterBox('Filter caches', 'Filter caches');
  const summary = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const tbody = h('tbody');

  const headers: { key: SortKey | null; label: string; cls?: string; title?: string }[] = [
    { key: 'name', label: 'Cache · source query', title: 'Hover a query to read it whole' },
    { key: null, label: 'Monitored tables', title: 'A change in these tables (their fingerprint on the primary) makes the cache stale' },
    { key: 'ttl', label: 'TTL', cls: 'num', title: 'Time to live: past it, a refresh rewrites the cache even when nothing changed' },
    { key: 'refreshed', label: 'Last refresh' },
    { key: null, label: 'Age', cls: 'num', title: 'Age of the data: now − the last refresh that wrote it' },
    { key: 'state', label: 'State' },
    { key: 'rows', label: 'Rows', cls: 'num' },
    { key: 'duration', label: 'Duration', cls: 'num', title: 'Wall time of the last refresh that wrote data' },
    { key: null, label: 'Last result', title: 'The last refresh this console ran: SKIPPED, REFRESHED or ERROR' },
    { key: null, label: 'Served by', title: 'The node the last refresh read from' },
    { key: null, label: 'Actions', cls: 'actions-col' },
  ];
  const sortButtons = new Map<SortKey, HTMLButtonElement>();
  const thead = h(
    'thead',
    null,
    h(
      'tr',
      null,
      headers.map((c) => {
        if (!c.key) return h('th', { scope: 'col', class: c.cls, title: c.title }, c.label);
        const key = c.key;
        const b = h('button', { type: 'button', class: 'th-sort' }, c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }));
        b.addEventListener('click', () => {
          if (sortKey === key) sortAsc = !sortAsc;
          else {
            sortKey = key;
            sortAsc = true;
          }
          render();
        });
        sortButtons.set(key, b);
        return h('th', { scope: 'col', class: c.cls, title: c.title, dataset: { sortKey: key } }, b);
      }),
    ),
  );
  const table = h('table', { class: 'table caches-table', dataset: { testid: 'caches-table' } }, thead, tbody);

  const el = h(
    'section',
    { class: 'page-inner caches' },
    h('div', { class: 'page-head' }, h('h1', null, 'Caches'), summary, h('div', { class: 'spacer' }), filter),
    notice,
    h('div', { class: 'table-wrap' }, table),
    h(
      'p',
      { class: 'hint' },
      '“Refresh” skips when the monitored tables are unchanged and the TTL has not passed; “Force refresh” rewrites the cache anyway. Each refresh is one DuckLake snapshot.',
    ),
  );

  const refreshing = (v: CacheView) => store.isRefreshing(v.status.name);

  const doRefresh = async (name: string, force: boolean, btn: HTMLButtonElement) => {
    if (store.isRefreshing(name)) return;
    rowErrors.delete(name);
    store.pending.add(name);
    render();
    try {
      const o = await backend.rpc({ method: 'refresh_cache', params: { name, force } });
      store.pending.delete(name);
      store.recordOutcome(o);
    } catch (e) {
      store.pending.delete(name);
      rowErrors.set(name, errorBox(e, `${force ? 'Force refresh' : 'Refresh'} of ${name}`, { compact: true }));
      render();
    }
    if (document.activeElement === document.body || document.activeElement === null) btn.focus();
  };

  const makeRow = (name: string): Row => {
    const cells: Record<string, HTMLTableCellElement> = {};
    const cell = (k: string, cls?: string) => (cells[k] = h('td', { class: cls, dataset: { col: k } }));
    const refresh = h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'refresh' } }, 'Refresh');
    const force = h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'force-refresh' } }, 'Force refresh');
    refresh.addEventListener('click', () => void doRefresh(name, false, refresh));
    force.addEventListener('click', () => void doRefresh(name, true, force));
    const tr = h(
      'tr',
      { dataset: { cache: name } },
      cell('name', 'cache-name'),
      cell('monitor', 'monitor'),
      cell('ttl', 'num'),
      cell('refreshed'),
      cell('age', 'num'),
      cell('state', 'state'),
      cell('rows', 'num'),
      cell('duration', 'num'),
      cell('result', 'result'),
      cell('served', 'served'),
      h('td', { class: 'actions' }, h('div', { class: 'row gap-s' }, refresh, force)),
    );
    cells.result!.dataset.testid = 'refresh-result';
    cells.result!.setAttribute('aria-live', 'polite');
    const errorTr = h('tr', { class: 'row-error', dataset: { errorFor: name } }, h('td', { colspan: String(headers.length) }));
    return { tr, errorTr, cells, refresh, force, sig: {} };
  };

  /** Replaces a cell's contents only when its signature changed. */
  const put = (r: Row, k: string, sig: string, fill: () => (Node | string | null)[]) => {
    if (r.sig[k] === sig) return;
    r.sig[k] = sig;
    replace(r.cells[k]!, ...fill());
  };

  const updateRow = (r: Row, v: CacheView) => {
    const s = v.status;
    const busy = refreshing(v);
    put(r, 'name', `${s.name}\n${s.query}`, () => [
      h('div', { class: 'mono cache-title' }, s.name),
      h('code', { class: 'query-text', title: s.query, dataset: { testid: 'cache-query' } }, truncate(s.query, 48)),
    ]);
    put(r, 'monitor', s.monitor.join(','), () => [h('span', { class: 'mono' }, s.monitor.join(', ') || '—')]);
    put(r, 'ttl', String(s.ttl_seconds), () => [s.ttl_seconds === null ? h('span', { class: 'muted' }, 'none') : duration(s.ttl_seconds * 1000)]);
    const lr = s.last_refresh;
    put(r, 'refreshed', String(lr?.refreshed_at_ms), () => [lr ? timeAgo(lr.refreshed_at_ms) : h('span', { class: 'muted' }, 'never')]);
    const age = lr ? Date.now() - lr.refreshed_at_ms : s.age_ms;
    setText(r.cells.age!, age === null ? '—' : duration(age));
    setAttr(r.cells.age!, 'title', lr ? `data written ${utc(lr.refreshed_at_ms)}${s.ttl_seconds !== null ? ` · TTL ${duration(s.ttl_seconds * 1000)}` : ''}` : null);

    const b = cacheBadge(v);
    const stateSig = `${busy}|${b.word}|${v.stale_since_ms}|${s.state_error?.code}|${s.state_error?.message}`;
    put(r, 'state', stateSig, () => {
      if (busy) return [h('span', { class: 'badge tone-info' }, spinner(), h('span', { class: 'badge-word' }, 'refreshing'))];
      const out: (Node | string | null)[] = [badge(b)];
      if (s.state === 'stale' || s.state === 'expired') {
        if (v.stale_since_ms !== null) out.push(h('span', { class: 'small muted since' }, 'since ', timeAgo(v.stale_since_ms)));
      }
      if (s.state_error) out.push(h('div', { class: 'state-error small' }, h('code', null, s.state_error.code), ' ', s.state_error.message));
      return out;
    });
    setAttr(r.tr, 'data-state', busy ? 'refreshing' : s.state);
    setAttr(r.tr, 'data-tone', busy ? 'info' : b.tone);

    const o = v.last_outcome;
    const rowsN = lr?.rows ?? o?.rows ?? null;
    put(r, 'rows', String(rowsN), () => [rowsN === null ? '—' : count(rowsN)]);
    put(r, 'duration', String(lr?.duration_ms), () => [lr ? duration(lr.duration_ms) : '—']);
    const resultSig = busy ? 'busy' : o ? JSON.stringify(o) : 'none';
    put(r, 'result', resultSig, () => {
      if (busy) return [h('span', { class: 'result-busy' }, spinner(), ' refreshing…')];
      if (!o) return [h('span', { class: 'muted', title: 'No refresh has run from this console yet' }, '—')];
      const tone = o.result === 'ERROR' ? 'crit' : o.result === 'REFRESHED' ? 'ok' : 'muted';
      return [
        h(
          'span',
          { class: `result result-${o.result.toLowerCase()} tone-${tone}-text`, title: `${o.message}${o.snapshot_id !== null ? ` · snapshot ${o.snapshot_id}` : ''}`, dataset: { result: o.result } },
          outcomeText(o),
        ),
      ];
    });
    setAttr(r.cells.result!, 'data-result', busy ? 'busy' : (o?.result ?? null));
    const served = (o?.result === 'REFRESHED' ? o.served_by : null) ?? lr?.served_by ?? null;
    put(r, 'served', String(served), () => [served ? h('span', { class: 'mono' }, served) : h('span', { class: 'muted' }, '—')]);

    r.refresh.disabled = busy;
    r.force.disabled = busy;
    setAttr(r.refresh, 'aria-busy', busy ? 'true' : null);
    setAttr(r.force, 'aria-busy', busy ? 'true' : null);
    const err = rowErrors.get(s.name);
    const td = r.errorTr.firstElementChild as HTMLElement;
    if (err) {
      if (td.firstChild !== err) td.replaceChildren(err);
      r.errorTr.hidden = false;
    } else {
      td.replaceChildren();
      r.errorTr.hidden = true;
    }
  };

  const sorted = (list: CacheView[]): CacheView[] => {
    const q = filter.value.trim().toLowerCase();
    const visible = q
      ? list.filter((v) => [v.status.name, v.status.query, ...v.status.monitor].some((x) => x.toLowerCase().includes(q)))
      : list.slice();
    const val = (v: CacheView): number | string => {
      const s = v.status;
      switch (sortKey) {
        case 'name':
          return s.name;
        case 'state':
          return STATE_ORDER[refreshing(v) ? 'refreshing' : s.state_error ? 'error' : s.state] ?? 9;
        case 'refreshed':
          return s.last_refresh?.refreshed_at_ms ?? 0;
        case 'rows':
          return s.last_refresh?.rows ?? -1;
        case 'duration':
          return s.last_refresh?.duration_ms ?? -1;
        case 'ttl':
          return s.ttl_seconds ?? Number.MAX_SAFE_INTEGER;
      }
    };
    visible.sort((a, b) => {
      const x = val(a);
      const y = val(b);
      const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
      return (sortAsc ? c : -c) || a.status.name.localeCompare(b.status.name);
    });
    return visible;
  };

  const render = () => {
    const list = store.caches;
    for (const [k, b] of sortButtons) {
      const th = b.parentElement!;
      setAttr(th, 'aria-sort', k === sortKey ? (sortAsc ? 'ascending' : 'descending') : null);
      setText(b.querySelector('.sort-mark')!, k === sortKey ? (sortAsc ? ' ▲' : ' ▼') : '');
    }
    const counts = new Map<string, number>();
    for (const v of list) counts.set(v.status.state, (counts.get(v.status.state) ?? 0) + 1);
    setText(
      summary,
      list.length
        ? `${count(list.length)} caches · ${['fresh', 'stale', 'expired', 'empty', 'unknown']
            .filter((k) => counts.get(k))
            .map((k) => `${counts.get(k)} ${k}`)
            .join(' · ')}`
        : '',
    );
    if (!list.length) {
      replace(
        tbody,
        h(
          'tr',
          null,
          h('td', { colspan: String(headers.length), class: 'empty' }, store.lake?.reachable === false ? 'The lake is unreachable, so its caches cannot be listed.' : 'No caches defined. Define one with `skein cache define`.'),
        ),
      );
      rows.clear();
      return;
    }
    const vis = sorted(list);
    const want: HTMLTableRowElement[] = [];
    for (const v of vis) {
      let r = rows.get(v.status.name);
      if (!r) rows.set(v.status.name, (r = makeRow(v.status.name)));
      updateRow(r, v);
      want.push(r.tr, r.errorTr);
    }
    for (const name of [...rows.keys()]) if (!list.find((v) => v.status.name === name)) rows.delete(name);
    // Reorder without recreating (keeps focus on a button across updates).
    let prev: Element | null = null;
    for (const tr of want) {
      const next: ChildNode | null = prev ? prev.nextSibling : tbody.firstChild;
      if (next !== tr) tbody.insertBefore(tr, next);
      prev = tr;
    }
    while (prev && prev.nextSibling) prev.nextSibling.remove();
    if (!prev) tbody.replaceChildren();
    if (vis.length === 0)
      tbody.append(h('tr', null, h('td', { colspan: String(headers.length), class: 'empty' }, `No cache matches “${filter.value}”.`)));
  };

  const renderLake = () => {
    const l = store.lake;
    table.classList.toggle('last-known', !!l && !l.reachable);
    setAttr(table, 'title', l && !l.reachable ? 'Last known states: the lake is unreachable' : null);
    if (l && !l.reachable && l.error)
      replace(
        notice,
        h(
          'div',
          { class: 'notice tone-crit-row', role: 'status' },
          h('b', null, '✕ The lake is unreachable. '),
          h('code', null, l.error.code),
          ` ${l.error.message} — cache states and refreshes wait for it; replicas and lag charts still work.`,
        ),
      );
    else if (!notice.querySelector('[data-error-code]')) replace(notice);
  };

  filter.addEventListener('input', render);
  d.add(store.on('caches', render));
  let lakeDown = store.lake ? !store.lake.reachable : false;
  d.add(
    store.on('lake', () => {
      const down = !!store.lake && !store.lake.reachable;
      // The lake answered again: read the states now instead of waiting for the watcher.
      if (lakeDown && !down) void reread();
      lakeDown = down;
      renderLake();
    }),
  );
  d.interval(() => {
    for (const [name, r] of rows) {
      const v = store.caches.find((c) => c.status.name === name);
      const lr = v?.status.last_refresh;
      if (lr) setText(r.cells.age!, duration(Date.now() - lr.refreshed_at_ms));
    }
  }, 1000);
  render();
  renderLake();

  // Compute states now rather than showing the watcher's last reading.
  let rereading = false;
  async function reread(): Promise<void> {
    if (rereading) return;
    rereading = true;
    try {
      const list = await backend.rpc({ method: 'caches' });
      store.caches = list;
      replace(notice);
      store.emit('caches');
    } catch (e) {
      replace(notice, errorBox(e, 'Reading the caches', { compact: true, retry: () => void reread() }));
    } finally {
      rereading = false;
    }
    renderLake();
  }
  void reread();

  return { el, destroy: () => d.dispose() };
};
