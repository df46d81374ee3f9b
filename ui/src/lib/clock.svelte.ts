// The time, for texts that say how long ago something was ("3 min ago", "last sample 0.4 s
// ago"): reading `now` inside a component or an effect subscribes to a timer that ticks while
// anything reads it and stops when nothing does, so a closed page leaves no timer behind.

import { createSubscriber } from 'svelte/reactivity';

export class Clock {
  #now = Date.now();
  readonly #subscribe: () => void;

  /** `ms`: how often readers see a new time. */
  constructor(ms: number) {
    this.#subscribe = createSubscriber((update) => {
      this.#now = Date.now();
      const id = setInterval(() => {
        this.#now = Date.now();
        update();
      }, ms);
      return () => clearInterval(id);
    });
  }

  /** Milliseconds since the epoch; current to within the tick (outside an effect: exact). */
  get now(): number {
    this.#subscribe();
    return $effect.tracking() ? this.#now : Date.now();
  }
}

/** Once a second: relative times, countdowns. */
export const clock = new Clock(1000);
/** Five times a second: the top bar's "last sample 0.4 s ago". */
export const fastClock = new Clock(200);
