// The routing table's words: a node's configured → effective weight and the tooltip of its
// rotation (why it is in or out, its lag at the last sample, what it replayed).

import type { NodeRouting } from '../lib/bindings';
import { duration } from '../lib/format';

/** The rotation cell's tooltip. */
export function rotationTitle(n: NodeRouting): string {
  const lag = n.lag_ms === null ? 'replay lag unknown' : `replay lag ${duration(n.lag_ms)} at the last sample`;
  if (n.role === 'primary') return 'The primary serves writes, locks and session statements, and reads when no replica qualifies';
  const lsn = n.replay_lsn ? ` · replayed ${n.replay_lsn}` : '';
  return n.in_rotation ? `Reads may go here · ${lag}${lsn}` : `${n.reason ?? 'Out of rotation'} · ${lag}${lsn}`;
}

/** Configured → effective weight (`1 → 0.5` past warning, `1 → 0` out), or just `1`. */
export function weightText(n: NodeRouting): string {
  if (n.role === 'primary') return '—';
  const eff = Number.isInteger(n.weight) ? String(n.weight) : n.weight.toFixed(2).replace(/0$/, '');
  return n.weight === n.configured_weight ? String(n.configured_weight) : `${n.configured_weight} → ${eff}`;
}

/** The line under the table: replicas in rotation, reads the lake served, fallbacks. */
export function routingFoot(
  r: { nodes: readonly NodeRouting[]; cache_reads: number; fallbacks: number },
  count: (n: number) => string,
): string {
  const inRotation = r.nodes.filter((n) => n.role === 'replica' && n.in_rotation).length;
  const replicas = r.nodes.filter((n) => n.role === 'replica').length;
  return (
    `${count(inRotation)} of ${count(replicas)} ${replicas === 1 ? 'replica' : 'replicas'} in rotation · ` +
    `${count(r.cache_reads)} ${r.cache_reads === 1 ? 'read' : 'reads'} served from the lake by fresh caches · ` +
    `${count(r.fallbacks)} ${r.fallbacks === 1 ? 'read' : 'reads'} fell back to the primary (no replica qualified, or read-your-writes timed out) · counted since this console started`
  );
}
