// The Workbench's recent runs (this window only): what each ran, where, what it gave.

import { count } from '../lib/format';
import { elapsed } from './result';

/** Runs the history keeps. */
export const HISTORY = 10;

export interface HistoryItem {
  sql: string;
  session: string | null;
  /** When it ended, ms since the epoch (client clock). */
  at: number;
  node: string | null;
  /** Rows returned, for a statement with rows. */
  rows: number | null;
  /** Rows affected, for a statement without rows. */
  affected: number | null;
  ms: number | null;
  /** The error code when it failed (`Cancelled` when its Cancel stopped it). */
  error: string | null;
}

/** The history with `item` first, at most `HISTORY` long (a new list). */
export function pushHistory(list: readonly HistoryItem[], item: HistoryItem): HistoryItem[] {
  return [item, ...list].slice(0, HISTORY);
}

/** A successful run's facts: `replica1 · 25 rows · 12.3 ms` (node, what it gave, its time). */
export function historyFacts(it: HistoryItem): { node: string; what: string; ms: string } {
  return {
    node: it.node ?? '',
    what:
      it.rows !== null
        ? `${count(it.rows)} ${it.rows === 1 ? 'row' : 'rows'}`
        : it.affected !== null
          ? `${count(it.affected)} affected`
          : 'done',
    ms: it.ms !== null ? elapsed(it.ms) : '',
  };
}
