import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cache, deferred, job, node, outcome, overview, ScriptedBackend, sample, T0, tick } from '../../test/fixtures';
import type { CacheDefinition, NodePrivileges, RefreshOutcome, RoutingStats } from '../bindings';
import { ConsoleStore } from './console.svelte';

function started(b: ScriptedBackend): ConsoleStore {
  b.answer('profiles', { current: null, recent: [] })
    .answer('lag_history', {
      thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000, slot_wal_warning_bytes: 1073741824 },
      retention_s: 3600,
      full_resolution_s: 300,
      interval_ms: 250,
      nodes: [],
    })
    .answer('jobs', [])
    .answer('routing', { read_splitting: true, policy: 'round_robin', all_out: false, fallbacks: 0, cache_reads: 0, nodes: [] });
  const app = new ConsoleStore(b);
  app.start();
  return app;
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('loading the console', () => {
  it('is ready with what the overview said', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    expect(app.status).toBe('loading');
    await settle();
    expect(app.status).toBe('ready');
    expect(app.profile?.name).toBe('sandbox');
    expect(app.caches.list.map((c) => c.status.name)).toEqual(['pricing_summary', 'revenue_by_nation']);
    expect(app.lake?.snapshots).toBe(41);
    expect(app.lag.sample?.taken_at_ms).toBe(T0);
    expect(app.lag.thresholds?.lag_critical_ms).toBe(30000);
    expect(b.count('lag_history')).toBe(1);
    expect(b.count('jobs')).toBe(1);
    expect(b.count('routing')).toBe(1);
  });

  it('shows the picker when no profile is open, the error otherwise', async () => {
    const none = started(new ScriptedBackend().answer('overview', { error: { code: 'NotFound', message: 'no profile open' } }));
    await settle();
    expect(none.status).toBe('no-profile');
    const broken = started(new ScriptedBackend().answer('overview', { error: { code: 'ConnectionRefused', message: 'primary: refused' } }));
    await settle();
    expect(broken.status).toBe('error');
    expect(broken.loadError?.code).toBe('ConnectionRefused');
  });

  it('keeps a privileges event that came while the overview was on its way', async () => {
    const slow = deferred<ReturnType<typeof overview>>();
    const b = new ScriptedBackend().answer('overview', slow.promise);
    const app = started(b);
    const probed = { node: 'replica1', privileges: { role: 'skein_monitor' }, error: null, probed_at_ms: T0 } as unknown as NodePrivileges;
    b.emit({ kind: 'privileges', data: [probed] });
    slow.resolve(overview()); // asked before the probe answered: no privileges yet
    await settle();
    expect(app.status).toBe('ready');
    expect(app.privilegesOf('replica1')?.role).toBe('skein_monitor');
  });

  it('drops an answer to a load that a newer one replaced', async () => {
    const slow = deferred<ReturnType<typeof overview>>();
    const b = new ScriptedBackend().answer('overview', slow.promise, overview({ profile: { ...overview().profile, name: 'second' } }));
    const app = started(b);
    void app.load();
    await settle();
    expect(app.profile?.name).toBe('second');
    slow.resolve(overview());
    await settle();
    expect(app.profile?.name).toBe('second');
  });

  it('opening another profile forgets the old one and loads again', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    await settle();
    app.jobs.record(job(1, 'done'));
    b.emit({ kind: 'profile_opened', data: { current: null, recent: ['/p.toml'] } });
    expect(app.status).toBe('loading');
    expect(app.caches.list).toEqual([]);
    expect(app.jobs.list).toEqual([]);
    expect(app.lag.sample).toBeNull();
    expect(app.profiles?.recent).toEqual(['/p.toml']);
    await settle();
    expect(app.status).toBe('ready');
    expect(b.count('overview')).toBe(2);
  });
});

describe('events', () => {
  it('a lag sample is taken once, newest only', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    await settle();
    const v = app.lag.version;
    b.emit(tick(sample(T0 + 1000)));
    b.emit(tick(sample(T0 + 500)));
    expect(app.lag.sample?.taken_at_ms).toBe(T0 + 1000);
    expect(app.lag.timeline.t).toEqual([T0 / 1000, (T0 + 1000) / 1000]);
    expect(app.lag.version).toBe(v + 1);
  });

  it('a change of a node state asks for the attention list again, debounced', async () => {
    vi.useFakeTimers();
    try {
      const b = new ScriptedBackend().answer('overview', overview());
      const app = started(b);
      await vi.advanceTimersByTimeAsync(0);
      const before = b.count('overview');
      b.emit(tick(sample(T0 + 1000, [node('primary'), node('replica1', { state: 'paused' }), node('replica2')])));
      b.emit({ kind: 'lake', data: { reachable: true, snapshots: 42, current_snapshot: 42, error: null, store: null, writers: [] } });
      await vi.advanceTimersByTimeAsync(399);
      expect(b.count('overview')).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(b.count('overview')).toBe(before + 1);
      // The same states again: nothing to ask.
      b.emit(tick(sample(T0 + 2000, [node('primary'), node('replica1', { state: 'paused' }), node('replica2')])));
      await vi.advanceTimersByTimeAsync(500);
      expect(b.count('overview')).toBe(before + 1);
      expect(app.lake?.snapshots).toBe(42);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refresh events mark a cache refreshing, then record the outcome in a new list', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    await settle();
    const first = app.caches.list;
    b.emit({ kind: 'refresh_started', data: { cache: 'pricing_summary', force: false } });
    expect(app.caches.isRefreshing('pricing_summary')).toBe(true);
    expect(first[0]?.refreshing).toBe(false);
    b.emit({ kind: 'refresh_finished', data: outcome('pricing_summary') });
    expect(app.caches.isRefreshing('pricing_summary')).toBe(false);
    expect(app.caches.get('pricing_summary')?.last_outcome?.snapshot_id).toBe(8);
    expect(app.caches.get('revenue_by_nation')).toBe(first[1]);
  });
});

describe('cache actions', () => {
  let b: ScriptedBackend;
  let app: ConsoleStore;
  beforeEach(async () => {
    b = new ScriptedBackend().answer('overview', overview());
    app = started(b);
    await settle();
  });

  it('refresh: pending while asked, then the outcome; a second click while it runs asks nothing', async () => {
    const answer = deferred<RefreshOutcome>();
    b.answer('refresh_cache', answer.promise);
    const run = app.caches.refresh('pricing_summary', true);
    expect(app.caches.isRefreshing('pricing_summary')).toBe(true);
    expect(await app.caches.refresh('pricing_summary', false)).toBeNull();
    answer.resolve(outcome('pricing_summary', 'REFRESHED', 9));
    expect((await run)?.snapshot_id).toBe(9);
    expect(app.caches.isRefreshing('pricing_summary')).toBe(false);
    expect(app.caches.get('pricing_summary')?.last_outcome?.snapshot_id).toBe(9);
    expect(b.calls.filter((c) => c.method === 'refresh_cache')).toEqual([
      { method: 'refresh_cache', params: { name: 'pricing_summary', force: true } },
    ]);
  });

  it('refresh: a failed request is thrown to the caller and nothing stays pending', async () => {
    b.answer('refresh_cache', { error: { code: 'Timeout', message: 'statement timeout' } });
    await expect(app.caches.refresh('pricing_summary', false)).rejects.toMatchObject({ code: 'Timeout' });
    expect(app.caches.isRefreshing('pricing_summary')).toBe(false);
  });

  it('snapshot together: every named cache pending until the answer', async () => {
    const answer = deferred<never>();
    b.answer('snapshot_caches', answer.promise);
    const run = app.caches.snapshotTogether(['pricing_summary', 'revenue_by_nation']);
    expect(app.caches.isRefreshing('revenue_by_nation')).toBe(true);
    answer.reject(new Error('gone'));
    await expect(run).rejects.toThrow('gone');
    expect(app.caches.pending.size).toBe(0);
  });

  it('a saved or paused definition shows at once; a paused cache has no next run', () => {
    const c = app.caches.get('pricing_summary')!;
    app.caches.applyDefinition({
      name: 'pricing_summary',
      query: 'SELECT 2',
      monitor: ['x'],
      ttl_seconds: null,
      created_at_ms: 0,
      paused: true,
      key: [],
    });
    const now = app.caches.get('pricing_summary')!;
    expect(now.status.query).toBe('SELECT 2');
    expect(now.status.paused).toBe(true);
    expect(now.next_run_ms).toBeNull();
    expect(c.status.query).not.toBe('SELECT 2');
  });

  it('reread and remove replace the list', async () => {
    b.answer('caches', [cache('only')]);
    await app.caches.reread();
    expect(app.caches.list.map((c) => c.status.name)).toEqual(['only']);
    b.answer('delete_cache', null);
    await app.caches.remove('only');
    expect(app.caches.list).toEqual([]);
  });

  const definition = (over: Partial<CacheDefinition> = {}): CacheDefinition => ({
    name: 'pricing_summary',
    query: 'SELECT 2',
    monitor: ['lineitem'],
    ttl_seconds: 3600,
    created_at_ms: T0,
    paused: false,
    key: [],
    ...over,
  });

  it('save: creates or updates as asked, and shows an update at once', async () => {
    const spec = { name: 'pricing_summary', query: 'SELECT 2', monitor: ['lineitem'], ttl_seconds: 3600, key: [] };
    const other = app.caches.get('revenue_by_nation');
    b.answer('update_cache', definition());
    expect(await app.caches.save(spec, { creating: false })).toEqual(definition());
    expect(b.calls.at(-1)).toEqual({ method: 'update_cache', params: spec });
    const now = app.caches.get('pricing_summary')!;
    expect(now.status).toMatchObject({ query: 'SELECT 2', monitor: ['lineitem'], ttl_seconds: 3600, paused: false });
    expect(app.caches.get('revenue_by_nation')).toBe(other);

    // A new cache: asked with create_cache; it has no view until the next `caches` answer.
    const created = definition({ name: 'top', query: 'SELECT 3' });
    b.answer('create_cache', created);
    const before = app.caches.list;
    expect(await app.caches.save({ ...spec, name: 'top', query: 'SELECT 3' }, { creating: true })).toEqual(created);
    expect(b.calls.at(-1)).toEqual({ method: 'create_cache', params: { ...spec, name: 'top', query: 'SELECT 3' } });
    expect(app.caches.list.map((c) => c.status.name)).toEqual(before.map((c) => c.status.name));
    expect(app.caches.get('top')).toBeUndefined();
  });

  it('save: a failed request is thrown to the caller and the cache keeps its definition', async () => {
    const was = app.caches.get('pricing_summary')!;
    b.answer('update_cache', { error: { code: 'QueryFailed', message: 'column "nope" does not exist' } });
    await expect(
      app.caches.save({ name: 'pricing_summary', query: 'SELECT nope', monitor: ['x'], ttl_seconds: null, key: [] }, { creating: false }),
    ).rejects.toMatchObject({ code: 'QueryFailed' });
    expect(app.caches.get('pricing_summary')).toBe(was);
    expect(app.caches.get('pricing_summary')?.status.query).toBe('SELECT * FROM pricing_summary_src');
  });

  it('setPaused: the answer shows at once, with no next run while paused', async () => {
    const list = app.caches.list;
    b.answer(
      'set_cache_paused',
      definition({ query: 'SELECT * FROM pricing_summary_src', monitor: ['pricing_summary_src'], paused: true }),
    );
    const def = await app.caches.setPaused('pricing_summary', true);
    expect(def.paused).toBe(true);
    expect(b.calls.at(-1)).toEqual({ method: 'set_cache_paused', params: { name: 'pricing_summary', paused: true } });
    expect(app.caches.get('pricing_summary')?.status.paused).toBe(true);
    expect(app.caches.get('pricing_summary')?.next_run_ms).toBeNull();
    // A new list (views are replaced, never changed in place), so every reader sees the change.
    expect(app.caches.list).not.toBe(list);
    expect(list.find((c) => c.status.name === 'pricing_summary')?.status.paused).toBe(false);
  });

  it('setPaused: a failed request is thrown and the cache stays unpaused, its next run kept', async () => {
    const list = app.caches.list;
    b.answer('set_cache_paused', { error: { code: 'ConnectionRefused', message: 'lake: refused' } });
    await expect(app.caches.setPaused('pricing_summary', true)).rejects.toMatchObject({ code: 'ConnectionRefused' });
    expect(app.caches.list).toBe(list);
    expect(app.caches.get('pricing_summary')?.status.paused).toBe(false);
    expect(app.caches.get('pricing_summary')?.next_run_ms).toBe(T0 + 60_000);
  });

  it('remove: the cache leaves the list only once the backend answered', async () => {
    const answer = deferred<null>();
    b.answer('delete_cache', answer.promise);
    const run = app.caches.remove('pricing_summary');
    expect(app.caches.get('pricing_summary')).toBeDefined();
    answer.resolve(null);
    await run;
    expect(b.calls.at(-1)).toEqual({ method: 'delete_cache', params: { name: 'pricing_summary' } });
    expect(app.caches.list.map((c) => c.status.name)).toEqual(['revenue_by_nation']);
  });

  it('remove: a failed delete is thrown and the cache stays in the list', async () => {
    const list = app.caches.list;
    b.answer('delete_cache', { error: { code: 'Conflict', message: 'a refresh of pricing_summary is running' } });
    await expect(app.caches.remove('pricing_summary')).rejects.toMatchObject({ code: 'Conflict' });
    expect(app.caches.list).toBe(list);
    expect(app.caches.list.map((c) => c.status.name)).toEqual(['pricing_summary', 'revenue_by_nation']);
  });

  it('suggestMonitor: the tables the query reads, or why it does not parse; the list is untouched', async () => {
    const list = app.caches.list;
    b.answer('suggest_monitor', ['orders', 'nation'], { error: { code: 'InvalidInput', message: 'the query does not parse' } });
    expect(await app.caches.suggestMonitor('SELECT * FROM orders JOIN nation USING (n)')).toEqual(['orders', 'nation']);
    expect(b.calls.at(-1)).toEqual({ method: 'suggest_monitor', params: { query: 'SELECT * FROM orders JOIN nation USING (n)' } });
    await expect(app.caches.suggestMonitor('SELEC 1')).rejects.toMatchObject({ code: 'InvalidInput' });
    expect(app.caches.list).toBe(list);
  });
});

describe('jobs', () => {
  afterEach(() => vi.useRealTimers());

  it('newest first, and a finished job is never set back to running', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    await settle();
    app.jobs.record(job(1, 'running'));
    app.jobs.record(job(3, 'running'));
    app.jobs.record(job(2, 'done'));
    expect(app.jobs.list.map((j) => j.id)).toEqual([3, 2, 1]);
    app.jobs.record(job(3, 'failed'));
    app.jobs.record(job(3, 'running'));
    expect(app.jobs.list[0]?.state).toBe('failed');
    expect(app.jobs.running.map((j) => j.id)).toEqual([1]);
  });

  it('the list merges with what events said, and is asked again while a job runs', async () => {
    vi.useFakeTimers();
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    b.answer('jobs', [job(5, 'running'), job(4, 'done')]);
    await vi.advanceTimersByTimeAsync(0);
    app.jobs.record(job(5, 'done'));
    b.answer('jobs', [job(5, 'running'), job(4, 'done')]);
    await app.jobs.load();
    expect(app.jobs.list.map((j) => [j.id, j.state])).toEqual([
      [5, 'done'],
      [4, 'done'],
    ]);
    const asked = b.count('jobs');
    app.jobs.record(job(6, 'running'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.count('jobs')).toBe(asked + 1);
  });
});

describe('saving a profile', () => {
  it('the open and recent profiles follow a save; one that would not load changes nothing', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    await settle();
    const before = app.profiles;
    const draft = { path: '/p.toml', profile: {} as never, passwords: [], open: true };
    const saved = { current: overview().profile, recent: ['/p.toml'] };
    b.answer(
      'save_profile',
      {
        path: '/p.toml',
        saved: false,
        problem: { field: 'nodes[0].port', message: 'must be 1–65535' },
        open_error: null,
        profiles: { current: null, recent: ['/p.toml'] },
      },
      { path: '/p.toml', saved: true, problem: null, open_error: null, profiles: saved },
    );
    const refused = await app.saveProfile(draft);
    expect(refused.problem?.field).toBe('nodes[0].port');
    expect(app.profiles).toBe(before);
    const loads = b.count('overview');
    await app.saveProfile(draft);
    // The answer's list, before the console's reload asks for it again.
    expect(app.profiles).toBe(saved);
    // Opened: the console loads on it.
    expect(b.count('overview')).toBe(loads + 1);
  });
});

describe('maintenance actions', () => {
  it('start a job, record it and return it; a refusal records nothing', async () => {
    const b = new ScriptedBackend().answer('overview', overview());
    const app = started(b);
    await settle();
    b.answer('expire_snapshots', job(7, 'running'), { error: { code: 'Conflict', message: 'another maintenance job is running (job 7)' } });
    b.answer('delete_files', job(8, 'running'));
    b.answer('compact', job(9, 'running'));
    expect((await app.jobs.expireSnapshots([3, 4])).id).toBe(7);
    expect((await app.jobs.deleteFiles(true)).id).toBe(8);
    expect((await app.jobs.compact('flush_inlined_data')).id).toBe(9);
    expect(b.calls.filter((c) => ['expire_snapshots', 'delete_files', 'compact'].includes(c.method)).map((c) => c.params)).toEqual([
      { versions: [3, 4] },
      { orphaned: true },
      { what: 'flush_inlined_data' },
    ]);
    expect(app.jobs.list.map((j) => j.id)).toEqual([9, 8, 7]);
    const list = app.jobs.list;
    await expect(app.jobs.expireSnapshots([5])).rejects.toMatchObject({ code: 'Conflict' });
    expect(app.jobs.list).toBe(list);
  });
});

describe('routing', () => {
  it('keeps an event that arrived while the first answer was on its way', async () => {
    const slow = deferred<never>();
    const b = new ScriptedBackend().answer('overview', overview());
    b.answer('profiles', { current: null, recent: [] })
      .answer('lag_history', {
        thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000, slot_wal_warning_bytes: 1073741824 },
        retention_s: 3600,
        full_resolution_s: 300,
        interval_ms: 250,
        nodes: [],
      })
      .answer('jobs', [])
      .answer('routing', slow.promise);
    const app = new ConsoleStore(b);
    app.start();
    await settle();
    const ev: RoutingStats = { read_splitting: true, policy: 'round_robin', all_out: true, fallbacks: 2, cache_reads: 1, nodes: [] };
    b.emit(tick(sample(T0 + 1000), { routing: ev }));
    slow.resolve({ ...ev, all_out: false } as never);
    await settle();
    expect(app.routing.stats?.all_out).toBe(true);
    expect(app.routing.error).toBeNull();
  });
});

describe('replay control', () => {
  it('asks the replica to pause or resume replay, and a refusal rejects with its code', async () => {
    const b = new ScriptedBackend()
      .answer('overview', overview())
      .answer('pause_replay', undefined as never, {
        error: { code: 'PermissionDenied', message: 'permission denied for function pg_wal_replay_pause' },
      })
      .answer('resume_replay', undefined as never);
    const app = started(b);
    await settle();
    await app.setReplayPaused('replica1', true);
    await app.setReplayPaused('replica1', false);
    expect(b.calls.filter((c) => c.method.endsWith('_replay')).map((c) => [c.method, c.params])).toEqual([
      ['pause_replay', { node: 'replica1' }],
      ['resume_replay', { node: 'replica1' }],
    ]);
    await expect(app.setReplayPaused('replica2', true)).rejects.toMatchObject({ code: 'PermissionDenied' });
  });
});
