import { describe, expect, it } from 'vitest';
import type { NodeRouting, RoutingStats } from '../lib/bindings';
import { job, node, overview, routed, sample, T0 } from '../test/fixtures';
import { jobsText, lakeTier, primaryTier, profileText, replicasTier, sampleAge } from './tiers';

const profile = overview().profile;

function routing(nodes: NodeRouting[]): RoutingStats {
  return { read_splitting: true, policy: 'round_robin', all_out: false, fallbacks: 0, cache_reads: 0, nodes };
}

const ready = { status: 'ready' as const, profile, lake: null };

describe('the replicas tier', () => {
  it('counts the replicas the router has in rotation', () => {
    const t = replicasTier({ ...ready, sample: sample(T0), routing: routing([routed('primary'), routed('replica1'), routed('replica2')]) });
    expect(t).toMatchObject({ tone: 'ok', text: '2/2 replicas', inRotation: 2 });
    expect(t.title).toBe(
      "2 of 2 replicas in rotation (the router's rotation)\nreplica1: streaming · in rotation, replay lag 0 ms\nreplica2: streaming · in rotation, replay lag 0 ms",
    );
  });

  it('says which one recovers and when it is back, and is red when one is out', () => {
    const r = routing([routed('primary'), routed('replica1', { in_rotation: false, recovering_ms: 22_100 }), routed('replica2')]);
    expect(replicasTier({ ...ready, sample: sample(T0), routing: r })).toMatchObject({
      tone: 'warn',
      text: '1/2 replicas · replica1 recovering · back in rotation in 23 s',
    });
    const out = routing([routed('primary'), routed('replica1', { in_rotation: false }), routed('replica2')]);
    expect(replicasTier({ ...ready, sample: sample(T0), routing: out }).tone).toBe('crit');
  });

  it('waits for the router and the first sample without guessing', () => {
    expect(replicasTier({ ...ready, sample: sample(T0), routing: null })).toMatchObject({ text: '–/2 replicas', inRotation: null });
    expect(replicasTier({ ...ready, sample: null, routing: null })).toMatchObject({ tone: 'muted', text: '–/2 replicas' });
    expect(replicasTier({ ...ready, status: 'no-profile', sample: null, routing: null }).text).toBe('–/– replicas');
  });
});

describe('the primary and lake tiers', () => {
  it('take the primary’s state from the sample', () => {
    const down = sample(T0, [
      node('primary', { reachable: false, state: 'down', error: { code: 'ConnectionRefused', message: 'refused' } }),
    ]);
    expect(primaryTier({ ...ready, sample: down, routing: null })).toMatchObject({
      tone: 'crit',
      title: 'primary: down — ConnectionRefused: refused',
    });
    expect(primaryTier({ ...ready, sample: sample(T0), routing: null }).tone).toBe('ok');
  });

  it('count the lake’s snapshots, and say when it is unreachable', () => {
    expect(
      lakeTier({
        ...ready,
        sample: null,
        routing: null,
        lake: { reachable: true, snapshots: 1204, current_snapshot: 1204, error: null, store: null, writers: [] },
      }),
    ).toMatchObject({
      tone: 'ok',
      text: 'lake 1,204 snaps',
    });
    expect(
      lakeTier({
        ...ready,
        sample: null,
        routing: null,
        lake: {
          reachable: false,
          snapshots: null,
          current_snapshot: null,
          error: { code: 'Timeout', message: 't' },
          store: null,
          writers: [],
        },
      }),
    ).toMatchObject({ tone: 'crit', text: 'lake', title: 'unreachable — Timeout: t' });
  });

  it('say where an object store is and when it is degraded or down', () => {
    const store = {
      endpoint: '127.0.0.1:3900',
      bucket: 'lake',
      prefix: 'data/',
      credentials: 'the OS keyring',
      health: 'healthy' as const,
      health_detail: 'Garage is fully operational',
    };
    const lake = (over: object) => ({
      reachable: true,
      snapshots: 12,
      current_snapshot: 12,
      error: null,
      store: { ...store, ...over },
      writers: [],
    });
    expect(lakeTier({ ...ready, sample: null, routing: null, lake: lake({}) })).toMatchObject({ tone: 'ok', text: 'lake 12 snaps' });
    expect(lakeTier({ ...ready, sample: null, routing: null, lake: lake({}) }).title).toContain('data in s3 bucket lake at 127.0.0.1:3900');
    expect(
      lakeTier({
        ...ready,
        sample: null,
        routing: null,
        lake: lake({ health: 'degraded', health_detail: 'some storage nodes are unavailable' }),
      }),
    ).toMatchObject({
      tone: 'warn',
      text: 'lake 12 snaps · store degraded',
    });
    expect(lakeTier({ ...ready, sample: null, routing: null, lake: lake({ health: 'unavailable' }) })).toMatchObject({
      tone: 'crit',
      text: 'lake 12 snaps · store down',
    });
  });
});

describe('the last sample', () => {
  it('says its age to a tenth of a second, amber past 3 s', () => {
    expect(sampleAge('ready', T0, T0 - 20, T0 + 400)).toEqual({
      text: 'last sample 0.4 s ago',
      stale: false,
      title: 'Lag sample taken 2026-11-22 09:14:02 UTC (one a second)',
    });
    expect(sampleAge('ready', T0, null, T0 + 3100)).toMatchObject({ text: 'last sample 3.1 s ago', stale: true });
    expect(sampleAge('ready', T0, null, T0 + 75_000).text).toBe('last sample 1 min 15 s ago');
    expect(sampleAge('ready', null, null, T0)).toMatchObject({ text: 'waiting for the first sample', stale: true });
    expect(sampleAge('loading', T0, null, T0)).toEqual({ text: '', stale: null, title: '' });
  });
});

describe('profile and jobs', () => {
  it('name the stack and the running jobs', () => {
    expect(profileText('ready', profile)).toEqual({
      text: 'profile: sandbox ▾',
      title: '/tmp/skein-sandbox/profile.toml (change in Settings)',
    });
    expect(profileText('no-profile', null).text).toBe('no profile open ▾');
    expect(jobsText('ready', [job(2, 'running'), job(1, 'done')])).toMatchObject({ running: 1, text: '1 job running' });
    expect(jobsText('loading', [job(2, 'running')]).running).toBe(0);
  });
});
