import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RpcError } from '../lib/backend';
import { type QueryResult, type QueryRoute, RUN_QUERY_MAX_ROWS } from '../lib/bindings';
import { deferred, ScriptedBackend } from '../test/fixtures';
import { HISTORY, type HistoryItem, historyFacts, pushHistory } from './history';
import {
  affectedText,
  csvName,
  elapsed,
  numericColumns,
  pageCount,
  rangeText,
  resultCsv,
  stalenessBadge,
  summaryWhat,
  verb,
} from './result';
import { differs, needsPrimary, runButton, sentence } from './route';
import { DEBOUNCE_MS, sessionName, WorkbenchStore, workbenchStore } from './workbench.svelte';

const route = (over: Partial<QueryRoute> = {}): QueryRoute => ({
  target: 'replica',
  node: 'replica1',
  rule: 'read',
  reason: 'a read; chosen by round_robin',
  needs_lsn: null,
  caches: [],
  ...over,
});

const result = (over: Partial<QueryResult> = {}): QueryResult => ({
  route: route(),
  columns: ['n', 'name'],
  rows: [
    ['1', 'a'],
    ['2', null],
  ],
  row_count: 2,
  truncated: false,
  affected: null,
  elapsed_ms: 12.34,
  staleness: { live: false, replay_lag_ms: 40, lag_bytes: 0, snapshot_id: null, refreshed_at: null, checked_at: null, summary: 's' },
  ...over,
});

describe('route words', () => {
  it('says Run on primary only when the statement itself needs the primary', () => {
    expect(needsPrimary(route({ target: 'primary', rule: 'statement' }))).toBe(true);
    expect(needsPrimary(route({ target: 'primary', rule: 'session_pinned' }))).toBe(false);
    expect(needsPrimary(route())).toBe(false);
    expect(runButton(route({ target: 'primary', node: 'primary', rule: 'locking' }), false)).toEqual({
      text: 'Run on primary',
      title: 'This statement must run on the primary (locking): it will run on primary',
    });
    expect(runButton(route(), false)).toEqual({ text: 'Run', title: 'Runs on replica1' });
    expect(runButton(null, true).text).toBe('Running…');
    expect(runButton(null, false).title).toBe('Runs the statement where the router sends it');
  });

  it('makes a sentence of a reason and notices a different route', () => {
    expect(sentence(' a read; chosen by round_robin ')).toBe('A read; chosen by round_robin.');
    expect(sentence('done (pinned)')).toBe('Done (pinned)');
    expect(differs(route(), route({ node: 'replica2' }), false)).toBe(false);
    expect(differs(route(), route({ node: 'replica2' }), true)).toBe(true);
    expect(differs(route(), route({ target: 'primary' }), false)).toBe(true);
  });
});

describe('result words', () => {
  it('names what a statement without rows did', () => {
    expect(verb('/* x */ -- y\n create temp table t (a int)')).toBe('CREATE TEMP TABLE');
    expect(affectedText('UPDATE t SET a = 1', 3)).toBe('UPDATE · 3 rows affected');
    expect(affectedText('SET work_mem = 1', 0)).toBe('SET · done');
    expect(summaryWhat({ sql: 'SELECT 1', result: result() })).toBe('2 rows');
    expect(summaryWhat({ sql: 'DELETE FROM t', result: result({ columns: [], rows: [], affected: 1 }) })).toBe('DELETE · 1 row affected');
  });

  it('pages 100 rows and says which are shown', () => {
    expect(pageCount(0)).toBe(1);
    expect(pageCount(100)).toBe(1);
    expect(pageCount(1204)).toBe(13);
    expect(rangeText(0, 100, 1204)).toBe('rows 1–100 of 1,204');
    expect(rangeText(12, 4, 1204)).toBe('rows 1,201–1,204 of 1,204');
    expect(rangeText(0, 0, 0)).toBe('no rows');
  });

  it('right-aligns number columns, exports every row held, times and names files', () => {
    expect(numericColumns(result())).toEqual([true, false]);
    expect(numericColumns(result({ rows: [[null, null]] }))).toEqual([false, false]);
    expect(resultCsv(result())).toBe('n,name\r\n1,a\r\n2,\r\n');
    expect(csvName(Date.UTC(2026, 10, 22, 9, 14, 3, 512))).toBe('skein-query-20261122T091403Z.csv');
    expect(elapsed(1.234)).toBe('1.23 ms');
    expect(elapsed(850)).toBe('850.0 ms');
  });

  it('colours staleness by the thresholds', () => {
    const t = { lag_warning_ms: 1000, lag_critical_ms: 5000, slot_wal_warning_bytes: 1073741824 };
    const lag = (ms: number | null) => result({ staleness: { ...result().staleness, replay_lag_ms: ms } });
    expect(stalenessBadge(lag(40), t).tone).toBe('ok');
    expect(stalenessBadge(lag(2000), t).tone).toBe('warn');
    expect(stalenessBadge(lag(6000), t).tone).toBe('crit');
    expect(stalenessBadge(lag(null), t).word).toBe('lag unknown');
    expect(stalenessBadge(result({ staleness: { ...result().staleness, live: true } }), t).word).toBe('live');
    const cached = result({ route: route({ target: 'cache', node: 'lake' }), staleness: { ...result().staleness, snapshot_id: 7 } });
    expect(stalenessBadge(cached, t).word).toBe('cache · snapshot 7');
  });
});

describe('history', () => {
  const item = (i: number, over: Partial<HistoryItem> = {}): HistoryItem => ({
    sql: `SELECT ${i}`,
    session: 'workbench',
    at: i,
    node: 'replica1',
    rows: 1,
    affected: null,
    ms: 2,
    error: null,
    ...over,
  });
  it('keeps the newest first, at most ten', () => {
    let list: HistoryItem[] = [];
    for (let i = 0; i < 12; i++) list = pushHistory(list, item(i));
    expect(list).toHaveLength(HISTORY);
    expect(list[0]?.sql).toBe('SELECT 11');
    expect(list.at(-1)?.sql).toBe('SELECT 2');
  });
  it('says what a run gave', () => {
    expect(historyFacts(item(0))).toEqual({ node: 'replica1', what: '1 row', ms: '2.00 ms' });
    expect(historyFacts(item(0, { rows: null, affected: 3 })).what).toBe('3 affected');
    expect(historyFacts(item(0, { rows: null })).what).toBe('done');
  });
});

describe('the Workbench store', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('explains after a quiet time, only the newest text, and runs there', async () => {
    const b = new ScriptedBackend().answer('explain_query', route({ target: 'primary', node: 'primary', rule: 'statement' }));
    const wb = new WorkbenchStore(b);
    const detach = wb.attach();
    expect(wb.explain.state).toBe('empty');
    wb.setSql('UPDATE t SET a = 1');
    wb.setSql('UPDATE t SET a = 2');
    expect(wb.pending).toBe(true);
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(b.count('explain_query')).toBe(1);
    expect(b.calls.at(-1)?.params).toEqual({ sql: 'UPDATE t SET a = 2', session: 'workbench' });
    expect(wb.pending).toBe(false);
    expect(wb.route?.rule).toBe('statement');
    // Another session: the explain is of another statement until asked again.
    wb.setSession('  ');
    expect(wb.route).toBeNull();
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(b.calls.at(-1)?.params).toEqual({ sql: 'UPDATE t SET a = 2', session: null });

    const ran = result({ route: route({ target: 'primary', node: 'primary', rule: 'statement' }), columns: [], rows: [], affected: 1 });
    b.answer('run_query', ran);
    await wb.run();
    // As many rows as the backend returns at most (the bindings' limit).
    expect(b.calls.find((c) => c.method === 'run_query')?.params).toEqual({
      sql: 'UPDATE t SET a = 2',
      session: null,
      max_rows: RUN_QUERY_MAX_ROWS,
    });
    expect(wb.last?.result).toBe(ran);
    expect(wb.last?.explained?.rule).toBe('statement');
    expect(wb.history[0]).toMatchObject({ sql: 'UPDATE t SET a = 2', node: 'primary', rows: null, affected: 1, error: null });
    expect(wb.running).toBeNull();
    detach();
  });

  it('keeps an error in place, clears it when the next run starts, and says cancelled calmly', async () => {
    const slow = deferred<QueryResult>();
    const b = new ScriptedBackend()
      .answer('explain_query', route())
      .answer('run_query', { error: { code: 'QueryFailed', message: 'no such table' } }, slow.promise)
      .answer('cancel_query', null, 'replica1');
    const wb = new WorkbenchStore(b);
    wb.setSql('SELECT * FROM nope');
    await wb.run();
    expect(wb.lastError?.error.code).toBe('QueryFailed');
    expect(wb.history[0]?.error).toBe('QueryFailed');

    wb.setSql('SELECT pg_sleep(30)');
    const running = wb.run();
    expect(wb.lastError).toBeNull();
    expect(wb.running).toEqual({ where: null, session: 'workbench', cancel: 'idle' });
    wb.cancel();
    expect(wb.running?.cancel).toBe('cancelling');
    await vi.advanceTimersByTimeAsync(0);
    expect(b.count('cancel_query')).toBe(1);
    // Not on its node yet: asked again 200 ms later.
    await vi.advanceTimersByTimeAsync(200);
    expect(b.count('cancel_query')).toBe(2);
    slow.reject(new RpcError('Cancelled', 'canceling statement due to user request'));
    await running;
    expect(wb.cancelled).toMatchObject({ sql: 'SELECT pg_sleep(30)', node: 'replica1' });
    expect(wb.lastError).toBeNull();
    expect(wb.history[0]?.error).toBe('Cancelled');
  });

  it('keeps one store per profile', () => {
    const b = new ScriptedBackend();
    const a = workbenchStore(b, 'a.toml');
    expect(workbenchStore(b, 'a.toml')).toBe(a);
    expect(workbenchStore(b, 'b.toml')).not.toBe(a);
    expect(sessionName('  workbench ')).toBe('workbench');
  });
});
