// State words, tones and icons for nodes and caches, the same on every page: a
// colour is never the only cue, so every badge carries a word and an icon.

import type { CacheView, NodeRouting, NodeStatus, ReplicaState, RoutingStats } from './bindings';

export type Tone = 'ok' | 'warn' | 'crit' | 'info' | 'muted';

export interface Badge {
  word: string;
  tone: Tone;
  icon: string;
}

const ICON: Record<Tone, string> = { ok: '●', warn: '▲', crit: '✕', info: '‖', muted: '○' };

const STATE_WORD: Record<ReplicaState, string> = {
  primary: 'primary',
  streaming: 'streaming',
  catching_up: 'catching up',
  paused: 'paused',
  disconnected: 'disconnected',
  promoted: 'promoted',
  down: 'down',
};

/** The word for a replica state. */
export function stateWord(s: ReplicaState): string {
  return STATE_WORD[s];
}

/**
 * A node's standing: state word, worsened by its lag level. Whether it is in rotation is the
 * router's to say ({@link rotationWords}), not this badge's.
 */
export function nodeBadge(n: NodeStatus): Badge {
  if (n.state === 'down' || !n.reachable) return { word: 'down', tone: 'crit', icon: ICON.crit };
  if (n.state === 'primary') return { word: 'primary', tone: 'ok', icon: ICON.ok };
  if (n.state === 'disconnected') return { word: 'disconnected', tone: 'crit', icon: ICON.crit };
  if (n.state === 'promoted') return { word: 'promoted', tone: 'crit', icon: ICON.crit };
  const word = STATE_WORD[n.state];
  if (n.level === 'critical') return { word: `${word} · lag critical`, tone: 'crit', icon: '■' };
  if (n.level === 'warning') return { word: `${word} · lagging`, tone: 'warn', icon: ICON.warn };
  if (n.state === 'paused') return { word, tone: 'info', icon: ICON.info };
  if (n.state === 'catching_up') return { word, tone: 'warn', icon: '◐' };
  return { word, tone: 'ok', icon: ICON.ok };
}

/**
 * A replica's standing in the rotation, from the router's stats, in the words every view
 * uses (the backend's attention list says the same, `rotation_words` in
 * crates/skein-console/src/attention.rs): `in rotation`, `out of rotation`, or
 * `recovering · back in rotation in 23 s` (seconds rounded up); the primary: `always`.
 */
export function rotationWords(n: NodeRouting): string {
  if (n.role === 'primary') return 'always';
  if (n.in_rotation) return 'in rotation';
  if (n.recovering_ms !== null) return `recovering · back in rotation in ${Math.ceil(n.recovering_ms / 1000)} s`;
  return 'out of rotation';
}

/** The rotation badge: word + tone + icon (recovering is a warning, out is critical). */
export function rotationBadge(n: NodeRouting): Badge {
  const word = rotationWords(n);
  if (n.role === 'primary') return { word, tone: 'muted', icon: '◆' };
  if (n.in_rotation) return { word, tone: n.weight < n.configured_weight ? 'warn' : 'ok', icon: ICON.ok };
  if (n.recovering_ms !== null) return { word, tone: 'warn', icon: '◷' };
  return { word, tone: 'crit', icon: ICON.crit };
}

/** The router's reading of a node, by name. */
export function routingOf(r: RoutingStats | null, name: string): NodeRouting | undefined {
  return r?.nodes.find((n) => n.name === name);
}

/** Worst tone first. */
export function worst(tones: Tone[]): Tone {
  for (const t of ['crit', 'warn', 'info', 'ok'] as const) if (tones.includes(t)) return t;
  return 'muted';
}

/** A cache's standing (the stale time is filled in by the caller). */
export function cacheBadge(v: CacheView): Badge {
  if (v.refreshing) return { word: 'refreshing', tone: 'info', icon: '' };
  const s = v.status;
  switch (s.state) {
    case 'fresh':
      return { word: 'fresh', tone: 'ok', icon: ICON.ok };
    case 'stale':
      return { word: 'stale', tone: 'warn', icon: ICON.warn };
    case 'edited':
      return { word: 'edited · refresh to apply', tone: 'warn', icon: ICON.warn };
    case 'restored':
      // Put back to an earlier snapshot by hand: not served until the next refresh, not an alarm.
      return { word: 'restored', tone: 'info', icon: '↺' };
    case 'expired':
      // TTL passed, sources unchanged: the data is current, just not served until refreshed.
      return { word: 'expired', tone: 'info', icon: '◷' };
    case 'empty':
      return { word: 'empty', tone: 'muted', icon: ICON.muted };
    case 'unknown':
      return s.state_error ? { word: 'error', tone: 'crit', icon: ICON.crit } : { word: 'unknown', tone: 'muted', icon: '?' };
  }
}

/** Whether Skein's own session to a node is encrypted, from `pg_stat_ssl` (NodeStatus.tls):
 *  the word every page shows and a tooltip with the cipher. `null` while the node is down
 *  (then nothing is known). */
export function tlsFact(n: NodeStatus): { word: string; title: string; encrypted: boolean } | null {
  if (!n.reachable) return null;
  if (!n.tls)
    return {
      word: 'not encrypted',
      title: 'Plain TCP: pg_stat_ssl shows no TLS for this session (sslmode disable, or prefer/allow against a server without ssl)',
      encrypted: false,
    };
  const bits = n.tls.bits !== null ? `, ${n.tls.bits}-bit` : '';
  return {
    word: n.tls.version,
    title: `Encrypted: ${n.tls.version}, ${n.tls.cipher}${bits} (pg_stat_ssl of Skein's session)`,
    encrypted: true,
  };
}
