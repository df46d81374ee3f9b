// The Caches page's words: what each state means (the legend), which refresh outcome this
// window shows beside the refresh of record, and the one-line texts of outcomes, the
// scheduler's next run and a snapshot taken together; the summary line and the rows' order.

import type { CachesSnapshot, CacheView, RefreshOutcome } from '../lib/bindings';
import { count, duration, plural, relative, truncate, utc } from '../lib/format';

export const STATE_ORDER: Record<string, number> = {
  error: 0,
  stale: 1,
  edited: 2,
  unknown: 3,
  empty: 4,
  expired: 5,
  restored: 5,
  refreshing: 6,
  fresh: 7,
};

/**
 * The states and what each means, written once: the legend under the table says them in the
 * words the Overview, the attention list and `skein cache list` use.
 */
export const STATE_LEGEND: readonly { word: string; tone: string; icon: string; meaning: string }[] = [
  { word: 'empty', tone: 'muted', icon: '○', meaning: 'never refreshed: nothing to serve yet.' },
  {
    word: 'fresh',
    tone: 'ok',
    icon: '●',
    meaning: 'refreshed with the current definition, monitored tables unchanged since, within the TTL. The only state routing serves.',
  },
  {
    word: 'edited',
    tone: 'warn',
    icon: '▲',
    meaning:
      'the definition changed since the last refresh: the lake holds the old query’s result. Never served; the next refresh rewrites it.',
  },
  { word: 'stale', tone: 'warn', icon: '▲', meaning: 'a monitored table changed since the last refresh: the data is behind. Not served.' },
  {
    word: 'expired',
    tone: 'info',
    icon: '◷',
    meaning: 'TTL passed · sources unchanged · refreshed data is current. Not served until refreshed; nothing is wrong.',
  },
  {
    word: 'restored',
    tone: 'info',
    icon: '↺',
    meaning:
      'put back to an earlier snapshot by hand: the lake holds that snapshot’s data, not the source’s. Not served until the next refresh.',
  },
  { word: 'unknown', tone: 'muted', icon: '?', meaning: 'the state could not be checked (the row says why).' },
  { word: 'refreshing', tone: 'info', icon: '…', meaning: 'a refresh is running (shown over the state).' },
  {
    word: 'paused',
    tone: 'paused',
    icon: '‖',
    meaning: 'the scheduler leaves the cache alone; Refresh by hand still works (shown beside the state).',
  },
  { word: 'error', tone: 'crit', icon: '✕', meaning: 'the last refresh failed, or the state check did (the row says why).' },
];

/**
 * This window's last outcome when it is newer than the refresh of record (a SKIPPED or an
 * ERROR after it, or the REFRESHED that wrote it); `null` when another console's or the
 * CLI's refresh superseded it, or there is none.
 */
export function lastAttempt(v: CacheView): RefreshOutcome | null {
  const o = v.last_outcome;
  const lr = v.status.last_refresh;
  if (!o) return null;
  if (!lr || o.snapshot_id === null || lr.snapshot_id === null) return o.result === 'REFRESHED' && lr ? null : o;
  if (o.snapshot_id < lr.snapshot_id) return null;
  return o;
}

/** The "Next run" word: `due`, `in 2 min`, `paused`, or `—` (no TTL). */
export function nextRunText(v: CacheView, now = Date.now()): string {
  if (v.status.paused) return 'paused';
  if (v.status.ttl_seconds === null || v.next_run_ms === null) return '—';
  if (v.next_run_ms <= now + 500) return 'due';
  const r = relative(v.next_run_ms, now);
  return r === 'just now' ? 'in 1 s' : r;
}

/** Its title: the absolute UTC time, and what the scheduler does then. */
export function nextRunTitle(v: CacheView, now = Date.now()): string {
  if (v.status.paused) return 'Paused: the scheduler leaves this cache alone (Refresh by hand still works)';
  if (v.status.ttl_seconds === null) return 'No TTL: refreshed by hand only';
  if (v.next_run_ms === null) return 'Not scheduled';
  const when =
    v.next_run_ms <= now ? (v.next_run_ms > 0 ? `due since ${utc(v.next_run_ms)}` : 'due now (never refreshed)') : utc(v.next_run_ms);
  return `${when} · the scheduler refreshes it then if its monitored tables changed`;
}

/** `snapshot 37 · 2 caches at 0/3908C68 from replica1 · 494 ms`. */
export function togetherText(r: CachesSnapshot): string {
  return `snapshot ${r.snapshot_id ?? '?'} · ${plural(r.caches.length, 'cache')} at ${r.lsn} from ${r.served_by} · ${duration(r.duration_ms)}`;
}

/**
 * One line for a refresh outcome: `REFRESHED · snapshot 37`, `SKIPPED · monitored tables
 * unchanged`. A REFRESHED line carries no rows or duration: those of the refresh of record
 * are in their own columns (one duration per refresh).
 */
export function outcomeText(o: RefreshOutcome): string {
  switch (o.result) {
    case 'REFRESHED':
      return `REFRESHED${o.snapshot_id !== null ? ` · snapshot ${o.snapshot_id}` : ''}`;
    case 'SKIPPED':
      // The short reason; the whole message is the cell's title.
      return `SKIPPED · ${/unchanged/.test(o.message) ? 'sources unchanged' : truncate(o.message, 40)}`;
    case 'ERROR':
      return `ERROR · ${o.error ? `${o.error.code}: ${o.error.message}` : o.message}`;
  }
}

/** How the "Next run" word is drawn: muted (`paused`, `—`), marked (`due`) or plain. */
export function nextRunKind(text: string): 'muted' | 'due' | 'plain' {
  return text === 'paused' || text === '—' ? 'muted' : text === 'due' ? 'due' : 'plain';
}

/** The line beside the title: `3 caches · 2 fresh · 1 stale` (empty with no cache). */
export function cachesSummary(list: readonly CacheView[]): string {
  if (!list.length) return '';
  const counts = new Map<string, number>();
  for (const v of list) counts.set(v.status.state, (counts.get(v.status.state) ?? 0) + 1);
  return `${count(list.length)} caches · ${['fresh', 'edited', 'stale', 'restored', 'expired', 'empty', 'unknown']
    .filter((k) => counts.get(k))
    .map((k) => `${counts.get(k)} ${k}`)
    .join(' · ')}`;
}

export type SortKey = 'name' | 'state' | 'refreshed' | 'rows' | 'duration' | 'ttl' | 'next';

/**
 * The rows shown: those whose name, query or a monitored table contains `filter` (any case),
 * ordered by `key` (ties by name). `refreshing` says which caches are refreshing now.
 */
export function visibleCaches(
  list: readonly CacheView[],
  filter: string,
  key: SortKey,
  asc: boolean,
  refreshing: (name: string) => boolean,
): CacheView[] {
  const q = filter.trim().toLowerCase();
  const visible = q
    ? list.filter((v) => [v.status.name, v.status.query, ...v.status.monitor].some((x) => x.toLowerCase().includes(q)))
    : list.slice();
  const val = (v: CacheView): number | string => {
    const s = v.status;
    switch (key) {
      case 'name':
        return s.name;
      case 'state':
        return (
          STATE_ORDER[refreshing(s.name) ? 'refreshing' : s.state_error || lastAttempt(v)?.result === 'ERROR' ? 'error' : s.state] ?? 9
        );
      case 'refreshed':
        return s.last_refresh?.refreshed_at_ms ?? 0;
      case 'rows':
        return s.last_refresh?.rows ?? -1;
      case 'duration':
        return s.last_refresh?.duration_ms ?? -1;
      case 'ttl':
        return s.ttl_seconds ?? Number.MAX_SAFE_INTEGER;
      case 'next':
        return s.paused || v.next_run_ms === null ? Number.MAX_SAFE_INTEGER : v.next_run_ms;
    }
  };
  visible.sort((a, b) => {
    const x = val(a);
    const y = val(b);
    const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
    return (asc ? c : -c) || a.status.name.localeCompare(b.status.name);
  });
  return visible;
}
