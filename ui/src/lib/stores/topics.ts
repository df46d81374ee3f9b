// Change notices by topic, for the pages still built by hand (they subscribe to what they
// show and redraw). Svelte components need none of this: they read the stores' runes. Every
// store action that changes a topic's state emits it, right after the change.

export type Topic =
  | 'status' // loading / ready / no-profile / error changed: pages re-render
  | 'lag' // a new lag sample
  | 'history' // the lag history arrived
  | 'caches' // cache states or refreshes
  | 'lake' // the lake's summary
  | 'attention' // the attention list
  | 'jobs' // maintenance jobs (the list, or one job's state)
  | 'routing' // the router's per-node counters and rotation
  | 'privileges' // what the profile's role may do on each node
  | 'profiles'; // the open and recent profiles

export class Topics {
  readonly #listeners = new Map<Topic, Set<() => void>>();

  /** Calls `fn` after every change of `topic`; returns the function that stops it. */
  on(topic: Topic, fn: () => void): () => void {
    let set = this.#listeners.get(topic);
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  emit(topic: Topic): void {
    for (const fn of [...(this.#listeners.get(topic) ?? [])]) {
      try {
        fn();
      } catch (e) {
        console.error(`a ${topic} listener failed`, e);
      }
    }
  }

  /** How many listeners `topic` has (tests check that a closed page left none behind). */
  count(topic: Topic): number {
    return this.#listeners.get(topic)?.size ?? 0;
  }
}
