import { describe, expect, it } from 'vitest';
import { cache, node, routed } from '../test/fixtures';
import type { NodeRouting } from './bindings';
import { cacheBadge, nodeBadge, rotationBadge, rotationWords, stateWord, tlsFact, worst } from './status';

const routedReplica = (over: Partial<NodeRouting>): NodeRouting => routed('replica1', over);

describe('node badges', () => {
  it('say the state, worsened by the lag level, with an icon beside the colour', () => {
    expect(nodeBadge(node('primary'))).toEqual({ word: 'primary', tone: 'ok', icon: '●' });
    expect(nodeBadge(node('replica1'))).toEqual({ word: 'streaming', tone: 'ok', icon: '●' });
    expect(nodeBadge(node('replica1', { level: 'warning' }))).toEqual({ word: 'streaming · lagging', tone: 'warn', icon: '▲' });
    expect(nodeBadge(node('replica1', { state: 'paused', level: 'critical' }))).toEqual({
      word: 'paused · lag critical',
      tone: 'crit',
      icon: '■',
    });
    expect(nodeBadge(node('replica1', { state: 'paused' }))).toMatchObject({ word: 'paused', tone: 'info' });
    expect(nodeBadge(node('replica1', { state: 'catching_up' }))).toMatchObject({ word: 'catching up', tone: 'warn' });
    expect(nodeBadge(node('replica1', { reachable: false }))).toMatchObject({ word: 'down', tone: 'crit' });
    expect(nodeBadge(node('replica1', { state: 'promoted' }))).toMatchObject({ word: 'promoted', tone: 'crit' });
    expect(stateWord('catching_up')).toBe('catching up');
  });
  it('take the worst tone first', () => {
    expect(worst(['ok', 'warn', 'info'])).toBe('warn');
    expect(worst(['ok', 'crit'])).toBe('crit');
    expect(worst([])).toBe('muted');
  });
});

describe('rotation words', () => {
  it('are the router’s, with the countdown rounded up', () => {
    expect(rotationWords(routedReplica({}))).toBe('in rotation');
    expect(rotationWords(routedReplica({ in_rotation: false }))).toBe('out of rotation');
    expect(rotationWords(routedReplica({ in_rotation: false, recovering_ms: 22_100 }))).toBe('recovering · back in rotation in 23 s');
    expect(rotationWords(routedReplica({ role: 'primary' }))).toBe('always');
  });
  it('are amber at a lowered weight or while recovering, red when out', () => {
    expect(rotationBadge(routedReplica({ weight: 0.5 })).tone).toBe('warn');
    expect(rotationBadge(routedReplica({ in_rotation: false, recovering_ms: 1000 })).tone).toBe('warn');
    expect(rotationBadge(routedReplica({ in_rotation: false })).tone).toBe('crit');
    expect(rotationBadge(routedReplica({})).tone).toBe('ok');
  });
});

describe('cache badges', () => {
  it('say each state in the CLI’s words; expired is not an alarm', () => {
    const state = (s: Parameters<typeof cache>[1] & object) => cacheBadge(cache('c', s));
    expect(cacheBadge(cache('c'))).toMatchObject({ word: 'fresh', tone: 'ok' });
    expect(state({ refreshing: true })).toMatchObject({ word: 'refreshing', tone: 'info' });
    const with_ = (st: string, extra = {}) => cacheBadge({ ...cache('c'), status: { ...cache('c').status, state: st as never, ...extra } });
    expect(with_('stale')).toMatchObject({ word: 'stale', tone: 'warn' });
    expect(with_('edited')).toMatchObject({ word: 'edited · refresh to apply', tone: 'warn' });
    expect(with_('expired')).toMatchObject({ word: 'expired', tone: 'info' });
    expect(with_('empty')).toMatchObject({ word: 'empty', tone: 'muted' });
    expect(with_('unknown')).toMatchObject({ word: 'unknown', tone: 'muted' });
    expect(with_('unknown', { state_error: { code: 'Timeout', message: 't' } })).toMatchObject({ word: 'error', tone: 'crit' });
  });
});

describe('TLS', () => {
  it('says whether Skein’s session is encrypted, and nothing for a node that is down', () => {
    expect(tlsFact(node('primary'))).toMatchObject({ word: 'not encrypted', encrypted: false });
    expect(tlsFact(node('primary', { tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 } }))).toEqual({
      word: 'TLSv1.3',
      title: "Encrypted: TLSv1.3, TLS_AES_256_GCM_SHA384, 256-bit (pg_stat_ssl of Skein's session)",
      encrypted: true,
    });
    expect(tlsFact(node('primary', { reachable: false }))).toBeNull();
  });
});
