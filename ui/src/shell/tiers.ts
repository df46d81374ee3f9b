// The top bar's words for each tier, from the console's stores: the primary's state, how many
// replicas are in rotation (the router's word, never a guess from the sample) with any that
// is recovering, and the lake's snapshot count; and how old the newest sample is.

import type { Job, LagSample, LakeSummary, ProfileInfo, RoutingStats } from '../lib/bindings';
import { count, duration, utc } from '../lib/format';
import { nodeBadge, rotationWords, routingOf, type Tone, worst } from '../lib/status';
import type { Status } from '../lib/stores/console.svelte';

/** Past this age the "last sample" turns amber. */
export const STALE_SAMPLE_MS = 3000;

export interface Tier {
  tone: Tone;
  text: string;
  title: string;
}

export interface TierInput {
  status: Status;
  sample: LagSample | null;
  profile: ProfileInfo | null;
  routing: RoutingStats | null;
  lake: LakeSummary | null;
}

/** The icon beside a tier's word. */
export function tierIcon(tone: Tone): string {
  return tone === 'crit' ? '✕' : tone === 'warn' ? '▲' : tone === 'muted' ? '○' : '●';
}

export function primaryTier({ status, sample }: TierInput): Tier {
  if (status !== 'ready') return { tone: 'muted', text: 'primary', title: 'no profile open' };
  const prim = sample?.nodes.find((n) => n.role === 'primary');
  if (!prim) return { tone: 'muted', text: 'primary', title: 'waiting for the first lag sample' };
  const b = nodeBadge(prim);
  return {
    tone: b.tone,
    text: 'primary',
    title: `${prim.name}: ${b.word}${prim.error ? ` — ${prim.error.code}: ${prim.error.message}` : ''}`,
  };
}

/** The replicas' tier; `inRotation` is null while the router has not answered. */
export function replicasTier({ status, sample, profile, routing }: TierInput): Tier & { inRotation: number | null } {
  if (status !== 'ready') return { tone: 'muted', text: '–/– replicas', title: 'no profile open', inRotation: null };
  const reps = (sample?.nodes ?? []).filter((n) => n.role === 'replica');
  const total = reps.length || (profile?.nodes ?? []).filter((n) => n.role === 'replica').length;
  if (!sample) return { tone: 'muted', text: `–/${total} replicas`, title: 'waiting for the first lag sample', inRotation: null };
  const routed = routing ? routing.nodes.filter((n) => n.role === 'replica') : [];
  const inRotation = routed.filter((n) => n.in_rotation).length;
  const badges = reps.map(nodeBadge);
  const words = reps.map((n) => {
    const rn = routingOf(routing, n.name);
    return rn ? rotationWords(rn) : 'rotation unknown';
  });
  const recovering = words.filter((w) => w.startsWith('recovering'));
  const tones = badges.map((b) => b.tone);
  if (recovering.length) tones.push('warn');
  if (words.includes('out of rotation')) tones.push('crit');
  const tone = reps.length ? worst(tones) : 'muted';
  const shownCount = routing ? String(inRotation) : '–';
  const tail =
    recovering.length === 1
      ? ` · ${reps[words.indexOf(recovering[0]!)]!.name} ${recovering[0]}`
      : recovering.length > 1
        ? ` · ${recovering.length} recovering`
        : '';
  const lines = reps
    .map(
      (n, i) => `${n.name}: ${badges[i]!.word} · ${words[i]}${n.replay_lag_ms !== null ? `, replay lag ${duration(n.replay_lag_ms)}` : ''}`,
    )
    .join('\n');
  return {
    tone,
    text: `${shownCount}/${total} replicas${tail}`,
    title: `${shownCount} of ${total} replicas in rotation (the router's rotation)\n${lines || 'no replicas in this profile'}`,
    inRotation: routing ? inRotation : null,
  };
}

export function lakeTier({ status, lake, profile }: TierInput): Tier {
  if (status !== 'ready') return { tone: 'muted', text: 'lake', title: 'no profile open' };
  const l = lake;
  if (!l || (!l.reachable && !l.error)) return { tone: 'muted', text: 'lake', title: 'the lake has not answered yet' };
  if (!l.reachable)
    return {
      tone: 'crit',
      text: `lake${l.snapshots !== null ? ` ${count(l.snapshots)} snaps` : ''}`,
      title: `unreachable — ${l.error?.code}: ${l.error?.message}`,
    };
  const base = `${profile?.lake_name ?? 'lake'}: ${count(l.snapshots ?? 0)} snapshots, current ${l.current_snapshot ?? '—'}`;
  const st = l.store;
  const where = st ? ` · data in s3 bucket ${st.bucket} at ${st.endpoint}` : '';
  // The object store's health, when its endpoint is polled: a degraded store still serves.
  if (st?.health === 'degraded')
    return {
      tone: 'warn',
      text: `lake ${count(l.snapshots ?? 0)} snaps · store degraded`,
      title: `${base}${where} — degraded: ${st.health_detail ?? ''}`,
    };
  if (st?.health === 'unavailable')
    return {
      tone: 'crit',
      text: `lake ${count(l.snapshots ?? 0)} snaps · store down`,
      title: `${base}${where} — unavailable: ${st.health_detail ?? ''}`,
    };
  return { tone: 'ok', text: `lake ${count(l.snapshots ?? 0)} snaps`, title: `${base}${where}` };
}

/** "last sample 0.4 s ago" (amber past 3 s), or what is awaited. */
export function sampleAge(
  status: Status,
  receivedAt: number | null,
  takenAt: number | null,
  now: number,
): { text: string; stale: boolean | null; title: string } {
  if (status !== 'ready') return { text: '', stale: null, title: '' };
  if (receivedAt === null) return { text: 'waiting for the first sample', stale: true, title: '' };
  const age = Math.max(0, now - receivedAt);
  const text = age < 10_000 ? `${(age / 1000).toFixed(1)} s` : duration(age);
  return {
    text: `last sample ${text} ago`,
    stale: age > STALE_SAMPLE_MS,
    title: takenAt !== null ? `Lag sample taken ${utc(takenAt)} (one a second)` : '',
  };
}

/** The running jobs' link: `2 jobs running`, with their titles. */
export function jobsText(status: Status, jobs: readonly Job[]): { running: number; text: string; title: string | undefined } {
  const running = status === 'ready' ? jobs.filter((j) => j.state === 'running') : [];
  return {
    running: running.length,
    text: running.length ? `${running.length} ${running.length === 1 ? 'job' : 'jobs'} running` : '',
    title: running.length ? `${running.map((j) => j.title).join('\n')}\n(the jobs tray is on the Snapshots page)` : undefined,
  };
}

/** The profile link's words. */
export function profileText(status: Status, profile: ProfileInfo | null): { text: string; title: string } {
  if (status === 'no-profile') return { text: 'no profile open ▾', title: 'Open a profile' };
  return {
    text: profile ? `profile: ${profile.name} ▾` : 'profile: … ▾',
    title: profile?.path ? `${profile.path} (change in Settings)` : 'Change in Settings',
  };
}
