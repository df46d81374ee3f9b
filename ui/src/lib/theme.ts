// Light, dark or the system's choice, remembered in localStorage. The resolved theme is
// `data-theme` on <html>; charts listen for changes to redraw with the new colours.

export type ThemeMode = 'system' | 'light' | 'dark';

const KEY = 'skein.theme';
const listeners = new Set<() => void>();
const media = window.matchMedia('(prefers-color-scheme: dark)');

export function themeMode(): ThemeMode {
  try {
    const v = localStorage.getItem(KEY);
    if (v === 'light' || v === 'dark' || v === 'system') return v;
  } catch {
    /* storage disabled */
  }
  return 'system';
}

export function resolvedTheme(): 'light' | 'dark' {
  const m = themeMode();
  if (m === 'system') return media.matches ? 'dark' : 'light';
  return m;
}

function apply(force = false): void {
  const t = resolvedTheme();
  if (force || document.documentElement.dataset.theme !== t) {
    document.documentElement.dataset.theme = t;
    for (const fn of [...listeners]) fn();
  }
}

export function setThemeMode(m: ThemeMode): void {
  try {
    localStorage.setItem(KEY, m);
  } catch {
    /* not remembered */
  }
  apply(true);
}

/** Calls `fn` when the theme or its mode changes (charts compare the resolved theme). */
export function onThemeChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function initTheme(): void {
  apply();
  media.addEventListener('change', () => apply());
}

/** The value of a CSS custom property on <html> (for canvas colours). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
