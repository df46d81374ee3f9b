// Lake maintenance in the console's words: the default and the parsing of "Older than", the
// size and the common directory of a file list, what each preview says and what its confirm
// button is named ("Expire 12 snapshots", "Delete 2 files (358.2 KiB)"), the compactions, and
// the summary's numbers as data attributes. Pure: Maintenance.svelte and its sections draw them.

import type { Compaction, Job, LakeFile, LakeStats, SnapshotRef, TableFiles, WriterActivity } from '../lib/bindings';
import { bytes, count, plural, utc } from '../lib/format';
import { jobTitle } from '../lib/jobs';

/**
 * How another writer is named: its process (`console@host#id`, `cli@host`), with the author
 * when that is not Skein's (`sandbox · cli@host`); a commit that names no process by its
 * author alone, or "no author".
 */
export function writerName(w: Pick<WriterActivity, 'author' | 'writer'>): string {
  const author = w.author && w.author !== 'skein' ? w.author : null;
  if (w.writer) return author ? `${author} · ${w.writer}` : w.writer;
  return author ?? (w.author === 'skein' ? 'skein (process not recorded)' : 'no author');
}

/** `2026-11-22 09:14:03` (UTC, without the zone: the field says UTC beside it). */
export function utcBare(ms: number): string {
  return utc(ms).replace(' UTC', '');
}

/**
 * The default "Older than", `YYYY-MM-DD HH:MM:SS` in UTC: an hour ago when that expires
 * something; when every snapshot is younger (a new lake), the time halfway between the
 * oldest and the newest snapshot, rounded up to the second, so the preview finds the older
 * ones (the newest is always kept). `oldest` / `newest` are `[id, ms]` from `lake_stats`.
 */
export function defaultOlderThan(now = Date.now(), oldest: SnapshotRef | null = null, newest: SnapshotRef | null = null): string {
  const hourAgo = now - 3_600_000;
  if (oldest && newest && oldest.id !== newest.id && oldest.time_ms >= hourAgo) {
    const mid = Math.ceil((oldest.time_ms + Math.max(newest.time_ms, oldest.time_ms + 1)) / 2 / 1000) * 1000;
    return utcBare(Math.max(mid, Math.floor(oldest.time_ms / 1000) * 1000 + 1000));
  }
  return utcBare(hourAgo);
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
/** A zone at the end of the time part (`Z`, `+02`, `-05:30`). */
const ZONE_RE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * The typed "Older than" as sent to the backend, with UTC made explicit (`+00`) so the
 * catalog's time zone setting cannot shift it; or why it is not a time.
 */
export function olderThanParam(typed: string): { value: string } | { error: string } {
  const t = typed.trim();
  if (!t) return { error: 'Type a time, e.g. 2026-11-22 09:00:00 (UTC).' };
  if (!TIME_RE.test(t)) return { error: `“${t}” is not a time: use YYYY-MM-DD HH:MM:SS (UTC).` };
  let v = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t} 00:00:00` : t;
  if (!ZONE_RE.test(v.slice(10))) v += '+00';
  return { value: v };
}

/** What an expiry preview of a typed time says: what it lists, and why it may list nothing. */
export function olderThanWords(typed: string): { describe: string; emptyWhy: string } {
  const p = typed.trim();
  const shown = /[zZ]|[+-]\d{2}(?::?\d{2})?$/.test(p.slice(10)) ? p : `${p} UTC`;
  return {
    describe: `older than ${shown}`,
    emptyWhy: `no snapshot is older than ${shown}, apart from the latest, which is always kept.`,
  };
}

/** What an expiry preview of chosen snapshots ("Expire this snapshot…") says. */
export function versionsWords(ids: readonly number[]): { describe: string; emptyWhy: string } {
  return {
    describe: ids.length === 1 ? `snapshot ${ids[0]}, selected in the history` : `snapshots ${ids.join(', ')}`,
    emptyWhy:
      ids.length === 1
        ? `snapshot ${ids[0]} is the latest (always kept) or no longer exists.`
        : 'these are the latest snapshot (always kept) or no longer exist.',
  };
}

/** The words of an expiry preview listing `n` snapshots. */
export function expireWords(n: number): { head: string; confirm: string; action: string; warning: string } {
  const these = n === 1 ? 'this snapshot' : `these ${count(n)} snapshots`;
  return {
    head: `${plural(n, 'snapshot')} would be expired`,
    confirm: `Expire ${plural(n, 'snapshot')}`,
    action: `Expiring ${plural(n, 'snapshot')}`,
    warning: `Time travel to ${these} will stop working. Data files only ${n === 1 ? 'it uses' : 'they use'} will be scheduled for deletion; data inlined in the catalog leaves no file (the result says which).`,
  };
}

/** `2 files (358.2 KiB)`-style size of a file list: exact, at least (some unreadable), or unknown. */
export function filesSize(files: readonly LakeFile[]): { total: number; text: string | null } {
  const known = files.filter((f) => f.bytes !== null);
  const total = known.reduce((s, f) => s + (f.bytes ?? 0), 0);
  if (files.length === 0) return { total: 0, text: bytes(0) };
  if (known.length === 0) return { total, text: null };
  return { total, text: known.length === files.length ? bytes(total) : `≥ ${bytes(total)}` };
}

/** The directory every path shares (with its trailing `/`), or `''`. */
export function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let prefix = paths[0]!;
  for (const p of paths) {
    while (!p.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  const cut = prefix.lastIndexOf('/');
  return cut > 0 ? prefix.slice(0, cut + 1) : '';
}

/** What a cleanup preview that found nothing says (`stats`: the summary, when it was read). */
export function cleanupEmptyWords(orphaned: boolean, stats: LakeStats | null): { title: string; why: string } {
  let why = orphaned ? 'no file under the lake’s data path is unreferenced.' : 'no files are scheduled for deletion.';
  if (!orphaned && stats && stats.old_files > 0)
    why += ` Expiring older snapshots would schedule ${plural(stats.old_files, 'file')} (${bytes(stats.old_bytes)}).`;
  return { title: orphaned ? 'No orphaned files' : 'Nothing to clean up', why };
}

/** The words of a cleanup preview listing `files`. */
export function cleanupWords(
  files: readonly LakeFile[],
  orphaned: boolean,
): { head: string; size: string | null; dir: string; confirm: string; action: string; warning: string; label: string } {
  const n = files.length;
  const size = filesSize(files).text;
  return {
    head: orphaned ? `${plural(n, 'orphaned file')} (no snapshot references them)` : `${plural(n, 'file')} scheduled for deletion`,
    size,
    dir: commonDir(files.map((f) => f.path)),
    confirm: `Delete ${plural(n, 'file')}${size ? ` (${size})` : ''}`,
    action: orphaned ? `Deleting ${plural(n, 'orphaned file')}` : `Deleting ${plural(n, 'file')}`,
    warning: orphaned
      ? 'No snapshot references these files. They are deleted from storage; this cannot be undone.'
      : 'Only expired snapshots referenced these files. They are deleted from storage; this cannot be undone.',
    label: orphaned ? 'Orphaned files that would be deleted' : 'Files that would be deleted',
  };
}

/** What an open preview says once a job finished since it was read: it no longer lists what would go. */
export function staleWords(job: Job): string {
  return `${jobTitle(job)} ${job.state === 'done' ? 'finished' : 'failed'} since this preview: preview again to see what would go now.`;
}

/** A compaction: the button, what its error says was attempted, and its tooltip. */
export interface CompactionKind {
  what: Compaction;
  name: string;
  doing: string;
  title: string;
}

export const COMPACTIONS: readonly CompactionKind[] = [
  {
    what: 'merge_adjacent_files',
    name: 'Merge adjacent files',
    doing: 'Merging adjacent files',
    title: 'ducklake_merge_adjacent_files: merges small adjacent data files of each table into larger ones, in one snapshot',
  },
  {
    what: 'rewrite_data_files',
    name: 'Rewrite files with deletes',
    doing: 'Rewriting files with deletes',
    title: 'ducklake_rewrite_data_files: rewrites data files that carry deletes without the deleted rows, in one snapshot',
  },
  {
    what: 'flush_inlined_data',
    name: 'Flush inlined data',
    doing: 'Flushing inlined data',
    title: 'ducklake_flush_inlined_data: writes rows kept inlined in the catalog out to Parquet files, in one snapshot',
  },
];

/** The compaction preview: the tables with data files, and their totals. */
export function compactionFacts(list: readonly TableFiles[]): {
  tables: TableFiles[];
  files: number;
  bytes: number;
  deletes: number;
  head: string;
  detail: string;
} {
  const tables = list.filter((t) => t.data_files > 0 || t.files_with_deletes > 0);
  const files = tables.reduce((s, t) => s + t.data_files, 0);
  const size = tables.reduce((s, t) => s + t.bytes, 0);
  const deletes = tables.reduce((s, t) => s + t.files_with_deletes, 0);
  if (tables.length === 0)
    return {
      tables,
      files,
      bytes: size,
      deletes,
      head: 'No data files',
      detail: list.length ? ': the lake’s tables have no data files yet.' : ': the lake has no tables yet.',
    };
  return {
    tables,
    files,
    bytes: size,
    deletes,
    head: `${plural(files, 'data file')} in ${plural(tables.length, 'table')}`,
    detail: ` · ${bytes(size)} · ${deletes === 0 ? 'no files with deletes' : `${plural(deletes, 'file')} with deletes`}`,
  };
}

/** The summary's numbers as the `[data-testid=lake-stats]` attributes tests read. */
export function statsData(s: LakeStats | null): Record<string, string> {
  if (!s) return {};
  const d: Record<string, string> = {
    'data-snapshots': String(s.snapshots),
    'data-files': String(s.files),
    'data-bytes': String(s.bytes),
    'data-old-files': String(s.old_files),
    'data-old-bytes': String(s.old_bytes),
    'data-scheduled-files': String(s.scheduled_files),
    'data-inlined-rows': String(s.inlined_rows),
  };
  if (s.scheduled_bytes !== null) d['data-scheduled-bytes'] = String(s.scheduled_bytes);
  return d;
}

/** One line of the summary: its label, its tooltip and its value. */
export interface StatLine {
  label: string;
  title: string;
  value: string;
}

/** The summary's lines after "Snapshots" and "Oldest" (which draw a relative time). */
export function statLines(s: LakeStats): StatLine[] {
  return [
    {
      label: 'Files',
      title: 'Data and delete files the catalog lists (ducklake_data_file + ducklake_delete_file, file_size_bytes)',
      value: `${count(s.files)} · ${bytes(s.bytes)}`,
    },
    {
      label: 'Reclaimable by expiring',
      title: 'Files only older snapshots reference: expiring those snapshots schedules them for deletion',
      value: `${plural(s.old_files, 'file')} · ${bytes(s.old_bytes)}`,
    },
    {
      label: 'Scheduled for deletion',
      title: 'ducklake_files_scheduled_for_deletion: a cleanup deletes them now (sizes read from disk for local paths)',
      value: `${plural(s.scheduled_files, 'file')} · ${s.scheduled_bytes === null ? 'size unknown' : bytes(s.scheduled_bytes)}`,
    },
    {
      label: 'Inlined rows',
      title: 'Rows held in the catalog (ducklake_inlined_data_* tables) rather than in Parquet: "Flush inlined data" writes them out',
      value: count(s.inlined_rows),
    },
  ];
}
