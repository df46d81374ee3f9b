// What the console knows right now, as stores with actions: one `overview` at start, then
// events (lag ticks, cache states, refreshes, lake changes, routing counters, jobs,
// privileges, profile switches). Components read the fields (runes: they update by
// themselves); only the actions here and in the sub-stores change them. Nothing polls but
// the jobs watch (see jobs.svelte.ts).

import { type Backend, type RequestOf, RpcError } from '../backend';
import type { Attention, Event, LagSample, LakeSummary, NodePrivileges, ProfileInfo, ProfileList, SaveOutcome } from '../bindings';
import { WebNotifications } from '../notify.svelte';
import { AlertsStore } from './alerts.svelte';
import { CachesStore } from './caches.svelte';
import { JobsStore } from './jobs.svelte';
import { LagStore } from './lag.svelte';
import { ReplicationStore } from './replication.svelte';
import { RoutingStore } from './routing.svelte';

export type Status = 'loading' | 'ready' | 'no-profile' | 'error';

/** What, in a sample, changes the attention list: each node's state and level. */
export function nodeSignature(s: LagSample | null): string {
  if (!s) return '';
  return s.nodes.map((n) => `${n.name}:${n.state}:${n.level}:${n.reachable}`).join('|');
}

export class ConsoleStore {
  status = $state<Status>('loading');
  /** Why loading failed (status `error`). */
  loadError = $state.raw<RpcError | null>(null);
  profile = $state.raw<ProfileInfo | null>(null);
  profiles = $state.raw<ProfileList | null>(null);
  lake = $state.raw<LakeSummary | null>(null);
  /** The backend's attention list, recomputed every lag tick (an `attention` event). */
  attention = $state.raw<Attention[]>([]);
  /** What the profile's role may do on each node (`overview`, then `privileges` events). */
  privileges = $state.raw<NodePrivileges[]>([]);
  readonly lag: LagStore;
  readonly caches: CachesStore;
  readonly jobs: JobsStore;
  readonly routing: RoutingStore;
  readonly replication: ReplicationStore;
  readonly alerts: AlertsStore;
  /** Browser notifications of fired alerts (web mode; the desktop shell shows its own). */
  readonly notifications = new WebNotifications();

  #generation = 0;
  /** How many `privileges` events came: an overview asked before the newest one is older. */
  #privilegesSeen = 0;
  #attentionTimer: ReturnType<typeof setTimeout> | null = null;
  #signature = '';

  constructor(readonly backend: Backend) {
    const gen = () => this.#generation;
    this.lag = new LagStore();
    this.caches = new CachesStore(backend);
    this.jobs = new JobsStore(backend, gen);
    this.routing = new RoutingStore(backend, gen);
    this.replication = new ReplicationStore(backend, gen);
    this.alerts = new AlertsStore(backend, gen);
    this.alerts.onFired = (a) => {
      if (backend.notifiesNatively) return;
      const profile = this.profile?.name;
      this.notifications.show(a, {
        title: `Skein${profile ? ` [${profile}]` : ''}: ${a.rule.replaceAll('_', ' ')} · ${a.subject}`,
        body: a.message,
      });
    };
  }

  /** Subscribes to events and loads everything; returns the function that stops the events. */
  start(): () => void {
    const stop = this.backend.subscribe((e) => this.handle(e));
    void this.load();
    return stop;
  }

  /** (Re)loads everything: overview, then the lag history, jobs, routing and the profile list. */
  async load(): Promise<void> {
    const gen = ++this.#generation;
    this.status = 'loading';
    this.loadError = null;
    try {
      const seen = this.#privilegesSeen;
      const ov = await this.backend.rpc({ method: 'overview' });
      if (gen !== this.#generation) return;
      this.profile = ov.profile;
      this.lag.setThresholds(ov.profile.thresholds);
      if (ov.lag) this.lag.record(ov.lag);
      this.lake = ov.lake;
      this.caches.replace(ov.caches);
      this.attention = ov.attention;
      // A `privileges` event that came while the overview was on its way is newer than it.
      if (this.#privilegesSeen === seen) this.privileges = ov.privileges;
      this.#signature = nodeSignature(this.lag.sample);
      this.status = 'ready';
    } catch (e) {
      if (gen !== this.#generation) return;
      const err = RpcError.from(e);
      this.status = err.code === 'NotFound' ? 'no-profile' : 'error';
      this.loadError = err;
    }
    void this.loadProfiles();
    if (this.status === 'ready') {
      void this.#loadHistory(gen);
      void this.jobs.load(gen);
      void this.routing.load(gen);
      void this.replication.load(gen);
      void this.alerts.load(gen);
    }
  }

  async loadProfiles(): Promise<void> {
    try {
      this.setProfiles(await this.backend.rpc({ method: 'profiles' }));
    } catch (e) {
      console.warn('profiles failed', e);
    }
  }

  /** The open and recent profiles, as an answer (`save_profile`, `open_profile`) gave them. */
  setProfiles(list: ProfileList): void {
    this.profiles = list;
  }

  /** Opens the profile at `path` and loads the console on it; rejects with the `RpcError`. */
  async openProfile(path: string): Promise<ProfileList> {
    const list = await this.backend.rpc({ method: 'open_profile', params: { path } });
    this.setProfiles(list);
    void this.load();
    return list;
  }

  /**
   * Saves a profile (`save_profile`: validated by the profile loader first, comments kept,
   * passwords to the keyring), and with `open` opens it. The open and recent profiles follow the
   * answer; a profile that would not load is not saved (`saved: false` with the field and the
   * problem). Rejects with the `RpcError` when the file could not be written.
   */
  async saveProfile(req: RequestOf<'save_profile'>['params']): Promise<SaveOutcome> {
    const out = await this.backend.rpc({ method: 'save_profile', params: req });
    if (out.saved) {
      this.setProfiles(out.profiles);
      if (req.open && !out.open_error) void this.load();
    }
    return out;
  }

  /** Asks for the overview again for its attention list (debounced, 400 ms). */
  refreshAttention(): void {
    if (this.#attentionTimer !== null) return;
    this.#attentionTimer = setTimeout(() => {
      this.#attentionTimer = null;
      const gen = this.#generation;
      const seen = this.#privilegesSeen;
      this.backend
        .rpc({ method: 'overview' })
        .then((ov) => {
          if (gen !== this.#generation) return;
          this.attention = ov.attention;
          this.profile = ov.profile;
          // Also catches a `privileges` event sent before the event stream was connected.
          if (this.#privilegesSeen === seen) this.privileges = ov.privileges;
        })
        .catch(() => {
          /* the next change asks again */
        });
    }, 400);
  }

  /**
   * Pauses or resumes WAL replay on the replica `node` (`pg_wal_replay_pause()` /
   * `pg_wal_replay_resume()`); the next lag sample shows it. Rejects with the `RpcError`
   * (`PermissionDenied` without the privilege) and changes nothing then.
   */
  async setReplayPaused(node: string, paused: boolean): Promise<void> {
    await this.backend.rpc(paused ? { method: 'pause_replay', params: { node } } : { method: 'resume_replay', params: { node } });
  }

  /** What the profile's role may do on `node`; null until a probe answered there. */
  privilegesOf(node: string): NodePrivileges['privileges'] {
    return this.privileges.find((p) => p.node === node)?.privileges ?? null;
  }

  /** One event from the backend. */
  handle(e: Event): void {
    switch (e.kind) {
      case 'tick': {
        // One tick at once: the lag, the rotation and the attention list of the same sample.
        // A tick older than the newest sample held is stale as a whole.
        const t = e.data;
        if (!this.lag.record(t.lag)) break;
        const sig = nodeSignature(t.lag);
        if (sig !== this.#signature) {
          this.#signature = sig;
          this.refreshAttention();
        }
        if (t.replication) {
          this.replication.record(t.replication);
          this.lag.noteConflicts(t.replication);
        }
        this.routing.record(t.routing);
        // Recomputed by the backend every tick: lag values and countdowns stay live.
        this.attention = t.attention;
        break;
      }
      case 'caches':
        this.caches.replace(e.data);
        this.refreshAttention();
        break;
      case 'refresh_started':
        this.caches.markRefreshing(e.data.cache);
        break;
      case 'refresh_finished':
        this.caches.recordOutcome(e.data);
        this.refreshAttention();
        break;
      case 'lake':
        this.lake = e.data;
        this.refreshAttention();
        break;
      case 'job':
        this.jobs.record(e.data);
        break;
      case 'privileges':
        this.privileges = e.data;
        this.#privilegesSeen++;
        break;
      case 'replication':
        // After a slot was dropped (the sampler's readings come in `tick`).
        this.replication.record(e.data);
        break;
      case 'alert':
        this.alerts.record(e.data);
        break;
      case 'delivery':
        this.alerts.recordDelivery(e.data);
        break;
      case 'profile_opened':
        this.#reset();
        this.setProfiles(e.data);
        void this.load();
        break;
    }
  }

  async #loadHistory(gen: number): Promise<void> {
    try {
      const h = await this.backend.rpc({ method: 'lag_history', params: { since_ms: null } });
      if (gen !== this.#generation) return;
      this.lag.loadHistory(h);
    } catch (e) {
      if (gen !== this.#generation) return;
      this.lag.historyFailed(RpcError.from(e));
    }
  }

  #reset(): void {
    this.profile = null;
    this.lake = null;
    this.attention = [];
    this.privileges = [];
    this.lag.reset();
    this.caches.reset();
    this.jobs.reset();
    this.routing.reset();
    this.replication.reset();
    this.alerts.reset();
    this.#signature = '';
  }
}
