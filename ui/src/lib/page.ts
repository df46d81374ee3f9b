// What the hand-built maintenance panel gets and gives back (until it is Svelte): the store and
// `destroy` (stop listening) out; `update` takes a route change within the same page.

import type { Backend } from './backend';
import type { Route } from './router';
import type { Store } from './store';

export interface Ctx {
  store: Store;
  backend: Backend;
}

export interface Page {
  el: HTMLElement;
  /** A new route on the same page (`#/snapshots/37` after `#/snapshots`). */
  update?(route: Route): void;
  destroy(): void;
}

export type PageFactory = (ctx: Ctx, route: Route) => Page;

/** Collects unsubscribe functions and timers so `destroy` can undo them all. */
export class Disposer {
  private readonly fns: (() => void)[] = [];
  add(fn: () => void): void {
    this.fns.push(fn);
  }
  interval(fn: () => void, ms: number): void {
    const id = window.setInterval(fn, ms);
    this.fns.push(() => window.clearInterval(id));
  }
  dispose(): void {
    for (const fn of this.fns.splice(0)) {
      try {
        fn();
      } catch (e) {
        console.error(e);
      }
    }
  }
}
