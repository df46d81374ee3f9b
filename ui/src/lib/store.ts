// What the console knows right now, fed by one `overview` at start and then by events
// (lag ticks, cache states, refreshes, lake changes, routing counters, profile switches). Pages read it and
// subscribe to the topics they show; none of them polls.

import { type Backend, RpcError } from './backend';
import type {
  Attention,
  CacheView,
  Event,
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
import { LagTimeline } from './timeline';

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

export type Status = 'loading' | 'ready' | 'no-profile' | 'error';

export class Store {
  status: Status = 'loading';
  /** Why loading failed (status `error`). */
  loadError: RpcError | null = null;
  profile: ProfileInfo | null = null;
  profiles: ProfileList | null = null;
  thresholds: Thresholds | null = null;
  /** The newest lag sample and when it arrived here (client clock). */
  sample: LagSample | null = null;
  sampleReceivedAt: number | null = null;
  lake: LakeSummary | null = null;
  caches: CacheView[] = [];
  attention: Attention[] = [];
  /** Caches with a refresh asked from this window and not answered yet. */
  readonly pending = new Set<string>();
  readonly timeline = new LagTimeline();
  /** Maintenance jobs, newest first (`jobs`, then `job` events). */
  jobs: Job[] = [];
  /** Errors of the background loads (lag history), for the page that needs them. */
  historyError: RpcError | null = null;
  /** The router's per-node counters and rotation (`routing`, then a `routing` event a second). */
  routing: RoutingStats | null = null;
  /** Why `routing` failed, while no event has answered since. */
  routingError: RpcError | null = null;
  /** What the profile's role may do on each node (`overview`, then `privileges` events). */
  privileges: NodePrivileges[] = [];

  private readonly listeners = new Map<Topic, Set<() => void>>();
  private generation = 0;
  private attentionTimer: number | null = null;
  private jobsTimer: number | null = null;
  private signature = '';

  constructor(readonly backend: Backend) {}

  on(topic: Topic, fn: () => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  emit(topic: Topic): void {
    for (const fn of [...(this.listeners.get(topic) ?? [])]) {
      try {
        fn();
      } catch (e) {
        console.error(`a ${topic} listener failed`, e);
      }
    }
  }

  /** Subscribes to events and loads everything. */
  start(): void {
    this.backend.subscribe((e) => this.onEvent(e));
    void this.load();
  }

  /** (Re)loads everything: overview, then the lag history and the profile list. */
  async load(): Promise<void> {
    const gen = ++this.generation;
    this.status = 'loading';
    this.loadError = null;
    this.emit('status');
    try {
      const ov = await this.backend.rpc({ method: 'overview' });
      if (gen !== this.generation) return;
      this.profile = ov.profile;
      this.thresholds = ov.profile.thresholds;
      if (ov.lag && (!this.sample || ov.lag.taken_at_ms > this.sample.taken_at_ms)) {
        this.sample = ov.lag;
        this.sampleReceivedAt = Date.now();
        this.timeline.push(ov.lag);
      }
      this.lake = ov.lake;
      this.caches = ov.caches;
      this.attention = ov.attention;
      this.privileges = ov.privileges;
      this.signature = nodeSignature(this.sample);
      this.status = 'ready';
    } catch (e) {
      if (gen !== this.generation) return;
      const err = RpcError.from(e);
      this.status = err.code === 'NotFound' ? 'no-profile' : 'error';
      this.loadError = err;
    }
    this.emit('status');
    this.emit('lag');
    this.emit('caches');
    this.emit('lake');
    this.emit('attention');
    this.emit('privileges');
    void this.loadProfiles();
    if (this.status === 'ready') {
      void this.loadHistory(gen);
      void this.loadJobs(gen);
      void this.loadRouting(gen);
    }
  }

  /** Loads the job list (jobs started before this window opened, or by another window). */
  async loadJobs(gen = this.generation): Promise<void> {
    try {
      const list = await this.backend.rpc({ method: 'jobs' });
      if (gen !== this.generation) return;
      // Events that arrived meanwhile are newer than the list's copy of the same job.
      const known = new Map(this.jobs.map((j) => [j.id, j]));
      this.jobs = list.map((j) => newer(known.get(j.id), j));
      for (const j of known.values()) if (!this.jobs.some((x) => x.id === j.id)) this.jobs.push(j);
      this.jobs.sort((a, b) => b.id - a.id);
      this.emit('jobs');
    } catch (e) {
      console.warn('jobs failed', e);
    }
    this.watchJobs();
  }

  /**
   * While a job runs, asks for the list again every 10 s: its end normally arrives as a
   * `job` event, but one lost while the event stream reconnected would leave it running here.
   */
  private watchJobs(): void {
    if (this.jobsTimer !== null || !this.jobs.some((j) => j.state === 'running')) return;
    const gen = this.generation;
    this.jobsTimer = window.setTimeout(() => {
      this.jobsTimer = null;
      if (gen === this.generation) void this.loadJobs(gen);
    }, 10_000);
  }

  /** Records a job's state (from an rpc answer or a `job` event); a finished job is never set back to running. */
  recordJob(job: Job): void {
    const i = this.jobs.findIndex((j) => j.id === job.id);
    if (i >= 0) this.jobs[i] = newer(this.jobs[i], job);
    else {
      this.jobs.push(job);
      this.jobs.sort((a, b) => b.id - a.id);
    }
    this.emit('jobs');
    this.watchJobs();
  }

  /** Loads the router's counters (events keep them current from then on). */
  async loadRouting(gen = this.generation): Promise<void> {
    try {
      const r = await this.backend.rpc({ method: 'routing' });
      if (gen !== this.generation) return;
      // An event that arrived meanwhile is as new or newer: keep it.
      if (!this.routing) this.routing = r;
      this.routingError = null;
    } catch (e) {
      if (gen !== this.generation) return;
      if (!this.routing) this.routingError = RpcError.from(e);
    }
    this.emit('routing');
  }

  async loadProfiles(): Promise<void> {
    try {
      this.profiles = await this.backend.rpc({ method: 'profiles' });
      this.emit('profiles');
    } catch (e) {
      console.warn('profiles failed', e);
    }
  }

  private async loadHistory(gen: number): Promise<void> {
    try {
      const h = await this.backend.rpc({ method: 'lag_history', params: { since_ms: null } });
      if (gen !== this.generation) return;
      this.thresholds = h.thresholds;
      this.timeline.load(h);
      this.historyError = null;
    } catch (e) {
      if (gen !== this.generation) return;
      this.historyError = RpcError.from(e);
    }
    this.emit('history');
  }

  /** Asks for the overview again for its attention list (debounced). */
  refreshAttention(): void {
    if (this.attentionTimer !== null) return;
    this.attentionTimer = window.setTimeout(() => {
      this.attentionTimer = null;
      const gen = this.generation;
      this.backend
        .rpc({ method: 'overview' })
        .then((ov) => {
          if (gen !== this.generation) return;
          this.attention = ov.attention;
          this.profile = ov.profile;
          this.emit('attention');
        })
        .catch(() => {
          /* the next change asks again */
        });
    }, 400);
  }

  /** What the profile's role may do on `node`; null until a probe answered there. */
  privilegesOf(node: string): NodePrivileges['privileges'] {
    return this.privileges.find((p) => p.node === node)?.privileges ?? null;
  }

  /** Whether a refresh of `name` is running (here or anywhere). */
  isRefreshing(name: string): boolean {
    return this.pending.has(name) || !!this.caches.find((c) => c.status.name === name)?.refreshing;
  }

  /** Records a refresh's outcome on its cache (from the rpc answer or an event). */
  recordOutcome(o: RefreshOutcome): void {
    const v = this.caches.find((c) => c.status.name === o.cache);
    if (v) {
      v.last_outcome = o;
      v.refreshing = false;
    }
    this.emit('caches');
  }

  private onEvent(e: Event): void {
    switch (e.kind) {
      case 'lag': {
        this.sample = e.data;
        this.sampleReceivedAt = Date.now();
        this.timeline.push(e.data);
        this.emit('lag');
        const sig = nodeSignature(e.data);
        if (sig !== this.signature) {
          this.signature = sig;
          this.refreshAttention();
        }
        break;
      }
      case 'caches': {
        this.caches = e.data;
        this.emit('caches');
        this.refreshAttention();
        break;
      }
      case 'refresh_started': {
        const v = this.caches.find((c) => c.status.name === e.data.cache);
        if (v) v.refreshing = true;
        this.emit('caches');
        break;
      }
      case 'refresh_finished':
        this.recordOutcome(e.data);
        this.refreshAttention();
        break;
      case 'lake':
        this.lake = e.data;
        this.emit('lake');
        this.refreshAttention();
        break;
      case 'job':
        this.recordJob(e.data);
        break;
      case 'routing':
        this.routing = e.data;
        this.routingError = null;
        this.emit('routing');
        break;
      case 'attention':
        // Recomputed by the backend every lag tick: lag values and countdowns stay live.
        this.attention = e.data;
        this.emit('attention');
        break;
      case 'privileges':
        this.privileges = e.data;
        this.emit('privileges');
        break;
      case 'profile_opened':
        this.profiles = e.data;
        this.reset();
        this.emit('profiles');
        void this.load();
        break;
    }
  }

  private reset(): void {
    this.profile = null;
    this.sample = null;
    this.sampleReceivedAt = null;
    this.lake = null;
    this.caches = [];
    this.attention = [];
    this.jobs = [];
    this.routing = null;
    this.routingError = null;
    this.privileges = [];
    this.pending.clear();
    this.timeline.reset();
    this.signature = '';
  }
}

/** Of two copies of the same job, the one further along (running < done / failed). */
function newer(a: Job | undefined, b: Job): Job {
  if (!a) return b;
  return a.state !== 'running' && b.state === 'running' ? a : b;
}

/** What, in a sample, changes the attention list: each node's state and level. */
function nodeSignature(s: LagSample | null): string {
  if (!s) return '';
  return s.nodes.map((n) => `${n.name}:${n.state}:${n.level}:${n.reachable}`).join('|');
}
