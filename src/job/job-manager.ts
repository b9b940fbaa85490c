import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { DoraClient } from '../client/dora-client.js';
import { DoraError } from '../common/errors.js';
import { checkJobSpec } from './job-spec.js';
import type { JobStore } from './job-store.js';
import { describeJob, isActive, NO_PROGRESS, type JobRecord } from './job-types.js';
import { log } from '../observe/log.js';
import { withRequest } from '../observe/request-context.js';
import { runJob } from './run-job.js';
import type { JobRunOptions } from './tree-runner.js';
import type { DoraConfig } from '../conf/config-keys.js';

/** How often a running job's progress is saved (its checkpoint with it). */
const SAVE_EVERY_MS = 500;
const KEPT_FAILURES = 100;
/** Ended jobs kept (with their progress and failures); older ones are forgotten, so the store stays bounded. */
const KEPT_ENDED = 200;

/**
 * The coordinator's jobs: submitted, run, saved as they progress, stopped; jobs left running by a
 * coordinator that stopped are resumed from their checkpoint by `start`. Submitting a job equal to
 * one still running answers the running one.
 */
export class JobManager {
  readonly #store: JobStore;
  readonly #client: () => DoraClient;
  readonly #tuning: Pick<JobRunOptions, 'attempts' | 'failureRatio'>;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #running = new Map<string, { readonly stop: AbortController; readonly done: Promise<void> }>();
  #closed = false;

  constructor(options: { store: JobStore; client: () => DoraClient; config: DoraConfig }) {
    this.#store = options.store;
    this.#client = options.client;
    this.#tuning = { attempts: options.config.job.triesPerFile, failureRatio: options.config.job.maxFailedPercent / 100 };
  }

  /** Loads saved jobs and resumes those that were running. */
  async start(): Promise<void> {
    for (const job of await this.#store.all()) {
      this.#jobs.set(job.id, job);
      if (isActive(job.state)) this.#run(job);
    }
    await this.#forgetOldest();
  }

  /** Starts a job from its spec as submitted (checked here: INVALID_ARGUMENT), or answers the same one running. */
  submit(body: unknown): JobRecord {
    const normalized = checkJobSpec(body);
    const key = JSON.stringify(normalized);
    const running = [...this.#jobs.values()].find((job) => isActive(job.state) && JSON.stringify(job.spec) === key);
    if (running !== undefined) return running;
    const now = Date.now();
    const job: JobRecord = { id: randomUUID().slice(0, 8), spec: normalized, state: 'running', progress: NO_PROGRESS, failures: [], submittedAt: now, updatedAt: now };
    this.#jobs.set(job.id, job);
    this.#run(job);
    return job;
  }

  list(): JobRecord[] {
    return [...this.#jobs.values()].sort((a, b) => a.submittedAt - b.submittedAt);
  }

  get(id: string): JobRecord {
    const job = this.#jobs.get(id);
    if (job === undefined) throw new DoraError('NOT_FOUND', `No job "${id}"`);
    return job;
  }

  /** Stops a running job (it keeps its progress); answers it once it stopped. A job already ended is answered as it is. */
  async stop(id: string): Promise<JobRecord> {
    this.get(id);
    const running = this.#running.get(id);
    running?.stop.abort();
    await running?.done;
    return this.get(id);
  }

  /** Stops running jobs without ending them: saved as running, a coordinator started later resumes them. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#running.values()];
    for (const { stop } of running) stop.abort();
    await Promise.all(running.map((r) => r.done));
  }

  /** Forgets the ended jobs beyond the newest KEPT_ENDED. */
  async #forgetOldest(): Promise<void> {
    const ended = this.list().filter((job) => !isActive(job.state));
    for (const job of ended.slice(0, Math.max(0, ended.length - KEPT_ENDED))) {
      this.#jobs.delete(job.id);
      await this.#store.delete(job.id).catch(() => undefined); // forgotten here; the next start tries again
    }
  }

  #run(job: JobRecord): void {
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every request in flight listens to it, hundreds for a load
    let dirty = false;
    const save = (): Promise<void> => {
      dirty = false;
      return this.#store.save(this.get(job.id)).catch(() => undefined); // saved again at the next tick
    };
    const timer = setInterval(() => void (dirty && save()), SAVE_EVERY_MS);
    // The run's own lines carry the job's id as their request id; followed (debug), so do its workers' lines.
    const requestId = `job-${job.id}`;
    log.info({ requestId, job: job.id, spec: job.spec, resumed: job.progress !== NO_PROGRESS }, `job ${describeJob(job.spec)}`);
    const done = withRequest({ requestId }, () => runJob({
      ...this.#tuning,
      client: this.#client(),
      spec: job.spec,
      from: job.progress,
      signal: stop.signal,
      report: (state, progress, failure) => {
        if (this.#closed && state === 'stopped') return; // shutting down: stays running, to be resumed
        const current = this.get(job.id);
        const failures = failure === undefined ? current.failures : [...current.failures, failure].slice(-KEPT_FAILURES);
        this.#jobs.set(job.id, { ...current, state, progress, failures, updatedAt: Date.now(), ...(isActive(state) ? {} : { endedAt: Date.now() }) });
        dirty = true;
        if (failure !== undefined) log.warn({ requestId, job: job.id, path: failure.path, code: failure.code, err: failure.message }, 'job file failed');
        if (!isActive(state)) log.info({ requestId, job: job.id, state, progress }, `job ${describeJob(job.spec)}: ${state}`);
      },
    })).then(
      () => undefined,
      () => undefined,
    );
    const finished = done.finally(async () => {
      clearInterval(timer);
      this.#running.delete(job.id);
      await save();
      await this.#forgetOldest();
    });
    this.#running.set(job.id, { stop, done: finished });
    void save();
  }
}
