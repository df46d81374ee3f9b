// Series colours for the combined chart: 16 hues that stay apart in light and dark themes.

const LIGHT = [
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2',
  '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd',
];
const DARK = [
  '#6cb6ff', '#ff7b72', '#56d364', '#d2a8ff', '#ffa657', '#39d0d8', '#c9a27e', '#f778ba',
  '#b1bac4', '#e3d04f', '#a5a5ff', '#a6d189', '#e5c07b', '#ef9a9a', '#ce93d8', '#79c0ff',
];

export function seriesColor(i: number, theme: 'light' | 'dark'): string {
  const p = theme === 'dark' ? DARK : LIGHT;
  return p[i % p.length]!;
}

/** `#rrggbb` at an opacity, as `rgba(…)` (canvas fills; other colour forms pass through). */
export function withAlpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color.trim());
  if (!m) return color;
  return `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${a})`;
}
