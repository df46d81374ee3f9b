// What a page shows before it can show itself: loading, the first-run profile picker when
// no profile is open, or the error that stopped the console from loading (with Retry).

import { h } from '../lib/dom';
import { errorBox } from '../lib/errors';
import type { Ctx, Page, PageFactory } from '../lib/page';
import type { Route } from '../lib/router';
import { profilePicker } from '../settings/picker';

export function gate(ctx: Ctx, route: Route, factory: PageFactory): Page {
  const { store } = ctx;
  switch (store.status) {
    case 'ready':
      return factory(ctx, route);
    case 'loading':
      return {
        el: h('section', { class: 'page-inner', 'aria-busy': 'true' }, h('p', { class: 'muted loading' }, 'Loading…')),
        destroy() {},
      };
    case 'no-profile': {
      const picker = profilePicker(ctx, { firstRun: true });
      return { el: h('section', { class: 'page-inner' }, picker.el), destroy: picker.destroy };
    }
    case 'error':
      return {
        el: h(
          'section',
          { class: 'page-inner' },
          h('h1', null, 'Skein could not load'),
          errorBox(store.loadError, 'Loading the console', { retry: () => void store.load() }),
          h('p', { class: 'muted' }, 'Settings still works: open another profile there.'),
        ),
        destroy() {},
      };
  }
}
