// @vitest-environment jsdom
import { flushSync, mount, tick, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../lib/bindings';
import { ConsoleStore } from '../lib/stores/console.svelte';
import { deferred, job, lakeStats, ScriptedBackend, snapshot } from '../test/fixtures';
import Maintenance from './Maintenance.svelte';

const stats = lakeStats;
const snap = snapshot;

const expiring = (id: number, state: Job['state'], versions: number[]) =>
  job(id, state, { kind: { kind: 'expire_snapshots', versions }, title: `expire ${versions.length} snapshots` });

let mounted: Record<string, unknown>[] = [];
let target: HTMLElement;

/** The panel on a console store fed by `b` (its events too), with the jobs already listed. */
function show(b: ScriptedBackend, jobs: Job[] = [], onJobFinished = vi.fn()) {
  const app = new ConsoleStore(b);
  b.subscribe((e) => app.handle(e));
  for (const j of jobs) app.jobs.record(j);
  target = document.createElement('div');
  document.body.append(target);
  const c = mount(Maintenance, { target, props: { app, onJobFinished } });
  mounted.push(c as unknown as Record<string, unknown>);
  flushSync();
  return { app, panel: c, onJobFinished };
}
afterEach(() => {
  for (const c of mounted) void unmount(c);
  mounted = [];
  document.body.replaceChildren();
  vi.useRealTimers();
});

const settle = async () => {
  for (let i = 0; i < 6; i++) await Promise.resolve();
  await tick();
  flushSync();
};
const q = <E extends Element = HTMLElement>(sel: string) => target.querySelector<E>(sel);
const button = (name: string, within: ParentNode = target) =>
  [...within.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent) === name) ?? null;
const olderThan = () => q<HTMLInputElement>('#maint-older-than')!;
const typeOlderThan = (value: string) => {
  olderThan().value = value;
  olderThan().dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
};
const submitExpiry = () => {
  q('form[aria-label="Expire snapshots"]')!.dispatchEvent(new Event('submit', { cancelable: true }));
  flushSync();
};
const expireBox = () => q('[data-testid="expire-preview"]')!;
const cleanupBox = () => q('[data-testid="cleanup-preview"]')!;

describe('Maintenance', () => {
  it('summarises the lake, and proposes an "Older than" inside its history until one is typed', async () => {
    const young = stats({ oldest_snapshot: { id: 1, time_ms: Date.now() - 600_000 }, newest_snapshot: { id: 9, time_ms: Date.now() } });
    const newer = { ...young, snapshots: 13, newest_snapshot: { id: 13, time_ms: Date.now() + 60_000 } };
    const b = new ScriptedBackend().answer('lake_stats', young, newer).answer('jobs', []);
    show(b);
    expect(q('[data-testid="lake-stats"]')?.textContent).toBe(' Reading the lake…');
    await settle();
    const summary = q('[data-testid="lake-stats"]')!;
    expect([...summary.querySelectorAll('.stat')].map((s) => s.textContent)).toEqual([
      'Snapshots: 12',
      'Oldest: #1 · 10 min ago',
      'Other writers: none',
      'Files: 30 · 358 KiB',
      'Reclaimable by expiring: 3 files · 2.0 KiB',
      'Scheduled for deletion: 2 files · 4.0 KiB',
      'Inlined rows: 0',
    ]);
    expect(summary.dataset.snapshots).toBe('12');
    expect(summary.dataset.scheduledBytes).toBe('4096');
    expect(b.count('jobs')).toBe(1);
    // Halfway through the ten minutes of history, not an hour ago.
    const proposed = Date.parse(`${olderThan().value.replace(' ', 'T')}Z`);
    expect(Math.abs(proposed - (Date.now() - 300_000))).toBeLessThan(2000);

    // A lake event reads the summary again (once for a burst), and so does a new proposal …
    vi.useFakeTimers();
    for (let i = 0; i < 3; i++)
      b.emit({ kind: 'lake', data: { reachable: true, snapshots: 13, current_snapshot: 13, error: null, store: null, writers: [] } });
    flushSync();
    await vi.advanceTimersByTimeAsync(300);
    flushSync();
    expect(b.count('lake_stats')).toBe(2);
    expect(summary.dataset.snapshots).toBe('13');
    expect(Date.parse(`${olderThan().value.replace(' ', 'T')}Z`)).toBeGreaterThan(proposed);
    // … until the user types one.
    typeOlderThan('2026-11-22 09:00:00');
    const other = {
      author: 'skein',
      writer: 'console@m2#3f9a1c',
      commits: 2,
      last_snapshot_id: 14,
      last_commit_ms: Date.now() - 120_000,
      last_message: 'refresh cache orders',
    };
    b.emit({ kind: 'lake', data: { reachable: true, snapshots: 14, current_snapshot: 14, error: null, store: null, writers: [other] } });
    flushSync();
    await vi.advanceTimersByTimeAsync(300);
    flushSync();
    expect(b.count('lake_stats')).toBe(3);
    expect(olderThan().value).toBe('2026-11-22 09:00:00');
    // Another console's commits name it, with their count and when the last one was.
    const writers = q('[data-testid="lake-writers"]')!;
    expect(writers.textContent).toMatch(/^Other writers: console@m2#3f9a1c 2 commits, last [12] min ago$/);
    expect(writers.dataset.writers).toBe('1');
  });

  it('previews an expiry, expires exactly what it listed on confirm, and shows the job in place', async () => {
    const b = new ScriptedBackend().answer('lake_stats', stats(), stats({ snapshots: 10 })).answer('preview_expire', [snap(4), snap(3)]);
    const { onJobFinished } = show(b, [job(1, 'done')]);
    await settle();
    typeOlderThan('2026-11-22 09:00:00');
    submitExpiry();
    expect(expireBox().textContent).toBe(' Asking the lake what would be expired (dry run)…');
    await settle();
    expect(b.calls.find((c) => c.method === 'preview_expire')?.params).toEqual({ target: { older_than: '2026-11-22 09:00:00+00' } });
    const box = expireBox();
    expect(box.dataset.count).toBe('2');
    expect([...box.querySelectorAll('tr[data-snapshot-id]')].map((tr) => tr.getAttribute('data-snapshot-id'))).toEqual(['4', '3']);
    expect(box.querySelector('.preview-head')?.textContent).toBe('2 snapshots would be expired · older than 2026-11-22 09:00:00 UTC');
    expect(document.activeElement).toBe(box.querySelector('.preview-head'));
    expect(box.querySelector('.preview-warn')?.textContent).toBe(
      '▲ Time travel to these 2 snapshots will stop working. Data files only they use will be scheduled for deletion; data inlined in the catalog leaves no file (the result says which).',
    );
    expect(b.count('expire_snapshots')).toBe(0);

    const answer = deferred<Job>();
    b.answer('expire_snapshots', answer.promise);
    const confirm = button('Expire 2 snapshots', box)!;
    confirm.focus();
    confirm.click();
    flushSync();
    expect(confirm.disabled).toBe(true);
    expect(button('Cancel', box)?.disabled).toBe(true);
    expect(b.calls.at(-1)).toEqual({ method: 'expire_snapshots', params: { versions: [4, 3] } });
    answer.resolve(expiring(7, 'running', [4, 3]));
    await settle();

    // In place: the job (its state and elapsed time), the keyboard on it; in the tray too.
    const line = expireBox().querySelector<HTMLElement>('.job-inline')!;
    expect(line.dataset.jobId).toBe('7');
    expect(line.dataset.jobState).toBe('running');
    expect(line.querySelector('.job-title')?.textContent).toBe('Expire 2 snapshots');
    expect(line.querySelector('[data-elapsed]')?.textContent).toMatch(/\d/);
    expect(line.querySelector('.hint')?.textContent).toBe('Runs in the background: the page keeps working, and the jobs tray lists it.');
    expect(document.activeElement).toBe(line);
    expect(q('[data-testid="jobs"] li[data-job-id="7"]')?.getAttribute('data-job-state')).toBe('running');
    expect(button('Close', line)).toBeNull();

    // Its end arrives as an event: the result in place (the keyboard moves to its Close), the hook told.
    b.emit({
      kind: 'job',
      data: {
        ...expiring(7, 'done', [4, 3]),
        result: { message: 'expired 2 snapshots; 2 files (366592 bytes) scheduled for deletion', items: 2, bytes: 366592 },
      },
    });
    await settle();
    expect(line.dataset.jobState).toBe('done');
    expect(line.querySelector('.job-result')?.textContent).toBe('Expired 2 snapshots; 2 files (358 KiB) scheduled for deletion');
    expect(document.activeElement).toBe(button('Close', line));
    expect(onJobFinished).toHaveBeenCalledTimes(1);
    expect(onJobFinished.mock.calls[0]?.[0]).toMatchObject({ id: 7, state: 'done' });
    // The summary is read again after the job changed state.
    await vi.waitFor(() => expect(q('[data-testid="lake-stats"]')?.dataset.snapshots).toBe('10'));

    // Close goes back to the form.
    button('Close', line)!.click();
    flushSync();
    expect(expireBox().hidden).toBe(true);
    expect(document.activeElement).toBe(button('Preview expiry'));
  });

  it('shows a failed confirm in place and offers the confirm again', async () => {
    const files = [
      { path: '/tmp/lake/main/t/a.parquet', bytes: 2048 },
      { path: '/tmp/lake/main/t/b.parquet', bytes: 1024 },
    ];
    const b = new ScriptedBackend()
      .answer('lake_stats', stats())
      .answer('preview_delete_files', files)
      .answer(
        'delete_files',
        { error: { code: 'Conflict', message: 'another maintenance operation runs' } },
        job(8, 'running', { kind: { kind: 'delete_files', orphaned: false }, title: 'delete 2 files' }),
      );
    show(b, [job(1, 'done')]);
    await settle();
    button('Preview cleanup')!.click();
    await settle();
    const box = cleanupBox();
    expect(box.dataset.count).toBe('2');
    expect(box.dataset.orphaned).toBe('false');
    expect(box.querySelector('.preview-head')?.textContent).toBe('2 files scheduled for deletion · 3.0 KiB');
    expect(box.querySelector('.preview-dir')?.textContent).toBe('in /tmp/lake/main/t/');
    expect([...box.querySelectorAll('tr[data-path] td.preview-path')].map((td) => td.textContent)).toEqual(['a.parquet', 'b.parquet']);
    expect(box.querySelector('tfoot')?.textContent).toBe('Total · 2 files3.0 KiB');

    button('Delete 2 files (3.0 KiB)', box)!.click();
    await settle();
    const err = cleanupBox().querySelector('.preview-error .error-box')!;
    expect(err.getAttribute('data-error-code')).toBe('Conflict');
    expect(err.querySelector('.error-text')?.textContent).toBe('Deleting 2 files failed Conflict another maintenance operation runs');
    // Still the preview, its confirm offered again (and focused).
    const again = button('Delete 2 files (3.0 KiB)', cleanupBox())!;
    expect(again.disabled).toBe(false);
    expect(document.activeElement).toBe(again);
    expect(cleanupBox().querySelectorAll('tr[data-path]').length).toBe(2);

    again.click();
    await settle();
    expect(b.count('delete_files')).toBe(2);
    expect(b.calls.at(-1)).toEqual({ method: 'delete_files', params: { orphaned: false } });
    expect(cleanupBox().querySelector('.job-inline')?.getAttribute('data-job-id')).toBe('8');
    expect(cleanupBox().querySelector('.error-box')).toBeNull();
  });

  it('refuses a malformed "Older than" in place, asking the backend nothing', async () => {
    const b = new ScriptedBackend().answer('lake_stats', stats()).answer('jobs', []);
    show(b);
    await settle();
    const asked = b.calls.length;
    typeOlderThan('yesterday');
    submitExpiry();
    await settle();
    const err = expireBox().querySelector('.error-box')!;
    expect(expireBox().hidden).toBe(false);
    expect(err.getAttribute('data-error-code')).toBe('InvalidInput');
    expect(err.querySelector('.error-text')?.textContent).toBe(
      'Previewing the expiry failed InvalidInput “yesterday” is not a time: use YYYY-MM-DD HH:MM:SS (UTC).',
    );
    expect(document.activeElement).toBe(olderThan());
    expect(b.calls.length).toBe(asked);
    expect(b.count('preview_expire')).toBe(0);
  });

  it('marks an open preview stale when a job finishes: a cleanup on any job, an expiry on an expiry', async () => {
    const b = new ScriptedBackend()
      .answer('lake_stats', stats())
      .answer('preview_expire', [snap(3)])
      .answer('preview_delete_files', [{ path: '/tmp/lake/a.parquet', bytes: 10 }]);
    show(b, [job(1, 'done')]);
    await settle();
    typeOlderThan('2026-11-22 09:00:00');
    submitExpiry();
    await settle();
    button('Preview cleanup')!.click();
    await settle();
    expect(button('Expire 1 snapshot', expireBox())).not.toBeNull();

    // A compaction ends: the cleanup preview may list other files now; the expiry's still holds.
    const compaction = (state: Job['state']) =>
      job(20, state, { kind: { kind: 'compact', what: 'flush_inlined_data' }, title: 'flush inlined data' });
    b.emit({ kind: 'job', data: compaction('running') });
    await settle();
    b.emit({ kind: 'job', data: compaction('done') });
    await settle();
    const stale = cleanupBox().querySelector('.preview-stale')!;
    expect(stale.textContent).toBe('Flush inlined data finished since this preview: preview again to see what would go now. Dismiss');
    expect(cleanupBox().querySelector('tr[data-path]')).toBeNull();
    expect(cleanupBox().dataset.count).toBeUndefined();
    expect(button('Expire 1 snapshot', expireBox())).not.toBeNull();

    // An expiry started elsewhere fails: the expiry preview is stale too.
    b.emit({ kind: 'job', data: expiring(21, 'running', [3]) });
    await settle();
    b.emit({ kind: 'job', data: expiring(21, 'failed', [3]) });
    await settle();
    expect(expireBox().querySelector('.preview-stale')?.textContent).toBe(
      'Expire 1 snapshots failed since this preview: preview again to see what would go now. Dismiss',
    );
    expect(button('Expire 1 snapshot', expireBox())).toBeNull();

    button('Dismiss', cleanupBox())!.click();
    flushSync();
    expect(cleanupBox().hidden).toBe(true);
    expect(document.activeElement).toBe(button('Preview cleanup'));
  });

  it('opens the expiry preview for snapshots picked in the history; Escape closes it', async () => {
    const b = new ScriptedBackend().answer('lake_stats', stats()).answer('preview_expire', []).answer('jobs', []);
    const { panel } = show(b);
    await settle();
    panel.previewVersions([12]);
    await settle();
    expect(b.calls.find((c) => c.method === 'preview_expire')?.params).toEqual({ target: { versions: [12] } });
    const box = expireBox();
    expect(box.dataset.count).toBe('0');
    expect(box.querySelector('.preview-head')?.textContent).toBe(
      'Nothing to expire: snapshot 12 is the latest (always kept) or no longer exists.',
    );
    expect(document.activeElement).toBe(box.querySelector('.preview-head'));
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    flushSync();
    expect(expireBox().hidden).toBe(true);
    expect(document.activeElement).toBe(button('Preview expiry'));
  });

  it('holds the compactions while any job runs, and starts one as a job shown under them', async () => {
    const b = new ScriptedBackend()
      .answer('lake_stats', stats())
      .answer('preview_compaction', [
        { table: 'main.a', data_files: 3, bytes: 3072, files_with_deletes: 1 },
        { table: 'main.empty', data_files: 0, bytes: 0, files_with_deletes: 0 },
      ])
      .answer('compact', job(30, 'running', { kind: { kind: 'compact', what: 'merge_adjacent_files' }, title: 'merge adjacent files' }));
    show(b, [expiring(2, 'running', [1])]);
    await settle();
    button('Preview compaction')!.click();
    await settle();
    const box = q('[data-testid="compaction-preview"]')!;
    expect(box.hidden).toBe(false);
    expect(box.dataset.count).toBe('1');
    expect([...box.querySelectorAll('tr[data-table]')].map((tr) => tr.getAttribute('data-table'))).toEqual(['main.a']);
    expect(box.querySelector('.preview-head')?.textContent).toBe('3 data files in 1 table · 3.0 KiB · 1 file with deletes');
    const merge = q<HTMLButtonElement>('[data-compaction="merge_adjacent_files"]')!;
    expect(merge.disabled).toBe(true);
    expect(merge.getAttribute('aria-describedby')).toBe('maint-compact-busy');
    expect(q('#maint-compact-busy')?.hidden).toBe(false);
    expect(q('#maint-compact-busy')?.textContent).toBe('A maintenance job is running: compactions wait for it.');

    b.emit({ kind: 'job', data: expiring(2, 'done', [1]) });
    await settle();
    expect(merge.disabled).toBe(false);
    expect(q('#maint-compact-busy')?.hidden).toBe(true);
    merge.focus();
    merge.click();
    await settle();
    expect(b.calls.at(-1)).toEqual({ method: 'compact', params: { what: 'merge_adjacent_files' } });
    const line = box.querySelector<HTMLElement>('.compact-job .job-inline')!;
    expect(line.dataset.jobId).toBe('30');
    expect(document.activeElement).toBe(line);
    expect(merge.disabled).toBe(true);

    // Its end has the open preview read again; Escape then closes it.
    const asked = b.count('preview_compaction');
    b.emit({
      kind: 'job',
      data: job(30, 'done', { kind: { kind: 'compact', what: 'merge_adjacent_files' }, title: 'merge adjacent files' }),
    });
    await settle();
    expect(b.count('preview_compaction')).toBe(asked + 1);
    button('Close', line)!.click();
    flushSync();
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    flushSync();
    expect(box.hidden).toBe(true);
    expect(document.activeElement).toBe(button('Preview compaction'));
  });
});
