// Entry point: pick the backend for where the page runs, start the store, draw the frame
// and show the page the URL names.

import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/components.css';

import { cachesPage } from './caches/caches';
import { connectionsPage } from './connections/connections';
import { createBackend } from './lib/backend';
import { startRelativeTicker } from './lib/dom';
import type { Ctx, Page, PageFactory } from './lib/page';
import { currentRoute, href, navigate, type PageName } from './lib/router';
import { Store } from './lib/store';
import { initTheme } from './lib/theme';
import { overviewPage } from './overview/overview';
import { replicasPage } from './replicas/replicas';
import { settingsPage } from './settings/settings';
import { createFrame } from './shell/frame';
import { gate } from './shell/gate';
import { snapshotsPage } from './snapshots/snapshots';
import { workbenchPage } from './workbench/workbench';

const FACTORIES: Record<PageName, PageFactory> = {
  overview: overviewPage,
  replicas: replicasPage,
  caches: cachesPage,
  snapshots: snapshotsPage,
  workbench: workbenchPage,
  connections: connectionsPage,
  settings: settingsPage,
};

const TITLES: Record<PageName, string> = {
  overview: 'Overview',
  replicas: 'Replicas',
  caches: 'Caches',
  snapshots: 'Snapshots',
  workbench: 'Workbench',
  connections: 'Connections',
  settings: 'Settings',
};

/** Pages that work with no profile open. */
const UNGATED: ReadonlySet<PageName> = new Set(['settings', 'connections']);
/** Pages that follow the store's status themselves: not rebuilt when it changes (the
 *  connection editor keeps what is being typed while a profile opens). */
const SELF_UPDATING: ReadonlySet<PageName> = new Set(['connections']);

function boot(): void {
  initTheme();
  const backend = createBackend();
  const store = new Store(backend);
  const ctx: Ctx = { store, backend };
  const frame = createFrame(store);
  const app = document.getElementById('app')!;
  app.replaceChildren(frame.root);
  app.removeAttribute('aria-busy');

  let page: Page | null = null;
  let pageName: PageName | null = null;
  let pageStatus: string | null = null;

  const show = (force = false) => {
    const route = currentRoute();
    if (!window.location.hash) navigate(href(route.page), true);
    frame.setActive(route.page);
    document.title = `${TITLES[route.page]} · Skein`;
    const sameStatus = pageStatus === store.status || SELF_UPDATING.has(route.page);
    if (!force && page && pageName === route.page && sameStatus && page.update) {
      page.update(route);
      return;
    }
    page?.destroy();
    // Settings is the profile picker itself and Connections creates profiles; every other
    // page waits for a profile.
    page = UNGATED.has(route.page) ? FACTORIES[route.page](ctx, route) : gate(ctx, route, FACTORIES[route.page]);
    pageName = route.page;
    pageStatus = store.status;
    frame.main.replaceChildren(page.el);
  };

  window.addEventListener('hashchange', () => {
    const before = pageName;
    show();
    if (before !== pageName) frame.main.focus({ preventScroll: true });
  });
  store.on('status', () => {
    if (pageStatus !== store.status && !(pageName && SELF_UPDATING.has(pageName))) show(true);
  });

  startRelativeTicker();
  store.start();
  show(true);
}

boot();
