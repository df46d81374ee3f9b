// The Overview's replication tree: each replica under the node it streams from (the primary,
// or another replica when it cascades), as the lag sample says (`NodeStatus.upstream`: the node
// whose pg_stat_replication lists the WAL sender that feeds it), and each replica's lag words.

import type { NodeStatus } from '../lib/bindings';
import { bytes, duration } from '../lib/format';
import { tlsFact } from '../lib/status';

/** One replica's row of the tree, in display order (depth first). */
export interface TopologyRow {
  node: NodeStatus;
  /** 0 under the primary, 1 under a replica of the primary, … */
  depth: number;
  /** The replica it streams from, when it cascades; null under the primary (or unknown). */
  cascadesFrom: string | null;
  /** The last of its siblings (the connector line ends here). */
  last: boolean;
}

/**
 * The replicas of `nodes` as a tree, flattened depth first: the primary's replicas (and those
 * whose upstream is unknown: down, disconnected) at depth 0 in sample order, each followed by
 * the replicas streaming from it. A replica whose upstream is not a replica of the sample, or
 * that would close a loop, is placed under the primary.
 */
export function topologyRows(nodes: readonly NodeStatus[]): TopologyRow[] {
  const replicas = nodes.filter((n) => n.role === 'replica');
  const names = new Set(replicas.map((n) => n.name));
  const parentOf = (n: NodeStatus): string | null => (n.upstream && n.upstream !== n.name && names.has(n.upstream) ? n.upstream : null);
  const children = new Map<string | null, NodeStatus[]>();
  for (const n of replicas) {
    const p = parentOf(n);
    children.set(p, [...(children.get(p) ?? []), n]);
  }
  const out: TopologyRow[] = [];
  const placed = new Set<string>();
  const walk = (parent: string | null, depth: number) => {
    const kids = (children.get(parent) ?? []).filter((k) => !placed.has(k.name));
    kids.forEach((node, i) => {
      placed.add(node.name);
      out.push({ node, depth, cascadesFrom: parent, last: i === kids.length - 1 });
      walk(node.name, depth + 1);
    });
  };
  walk(null, 0);
  // Replicas only reachable through a loop of upstreams: under the primary, flat.
  const rest = replicas.filter((n) => !placed.has(n.name));
  rest.forEach((node, i) => {
    out.push({ node, depth: 0, cascadesFrom: null, last: i === rest.length - 1 });
  });
  return out;
}

/**
 * A replica's lag words on the Overview: `850 ms · 12.4 MiB · timeline 1 · TLSv1.3` against the
 * primary; for a cascading replica against its upstream first, then the primary:
 * `400 ms · 1.2 KiB behind replica1 · 900 ms · 3.4 KiB behind primary · timeline 1`.
 */
export function lagText(row: Pick<TopologyRow, 'node' | 'cascadesFrom'>, primaryName = 'primary'): string {
  const n = row.node;
  const tli = n.timeline_id !== null ? ` · timeline ${n.timeline_id}` : '';
  const tls = tlsFact(n);
  const tail = `${tli}${tls ? ` · ${tls.word}` : ''}`;
  if (n.state === 'down') return '';
  if (n.state === 'promoted') return `no replay lag: out of recovery${tli}`;
  if (!row.cascadesFrom) return `${duration(n.replay_lag_ms)} · ${bytes(n.lag_bytes)}${tail}`;
  return (
    `${duration(n.upstream_replay_lag_ms)} · ${bytes(n.upstream_lag_bytes)} behind ${row.cascadesFrom} · ` +
    `${duration(n.replay_lag_ms)} · ${bytes(n.lag_bytes)} behind ${primaryName}${tail}`
  );
}

/** Where a replica's lag numbers come from, for its tooltip. */
export function lagTitle(row: Pick<TopologyRow, 'cascadesFrom'>): string {
  const primary =
    'Replay lag (pg_stat_replication.replay_lag on the primary, else now() − pg_last_xact_replay_timestamp() while behind) · bytes behind (primary LSN − replay LSN)';
  if (!row.cascadesFrom) return primary;
  return (
    `Behind ${row.cascadesFrom}: pg_stat_replication.replay_lag on ${row.cascadesFrom} · bytes = ${row.cascadesFrom}'s received ` +
    `(or replayed) LSN − this replica's replay LSN.\nBehind the primary: now() − pg_last_xact_replay_timestamp() while behind · ` +
    'bytes = primary LSN − replay LSN (what routing uses)'
  );
}
