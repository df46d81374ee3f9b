// Where a statement goes and why (`QueryRoute`), as words: the target with its colour and
// icon, the node, the rule as a monospace chip, the reason as a sentence, and the LSN a
// replica must have replayed first (read-your-writes).

import type { QueryRoute, QueryTarget } from '../lib/bindings';
import { h } from '../lib/dom';
import type { Badge } from '../lib/status';

/**
 * Router rules that send a statement to the primary for a reason other than the statement
 * itself (the session, the settings, the rotation): such a statement is a read, so its button
 * stays "Run". Every other primary rule (`statement`, `locking`, `function`, `unparsable`, …)
 * means the statement must run on the primary: "Run on primary".
 */
const NOT_THE_STATEMENT = new Set([
  'force_primary',
  'read_splitting_off',
  'no_replica_in_rotation',
  'read_your_writes',
  'session_pinned',
  'sticky_after_write',
  'retry',
  'table_rule',
  'query_rule',
]);

/** Whether the statement itself must run on the primary (a write, lock, DDL, session statement). */
export function needsPrimary(r: QueryRoute): boolean {
  return r.target === 'primary' && !NOT_THE_STATEMENT.has(r.rule);
}

const TARGET: Record<QueryTarget, Badge> = {
  primary: { word: 'primary', tone: 'info', icon: '◆' },
  replica: { word: 'replica', tone: 'ok', icon: '●' },
  cache: { word: 'cache', tone: 'muted', icon: '▤' },
};

/** The target as a badge (word + colour + icon). */
export function targetBadge(t: QueryTarget): HTMLElement {
  const b = TARGET[t];
  return h(
    'span',
    { class: `badge route-target route-${t} tone-${b.tone}` },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, b.icon),
    h('span', { class: 'badge-word' }, b.word),
  );
}

/** `a read; chosen by round_robin` → `A read; chosen by round_robin.` */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
}

/** The rule as a monospace chip. */
export function ruleChip(rule: string): HTMLElement {
  return h('code', { class: 'rule-chip', title: 'The rule that decided' }, rule);
}

/** The route's facts in one line, then its reason (used by the explain and by a result). */
export function routeLine(r: QueryRoute): HTMLElement[] {
  return [
    h(
      'div',
      { class: 'route-line' },
      targetBadge(r.target),
      h('span', { class: 'route-node mono', title: r.target === 'cache' ? 'Served from the lake' : 'The node that serves it' }, r.node),
      ruleChip(r.rule),
      r.needs_lsn
        ? h(
            'span',
            { class: 'route-lsn small', title: "Read-your-writes: the replica must have replayed the session's last write first" },
            'read-your-writes: LSN ≥ ',
            h('span', { class: 'mono' }, r.needs_lsn),
          )
        : null,
      r.caches.length
        ? h(
            'span',
            { class: 'small muted' },
            `cache${r.caches.length === 1 ? '' : 's'} `,
            h('span', { class: 'mono' }, r.caches.join(', ')),
          )
        : null,
    ),
    h('p', { class: 'route-reason' }, sentence(r.reason)),
  ];
}

/** Whether two routes of the same statement differ where it matters (target, rule, node). */
export function differs(explained: QueryRoute, ran: QueryRoute, sameNodeExpected: boolean): boolean {
  return explained.target !== ran.target || explained.rule !== ran.rule || (sameNodeExpected && explained.node !== ran.node);
}
