// The router's per-node counters and rotation: `routing` once, then a `routing` event a
// second. Every view that says whether a replica is in rotation reads it from here.

import { type Backend, RpcError } from '../backend';
import type { NodeRouting, RoutingStats } from '../bindings';

export class RoutingStore {
  stats = $state.raw<RoutingStats | null>(null);
  /** Why `routing` failed, while no event has answered since. */
  error = $state.raw<RpcError | null>(null);

  constructor(
    private readonly backend: Backend,
    private readonly generation: () => number,
  ) {}

  /** The router's reading of one node. */
  node(name: string): NodeRouting | undefined {
    return this.stats?.nodes.find((n) => n.name === name);
  }

  /** Loads the counters (events keep them current from then on). */
  async load(gen = this.generation()): Promise<void> {
    try {
      const r = await this.backend.rpc({ method: 'routing' });
      if (gen !== this.generation()) return;
      // An event that arrived meanwhile is as new or newer: keep it.
      if (!this.stats) this.stats = r;
      this.error = null;
    } catch (e) {
      if (gen !== this.generation()) return;
      if (!this.stats) this.error = RpcError.from(e);
    }
  }

  /** A `routing` event. */
  record(r: RoutingStats): void {
    this.stats = r;
    this.error = null;
  }

  reset(): void {
    this.stats = null;
    this.error = null;
  }
}
