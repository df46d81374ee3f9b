// Caches: every cache with its definition, last refresh, state and the last result this
// console got, with "Refresh" and "Force refresh" on each row. A refresh shows progress in
// its row (spinner, buttons disabled) and then its result in place, from the rpc answer
// and from `refresh_started` / `refresh_finished` / `caches` events (another window's
// refresh shows up here too). Errors stay in the row that caused them.
//
// The lifecycle: "New cache…" opens the form above the table (`create_cache`); each row has
// "Edit…" (the same form under the row, `update_cache`), "Pause"/"Resume" (the scheduler's
// hold, `set_cache_paused`) and "Delete…" (a confirm under the row naming the cache). The
// "Next run" column says when the scheduler looks at a cache with a TTL next. Ticking rows
// and "Snapshot N caches together" refreshes them from one PostgreSQL snapshot in one lake
// commit (`snapshot_caches`), its result in the bar above the table.

import type { CacheView } from '../lib/bindings';
import { filterBox, h, replace, setAttr, setText, spinner, timeAgo } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { count, duration, plural, truncate, utc } from '../lib/format';
import { Disposer, type PageFactory } from '../lib/page';
import { badge, cacheBadge } from '../lib/status';
import { type CacheForm, cacheForm } from './form';
import { lastAttempt, nextRunText, nextRunTitle, outcomeText, STATE_ORDER, stateLegend, togetherText } from './words';

type SortKey = 'name' | 'state' | 'refreshed' | 'rows' | 'duration' | 'ttl' | 'next';

/** What opens under a row: its edit form or its delete confirm. */
interface Panel {
  kind: 'edit' | 'delete';
  el: HTMLElement;
  /** The button that opened it (focus goes back there on close). */
  trigger: HTMLButtonElement;
  focus(): void;
}

interface Row {
  tr: HTMLTableRowElement;
  detailTr: HTMLTableRowElement;
  errorTr: HTMLTableRowElement;
  cells: Record<string, HTMLElement>;
  select: HTMLInputElement;
  refresh: HTMLButtonElement;
  force: HTMLButtonElement;
  edit: HTMLButtonElement;
  pause: HTMLButtonElement;
  del: HTMLButtonElement;
  panel: Panel | null;
  /** A pause or resume was asked and not answered yet. */
  pausing: boolean;
  sig: Record<string, string>;
}

export const cachesPage: PageFactory = ({ store, backend }) => {
  const d = new Disposer();
  const rows = new Map<string, Row>();
  const rowErrors = new Map<string, HTMLElement>();
  /** Ticked rows, for "Snapshot N caches together". */
  const selected = new Set<string>();
  let sortKey: SortKey = 'name';
  let sortAsc = true;

  const notice = h('div', { class: 'notice-slot' });
  const filter = filterBox('Filter caches', 'Filter caches');
  const summary = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const tbody = h('tbody');

  // ---- New cache ------------------------------------------------------------------------

  const newBtn = h(
    'button',
    { type: 'button', class: 'btn btn-primary', 'aria-expanded': 'false', dataset: { action: 'new-cache' } },
    'New cache…',
  );
  const newSlot = h('div', { class: 'new-cache-slot' });
  let newForm: CacheForm | null = null;
  const closeNew = (focus: boolean) => {
    newForm = null;
    replace(newSlot);
    setAttr(newBtn, 'aria-expanded', 'false');
    if (focus) newBtn.focus();
  };
  newBtn.addEventListener('click', () => {
    if (newForm) {
      newForm.focus();
      return;
    }
    newForm = cacheForm({
      backend,
      editing: null,
      onSaved: (def) => {
        closeNew(true);
        flashNotice(
          `Cache ${def.name} created${def.ttl_seconds !== null ? ': the scheduler refreshes it shortly' : ': “Refresh” fills it'}.`,
        );
        void reread();
      },
      onCancel: () => closeNew(true),
    });
    replace(newSlot, h('div', { class: 'panel form-panel' }, newForm.el));
    setAttr(newBtn, 'aria-expanded', 'true');
    newForm.focus();
  });

  /** A short-lived confirmation line ("Cache x created."). */
  const saved = h('div', { class: 'saved-note small', role: 'status', 'aria-live': 'polite' });
  let savedTimer: number | null = null;
  const flashNotice = (text: string) => {
    setText(saved, `✓ ${text}`);
    if (savedTimer !== null) window.clearTimeout(savedTimer);
    savedTimer = window.setTimeout(() => {
      savedTimer = null;
      setText(saved, '');
    }, 6000);
  };
  d.add(() => {
    if (savedTimer !== null) window.clearTimeout(savedTimer);
  });

  // ---- Snapshot together ------------------------------------------------------------------

  const togetherBtn = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      disabled: true,
      dataset: { action: 'snapshot-together' },
      title: 'Refresh the ticked caches from one PostgreSQL snapshot in one lake commit that records the source LSN',
    },
    'Snapshot together',
  );
  const clearSel = h('button', { type: 'button', class: 'btn btn-small btn-ghost', hidden: true }, 'Clear selection');
  const togetherResult = h('div', { class: 'together-result', dataset: { testid: 'together-result' }, 'aria-live': 'polite' });
  const togetherHint = h(
    'span',
    { class: 'hint inline-hint' },
    'Tick caches to refresh them from one PostgreSQL snapshot, in one lake commit.',
  );
  const selectAll = h('input', { type: 'checkbox', class: 'select-box', 'aria-label': 'Select all caches' });
  let together = false;
  const togetherNames = () => store.caches.map((v) => v.status.name).filter((n) => selected.has(n));

  const renderSelection = () => {
    const names = togetherNames();
    const n = names.length;
    setText(togetherBtn, n ? `Snapshot ${plural(n, 'cache')} together` : 'Snapshot together');
    togetherBtn.disabled = together || n === 0;
    setAttr(togetherBtn, 'aria-busy', together ? 'true' : null);
    clearSel.hidden = n === 0;
    togetherHint.hidden = n > 0 || togetherResult.childNodes.length > 0;
    const visible = [...rows.keys()].filter((k) => rows.get(k)!.tr.isConnected);
    const on = visible.filter((k) => selected.has(k)).length;
    selectAll.checked = visible.length > 0 && on === visible.length;
    selectAll.indeterminate = on > 0 && on < visible.length;
  };

  selectAll.addEventListener('change', () => {
    for (const [k, r] of rows) {
      if (!r.tr.isConnected) continue;
      if (selectAll.checked) selected.add(k);
      else selected.delete(k);
      r.select.checked = selectAll.checked;
    }
    render();
  });
  clearSel.addEventListener('click', () => {
    selected.clear();
    render();
    togetherBtn.focus();
  });

  togetherBtn.addEventListener('click', () => {
    const names = togetherNames();
    if (!names.length || together) return;
    together = true;
    togetherResult.dataset.state = 'busy';
    replace(togetherResult, h('span', { class: 'result-busy' }, spinner(), ` Snapshotting ${names.join(', ')} together…`));
    void store.app.caches
      .snapshotTogether(names)
      .then((r) => {
        togetherResult.dataset.state = 'done';
        if (r.snapshot_id !== null) togetherResult.dataset.snapshotId = String(r.snapshot_id);
        replace(
          togetherResult,
          h(
            'span',
            {
              class: 'together-line tone-ok-text',
              title: 'One PostgreSQL snapshot, one lake commit: every cache listed holds the source as of this LSN',
            },
            togetherText(r),
          ),
          h(
            'span',
            { class: 'together-caches small' },
            ' — ',
            r.caches.map(({ name, rows: n }, i) => [i ? ', ' : '', h('span', { class: 'mono' }, name), ` ${plural(n, 'row')}`]),
          ),
        );
      })
      .catch((e: unknown) => {
        togetherResult.dataset.state = 'error';
        delete togetherResult.dataset.snapshotId;
        replace(togetherResult, errorBox(e, `Snapshotting ${names.join(', ')} together`, { compact: true }));
      })
      .finally(() => {
        together = false;
        render();
        if (document.activeElement === document.body || document.activeElement === null) togetherBtn.focus();
        void reread();
      });
  });

  const headers: { key: SortKey | null; label: string | Node; cls?: string; title?: string }[] = [
    { key: null, label: selectAll, cls: 'select-col' },
    { key: 'name', label: 'Cache · source query', title: 'Hover a query to read it whole' },
    {
      key: null,
      label: 'Monitored tables',
      cls: 'col-secondary',
      title: 'A change in these tables (their fingerprint on the primary) makes the cache stale',
    },
    {
      key: 'ttl',
      label: 'TTL',
      cls: 'num col-secondary',
      title: 'Time to live: past it, a refresh rewrites the cache even when nothing changed',
    },
    {
      key: 'next',
      label: 'Next run',
      cls: 'col-secondary',
      title: 'When the scheduler looks at a cache with a TTL next; it refreshes it then if its monitored tables changed',
    },
    { key: 'state', label: 'State' },
    {
      key: 'refreshed',
      label: 'Last refresh',
      title:
        'The refresh of record (the lake’s refresh records: any console’s or the CLI’s): when it committed — the age of the data — and its snapshot',
    },
    { key: 'rows', label: 'Rows', cls: 'num', title: 'Rows the refresh of record wrote' },
    { key: 'duration', label: 'Duration', cls: 'num col-secondary', title: 'Wall time of the refresh of record' },
    { key: null, label: 'Served by', cls: 'col-secondary', title: 'The node the refresh of record read from' },
    {
      key: null,
      label: 'Last result',
      title: 'REFRESHED for the refresh of record; a newer SKIPPED or ERROR from this console shows as the last attempt',
    },
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
        const b = h(
          'button',
          { type: 'button', class: 'th-sort' },
          c.label as string,
          h('span', { class: 'sort-mark', 'aria-hidden': 'true' }),
        );
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
    h('div', { class: 'page-head' }, h('h1', null, 'Caches'), summary, h('div', { class: 'spacer' }), filter, newBtn),
    newSlot,
    saved,
    notice,
    h(
      'div',
      { class: 'together-bar', role: 'group', 'aria-label': 'Snapshot together' },
      togetherBtn,
      clearSel,
      togetherHint,
      togetherResult,
    ),
    h('div', { class: 'table-wrap caches-wrap' }, table),
    stateLegend(),
    h(
      'p',
      { class: 'hint' },
      '“Refresh” skips when the monitored tables are unchanged and the TTL has not passed; “Force refresh” rewrites the cache anyway. Each refresh is one DuckLake snapshot. “Snapshot together” refreshes the ticked caches from one PostgreSQL snapshot in one commit, so they agree on the source’s point in time.',
    ),
  );

  const refreshing = (v: CacheView) => store.isRefreshing(v.status.name);

  const doRefresh = async (name: string, force: boolean, btn: HTMLButtonElement) => {
    if (store.isRefreshing(name)) return;
    rowErrors.delete(name);
    try {
      await store.app.caches.refresh(name, force);
    } catch (e) {
      rowErrors.set(name, errorBox(e, `${force ? 'Force refresh' : 'Refresh'} of ${name}`, { compact: true }));
      render();
    }
    if (document.activeElement === document.body || document.activeElement === null) btn.focus();
  };

  // ---- Row actions: edit, pause, delete ---------------------------------------------------

  const closePanel = (r: Row, focus: boolean) => {
    const p = r.panel;
    if (!p) return;
    r.panel = null;
    setAttr(p.trigger, 'aria-expanded', 'false');
    const td = r.detailTr.firstElementChild as HTMLElement;
    td.replaceChildren();
    r.detailTr.hidden = true;
    delete r.detailTr.dataset.panel;
    if (focus && p.trigger.isConnected) p.trigger.focus();
  };

  const openPanel = (r: Row, p: Panel) => {
    closePanel(r, false);
    r.panel = p;
    setAttr(p.trigger, 'aria-expanded', 'true');
    const td = r.detailTr.firstElementChild as HTMLElement;
    td.replaceChildren(p.el);
    r.detailTr.hidden = false;
    r.detailTr.dataset.panel = p.kind;
    p.focus();
  };

  const openEdit = (name: string) => {
    const r = rows.get(name);
    const v = store.caches.find((c) => c.status.name === name);
    if (!r || !v) return;
    if (r.panel?.kind === 'edit') {
      r.panel.focus();
      return;
    }
    const form = cacheForm({
      backend,
      editing: v,
      onSaved: (def) => {
        closePanel(r, true);
        // Show the new definition now; the `caches` event and the reread confirm it.
        store.app.caches.applyDefinition(def);
        flashNotice(`Cache ${def.name} saved: the next refresh reads the new query.`);
        void reread();
      },
      onCancel: () => closePanel(r, true),
    });
    openPanel(r, { kind: 'edit', el: h('div', { class: 'row-panel' }, form.el), trigger: r.edit, focus: () => form.focus() });
  };

  const openDelete = (name: string) => {
    const r = rows.get(name);
    if (!r) return;
    if (r.panel?.kind === 'delete') {
      r.panel.focus();
      return;
    }
    const errSlot = h('div', { class: 'preview-error' });
    const confirm = h('button', { type: 'button', class: 'btn btn-danger', dataset: { action: 'confirm-delete' } }, `Delete cache ${name}`);
    const cancel = h('button', { type: 'button', class: 'btn', on: { click: () => closePanel(r, true) } }, 'Cancel');
    const head = h(
      'p',
      { class: 'preview-head', tabindex: '-1' },
      h('strong', null, 'Delete cache ', h('span', { class: 'mono' }, name), '?'),
      ' Its definition, its lake table ',
      h('span', { class: 'mono' }, `main.${name}`),
      ', its refresh records and its settings go, in one lake commit.',
    );
    const box = h(
      'div',
      {
        class: 'preview delete-confirm',
        role: 'group',
        'aria-label': `Delete cache ${name}`,
        dataset: { testid: 'delete-confirm', cache: name },
      },
      head,
      h(
        'p',
        { class: 'preview-warn' },
        h('span', { class: 'warn-icon', 'aria-hidden': 'true' }, '▲'),
        ' Its data and refresh history stay reachable by time travel (Snapshots page) until its snapshots are expired.',
      ),
      h('div', { class: 'row gap preview-actions' }, confirm, cancel),
      errSlot,
    );
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !confirm.disabled) {
        e.preventDefault();
        closePanel(r, true);
      }
    });
    confirm.addEventListener('click', () => {
      confirm.disabled = true;
      cancel.disabled = true;
      setAttr(confirm, 'aria-busy', 'true');
      const spin = spinner();
      confirm.prepend(spin);
      replace(errSlot);
      backend
        .rpc({ method: 'delete_cache', params: { name } })
        .then(() => {
          // Focus moves on to the next row (or the New button) before this one goes.
          const order = [...tbody.querySelectorAll<HTMLTableRowElement>('tr[data-cache]')];
          const at = order.indexOf(r.tr);
          const next = order[at + 1] ?? order[at - 1];
          closePanel(r, false);
          selected.delete(name);
          rowErrors.delete(name);
          store.app.caches.remove(name);
          flashNotice(`Cache ${name} deleted. Its history stays reachable by time travel until its snapshots are expired.`);
          const nextName = next?.dataset.cache;
          const target = nextName ? rows.get(nextName)?.edit : null;
          (target ?? newBtn).focus();
          void reread();
        })
        .catch((e: unknown) => {
          spin.remove();
          confirm.disabled = false;
          cancel.disabled = false;
          setAttr(confirm, 'aria-busy', null);
          replace(errSlot, errorBox(e, `Deleting cache ${name}`, { compact: true }));
          confirm.focus();
        });
    });
    openPanel(r, { kind: 'delete', el: h('div', { class: 'row-panel' }, box), trigger: r.del, focus: () => head.focus() });
  };

  const togglePause = async (name: string) => {
    const r = rows.get(name);
    const v = store.caches.find((c) => c.status.name === name);
    if (!r || !v || r.pausing) return;
    const paused = !v.status.paused;
    r.pausing = true;
    rowErrors.delete(name);
    render();
    try {
      const def = await backend.rpc({ method: 'set_cache_paused', params: { name, paused } });
      store.app.caches.applyDefinition(def);
    } catch (e) {
      rowErrors.set(name, errorBox(e, `${paused ? 'Pausing' : 'Resuming'} ${name}`, { compact: true }));
    }
    r.pausing = false;
    render();
    if (document.activeElement === document.body || document.activeElement === null) r.pause.focus();
    void reread();
  };

  const makeRow = (name: string): Row => {
    const cells: Record<string, HTMLElement> = {};
    const cell = (k: string, cls?: string) => (cells[k] = h('td', { class: cls, dataset: { col: k } }));
    const refresh = h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'refresh' } }, 'Refresh');
    const force = h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'force-refresh' } }, 'Force refresh');
    refresh.addEventListener('click', () => void doRefresh(name, false, refresh));
    force.addEventListener('click', () => void doRefresh(name, true, force));
    // The definition's actions sit under its name (the refresh actions keep their column).
    const edit = h(
      'button',
      {
        type: 'button',
        class: 'row-action',
        'aria-expanded': 'false',
        dataset: { action: 'edit' },
        title: 'Change the query, monitored tables or TTL',
        on: { click: () => openEdit(name) },
      },
      'Edit…',
    );
    const pause = h(
      'button',
      { type: 'button', class: 'row-action', dataset: { action: 'pause' }, on: { click: () => void togglePause(name) } },
      'Pause',
    );
    const del = h(
      'button',
      {
        type: 'button',
        class: 'row-action row-action-danger',
        'aria-expanded': 'false',
        dataset: { action: 'delete' },
        title: 'Delete this cache (asks first)',
        on: { click: () => openDelete(name) },
      },
      'Delete…',
    );
    const nameSlot = h('div', { class: 'name-slot' });
    cells.name = nameSlot;
    const select = h('input', { type: 'checkbox', class: 'select-box', 'aria-label': `Select ${name}` });
    select.addEventListener('change', () => {
      if (select.checked) selected.add(name);
      else selected.delete(name);
      render();
    });
    const tr = h(
      'tr',
      { dataset: { cache: name } },
      h('td', { class: 'select-col' }, select),
      h('td', { class: 'cache-name', dataset: { col: 'name' } }, nameSlot, h('div', { class: 'row-actions' }, edit, pause, del)),
      cell('monitor', 'monitor col-secondary'),
      cell('ttl', 'num col-secondary'),
      cell('next', 'next-run col-secondary'),
      cell('state', 'state'),
      cell('refreshed', 'refreshed'),
      cell('rows', 'num'),
      cell('duration', 'num col-secondary'),
      cell('served', 'served col-secondary'),
      cell('result', 'result'),
      h('td', { class: 'actions' }, h('div', { class: 'row gap-s' }, refresh, force)),
    );
    cells.result!.dataset.testid = 'refresh-result';
    cells.result!.setAttribute('aria-live', 'polite');
    cells.next!.dataset.testid = 'next-run';
    const detailTr = h(
      'tr',
      { class: 'row-detail', hidden: true, dataset: { detailFor: name } },
      h('td', { colspan: String(headers.length) }),
    );
    const errorTr = h('tr', { class: 'row-error', dataset: { errorFor: name } }, h('td', { colspan: String(headers.length) }));
    return { tr, detailTr, errorTr, cells, select, refresh, force, edit, pause, del, panel: null, pausing: false, sig: {} };
  };

  const updateNext = (r: Row, v: CacheView, now = Date.now()) => {
    const text = nextRunText(v, now);
    const sig = `${text}|${v.status.paused}`;
    if (r.sig.next !== sig) {
      r.sig.next = sig;
      replace(
        r.cells.next!,
        text === 'paused' || text === '—'
          ? h('span', { class: 'muted' }, text)
          : text === 'due'
            ? h('span', { class: 'next-due' }, text)
            : text,
      );
    }
    setAttr(r.cells.next!, 'title', nextRunTitle(v, now));
    setAttr(r.cells.next!, 'data-next-run-ms', v.next_run_ms === null ? null : String(v.next_run_ms));
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
    put(r, 'name', `${s.name}\n${s.query}\n${s.monitor.join(',')}\n${s.ttl_seconds}`, () => [
      h('div', { class: 'mono cache-title' }, s.name),
      h('code', { class: 'query-text', title: s.query, dataset: { testid: 'cache-query' } }, truncate(s.query, 48)),
      // Narrow windows hide the secondary columns; their facts stay here, in one line.
      h(
        'div',
        { class: 'narrow-only small muted cache-meta' },
        `monitors ${s.monitor.join(', ') || '—'} · TTL ${s.ttl_seconds === null ? 'none' : duration(s.ttl_seconds * 1000)}`,
      ),
    ]);
    put(r, 'monitor', s.monitor.join(','), () => [h('span', { class: 'mono' }, s.monitor.join(', ') || '—')]);
    put(r, 'ttl', String(s.ttl_seconds), () => [
      s.ttl_seconds === null ? h('span', { class: 'muted' }, 'none') : duration(s.ttl_seconds * 1000),
    ]);
    updateNext(r, v);
    const lr = s.last_refresh;
    // The relative time is the data's age (it keeps itself current); the title has the UTC time.
    // Everything about the refresh of record comes from one record: age, snapshot, rows,
    // duration, served-by.
    put(r, 'refreshed', `${lr?.refresh_id}|${lr?.snapshot_id}|${s.ttl_seconds}`, () => {
      if (!lr) return [h('span', { class: 'muted' }, 'never')];
      const t = timeAgo(lr.refreshed_at_ms);
      t.title = `data written ${utc(lr.refreshed_at_ms)}${s.ttl_seconds !== null ? ` · TTL ${duration(s.ttl_seconds * 1000)}` : ''}`;
      return [
        t,
        h(
          'div',
          { class: 'small muted refresh-of-record' },
          h('span', { dataset: { testid: 'record-snapshot' } }, lr.snapshot_id === null ? 'snapshot ?' : `snapshot ${lr.snapshot_id}`),
          h('span', { class: 'narrow-only' }, ` · ${duration(lr.duration_ms)} · ${lr.served_by}`),
        ),
      ];
    });

    const b = cacheBadge(v);
    const failed = lastAttempt(v)?.result === 'ERROR';
    const stateSig = `${busy}|${b.word}|${v.stale_since_ms}|${s.state_error?.code}|${s.state_error?.message}|${s.paused}|${failed}`;
    const pausedWord = () =>
      s.paused
        ? h(
            'span',
            {
              class: 'badge tone-paused',
              title: 'Paused: the scheduler leaves this cache alone; Refresh by hand still works',
              dataset: { testid: 'paused' },
            },
            h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '‖'),
            h('span', { class: 'badge-word' }, 'paused'),
          )
        : null;
    put(r, 'state', stateSig, () => {
      if (busy)
        return [
          h(
            'span',
            { class: 'state-line' },
            h('span', { class: 'badge tone-info' }, spinner(), h('span', { class: 'badge-word' }, 'refreshing')),
            pausedWord(),
          ),
        ];
      const failedWord = failed
        ? h(
            'span',
            { class: 'badge tone-crit', title: 'The last refresh failed (Last result says why)', dataset: { testid: 'refresh-failed' } },
            h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '✕'),
            h('span', { class: 'badge-word' }, 'error'),
          )
        : null;
      const out: (Node | string | null)[] = [h('span', { class: 'state-line' }, badge(b), pausedWord(), failedWord)];
      if (s.state === 'expired') out.push(h('span', { class: 'small muted since' }, 'TTL passed · sources unchanged'));
      else if (s.state === 'stale') {
        if (v.stale_since_ms !== null) out.push(h('span', { class: 'small muted since' }, 'since ', timeAgo(v.stale_since_ms)));
      }
      if (s.state_error)
        out.push(h('div', { class: 'state-error small' }, h('code', null, s.state_error.code), ' ', s.state_error.message));
      return out;
    });
    setAttr(r.tr, 'data-state', busy ? 'refreshing' : s.state);
    setAttr(r.tr, 'data-tone', busy ? 'info' : b.tone);
    setAttr(r.tr, 'data-paused', s.paused ? 'true' : null);

    const o = lastAttempt(v);
    put(r, 'rows', String(lr?.rows), () => [lr ? count(lr.rows) : h('span', { class: 'muted' }, '—')]);
    put(r, 'duration', String(lr?.duration_ms), () => [lr ? duration(lr.duration_ms) : h('span', { class: 'muted' }, '—')]);
    put(r, 'served', String(lr?.served_by), () => [lr ? h('span', { class: 'mono' }, lr.served_by) : h('span', { class: 'muted' }, '—')]);
    // The result of record (REFRESHED, from the lake) unless this window tried since and
    // got another answer: that shows as the last attempt, apart from the data's refresh.
    const shown = o && o.result !== 'REFRESHED' ? o : null;
    const resultSig = busy ? 'busy' : shown ? JSON.stringify(shown) : `record|${lr?.snapshot_id}`;
    put(r, 'result', resultSig, () => {
      if (busy) return [h('span', { class: 'result-busy' }, spinner(), ' refreshing…')];
      if (shown) {
        const tone = shown.result === 'ERROR' ? 'crit' : 'muted';
        return [
          h('span', { class: 'attempt-label small muted' }, 'last attempt '),
          h(
            'span',
            {
              class: `result result-${shown.result.toLowerCase()} tone-${tone}-text`,
              title: `${shown.message} · ${duration(shown.duration_ms)} (this console’s attempt; the data is still the refresh of record’s)`,
              dataset: { result: shown.result },
            },
            outcomeText(shown),
          ),
        ];
      }
      if (!lr) return [h('span', { class: 'muted' }, 'never refreshed')];
      return [
        h(
          'span',
          {
            class: 'result result-refreshed tone-ok-text',
            title: `The refresh of record: ${count(lr.rows)} rows from ${lr.served_by} in ${duration(lr.duration_ms)}`,
            dataset: { result: 'REFRESHED' },
          },
          'REFRESHED',
        ),
      ];
    });
    setAttr(r.cells.result!, 'data-result', busy ? 'busy' : (shown?.result ?? (lr ? 'REFRESHED' : null)));

    r.refresh.disabled = busy;
    r.force.disabled = busy;
    setText(r.pause, s.paused ? 'Resume' : 'Pause');
    setAttr(r.pause, 'data-action', s.paused ? 'resume' : 'pause');
    setAttr(
      r.pause,
      'title',
      s.paused
        ? 'Let the scheduler refresh this cache again when its TTL has passed and its sources changed'
        : 'Stop the scheduler refreshing this cache (Refresh by hand still works)',
    );
    r.pause.disabled = r.pausing;
    setAttr(r.pause, 'aria-busy', r.pausing ? 'true' : null);
    r.del.disabled = busy;
    r.select.checked = selected.has(s.name);
    setAttr(r.tr, 'aria-selected', selected.has(s.name) ? 'true' : null);
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

  const sorted = (list: readonly CacheView[]): CacheView[] => {
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
          return STATE_ORDER[refreshing(v) ? 'refreshing' : s.state_error || lastAttempt(v)?.result === 'ERROR' ? 'error' : s.state] ?? 9;
        case 'refreshed':
          return s.last_refresh?.refreshed_at_ms ?? 0;
        case 'rows':
          return s.last_refresh?.rows ?? -1;
        case 'duration':
          return s.last_refresh?.duration_ms ?? -1;
        case 'ttl':
          return s.ttl_seconds ?? Number.MAX_SAFE_INTEGER;
        case 'next':
          return s.paused || v.next_run_ms === null ? Number.MAX_SAFE_INTEGER : v.next_run_ms;
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
        ? `${count(list.length)} caches · ${['fresh', 'edited', 'stale', 'expired', 'empty', 'unknown']
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
          h(
            'td',
            { colspan: String(headers.length), class: 'empty' },
            store.lake?.reachable === false
              ? 'The lake is unreachable, so its caches cannot be listed.'
              : 'No caches defined yet. “New cache…” defines one (or `skein cache create` in a terminal).',
          ),
        ),
      );
      rows.clear();
      selected.clear();
      renderSelection();
      return;
    }
    const vis = sorted(list);
    const want: HTMLTableRowElement[] = [];
    for (const v of vis) {
      let r = rows.get(v.status.name);
      if (!r) {
        r = makeRow(v.status.name);
        rows.set(v.status.name, r);
      }
      updateRow(r, v);
      want.push(r.tr, r.detailTr, r.errorTr);
    }
    for (const name of [...rows.keys()])
      if (!list.find((v) => v.status.name === name)) {
        rows.delete(name);
        selected.delete(name);
      }
    for (const name of [...selected]) if (!rows.has(name)) selected.delete(name);
    // Reorder without recreating (keeps focus on a button across updates).
    let prev: Element | null = null;
    for (const tr of want) {
      const next: ChildNode | null = prev ? prev.nextSibling : tbody.firstChild;
      if (next !== tr) tbody.insertBefore(tr, next);
      prev = tr;
    }
    while (prev?.nextSibling) prev.nextSibling.remove();
    if (!prev) tbody.replaceChildren();
    if (vis.length === 0)
      tbody.append(h('tr', null, h('td', { colspan: String(headers.length), class: 'empty' }, `No cache matches “${filter.value}”.`)));
    renderSelection();
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
    const now = Date.now();
    for (const [name, r] of rows) {
      const v = store.caches.find((c) => c.status.name === name);
      if (v) updateNext(r, v, now);
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
      await store.app.caches.reread();
      replace(notice);
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
