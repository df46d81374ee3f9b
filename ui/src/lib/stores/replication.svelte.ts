// Replication beyond lag: the newest `replication` reading (WAL senders and receivers, slots,
// recovery conflicts, settings), loaded once, then a `replication` event a tick. Every view
// that shows a slot or a stream reads it from here; `dropSlot` is the one action.

import { type Backend, RpcError } from '../backend';
import type { NodeReplication, ReplicationReading, Slot } from '../bindings';

/** A slot with the node it is on. */
export interface NodeSlot {
  node: string;
  slot: Slot;
}

export class ReplicationStore {
  reading = $state.raw<ReplicationReading | null>(null);
  /** Why `replication` failed, while no event has answered since. */
  error = $state.raw<RpcError | null>(null);

  constructor(
    private readonly backend: Backend,
    private readonly generation: () => number,
  ) {}

  /** One node's part of the newest reading. */
  node(name: string): NodeReplication | undefined {
    return this.reading?.nodes.find((n) => n.name === name);
  }

  /** Every slot of every node, primary first, by name within a node. */
  get slots(): NodeSlot[] {
    return (this.reading?.nodes ?? []).flatMap((n) => n.slots.map((slot) => ({ node: n.name, slot })));
  }

  async load(gen = this.generation()): Promise<void> {
    try {
      const r = await this.backend.rpc({ method: 'replication' });
      if (gen !== this.generation()) return;
      this.record(r);
    } catch (e) {
      if (gen !== this.generation()) return;
      if (!this.reading) this.error = RpcError.from(e);
    }
  }

  /** A reading (event or answer); an older one than held is ignored. */
  record(r: ReplicationReading): void {
    if (this.reading && r.taken_at_ms < this.reading.taken_at_ms) return;
    this.reading = r;
    this.error = null;
  }

  /**
   * Drops `slot` on `node` (`pg_drop_replication_slot()`); the `replication` event that
   * follows no longer lists it. Rejects with the `RpcError` (`PermissionDenied`, `Conflict`
   * for an active slot, `NotFound`) and changes nothing then.
   */
  async dropSlot(node: string, slot: string): Promise<void> {
    await this.backend.rpc({ method: 'drop_slot', params: { node, slot } });
  }

  reset(): void {
    this.reading = null;
    this.error = null;
  }
}
