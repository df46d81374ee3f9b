// The snapshot timeline's geometry (Timeline.svelte draws it): one lane per table and one for
// the lake itself, a time window that zooms around the pointer and pans, the mark under the
// pointer, and the axis ticks. Pure functions, so the tests check them without a canvas.

import type { MarkKind, TimelineMark } from '../lib/bindings';

/** The lane of marks that touched no table: schema, maintenance and Skein's own records. */
export const LAKE_LANE = 'lake';

/** The shortest window a zoom reaches, ms. */
export const MIN_SPAN_MS = 1_000;

/** A time window drawn over `width` pixels. */
export interface View {
  t0: number;
  t1: number;
  width: number;
}

/** How each kind is drawn and said: a colour variable, a shape (told apart without colour), a word. */
export const KINDS: Record<MarkKind, { color: string; shape: 'circle' | 'square' | 'diamond' | 'triangle' | 'bar'; word: string }> = {
  refresh: { color: '--ok', shape: 'circle', word: 'cache refresh' },
  together: { color: '--info', shape: 'square', word: 'caches snapshotted together' },
  restore: { color: '--warn', shape: 'triangle', word: 'restore' },
  schema: { color: '--accent', shape: 'diamond', word: 'schema change' },
  maintenance: { color: '--chart-bytes', shape: 'bar', word: 'maintenance' },
  catalog: { color: '--muted', shape: 'circle', word: 'cache definition' },
  other: { color: '--text', shape: 'square', word: 'another writer' },
};

/** The lanes: the lake's first, then every table a mark touched. */
export function lanesOf(tables: readonly string[]): string[] {
  return [LAKE_LANE, ...tables];
}

/** The lanes a mark sits on. */
export function markLanes(m: TimelineMark): string[] {
  return m.tables.length ? m.tables : [LAKE_LANE];
}

/** The whole history, with a little room at both ends (and at least MIN_SPAN_MS). */
export function fullView(marks: readonly TimelineMark[], width: number): View {
  if (!marks.length) {
    const now = Date.now();
    return { t0: now - 60_000, t1: now, width };
  }
  const first = marks[0]!.time_ms;
  const last = marks[marks.length - 1]!.time_ms;
  const span = Math.max(last - first, MIN_SPAN_MS);
  const pad = span * 0.03;
  return { t0: first - pad, t1: last + pad, width };
}

export function xOf(t: number, v: View): number {
  return ((t - v.t0) / (v.t1 - v.t0)) * v.width;
}

export function tOf(x: number, v: View): number {
  return v.t0 + (x / v.width) * (v.t1 - v.t0);
}

/** Zooms by `factor` (< 1 zooms in) keeping the time under `x` where it is; bounded by `limit`. */
export function zoom(v: View, factor: number, x: number, limit: View): View {
  const at = tOf(x, v);
  let span = (v.t1 - v.t0) * factor;
  span = Math.min(Math.max(span, MIN_SPAN_MS), limit.t1 - limit.t0);
  const t0 = at - (x / v.width) * span;
  return clamp({ t0, t1: t0 + span, width: v.width }, limit);
}

/** Moves the window by `dx` pixels (dragging right shows earlier times), within `limit`. */
export function pan(v: View, dx: number, limit: View): View {
  const dt = (dx / v.width) * (v.t1 - v.t0);
  return clamp({ t0: v.t0 - dt, t1: v.t1 - dt, width: v.width }, limit);
}

function clamp(v: View, limit: View): View {
  const span = v.t1 - v.t0;
  if (v.t0 < limit.t0) return { t0: limit.t0, t1: limit.t0 + span, width: v.width };
  if (v.t1 > limit.t1) return { t0: limit.t1 - span, t1: limit.t1, width: v.width };
  return v;
}

/** The mark nearest to `x` on `lane` within `radius` pixels (marks sorted by time), or `null`. */
export function hit(marks: readonly TimelineMark[], lane: string, x: number, v: View, radius = 6): TimelineMark | null {
  let best: TimelineMark | null = null;
  let bestD = radius + 1;
  // Marks are sorted by time: search from where `x` falls.
  const t = tOf(x, v);
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]!.time_ms < t) lo = mid + 1;
    else hi = mid;
  }
  for (const dir of [-1, 1]) {
    for (let i = dir < 0 ? lo - 1 : lo; i >= 0 && i < marks.length; i += dir) {
      const m = marks[i]!;
      const d = Math.abs(xOf(m.time_ms, v) - x);
      if (d > radius) break;
      if (markLanes(m).includes(lane) && d < bestD) {
        best = m;
        bestD = d;
      }
    }
  }
  return best;
}

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800].map((s) => s * 1000);

/** Axis ticks: about one every 110 pixels, on round UTC times, with their labels. */
export function ticks(v: View): { t: number; label: string }[] {
  const span = v.t1 - v.t0;
  const want = Math.max(2, Math.floor(v.width / 110));
  const step = STEPS.find((s) => span / s <= want) ?? STEPS[STEPS.length - 1]!;
  const out: { t: number; label: string }[] = [];
  for (let t = Math.ceil(v.t0 / step) * step; t <= v.t1; t += step) {
    const iso = new Date(t).toISOString();
    const label = step >= 86_400_000 ? iso.slice(0, 10) : step >= 60_000 ? iso.slice(11, 16) : iso.slice(11, 19);
    out.push({ t, label });
  }
  return out;
}

/** The hover text of a mark: `#12 · cache refresh · 2026-11-22 09:14:03 UTC · skein: refresh cache x · main.x`. */
export function markTitle(m: TimelineMark): string {
  const when = `${new Date(m.time_ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  const who = m.author ?? 'no author';
  const what = m.message ?? 'no message';
  const tables = m.tables.length ? ` · ${m.tables.join(', ')}` : '';
  return `#${m.id} · ${KINDS[m.kind].word} · ${when} · ${who}: ${what}${tables}`;
}
