// What the Workbench knows while the window is open, as runes with actions: the editor and
// session, where the typed statement goes (`explain_query`, debounced as you type), the run
// under way and its Cancel (`cancel_query`), the last run (`run_query`) or why it failed,
// and the recent runs. Statements run inside a named routing session ("workbench" by
// default), so read-your-writes and pinned session state (SET, temp tables, an open
// transaction) carry over from one run to the next. One store per profile: another profile
// is another stack, so another history.

import { type Backend, RpcError } from '../lib/backend';
import { type QueryRoute, RUN_QUERY_MAX_ROWS } from '../lib/bindings';
import { type HistoryItem, pushHistory } from './history';
import type { Run } from './result';

/** Quiet time after a keystroke before asking where the statement goes. */
export const DEBOUNCE_MS = 250;
/** Cancel requests sent at most while the statement has not reached its node yet (200 ms apart). */
const CANCEL_ATTEMPTS = 50;

/** The session name as sent: trimmed, `null` when empty (each run a one-off). */
export function sessionName(s: string): string | null {
  const t = s.trim();
  return t ? t : null;
}

export type ExplainState =
  | { state: 'empty' }
  | { state: 'route'; sql: string; session: string | null; route: QueryRoute }
  | { state: 'error'; error: RpcError };

export class WorkbenchStore {
  sql = $state('');
  session = $state('workbench');
  /** Where the statement last explained goes (or why explaining failed). */
  explain = $state.raw<ExplainState>({ state: 'empty' });
  /** The typed statement is not explained yet. */
  pending = $state(false);
  /** The run under way: the node the explain named, and its Cancel's progress. */
  running = $state.raw<{ where: string | null; session: string | null; cancel: 'idle' | 'cancelling' } | null>(null);
  last = $state.raw<Run | null>(null);
  lastError = $state.raw<{ sql: string; error: RpcError } | null>(null);
  /** The last run was cancelled by its Cancel: not a failure, said in neutral words. */
  cancelled = $state.raw<{ sql: string; node: string | null; ms: number } | null>(null);
  history = $state.raw<HistoryItem[]>([]);

  #explainSeq = 0;
  #runSeq = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attached = 0;

  constructor(private readonly backend: Backend) {}

  /** The explained route, when it is of exactly the statement and session typed. */
  get route(): QueryRoute | null {
    const e = this.explain;
    return e.state === 'route' && e.sql === this.sql.trim() && e.session === sessionName(this.session) ? e.route : null;
  }

  /** A page shows this store: explains what is typed; the returned function detaches it. */
  attach(): () => void {
    this.#attached++;
    void this.explainNow();
    return () => {
      this.#attached--;
      if (this.#attached > 0) return;
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      this.#explainSeq++;
    };
  }

  setSql(sql: string): void {
    this.sql = sql;
    this.#explainSoon();
  }

  setSession(session: string): void {
    this.session = session;
    this.#explainSoon();
  }

  /** Puts a recent run's statement back in the editor and explains it. */
  recall(item: HistoryItem): void {
    this.sql = item.sql;
    void this.explainNow();
  }

  /** Keeps the result's page across visits. */
  setPage(page: number): void {
    if (this.last && this.last.page !== page) this.last = { ...this.last, page };
  }

  #explainSoon(): void {
    // An answer still on its way is for older text: drop it.
    this.#explainSeq++;
    this.pending = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.explainNow(), DEBOUNCE_MS);
  }

  /** Asks where the typed statement goes, now. */
  async explainNow(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const sql = this.sql.trim();
    const session = sessionName(this.session);
    const seq = ++this.#explainSeq;
    if (!sql) {
      this.explain = { state: 'empty' };
      this.pending = false;
      return;
    }
    try {
      const route = await this.backend.rpc({ method: 'explain_query', params: { sql, session } });
      if (seq !== this.#explainSeq) return;
      this.explain = { state: 'route', sql, session, route };
    } catch (e) {
      if (seq !== this.#explainSeq) return;
      this.explain = { state: 'error', error: RpcError.from(e) };
    }
    this.pending = false;
  }

  #remember(item: HistoryItem): void {
    this.history = pushHistory(this.history, item);
  }

  /** Runs the typed statement where the router sends it (nothing while one runs). */
  async run(): Promise<void> {
    const sql = this.sql.trim();
    if (!sql || this.running) return;
    const session = sessionName(this.session);
    const before = this.route;
    const seq = ++this.#runSeq;
    this.#cancelledOn = null;
    const started = Date.now();
    this.running = { where: before?.node ?? null, session, cancel: 'idle' };
    // A new run clears what the previous one left: its error or its cancel.
    this.lastError = null;
    this.cancelled = null;
    try {
      // As many rows as the backend returns at most; the rest are counted (`truncated`).
      const result = await this.backend.rpc({ method: 'run_query', params: { sql, session, max_rows: RUN_QUERY_MAX_ROWS } });
      const at = Date.now();
      this.last = { sql, session, explained: before, result, at, page: 0 };
      this.#remember({
        sql,
        session,
        at,
        node: result.route.node,
        rows: result.columns.length ? result.row_count : null,
        affected: result.columns.length ? null : result.affected,
        ms: result.elapsed_ms,
        error: null,
      });
    } catch (e) {
      const err = RpcError.from(e);
      if (err.code === 'Cancelled') this.cancelled = { sql, node: this.#cancelledOn, ms: Date.now() - started };
      else this.lastError = { sql, error: err };
      this.#remember({ sql, session, at: Date.now(), node: null, rows: null, affected: null, ms: null, error: err.code });
    } finally {
      if (seq === this.#runSeq) this.running = null;
    }
    // The session may have changed (a write, a SET, BEGIN): where the next run goes too.
    if (this.#attached > 0) void this.explainNow();
  }

  #cancelledOn: string | null = null;

  /** Asks the server to cancel the run under way (a PostgreSQL cancel request), in its session. */
  cancel(): void {
    const r = this.running;
    if (!r || r.session === null || r.cancel === 'cancelling') return;
    const seq = this.#runSeq;
    const session = r.session;
    this.running = { ...r, cancel: 'cancelling' };
    // The statement may not have reached its node yet: ask again until it has (or ends).
    const attempt = (left: number) => {
      this.backend
        .rpc({ method: 'cancel_query', params: { session } })
        .then((node) => {
          if (node !== null) this.#cancelledOn = node;
          if (node === null && this.running && seq === this.#runSeq && left > 0) setTimeout(() => attempt(left - 1), 200);
        })
        .catch(() => {
          if (this.running && seq === this.#runSeq) this.running = { ...this.running, cancel: 'idle' };
        });
    };
    attempt(CANCEL_ATTEMPTS);
  }
}

let kept: { profile: string | null; store: WorkbenchStore } | null = null;

/** The Workbench's store for this profile: kept while the window is open, anew for another profile. */
export function workbenchStore(backend: Backend, profile: string | null): WorkbenchStore {
  if (!kept || kept.profile !== profile) kept = { profile, store: new WorkbenchStore(backend) };
  return kept.store;
}
