// The Alerts page's words: what each rule watches, its threshold in its unit, and an alert
// as one line. Kept apart from the component so they are tested without a browser.

import type { Alert, AlertRule, AlertRules, Severity } from '../lib/bindings';
import { bytes, count, duration } from '../lib/format';
import type { Badge } from '../lib/status';

/** Each rule: its words and the threshold it reads from `[alerts]`. */
export const RULES: readonly { rule: AlertRule; what: string; threshold: (r: AlertRules) => string }[] = [
  { rule: 'lag', what: 'Replay lag', threshold: (r) => (r.lag_ms ? `≥ ${duration(r.lag_ms)}` : 'off') },
  { rule: 'lag_bytes', what: 'WAL behind the primary', threshold: (r) => (r.lag_bytes ? `≥ ${bytes(r.lag_bytes)}` : 'off') },
  { rule: 'node_down', what: 'A node does not answer', threshold: (r) => (r.node_down ? 'on' : 'off') },
  { rule: 'promoted', what: 'A replica promoted or on another timeline', threshold: (r) => (r.promoted ? 'on' : 'off') },
  {
    rule: 'slot_retained',
    what: 'WAL a replication slot retains',
    threshold: (r) => (r.slot_retained_bytes ? `≥ ${bytes(r.slot_retained_bytes)}` : 'off'),
  },
  {
    rule: 'slot_headroom',
    what: 'A slot’s headroom (safe_wal_size), or wal_status lost/unreserved',
    threshold: (r) => (r.slot_headroom_bytes ? `< ${bytes(r.slot_headroom_bytes)}` : 'lost/unreserved only'),
  },
  {
    rule: 'conflict_rate',
    what: 'Recovery conflicts on a replica',
    threshold: (r) => (r.conflicts_per_minute ? `≥ ${r.conflicts_per_minute} a minute` : 'off'),
  },
  {
    rule: 'xmin_age',
    what: 'The xmin a replica holds back (age(backend_xmin))',
    threshold: (r) => (r.xmin_age ? `≥ ${count(r.xmin_age)} transactions` : 'off'),
  },
  {
    rule: 'cache_stale',
    what: 'A cache stale or edited',
    threshold: (r) => (r.cache_stale_s ? `for ${duration(r.cache_stale_s * 1000)}` : 'off'),
  },
  { rule: 'cache_age', what: 'A cache’s data older than', threshold: (r) => (r.cache_age_s ? duration(r.cache_age_s * 1000) : 'off') },
  { rule: 'refresh_failed', what: 'A cache’s last refresh failed', threshold: (r) => (r.refresh_failed ? 'on' : 'off') },
  { rule: 'maintenance_failed', what: 'A maintenance job failed', threshold: (r) => (r.maintenance_failed ? 'on' : 'off') },
];

/** The words of a rule. */
export function ruleWhat(rule: AlertRule): string {
  return RULES.find((r) => r.rule === rule)?.what ?? rule;
}

/** An alert's badge: its severity, or `cleared`. */
export function alertBadge(a: Alert): Badge {
  if (a.cleared_at_ms !== null) return { word: 'cleared', tone: 'muted', icon: '○' };
  const tone: Record<Severity, Badge['tone']> = { critical: 'crit', warning: 'warn', info: 'info' };
  const icon: Record<Severity, string> = { critical: '✕', warning: '▲', info: '‖' };
  return { word: a.severity, tone: tone[a.severity], icon: icon[a.severity] };
}

/** How long it was (or has been) active, as of `now`. */
export function activeFor(a: Alert, now: number): string {
  return duration(Math.max(0, (a.cleared_at_ms ?? now) - a.fired_at_ms));
}

/** A notification's title and body for a fired alert. */
export function notification(a: Alert, profile: string | null): { title: string; body: string } {
  return { title: `Skein${profile ? ` [${profile}]` : ''}: ${ruleWhat(a.rule).toLowerCase()} · ${a.subject}`, body: a.message };
}

/** The `[alerts]` keys as the editor shows them: label, unit, kind. */
export const RULE_FIELDS: readonly { key: keyof AlertRules; label: string; unit: string; kind: 'int' | 'float' | 'bool' }[] = [
  { key: 'fire_after', label: 'Fire after', unit: 'samples in breach', kind: 'int' },
  { key: 'clear_after', label: 'Clear after', unit: 'healthy samples', kind: 'int' },
  { key: 'lag_ms', label: 'Replay lag', unit: 'ms (0: off)', kind: 'int' },
  { key: 'lag_bytes', label: 'WAL behind the primary', unit: 'bytes (0: off)', kind: 'int' },
  { key: 'node_down', label: 'A node does not answer', unit: '', kind: 'bool' },
  { key: 'promoted', label: 'A replica promoted or on another timeline', unit: '', kind: 'bool' },
  { key: 'slot_retained_bytes', label: 'WAL a slot retains', unit: 'bytes (0: off)', kind: 'int' },
  { key: 'slot_headroom_bytes', label: 'Slot headroom below', unit: 'bytes (0: lost/unreserved only)', kind: 'int' },
  { key: 'conflicts_per_minute', label: 'Recovery conflicts', unit: 'a minute (0: off)', kind: 'float' },
  { key: 'xmin_age', label: 'xmin held back', unit: 'transactions (0: off)', kind: 'int' },
  { key: 'cache_stale_s', label: 'Cache stale or edited for', unit: 's (0: off)', kind: 'int' },
  { key: 'cache_age_s', label: 'Cache data older than', unit: 's (0: off)', kind: 'int' },
  { key: 'refresh_failed', label: 'A cache refresh failed', unit: '', kind: 'bool' },
  { key: 'maintenance_failed', label: 'A maintenance job failed', unit: '', kind: 'bool' },
];

/** Reads a typed value for a numeric key: the number, or why not. */
export function parseRule(kind: 'int' | 'float', text: string): number | string {
  const t = text.trim();
  if (kind === 'int' ? !/^\d+$/.test(t) : !/^\d+(\.\d+)?$/.test(t))
    return kind === 'int' ? 'a whole number, 0 or more' : 'a number, 0 or more';
  return Number(t);
}
