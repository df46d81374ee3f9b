// The console's stores as the pages still built by hand see them (caches, snapshots,
// workbench and the pages not yet moved to Svelte): read-only fields, `on(topic)` change
// notices, and the stores' actions under `app`. The state itself lives in
// `stores/console.svelte.ts`; nothing here keeps a copy, and nothing here can be assigned.

import type { RpcError } from './backend';
import type {
  Attention,
  CacheView,
  Job,
  LagSample,
  LakeSummary,
  NodePrivileges,
  ProfileInfo,
  ProfileList,
  RefreshOutcome,
  RoutingStats,
  Thresholds,
} from './bindings';
import type { ConsoleStore, Status } from './stores/console.svelte';
import type { Topic } from './stores/topics';
import type { LagTimeline } from './timeline';

export type { Status } from './stores/console.svelte';
export type { Topic } from './stores/topics';

export class Store {
  constructor(readonly app: ConsoleStore) {}

  get backend() {
    return this.app.backend;
  }
  get status(): Status {
    return this.app.status;
  }
  get loadError(): RpcError | null {
    return this.app.loadError;
  }
  get profile(): ProfileInfo | null {
    return this.app.profile;
  }
  get profiles(): ProfileList | null {
    return this.app.profiles;
  }
  get thresholds(): Thresholds | null {
    return this.app.lag.thresholds;
  }
  get sample(): LagSample | null {
    return this.app.lag.sample;
  }
  get sampleReceivedAt(): number | null {
    return this.app.lag.receivedAt;
  }
  get timeline(): LagTimeline {
    return this.app.lag.timeline;
  }
  get historyError(): RpcError | null {
    return this.app.lag.historyError;
  }
  get lake(): LakeSummary | null {
    return this.app.lake;
  }
  get caches(): readonly CacheView[] {
    return this.app.caches.list;
  }
  get attention(): readonly Attention[] {
    return this.app.attention;
  }
  get jobs(): readonly Job[] {
    return this.app.jobs.list;
  }
  get routing(): RoutingStats | null {
    return this.app.routing.stats;
  }
  get routingError(): RpcError | null {
    return this.app.routing.error;
  }
  get privileges(): readonly NodePrivileges[] {
    return this.app.privileges;
  }

  on(topic: Topic, fn: () => void): () => void {
    return this.app.topics.on(topic, fn);
  }

  load(): Promise<void> {
    return this.app.load();
  }
  loadJobs(): Promise<void> {
    return this.app.jobs.load();
  }
  loadRouting(): Promise<void> {
    return this.app.routing.load();
  }
  loadProfiles(): Promise<void> {
    return this.app.loadProfiles();
  }
  refreshAttention(): void {
    this.app.refreshAttention();
  }
  privilegesOf(node: string): NodePrivileges['privileges'] {
    return this.app.privilegesOf(node);
  }
  isRefreshing(name: string): boolean {
    return this.app.caches.isRefreshing(name);
  }
  recordOutcome(o: RefreshOutcome): void {
    this.app.caches.recordOutcome(o);
  }
  recordJob(job: Job): void {
    this.app.jobs.record(job);
  }
}
