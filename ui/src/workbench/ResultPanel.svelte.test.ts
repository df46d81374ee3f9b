// @vitest-environment jsdom
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueryResult, QueryRoute, Thresholds } from '../lib/bindings';
import ResultPanel from './ResultPanel.svelte';
import type { Run } from './result';

const route = (over: Partial<QueryRoute> = {}): QueryRoute => ({
  target: 'replica',
  node: 'replica2',
  rule: 'read',
  reason: 'a read; chosen by round_robin',
  needs_lsn: null,
  caches: [],
  ...over,
});

function runOf(rows: number, over: Partial<QueryResult> = {}, explained: QueryRoute | null = null): Run {
  return {
    sql: 'SELECT n FROM t',
    session: 'workbench',
    explained,
    at: Date.UTC(2026, 10, 22, 9, 14, 3),
    page: 0,
    result: {
      route: route(),
      columns: ['n'],
      rows: Array.from({ length: rows }, (_, i) => [String(i + 1)]),
      row_count: rows,
      truncated: false,
      affected: null,
      elapsed_ms: 12.3,
      staleness: { live: false, replay_lag_ms: 40, lag_bytes: 0, snapshot_id: null, refreshed_at: null, checked_at: null, summary: 's' },
      ...over,
    },
  };
}

let shown: Record<string, unknown> | null = null;
afterEach(() => {
  if (shown) void unmount(shown);
  shown = null;
  document.body.replaceChildren();
});

/** Mounts the panel; `onPage` moves the run to that page, as the page's store does. */
function show(run: Run) {
  const target = document.createElement('div');
  document.body.append(target);
  const props: { run: Run; thresholds: Thresholds; onPage: (p: number) => void } = $state({
    run,
    thresholds: { lag_warning_ms: 1000, lag_critical_ms: 5000, slot_wal_warning_bytes: 1073741824 },
    onPage: (p) => {
      props.run = { ...props.run, page: p };
    },
  });
  shown = mount(ResultPanel, { target, props });
  flushSync();
  return target;
}

const q = (t: HTMLElement, sel: string) => t.querySelector<HTMLElement>(sel)!;
const button = (t: HTMLElement, name: RegExp) => [...t.querySelectorAll('button')].find((b) => name.test(b.textContent ?? ''))!;

describe('ResultPanel', () => {
  it('says what ran where, how stale, and why, with the spaces between', () => {
    const t = show(runOf(25, {}, route({ node: 'replica1', rule: 'read' })));
    const panel = q(t, '[data-testid=result]');
    expect(panel.dataset).toMatchObject({ node: 'replica2', target: 'replica', rule: 'read', rowCount: '25' });
    expect(q(t, '[data-testid=result-summary]').textContent).toBe('25 rows · 12.3 ms · served by replica2 (read)');
    expect(q(t, '[data-testid=staleness]').dataset).toMatchObject({ live: 'false', replayLagMs: '40' });
    expect(q(t, '[data-testid=staleness]').textContent).toContain('40 ms behind replica2 was 40 ms');
    expect(q(t, '[data-testid=result-reason]').textContent).toBe('Routed: A read; chosen by round_robin.');
    // The explain named replica1 in the same session: the run on replica2 is said.
    expect(q(t, '[data-testid=route-changed]').textContent).toBe(
      '↪ routed differently at run time: A read; chosen by round_robin. (the explain said replica replica1, rule read)',
    );
    expect(t.querySelector('[data-testid=truncated]')).toBeNull();
  });

  it('pages 100 rows at a time, and a sort starts again from the first rows', () => {
    const t = show(runOf(250, { row_count: 20_000, truncated: true }));
    const range = () => q(t, '[data-testid=result-range]').textContent;
    const first = () => t.querySelector('tbody tr td')?.textContent;
    expect(q(t, '[data-testid=truncated]').textContent).toBe(
      '▲ showing the first 250 of 20,000 rows · add a LIMIT or a WHERE to see the rest',
    );
    expect(range()).toBe('rows 1–100 of 20,000');
    expect(t.querySelectorAll('tbody tr')).toHaveLength(100);
    expect(button(t, /Previous rows/).disabled).toBe(true);
    button(t, /Next rows/).click();
    flushSync();
    button(t, /Next rows/).click();
    flushSync();
    expect(range()).toBe('rows 201–250 of 20,000');
    expect(t.querySelectorAll('tbody tr')).toHaveLength(50);
    expect(first()).toBe('201');
    expect(button(t, /Next rows/).disabled).toBe(true);
    q(t, 'th button.th-sort').click();
    flushSync();
    q(t, 'th button.th-sort').click();
    flushSync();
    expect(range()).toBe('rows 1–100 of 20,000');
    expect(first()).toBe('250');
    expect(q(t, 'th').classList.contains('num')).toBe(true);
  });

  it('says what a statement without rows did, and shows no table', () => {
    const t = show({ ...runOf(0, { columns: [], rows: [], affected: 3 }), sql: 'UPDATE t SET a = 1' });
    expect(q(t, '[data-testid=result-summary]').textContent).toMatch(/^UPDATE · 3 rows affected · /);
    expect(t.querySelector('table')).toBeNull();
    expect(t.querySelector('[data-testid=route-changed]')).toBeNull();
  });
});
