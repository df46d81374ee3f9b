// Settings: the profile picker, and the theme.

import { h } from '../lib/dom';
import type { PageFactory } from '../lib/page';
import { onThemeChange, setThemeMode, type ThemeMode, themeMode } from '../lib/theme';
import { profilePicker } from './picker';

export const settingsPage: PageFactory = (ctx) => {
  const picker = profilePicker(ctx, { firstRun: ctx.store.status === 'no-profile' });
  const modes: ThemeMode[] = ['system', 'light', 'dark'];
  const theme = h(
    'fieldset',
    { class: 'card theme-choice' },
    h('legend', null, 'Theme'),
    modes.map((m) =>
      h(
        'label',
        { class: 'radio' },
        h('input', {
          type: 'radio',
          name: 'theme',
          value: m,
          checked: themeMode() === m,
          on: { change: () => setThemeMode(m) },
        }),
        ` ${m}`,
      ),
    ),
  );
  const off = onThemeChange(() => {
    for (const i of theme.querySelectorAll<HTMLInputElement>('input[name="theme"]')) i.checked = i.value === themeMode();
  });
  return {
    el: h('section', { class: 'page-inner settings' }, picker.el, theme),
    destroy() {
      off();
      picker.destroy();
    },
  };
};
