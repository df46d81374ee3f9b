import { describe, expect, it } from 'vitest';
import type { LakeSummary, SnapshotPage } from '../lib/bindings';
import { deferred, ScriptedBackend, snapshot } from '../test/fixtures';
import { SnapshotHistory } from './history.svelte';

const snap = (id: number) => snapshot(id);
const pageOf = (ids: number[], total: number, nextBefore: number | null): SnapshotPage => ({
  snapshots: ids.map(snap),
  total,
  next_before: nextBefore,
});
const lake = (current: number, snapshots = current): LakeSummary => ({
  reachable: true,
  snapshots,
  current_snapshot: current,
  error: null,
  store: null,
  writers: [],
});

describe('SnapshotHistory', () => {
  it('walks older and newer pages along the cursors', async () => {
    const b = new ScriptedBackend().answer('snapshots', pageOf([9, 8], 5, 8), pageOf([7, 6], 5, 6), pageOf([9, 8], 5, 8));
    const h = new SnapshotHistory(b);
    await h.load();
    expect(h.page?.snapshots.map((s) => s.id)).toEqual([9, 8]);
    expect(h.hasNewer).toBe(false);
    expect(h.hasOlder).toBe(true);
    await h.older();
    expect(b.calls.at(-1)?.params).toEqual({ limit: 50, before: 8 });
    expect(h.pageNumber).toBe(2);
    await h.newer();
    expect(b.calls.at(-1)?.params).toEqual({ limit: 50, before: null });
    expect(h.current).toBe(9);
    expect(h.total).toBe(5);
  });

  it('a new current snapshot reloads the newest page, or says so on an older page', async () => {
    const b = new ScriptedBackend().answer('snapshots', pageOf([9, 8], 2, 8), pageOf([10, 9], 3, 9), pageOf([8], 3, null));
    const h = new SnapshotHistory(b, lake(9, 2));
    await h.load();
    h.lakeChanged(lake(9, 2));
    expect(b.count('snapshots')).toBe(1);
    h.lakeChanged(lake(10, 3));
    await Promise.resolve();
    await Promise.resolve();
    expect(b.count('snapshots')).toBe(2);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.current).toBe(10);
    await h.older();
    h.lakeChanged(lake(11, 4));
    expect(b.count('snapshots')).toBe(3);
    expect(h.newerWaiting).toBe(true);
    expect(h.total).toBe(4);
  });

  it('a failed read keeps the page shown, and an older answer never replaces a newer one', async () => {
    const slow = deferred<SnapshotPage>();
    const b = new ScriptedBackend().answer(
      'snapshots',
      pageOf([9], 1, null),
      { error: { code: 'ConnectionRefused', message: 'catalog down' } },
      slow.promise,
      pageOf([12], 3, null),
    );
    const h = new SnapshotHistory(b);
    await h.load();
    await h.load();
    expect(h.page?.snapshots[0]?.id).toBe(9);
    expect((h.error as { code: string }).code).toBe('ConnectionRefused');
    const first = h.load();
    await h.load();
    slow.resolve(pageOf([10], 2, null));
    await first;
    expect(h.page?.snapshots[0]?.id).toBe(12);
    expect(h.error).toBeNull();
    expect(h.loading).toBe(false);
  });
});
