import { describe, expect, it } from 'vitest';
import type { CacheView, RefreshOutcome, RefreshRecord } from '../lib/bindings';
import {
  cachesSummary,
  lastAttempt,
  nextRunKind,
  nextRunText,
  nextRunTitle,
  outcomeText,
  STATE_LEGEND,
  STATE_ORDER,
  togetherText,
  visibleCaches,
} from './words';

const NOW = Date.UTC(2026, 10, 22, 9, 14, 3);

function record(snapshot: number | null): RefreshRecord {
  return {
    refresh_id: `r${snapshot}`,
    refreshed_at_ms: NOW - 60_000,
    fingerprint: 'f',
    source_lsn: '0/1',
    served_by: 'replica1',
    rows: 25,
    duration_ms: 186,
    snapshot_id: snapshot,
    previous_snapshot_id: null,
    restored_from: null,
    definition_digest: null,
  };
}

function outcome(result: RefreshOutcome['result'], snapshot: number | null, message = ''): RefreshOutcome {
  return { cache: 'c', result, message, rows: 25, duration_ms: 10, snapshot_id: snapshot, served_by: 'replica1', error: null };
}

function view(
  over: { ttl?: number | null; paused?: boolean; next?: number | null; lr?: RefreshRecord | null; o?: RefreshOutcome | null } = {},
): CacheView {
  return {
    status: {
      last_refresh: over.lr === undefined ? record(7) : over.lr,
      age_ms: 60_000,
      state: 'fresh',
      state_error: null,
      checked_at_ms: NOW,
      name: 'c',
      query: 'SELECT 1',
      monitor: ['t'],
      ttl_seconds: over.ttl === undefined ? 60 : over.ttl,
      created_at_ms: NOW - 3_600_000,
      paused: over.paused ?? false,
      key: [],
    },
    stale_since_ms: null,
    refreshing: false,
    last_outcome: over.o ?? null,
    next_run_ms: over.next === undefined ? NOW + 120_000 : over.next,
  };
}

describe('next run', () => {
  it('counts down to the scheduler’s next look', () => {
    expect(nextRunText(view(), NOW)).toBe('in 2 min');
    expect(nextRunText(view({ next: NOW + 5000 }), NOW)).toBe('in 5 s');
    expect(nextRunText(view({ next: NOW + 1000 }), NOW)).toBe('in 1 s');
  });
  it('says due, paused, or nothing without a TTL', () => {
    expect(nextRunText(view({ next: NOW + 400 }), NOW)).toBe('due');
    expect(nextRunText(view({ next: NOW - 10_000 }), NOW)).toBe('due');
    expect(nextRunText(view({ paused: true }), NOW)).toBe('paused');
    expect(nextRunText(view({ ttl: null }), NOW)).toBe('—');
    expect(nextRunText(view({ next: null }), NOW)).toBe('—');
  });
  it('gives the absolute time and the rule in its title', () => {
    expect(nextRunTitle(view(), NOW)).toBe('2026-11-22 09:16:03 UTC · the scheduler refreshes it then if its monitored tables changed');
    expect(nextRunTitle(view({ next: 0 }), NOW)).toMatch(/^due now \(never refreshed\)/);
    expect(nextRunTitle(view({ next: NOW - 1000 }), NOW)).toMatch(/^due since 2026-11-22 09:14:02 UTC/);
    expect(nextRunTitle(view({ ttl: null }), NOW)).toBe('No TTL: refreshed by hand only');
    expect(nextRunTitle(view({ paused: true }), NOW)).toMatch(/^Paused/);
  });
});

describe('last attempt', () => {
  it('shows a newer SKIPPED or ERROR beside the refresh of record', () => {
    expect(lastAttempt(view({ o: outcome('SKIPPED', 7) }))?.result).toBe('SKIPPED');
    expect(lastAttempt(view({ o: outcome('ERROR', null) }))?.result).toBe('ERROR');
  });
  it('drops an outcome that another refresh superseded', () => {
    expect(lastAttempt(view({ lr: record(9), o: outcome('SKIPPED', 7) }))).toBeNull();
    expect(lastAttempt(view({ o: null }))).toBeNull();
  });
  it('keeps a REFRESHED only while no record exists', () => {
    expect(lastAttempt(view({ lr: null, o: outcome('REFRESHED', 8) }))?.result).toBe('REFRESHED');
    expect(lastAttempt(view({ lr: record(null), o: outcome('REFRESHED', null) }))).toBeNull();
  });
});

describe('outcome and together lines', () => {
  it('says each result in one line', () => {
    expect(outcomeText(outcome('REFRESHED', 37))).toBe('REFRESHED · snapshot 37');
    expect(outcomeText(outcome('REFRESHED', null))).toBe('REFRESHED');
    expect(outcomeText(outcome('SKIPPED', 7, 'monitored tables (lineitem) unchanged since the last refresh'))).toBe(
      'SKIPPED · sources unchanged',
    );
    expect(outcomeText({ ...outcome('ERROR', null, 'failed'), error: { code: 'Timeout', message: 'statement timeout' } })).toBe(
      'ERROR · Timeout: statement timeout',
    );
    expect(outcomeText(outcome('ERROR', null, 'failed'))).toBe('ERROR · failed');
  });
  it('says what a snapshot together wrote', () => {
    expect(
      togetherText({
        caches: [
          { name: 'a', rows: 1 },
          { name: 'b', rows: 2 },
        ],
        snapshot_id: 37,
        lsn: '0/3908C68',
        served_by: 'replica1',
        duration_ms: 494,
      }),
    ).toBe('snapshot 37 · 2 caches at 0/3908C68 from replica1 · 494 ms');
  });
});

describe('state words', () => {
  it('has a legend entry and an order for every state the table shows', () => {
    for (const s of ['empty', 'fresh', 'edited', 'stale', 'expired', 'restored', 'unknown', 'refreshing', 'error']) {
      expect(STATE_LEGEND.some((l) => l.word === s)).toBe(true);
      expect(STATE_ORDER[s]).toBeTypeOf('number');
    }
    expect(STATE_ORDER.error).toBeLessThan(STATE_ORDER.fresh!);
  });
});

describe('next run kind', () => {
  it('mutes paused and no-TTL, marks due, leaves a countdown plain', () => {
    expect(nextRunKind('paused')).toBe('muted');
    expect(nextRunKind('—')).toBe('muted');
    expect(nextRunKind('due')).toBe('due');
    expect(nextRunKind('in 2 min')).toBe('plain');
  });
});

/** A view named `name` in `state`, with its own query, monitor and record. */
function named(name: string, state: CacheView['status']['state'], over: Parameters<typeof view>[0] = {}): CacheView {
  const v = view(over);
  return { ...v, status: { ...v.status, name, state, query: `SELECT * FROM ${name}_src`, monitor: [`${name}_src`] } };
}

describe('summary and order', () => {
  it('counts the caches by state, in the legend’s order', () => {
    expect(cachesSummary([])).toBe('');
    expect(cachesSummary([named('a', 'stale'), named('b', 'fresh'), named('c', 'fresh')])).toBe('3 caches · 2 fresh · 1 stale');
  });
  const list = [
    named('b', 'fresh', { lr: { ...record(3), rows: 5 } }),
    named('a', 'stale', { lr: { ...record(4), rows: 50 } }),
    named('c', 'empty', { lr: null, ttl: null, next: null }),
  ];
  const names = (vs: CacheView[]) => vs.map((v) => v.status.name);
  const none = () => false;
  it('sorts by name, either way', () => {
    expect(names(visibleCaches(list, '', 'name', true, none))).toEqual(['a', 'b', 'c']);
    expect(names(visibleCaches(list, '', 'name', false, none))).toEqual(['c', 'b', 'a']);
  });
  it('puts trouble first by state, a refreshing cache near the end', () => {
    expect(names(visibleCaches(list, '', 'state', true, none))).toEqual(['a', 'c', 'b']);
    expect(names(visibleCaches(list, '', 'state', true, (n) => n === 'a'))).toEqual(['c', 'a', 'b']);
  });
  it('sorts numbers with the missing ones at the end of the ascending order', () => {
    expect(names(visibleCaches(list, '', 'rows', false, none))).toEqual(['a', 'b', 'c']);
    expect(names(visibleCaches(list, '', 'ttl', true, none))).toEqual(['a', 'b', 'c']);
    expect(names(visibleCaches(list, '', 'next', true, none))).toEqual(['a', 'b', 'c']);
  });
  it('filters by name, query or monitored table, in any case', () => {
    expect(names(visibleCaches(list, ' B ', 'name', true, none))).toEqual(['b']);
    expect(names(visibleCaches(list, 'c_SRC', 'name', true, none))).toEqual(['c']);
    expect(visibleCaches(list, 'nothing', 'name', true, none)).toEqual([]);
  });
});
