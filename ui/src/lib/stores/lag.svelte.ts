// Replica lag as the console knows it: the newest sample (and when it arrived here, by the
// client's clock), the profile's thresholds, and the last hour in a `LagTimeline` for the
// charts. The timeline is plain arrays (~4,800 samples per node, not worth a reactive proxy):
// `version` goes up with every change to it, `historyVersion` when a whole history arrived
// (charts then drop their zoom).

import type { RpcError } from '../backend';
import type { LagHistory, LagSample, ReplicationReading, Thresholds } from '../bindings';
import { LagTimeline } from '../timeline';

export class LagStore {
  /** The newest sample (`overview`, then one a `tick` event). */
  sample = $state.raw<LagSample | null>(null);
  /** When `sample` arrived, ms since the epoch by this machine's clock. */
  receivedAt = $state<number | null>(null);
  thresholds = $state.raw<Thresholds | null>(null);
  /** Why the lag history could not be read (the charts then start empty). */
  historyError = $state.raw<RpcError | null>(null);
  readonly timeline = new LagTimeline();
  version = $state(0);
  historyVersion = $state(0);

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes a sample if it is newer than the last one; returns whether it did. */
  record(s: LagSample): boolean {
    if (this.sample && s.taken_at_ms <= this.sample.taken_at_ms) return false;
    this.sample = s;
    this.receivedAt = this.now();
    this.timeline.push(s);
    this.version++;
    return true;
  }

  /**
   * A tick's replication reading: its recovery conflicts go to the newest sample's columns,
   * recorded just before (the charts draw both at once).
   */
  noteConflicts(r: ReplicationReading): void {
    this.timeline.noteConflicts(r);
  }

  setThresholds(t: Thresholds): void {
    this.thresholds = t;
  }

  /** The `lag_history` answer (samples that arrived meanwhile are kept). */
  loadHistory(h: LagHistory): void {
    this.thresholds = h.thresholds;
    this.timeline.load(h);
    this.historyError = null;
    this.version++;
    this.historyVersion++;
  }

  historyFailed(e: RpcError): void {
    this.historyError = e;
    this.historyVersion++;
  }

  /** Forgets everything (another profile was opened). */
  reset(): void {
    this.sample = null;
    this.receivedAt = null;
    this.timeline.reset();
    this.version++;
  }
}
