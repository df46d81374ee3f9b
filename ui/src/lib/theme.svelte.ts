// The theme as runes, for components: the chosen mode (system, light, dark) and the one in
// force. `lib/theme.ts` applies and remembers it; this follows its changes.

import { onThemeChange, resolvedTheme, setThemeMode, type ThemeMode, themeMode } from './theme';

class ThemeState {
  mode = $state<ThemeMode>(themeMode());
  resolved = $state<'light' | 'dark'>(resolvedTheme());

  constructor() {
    onThemeChange(() => {
      this.mode = themeMode();
      this.resolved = resolvedTheme();
    });
  }

  set(m: ThemeMode): void {
    setThemeMode(m);
  }

  /** system → light → dark → system. */
  next(): void {
    const order: ThemeMode[] = ['system', 'light', 'dark'];
    this.set(order[(order.indexOf(this.mode) + 1) % order.length]!);
  }
}

export const theme = new ThemeState();
