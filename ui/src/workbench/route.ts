// Where a statement goes and why (`QueryRoute`), as words: the target as a badge (word,
// colour, icon), the reason as a sentence, whether the statement itself needs the primary,
// and whether a run went elsewhere than its explain said. Drawn by RouteLine.svelte.

import type { QueryRoute, QueryTarget } from '../lib/bindings';
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
export function targetBadge(t: QueryTarget): Badge {
  return TARGET[t];
}

/** `a read; chosen by round_robin` → `A read; chosen by round_robin.` */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
}

/** Whether two routes of the same statement differ where it matters (target, rule, node). */
export function differs(explained: QueryRoute, ran: QueryRoute, sameNodeExpected: boolean): boolean {
  return explained.target !== ran.target || explained.rule !== ran.rule || (sameNodeExpected && explained.node !== ran.node);
}

/** The run button's words and tooltip for the explained route (`null`: not explained yet). */
export function runButton(r: QueryRoute | null, running: boolean): { text: string; title: string } {
  const onPrimary = !!r && needsPrimary(r);
  return {
    text: running ? 'Running…' : onPrimary ? 'Run on primary' : 'Run',
    title: onPrimary
      ? `This statement must run on the primary (${r.rule}): it will run on ${r.node}`
      : r
        ? `Runs on ${r.node}`
        : 'Runs the statement where the router sends it',
  };
}
