// Maintenance jobs, newest first: the `jobs` list (jobs started before this window opened,
// or by another window), then `job` events and this window's own answers. A finished job is
// never set back to running by an older copy. While a job runs, the list is asked for again
// every 10 s: its end normally arrives as a `job` event, but one lost while the event stream
// reconnected would leave it running here.

import type { Backend } from '../backend';
import type { Compaction, Job } from '../bindings';

/** Of two copies of the same job, the one further along (running < done / failed). */
export function newerJob(a: Job | undefined, b: Job): Job {
  if (!a) return b;
  return a.state !== 'running' && b.state === 'running' ? a : b;
}

export class JobsStore {
  list = $state.raw<Job[]>([]);
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly backend: Backend,
    /** The console's load generation: answers to an older one are dropped. */
    private readonly generation: () => number,
    private readonly watchMs = 10_000,
  ) {}

  /** Jobs still running. */
  get running(): Job[] {
    return this.list.filter((j) => j.state === 'running');
  }

  /** Loads the job list, merging what events said meanwhile. */
  async load(gen = this.generation()): Promise<void> {
    try {
      const fetched = await this.backend.rpc({ method: 'jobs' });
      if (gen !== this.generation()) return;
      const known = new Map(this.list.map((j) => [j.id, j]));
      const merged = fetched.map((j) => newerJob(known.get(j.id), j));
      for (const j of known.values()) if (!merged.some((x) => x.id === j.id)) merged.push(j);
      merged.sort((a, b) => b.id - a.id);
      this.list = merged;
    } catch (e) {
      console.warn('jobs failed', e);
    }
    this.#watch();
  }

  /** Records a job's state (from an rpc answer or a `job` event). */
  record(job: Job): void {
    const i = this.list.findIndex((j) => j.id === job.id);
    if (i >= 0) this.list = this.list.map((j, k) => (k === i ? newerJob(j, job) : j));
    else this.list = [...this.list, job].sort((a, b) => b.id - a.id);
    this.#watch();
  }

  /**
   * Expires exactly these snapshots (`expire_snapshots`: `ducklake_expire_snapshots` on those
   * versions) as a job; the job is recorded here and returned. Rejects with the `RpcError`
   * (`Conflict` while another maintenance job runs) and records nothing then.
   */
  async expireSnapshots(versions: number[]): Promise<Job> {
    return this.#started(await this.backend.rpc({ method: 'expire_snapshots', params: { versions } }));
  }

  /**
   * Deletes the files scheduled for deletion, or (`orphaned`) the files under the data path no
   * snapshot references (`delete_files`: `ducklake_cleanup_old_files` /
   * `ducklake_delete_orphaned_files`), as a job, recorded and returned.
   */
  async deleteFiles(orphaned: boolean): Promise<Job> {
    return this.#started(await this.backend.rpc({ method: 'delete_files', params: { orphaned } }));
  }

  /** Runs one compaction (`compact`: merge, rewrite or flush) as a job, recorded and returned. */
  async compact(what: Compaction): Promise<Job> {
    return this.#started(await this.backend.rpc({ method: 'compact', params: { what } }));
  }

  #started(job: Job): Job {
    this.record(job);
    return job;
  }

  reset(): void {
    this.list = [];
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #watch(): void {
    if (this.#timer !== null || !this.list.some((j) => j.state === 'running')) return;
    const gen = this.generation();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (gen === this.generation()) void this.load(gen);
    }, this.watchMs);
  }
}
