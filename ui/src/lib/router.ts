// Hash routes, one per page: `#/overview`, `#/replicas`, `#/caches`, `#/snapshots`,
// `#/snapshots/37` (a selected snapshot), `#/snapshots/travel`, `#/workbench`, `#/alerts`, `#/connections`
// (`#/connections/new`), `#/settings`.
// The back button and bookmarks work because every page is a URL.

export type PageName = 'overview' | 'replicas' | 'caches' | 'snapshots' | 'workbench' | 'alerts' | 'connections' | 'settings';

export const PAGES: readonly { name: PageName; title: string }[] = [
  { name: 'overview', title: 'Overview' },
  { name: 'replicas', title: 'Replicas' },
  { name: 'caches', title: 'Caches' },
  { name: 'snapshots', title: 'Snapshots' },
  { name: 'workbench', title: 'Workbench' },
  { name: 'alerts', title: 'Alerts' },
  { name: 'connections', title: 'Connections' },
  { name: 'settings', title: 'Settings' },
];

export interface Route {
  page: PageName;
  /** Path segments after the page (`['37']` for `#/snapshots/37`). */
  rest: string[];
}

export function currentRoute(): Route {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const page = PAGES.find((p) => p.name === parts[0])?.name;
  return page ? { page, rest: parts.slice(1) } : { page: 'overview', rest: [] };
}

export function href(page: PageName, ...rest: (string | number)[]): string {
  return `#/${[page, ...rest.map((r) => encodeURIComponent(String(r)))].join('/')}`;
}

/** Goes to a route, adding a history entry (`replace`: without one). */
export function navigate(to: string, replace = false): void {
  if (window.location.hash === to) return;
  if (replace) {
    window.history.replaceState(window.history.state, '', to);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else window.location.hash = to;
}
