// Series colours for the lag charts. None is an alarm colour: no red, orange, amber or
// yellow (those are the warning and critical colours, and a healthy series must never look
// like an alarm), so the hues are blues, purples, teals, greens and greys, each set tuned for
// its theme's background (lighter and brighter in dark mode). Past eight series the hues
// repeat with a dash pattern, so every series stays apart.

const LIGHT = ['#1f6feb', '#8250df', '#0f8b8d', '#2f8f3a', '#a3339c', '#57606a', '#0b88c9', '#3b3bb8'];
const DARK = ['#6cb6ff', '#d2a8ff', '#39d0d8', '#56d364', '#e58ee0', '#b1bac4', '#a5a5ff', '#7ee0b5'];
const DASHES: (number[] | undefined)[] = [undefined, [6, 3], [2, 2]];

export function seriesColor(i: number, theme: 'light' | 'dark'): string {
  const p = theme === 'dark' ? DARK : LIGHT;
  return p[i % p.length]!;
}

/** The dash pattern of the i-th series (solid for the first eight). */
export function seriesDash(i: number): number[] | undefined {
  return DASHES[Math.floor(i / LIGHT.length) % DASHES.length];
}

/** `#rrggbb` at an opacity, as `rgba(…)` (canvas fills; other colour forms pass through). */
export function withAlpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color.trim());
  if (!m) return color;
  return `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${a})`;
}
