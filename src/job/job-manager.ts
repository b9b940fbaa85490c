import { randomUUID } from 'node:crypto';
import type { DoraClient } from '../client/dora-client.js';
import { DoraError } from '../common/errors.js';
import { normalizeDoraPath } from '../mount/dora-path.js';
import type { JobStore } from './job-store.js';
import { isActive, NO_PROGRESS, type JobRecord, type JobSpec } from './job-types.js';
import { runLoad } from './load-runner.js';

/** How often a running job's progress is saved (its checkpoint with it). */
const SAVE_EVERY_MS = 500;
const KEPT_FAILURES = 100;

/**
 * The coordinator's jobs: submitted, run, saved as they progress, stopped; jobs left running by a
 * coordinator that stopped are resumed from their checkpoint by `start`. Submitting a job equal to
 * one still running answers the running one.
 */
export class JobManager {
  readonly #store: JobStore;
  readonly #client: () => DoraClient;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #running = new Map<string, { readonly stop: AbortController; readonly done: Promise<void> }>();
  #closed = false;

  constructor(options: { store: JobStore; client: () => DoraClient }) {
    this.#store = options.store;
    this.#client = options.client;
  }

  /** Loads saved jobs and resumes those that were running. */
  async start(): Promise<void> {
    for (const job of await this.#store.all()) {
      this.#jobs.set(job.id, job);
      if (isActive(job.state)) this.#run(job);
    }
  }

  submit(spec: JobSpec): JobRecord {
    const normalized = checkSpec(spec);
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
    return this.#jobs.get(id) ?? fail(`No job "${id}"`);
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

  #run(job: JobRecord): void {
    const stop = new AbortController();
    let dirty = false;
    const save = (): Promise<void> => {
      dirty = false;
      return this.#store.save(this.get(job.id)).catch(() => undefined); // saved again at the next tick
    };
    const timer = setInterval(() => void (dirty && save()), SAVE_EVERY_MS);
    const done = runLoad({
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
      },
    }).then(
      () => undefined,
      () => undefined,
    );
    const finished = done.finally(async () => {
      clearInterval(timer);
      this.#running.delete(job.id);
      await save();
    });
    this.#running.set(job.id, { stop, done: finished });
    void save();
  }
}

/** The spec, checked and with its path canonical. */
function checkSpec(spec: JobSpec): JobSpec {
  if (typeof spec !== 'object' || spec === null) fail('A job is a JSON object: {"kind": "load", "path": …}');
  if (spec.kind !== 'load') fail(`Unknown job kind ${JSON.stringify(spec.kind)}`);
  if (typeof spec.path !== 'string') fail('A load job needs a "path"');
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 1)) fail('"replicas" must be a whole number of at least 1');
  if (spec.bandwidth !== undefined && !(typeof spec.bandwidth === 'number' && spec.bandwidth > 0)) fail('"bandwidth" must be a positive number of bytes per second');
  return {
    kind: 'load',
    path: normalizeDoraPath(spec.path),
    ...(spec.replicas === undefined ? {} : { replicas: spec.replicas }),
    ...(spec.bandwidth === undefined ? {} : { bandwidth: spec.bandwidth }),
    ...(spec.verify === true ? { verify: true } : {}),
    ...(spec.metadataOnly === true ? { metadataOnly: true } : {}),
  };
}

function fail(message: string): never {
  throw new DoraError(message.startsWith('No job') ? 'NOT_FOUND' : 'INVALID_ARGUMENT', message);
}
