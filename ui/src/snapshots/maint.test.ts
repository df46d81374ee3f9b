import { describe, expect, it } from 'vitest';
import type { LakeStats } from '../lib/bindings';
import { job, lakeStats, T0 } from '../test/fixtures';
import {
  cleanupEmptyWords,
  cleanupWords,
  commonDir,
  compactionFacts,
  defaultOlderThan,
  expireWords,
  filesSize,
  olderThanParam,
  olderThanWords,
  staleWords,
  statLines,
  statsData,
  versionsWords,
  writerName,
} from './maint';

const stats = (over: Partial<LakeStats> = {}): LakeStats => lakeStats({ files: 1204, scheduled_bytes: null, inlined_rows: 40, ...over });

describe('defaultOlderThan', () => {
  it('is an hour ago (UTC, to the second) when the lake is older than that, or unknown', () => {
    expect(defaultOlderThan(T0)).toBe('2026-11-22 08:14:03');
    expect(defaultOlderThan(T0, { id: 1, time_ms: T0 - 7_200_000 }, { id: 12, time_ms: T0 })).toBe('2026-11-22 08:14:03');
    // One snapshot: nothing but the latest, which is always kept.
    expect(defaultOlderThan(T0, { id: 4, time_ms: T0 - 60_000 }, { id: 4, time_ms: T0 - 60_000 })).toBe('2026-11-22 08:14:03');
  });

  it('lies halfway through a young lake’s history, rounded up to the second, so it finds the older snapshots', () => {
    // 09:04:03.250 and 09:14:03: halfway is 09:09:03.125, up to 09:09:04.
    expect(defaultOlderThan(T0, { id: 1, time_ms: T0 - 599_750 }, { id: 9, time_ms: T0 })).toBe('2026-11-22 09:09:04');
    // Two snapshots in the same second: still after the oldest.
    expect(defaultOlderThan(T0, { id: 1, time_ms: T0 + 100 }, { id: 2, time_ms: T0 + 200 })).toBe('2026-11-22 09:14:04');
  });
});

describe('olderThanParam', () => {
  it('makes UTC explicit so the catalog’s time zone cannot shift it', () => {
    expect(olderThanParam(' 2026-11-22 09:00:00 ')).toEqual({ value: '2026-11-22 09:00:00+00' });
    expect(olderThanParam('2026-11-22T09:00')).toEqual({ value: '2026-11-22T09:00+00' });
    expect(olderThanParam('2026-11-22')).toEqual({ value: '2026-11-22 00:00:00+00' });
    expect(olderThanParam('2026-11-22 09:00:00.5')).toEqual({ value: '2026-11-22 09:00:00.5+00' });
  });

  it('keeps a zone that was typed', () => {
    expect(olderThanParam('2026-11-22 09:00:00Z')).toEqual({ value: '2026-11-22 09:00:00Z' });
    expect(olderThanParam('2026-11-22 09:00:00+02')).toEqual({ value: '2026-11-22 09:00:00+02' });
    expect(olderThanParam('2026-11-22 09:00:00-05:30')).toEqual({ value: '2026-11-22 09:00:00-05:30' });
  });

  it('says what is wrong and how to write it', () => {
    expect(olderThanParam('  ')).toEqual({ error: 'Type a time, e.g. 2026-11-22 09:00:00 (UTC).' });
    expect(olderThanParam('yesterday')).toEqual({ error: '“yesterday” is not a time: use YYYY-MM-DD HH:MM:SS (UTC).' });
    expect(olderThanParam('2026-11-22 9:00')).toHaveProperty('error');
    expect(olderThanParam('22.11.2026')).toHaveProperty('error');
  });
});

describe('expiry words', () => {
  it('describe a typed time, in UTC unless it named a zone', () => {
    expect(olderThanWords('2026-11-22 09:00:00 ')).toEqual({
      describe: 'older than 2026-11-22 09:00:00 UTC',
      emptyWhy: 'no snapshot is older than 2026-11-22 09:00:00 UTC, apart from the latest, which is always kept.',
    });
    expect(olderThanWords('2026-11-22 09:00:00+02').describe).toBe('older than 2026-11-22 09:00:00+02');
  });

  it('describe snapshots picked in the history', () => {
    expect(versionsWords([7])).toEqual({
      describe: 'snapshot 7, selected in the history',
      emptyWhy: 'snapshot 7 is the latest (always kept) or no longer exists.',
    });
    expect(versionsWords([7, 8])).toEqual({
      describe: 'snapshots 7, 8',
      emptyWhy: 'these are the latest snapshot (always kept) or no longer exist.',
    });
  });

  it('name the count on the confirm and say what stops working', () => {
    expect(expireWords(1)).toEqual({
      head: '1 snapshot would be expired',
      confirm: 'Expire 1 snapshot',
      action: 'Expiring 1 snapshot',
      warning:
        'Time travel to this snapshot will stop working. Data files only it uses will be scheduled for deletion; data inlined in the catalog leaves no file (the result says which).',
    });
    const w = expireWords(1204);
    expect(w.confirm).toBe('Expire 1,204 snapshots');
    expect(w.warning).toMatch(/^Time travel to these 1,204 snapshots will stop working\. Data files only they use/);
  });
});

describe('file lists', () => {
  const f = (path: string, bytes: number | null) => ({ path, bytes });

  it('sum to an exact size, an at-least size when some are unreadable, or none', () => {
    expect(filesSize([])).toEqual({ total: 0, text: '0 B' });
    expect(filesSize([f('/a', 366_592), f('/b', 512)])).toEqual({ total: 367_104, text: '359 KiB' });
    expect(filesSize([f('/a', 2048), f('s3://b', null)])).toEqual({ total: 2048, text: '≥ 2.0 KiB' });
    expect(filesSize([f('s3://a', null)])).toEqual({ total: 0, text: null });
  });

  it('share a directory, cut at a slash', () => {
    expect(commonDir([])).toBe('');
    expect(commonDir(['/tmp/lake/main/t/a.parquet', '/tmp/lake/main/t/b.parquet'])).toBe('/tmp/lake/main/t/');
    expect(commonDir(['/tmp/lake/main/t1/a.parquet', '/tmp/lake/main/t2/a.parquet'])).toBe('/tmp/lake/main/');
    expect(commonDir(['/tmp/lake/a.parquet'])).toBe('/tmp/lake/');
    expect(commonDir(['a.parquet', 'b.parquet'])).toBe('');
    expect(commonDir(['/a.parquet', '/b.parquet'])).toBe('');
  });

  it('name the confirm with the count and the size', () => {
    const files = [f('/tmp/lake/main/t/a.parquet', 366_592), f('/tmp/lake/main/t/b.parquet', null)];
    expect(cleanupWords(files, false)).toEqual({
      head: '2 files scheduled for deletion',
      size: '≥ 358 KiB',
      dir: '/tmp/lake/main/t/',
      confirm: 'Delete 2 files (≥ 358 KiB)',
      action: 'Deleting 2 files',
      warning: 'Only expired snapshots referenced these files. They are deleted from storage; this cannot be undone.',
      label: 'Files that would be deleted',
    });
    const orphans = cleanupWords([f('s3://x/a.parquet', null)], true);
    expect(orphans.head).toBe('1 orphaned file (no snapshot references them)');
    expect(orphans.confirm).toBe('Delete 1 file');
    expect(orphans.action).toBe('Deleting 1 orphaned file');
    expect(orphans.label).toBe('Orphaned files that would be deleted');
  });

  it('say why there is nothing to clean up, and what expiring would schedule', () => {
    expect(cleanupEmptyWords(false, stats())).toEqual({
      title: 'Nothing to clean up',
      why: 'no files are scheduled for deletion. Expiring older snapshots would schedule 3 files (2.0 KiB).',
    });
    expect(cleanupEmptyWords(false, null).why).toBe('no files are scheduled for deletion.');
    expect(cleanupEmptyWords(false, stats({ old_files: 0 })).why).toBe('no files are scheduled for deletion.');
    expect(cleanupEmptyWords(true, stats())).toEqual({
      title: 'No orphaned files',
      why: 'no file under the lake’s data path is unreferenced.',
    });
  });
});

describe('a finished job', () => {
  it('makes an open preview stale, in words that say which and what to do', () => {
    expect(staleWords(job(4, 'done'))).toBe('Expire 4 snapshots finished since this preview: preview again to see what would go now.');
    expect(staleWords(job(5, 'failed', { title: 'flush inlined data' }))).toBe(
      'Flush inlined data failed since this preview: preview again to see what would go now.',
    );
  });
});

describe('compaction preview', () => {
  const t = (table: string, data_files: number, bytes: number, files_with_deletes = 0) => ({
    table,
    data_files,
    bytes,
    files_with_deletes,
  });

  it('lists the tables with data files and their totals', () => {
    const f = compactionFacts([t('main.a', 3, 3072, 1), t('main.empty', 0, 0), t('main.b', 1, 1024)]);
    expect(f.tables.map((x) => x.table)).toEqual(['main.a', 'main.b']);
    expect([f.files, f.bytes, f.deletes]).toEqual([4, 4096, 1]);
    expect(f.head).toBe('4 data files in 2 tables');
    expect(f.detail).toBe(' · 4.0 KiB · 1 file with deletes');
    expect(compactionFacts([t('main.b', 1, 1024)]).detail).toBe(' · 1.0 KiB · no files with deletes');
  });

  it('says when there is nothing to compact', () => {
    expect(compactionFacts([t('main.empty', 0, 0)])).toMatchObject({
      head: 'No data files',
      detail: ': the lake’s tables have no data files yet.',
    });
    expect(compactionFacts([]).detail).toBe(': the lake has no tables yet.');
  });
});

describe('summary', () => {
  it('gives its numbers as attributes, the scheduled size only when known', () => {
    expect(statsData(null)).toEqual({});
    expect(statsData(stats())).toEqual({
      'data-snapshots': '12',
      'data-files': '1204',
      'data-bytes': '366592',
      'data-old-files': '3',
      'data-old-bytes': '2048',
      'data-scheduled-files': '2',
      'data-inlined-rows': '40',
    });
    expect(statsData(stats({ scheduled_bytes: 0 }))['data-scheduled-bytes']).toBe('0');
  });

  it('says each line in IEC units with counts', () => {
    expect(statLines(stats()).map((l) => `${l.label}: ${l.value}`)).toEqual([
      'Files: 1,204 · 358 KiB',
      'Reclaimable by expiring: 3 files · 2.0 KiB',
      'Scheduled for deletion: 2 files · size unknown',
      'Inlined rows: 40',
    ]);
    expect(statLines(stats({ scheduled_files: 1, scheduled_bytes: 512 }))[2]?.value).toBe('1 file · 512 B');
  });
});

describe('writerName', () => {
  it('names the process, and an author other than Skein before it', () => {
    expect(writerName({ author: 'skein', writer: 'console@m2#3f9a1c' })).toBe('console@m2#3f9a1c');
    expect(writerName({ author: 'sandbox', writer: 'cli@m1' })).toBe('sandbox · cli@m1');
    expect(writerName({ author: 'etl', writer: null })).toBe('etl');
    expect(writerName({ author: 'skein', writer: null })).toBe('skein (process not recorded)');
    expect(writerName({ author: null, writer: null })).toBe('no author');
  });
});
