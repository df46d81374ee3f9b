// Workbench: type a statement and see where the router sends it before it runs
// (`explain_query`, debounced as you type), then run it there (`run_query`) and see which
// node served it, how stale that node was, and the rows, paged. Statements run inside a
// named routing session ("workbench" by default), so read-your-writes and pinned session
// state (SET, temp tables, an open transaction) carry over from one run to the next.

import { RpcError } from '../lib/backend';
import type { QueryRoute } from '../lib/bindings';
import { h, replace, setAttr, setText, spinner, timeAgo } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { count, truncate } from '../lib/format';
import { Disposer, type PageFactory } from '../lib/page';
import { elapsed, type ResultPanel, type Run, resultPanel } from './result';
import { needsPrimary, routeLine } from './route';

/** Rows a run returns at most (the backend's ceiling). */
const MAX_ROWS = 10_000;
/** Runs the history keeps. */
const HISTORY = 10;
/** Quiet time after a keystroke before asking where the statement goes. */
const DEBOUNCE_MS = 250;

interface HistoryItem {
  sql: string;
  session: string | null;
  at: number;
  node: string | null;
  rows: number | null;
  /** Rows affected, for a statement without rows. */
  affected: number | null;
  ms: number | null;
  error: string | null;
}

/** What the page keeps while the window is open (the editor, the last run, the history). */
const kept: {
  profile: string | null;
  sql: string;
  session: string;
  last: Run | null;
  lastError: { sql: string; error: RpcError } | null;
  /** The last run was cancelled by its Cancel: not a failure, said in neutral words. */
  cancelled: { sql: string; node: string | null; ms: number } | null;
  history: HistoryItem[];
} = { profile: null, sql: '', session: 'workbench', last: null, lastError: null, cancelled: null, history: [] };

export const workbenchPage: PageFactory = ({ store, backend }) => {
  const d = new Disposer();
  // Another profile: another stack, so another page's history.
  const profile = store.profile?.path ?? store.profile?.name ?? null;
  if (kept.profile !== profile) {
    kept.profile = profile;
    kept.last = null;
    kept.lastError = null;
    kept.cancelled = null;
    kept.history = [];
  }

  const editor = h('textarea', {
    id: 'wb-sql',
    class: 'input mono wb-sql',
    rows: '8',
    spellcheck: 'false',
    autocomplete: 'off',
    autocapitalize: 'off',
    placeholder: 'SELECT … (Ctrl+Enter runs)',
  });
  editor.value = kept.sql;
  const sessionInput = h('input', {
    id: 'wb-session',
    type: 'text',
    class: 'input mono wb-session',
    spellcheck: 'false',
    autocomplete: 'off',
    title:
      'The routing session: read-your-writes and pinned state (SET, temp tables, an open transaction) carry over between runs of the same session. Empty: each run is a one-off.',
  });
  sessionInput.value = kept.session;

  const route = h('div', { class: 'wb-route', dataset: { testid: 'route' }, 'aria-live': 'polite' });
  const runBtn = h('button', { type: 'button', class: 'btn btn-primary wb-run' }, 'Run');
  const runNote = h('span', { class: 'small muted' }, navigator.platform.startsWith('Mac') ? '⌘+Enter runs' : 'Ctrl+Enter runs');
  const resultArea = h('div', { class: 'wb-result-area' });
  const historyList = h('ol', { class: 'wb-history-list', dataset: { testid: 'history' }, 'aria-label': 'Recent runs' });

  const el = h(
    'section',
    { class: 'page-inner workbench' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Workbench'),
      h('span', { class: 'muted small' }, 'where a statement goes and why, before it runs; then run it there'),
    ),
    h(
      'div',
      { class: 'wb-top' },
      h(
        'div',
        { class: 'panel wb-editor' },
        h(
          'div',
          { class: 'wb-editor-head' },
          h('label', { for: 'wb-sql', class: 'label' }, 'SQL'),
          h('span', { class: 'spacer' }),
          h('label', { for: 'wb-session', class: 'label wb-session-label' }, 'Session'),
          sessionInput,
        ),
        editor,
        route,
        h(
          'div',
          { class: 'wb-actions' },
          runBtn,
          runNote,
          h('span', { class: 'spacer' }),
          h('span', { class: 'small muted' }, `at most ${count(MAX_ROWS)} rows are returned`),
        ),
      ),
      h(
        'section',
        { class: 'panel wb-history', 'aria-labelledby': 'wb-history-title' },
        h('h2', { class: 'panel-title', id: 'wb-history-title' }, 'Recent runs', h('span', { class: 'muted small' }, ' · this window')),
        historyList,
      ),
    ),
    resultArea,
  );

  // ---- Where it goes (explain) ----

  let explained: { sql: string; session: string | null; route: QueryRoute } | null = null;
  let explainSeq = 0;
  let timer: number | null = null;
  let running = false;
  let runSeq = 0;

  const sessionName = (): string | null => {
    const s = sessionInput.value.trim();
    return s ? s : null;
  };

  const currentRoute = (): QueryRoute | null =>
    explained && explained.sql === editor.value.trim() && explained.session === sessionName() ? explained.route : null;

  const updateButton = () => {
    const r = currentRoute();
    const onPrimary = !!r && needsPrimary(r);
    setText(runBtn, running ? 'Running…' : onPrimary ? 'Run on primary' : 'Run');
    setAttr(
      runBtn,
      'title',
      onPrimary
        ? `This statement must run on the primary (${r!.rule}): it will run on ${r!.node}`
        : r
          ? `Runs on ${r.node}`
          : 'Runs the statement where the router sends it',
    );
    runBtn.disabled = running || editor.value.trim() === '';
    setAttr(runBtn, 'aria-busy', running ? 'true' : null);
  };

  const showRoute = (state: 'empty' | 'route' | 'error', content: (Node | string)[], r?: QueryRoute) => {
    setAttr(route, 'data-state', state);
    setAttr(route, 'data-target', r?.target ?? null);
    setAttr(route, 'data-node', r?.node ?? null);
    setAttr(route, 'data-rule', r?.rule ?? null);
    replace(route, ...content);
  };

  const explain = async () => {
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
    const sql = editor.value.trim();
    const session = sessionName();
    const seq = ++explainSeq;
    if (!sql) {
      explained = null;
      route.removeAttribute('data-pending');
      showRoute('empty', [h('p', { class: 'wb-route-hint muted' }, 'Type a statement to see where it goes.')]);
      updateButton();
      return;
    }
    try {
      const r = await backend.rpc({ method: 'explain_query', params: { sql, session } });
      if (seq !== explainSeq) return;
      explained = { sql, session, route: r };
      showRoute('route', [h('div', { class: 'wb-route-kicker small muted' }, 'Where it goes · before running'), ...routeLine(r)], r);
    } catch (e) {
      if (seq !== explainSeq) return;
      explained = null;
      showRoute('error', [errorBox(e, 'Explaining the route', { compact: true, retry: () => void explain() })]);
    }
    route.removeAttribute('data-pending');
    updateButton();
  };

  const explainSoon = () => {
    // An answer still on its way is for older text: drop it.
    explainSeq++;
    route.setAttribute('data-pending', 'true');
    updateButton();
    if (timer !== null) window.clearTimeout(timer);
    timer = window.setTimeout(() => void explain(), DEBOUNCE_MS);
  };
  d.add(() => {
    if (timer !== null) window.clearTimeout(timer);
    explainSeq++;
  });

  editor.addEventListener('input', () => {
    kept.sql = editor.value;
    explainSoon();
  });
  sessionInput.addEventListener('input', () => {
    kept.session = sessionInput.value;
    explainSoon();
  });

  // ---- Running ----

  /** The result shown, whose grid is unmounted when another takes its place. */
  let shownResult: ResultPanel | null = null;
  d.add(() => shownResult?.destroy());
  const renderResult = () => {
    shownResult?.destroy();
    shownResult = null;
    if (kept.cancelled) {
      const c = kept.cancelled;
      replace(
        resultArea,
        h(
          'div',
          { class: 'wb-cancelled', role: 'status', dataset: { testid: 'run-cancelled' } },
          h(
            'span',
            { class: 'badge tone-muted' },
            h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '○'),
            h('span', { class: 'badge-word' }, 'cancelled'),
          ),
          ` The statement was cancelled${c.node ? ` on ${c.node}` : ''} after ${elapsed(c.ms)}, as asked: it returned nothing, and a write it was making was rolled back.`,
        ),
      );
      return;
    }
    if (kept.lastError) {
      replace(resultArea, errorBox(kept.lastError.error, 'Running the statement'));
      return;
    }
    if (!kept.last) {
      replace(
        resultArea,
        h('p', { class: 'muted wb-empty' }, 'Run a statement to see its rows, the node that served it and how stale that node was.'),
      );
      return;
    }
    const run = kept.last;
    shownResult = resultPanel(run, {
      thresholds: store.thresholds,
      onPage: (p) => {
        run.page = p;
      },
    });
    replace(resultArea, shownResult.el);
  };

  const renderHistory = () => {
    if (!kept.history.length) {
      replace(historyList, h('li', { class: 'muted small wb-history-none' }, 'No runs yet.'));
      return;
    }
    replace(
      historyList,
      kept.history.map((it, i) =>
        h(
          'li',
          { dataset: { history: String(i), ...(it.error ? { error: it.error } : {}) } },
          h(
            'button',
            {
              type: 'button',
              class: 'wb-history-item',
              title: `${it.sql}\n\n(click to put it back in the editor)`,
              on: {
                click: () => {
                  editor.value = it.sql;
                  kept.sql = it.sql;
                  editor.focus();
                  void explain();
                },
              },
            },
            h('span', { class: 'wb-history-sql mono' }, truncate(it.sql, 64)),
            h(
              'span',
              { class: 'wb-history-meta small muted' },
              it.error === 'Cancelled'
                ? h('span', { class: 'muted' }, '○ cancelled')
                : it.error
                  ? h('span', { class: 'tone-crit-text' }, `✕ ${it.error}`)
                  : [
                      h('span', { class: 'mono' }, it.node ?? ''),
                      ' · ',
                      it.rows !== null
                        ? `${count(it.rows)} ${it.rows === 1 ? 'row' : 'rows'}`
                        : it.affected !== null
                          ? `${count(it.affected)} affected`
                          : 'done',
                      ' · ',
                      it.ms !== null ? elapsed(it.ms) : '',
                    ],
              ' · ',
              timeAgo(it.at),
            ),
          ),
        ),
      ),
    );
  };

  const remember = (item: HistoryItem) => {
    kept.history.unshift(item);
    kept.history.length = Math.min(kept.history.length, HISTORY);
    renderHistory();
  };

  let alive = true;
  d.add(() => {
    alive = false;
  });

  const run = async () => {
    const sql = editor.value.trim();
    if (!sql || running) return;
    const session = sessionName();
    const before = currentRoute();
    running = true;
    const seq = ++runSeq;
    updateButton();
    const where = before ? ` on ${before.node}` : '';
    const cancelBtn = h(
      'button',
      { type: 'button', class: 'btn btn-small', title: 'Asks the server to cancel the statement (PostgreSQL cancel request)' },
      'Cancel',
    );
    let cancelledOn: string | null = null;
    const started = Date.now();
    if (session) {
      cancelBtn.addEventListener('click', () => {
        cancelBtn.disabled = true;
        setText(cancelBtn, 'Cancelling…');
        // The statement may not have reached its node yet: ask again until it has (or ends).
        const attempt = (left: number) => {
          backend
            .rpc({ method: 'cancel_query', params: { session } })
            .then((node) => {
              if (node !== null) cancelledOn = node;
              if (node === null && running && seq === runSeq && left > 0) window.setTimeout(() => attempt(left - 1), 200);
            })
            .catch(() => {
              cancelBtn.disabled = false;
              setText(cancelBtn, 'Cancel');
            });
        };
        attempt(50);
      });
    }
    const busy = h('p', { class: 'muted wb-running' }, spinner(), ` Running${where}… `, session ? cancelBtn : null);
    // A new run clears what the previous one left: its error or its cancel.
    if (kept.lastError || kept.cancelled) {
      kept.lastError = null;
      kept.cancelled = null;
      renderResult();
    }
    resultArea.prepend(busy);
    try {
      const result = await backend.rpc({ method: 'run_query', params: { sql, session, max_rows: MAX_ROWS } });
      kept.last = { sql, session, explained: before, result, at: Date.now(), page: 0 };
      kept.lastError = null;
      kept.cancelled = null;
      remember({
        sql,
        session,
        at: kept.last.at,
        node: result.route.node,
        rows: result.columns.length ? result.row_count : null,
        affected: result.columns.length ? null : result.affected,
        ms: result.elapsed_ms,
        error: null,
      });
    } catch (e) {
      const err = RpcError.from(e);
      if (err.code === 'Cancelled') {
        kept.cancelled = { sql, node: cancelledOn, ms: Date.now() - started };
        kept.lastError = null;
      } else kept.lastError = { sql, error: err };
      remember({ sql, session, at: Date.now(), node: null, rows: null, affected: null, ms: null, error: err.code });
    } finally {
      running = false;
      busy.remove();
    }
    if (!alive) return;
    renderResult();
    updateButton();
    // The session may have changed (a write, a SET, BEGIN): where the next run goes too.
    void explain();
  };

  runBtn.addEventListener('click', () => void run());
  const runKeys = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  };
  editor.addEventListener('keydown', runKeys);
  sessionInput.addEventListener('keydown', runKeys);

  // The thresholds colour the staleness: redraw once the lag history brought them.
  d.add(
    store.on('history', () => {
      if (kept.last) renderResult();
    }),
  );

  renderResult();
  renderHistory();
  void explain();
  updateButton();
  window.setTimeout(() => {
    if (alive && !kept.sql) editor.focus({ preventScroll: true });
  }, 0);

  return { el, destroy: () => d.dispose() };
};
