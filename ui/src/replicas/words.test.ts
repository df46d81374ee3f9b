import { describe, expect, it } from 'vitest';
import type { Privileges } from '../lib/bindings';
import { node } from '../test/fixtures';
import { lagLine, replayControl } from './words';

const privileges = (allowed: boolean, reason: string | null = null): Privileges =>
  ({ replay_control: { allowed, reason } }) as unknown as Privileges;

describe('a replica’s lag line', () => {
  it('says lag, bytes behind, timeline and TLS', () => {
    expect(lagLine(node('replica1', { replay_lag_ms: 4200, lag_bytes: 13_002_342 }))).toBe(
      'lag 4.2 s · 12.4 MiB behind · timeline 1 · not encrypted',
    );
    expect(lagLine(node('replica1', { tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 } }))).toBe(
      'lag 0 ms · 0 B behind · timeline 1 · TLSv1.3',
    );
  });
  it('says why there is no lag', () => {
    expect(lagLine(node('replica1', { state: 'down', reachable: false }))).toBe('lag unknown');
    expect(lagLine(node('replica1', { state: 'promoted', timeline_id: 2 }))).toBe(
      'no replay lag: promoted, out of recovery, it replays nothing · timeline 2 · not encrypted',
    );
  });
});

describe('the replay button', () => {
  it('pauses a streaming replica and resumes a paused one', () => {
    expect(replayControl(node('replica1'), null)).toMatchObject({ action: 'pause', label: 'Pause replay', denied: null, noReplay: null });
    expect(replayControl(node('replica1', { state: 'paused' }), privileges(true))).toMatchObject({
      action: 'resume',
      label: 'Resume replay',
    });
  });
  it('is disabled with the probe’s reason, or when there is nothing to replay', () => {
    const denied = replayControl(node('replica1'), privileges(false, 'needs superuser or EXECUTE on pg_wal_replay_pause()'));
    expect(denied.denied).toBe('needs superuser or EXECUTE on pg_wal_replay_pause()');
    expect(denied.title).toBe(denied.denied);
    expect(replayControl(node('replica1'), privileges(false)).denied).toBe("the profile's role may not control replay");
    expect(replayControl(node('replica1', { state: 'promoted' }), null).noReplay).toMatch(/no WAL replay/);
    expect(replayControl(undefined, null).noReplay).toMatch(/no WAL replay/);
  });
});
