import { setTimeout as sleep } from 'node:timers/promises';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { DoraError, describeCause, isDoraError } from '../common/errors.js';
import type { JobCounts, JobFailure, JobProgress, JobState, LoadSpec } from './job-types.js';
import { RateLimiter } from './rate-limiter.js';

export interface LoadRunOptions {
  readonly client: DoraClient;
  readonly spec: LoadSpec;
  /** Where a resumed job starts: its last persisted progress (the listing goes on after its checkpoint). */
  readonly from: JobProgress;
  readonly signal: AbortSignal;
  /** Told of every change: the job's state, progress, and the newest failure if any. */
  readonly report: (state: JobState, progress: JobProgress, failure?: JobFailure) => void;
  /** Files loading at once (default 16). */
  readonly parallel?: number;
  /** Attempts per file for retryable failures (a worker that died, throttling), with backoff (default 5). */
  readonly attempts?: number;
  /** The job fails when more than this share of its files failed (default 0: any failure). */
  readonly failureRatio?: number;
  /** Delay before the first retry of a file (default 200 ms), doubling. */
  readonly retryDelayMs?: number;
}

/** Entries of one listing page; the runner asks for the next page once fewer than this are waiting. */
const PAGE = 1000;

/**
 * Runs a load job: lists its path recursively page by page (never holding the whole listing; loading
 * starts with the first page) and has each file cached by its owner(s), `parallel` at a time and
 * within the bandwidth, retrying retryable failures (the next call finds the new owner). Files gone
 * meanwhile are skipped. The checkpoint moves over every file done in listing order, so a job
 * resumed from it lists on from there. Answers the job's final state: stopped when `signal` aborts,
 * failed when the listing fails or more than `failureRatio` of the files did.
 */
export async function runLoad(options: LoadRunOptions): Promise<JobState> {
  const { spec, signal } = options;
  const limiter = spec.bandwidth === undefined ? undefined : new RateLimiter(spec.bandwidth, spec.bandwidth / 10); // 0.1 s of burst
  // A resumed job counts on from its checkpoint: files after it are listed and loaded again.
  let progress: JobProgress = options.from.atCheckpoint === undefined ? options.from : { ...options.from, ...options.from.atCheckpoint, listed: false };
  const update = (change: Partial<JobProgress>, failure?: JobFailure): void => {
    progress = { ...progress, ...change };
    options.report(state, progress, failure);
  };
  let state: JobState = 'running';
  // Files listed and not yet settled, in listing order, for the checkpoint and the counts at it.
  type Outcome = 'done' | 'skipped' | 'failed';
  const pending: { readonly path: string; readonly size: number; outcome?: Outcome }[] = [];
  const settle = (entry: { readonly path: string; readonly size: number; outcome?: Outcome }, outcome: Outcome): void => {
    entry.outcome = outcome;
    let { checkpoint } = progress;
    let at: JobCounts = progress.atCheckpoint ?? { filesListed: 0, bytesListed: 0, filesDone: 0, bytesDone: 0, filesSkipped: 0, filesFailed: 0 };
    for (let head = pending[0]; head?.outcome !== undefined; head = pending[0]) {
      pending.shift();
      checkpoint = head.path;
      at = {
        filesListed: at.filesListed + 1,
        bytesListed: at.bytesListed + head.size,
        filesDone: at.filesDone + (head.outcome === 'done' ? 1 : 0),
        bytesDone: at.bytesDone + (head.outcome === 'done' ? head.size : 0),
        filesSkipped: at.filesSkipped + (head.outcome === 'skipped' ? 1 : 0),
        filesFailed: at.filesFailed + (head.outcome === 'failed' ? 1 : 0),
      };
    }
    if (checkpoint !== progress.checkpoint) update({ checkpoint, atCheckpoint: at });
  };

  const loadOne = async (file: FileStatus): Promise<void> => {
    const entry = { path: file.path, size: file.size };
    pending.push(entry);
    try {
      if (spec.metadataOnly !== true) await limiter?.take(file.size, signal);
      const outcome = await withRetries(() => options.client.load(file.path, { replicas: spec.replicas, metadataOnly: spec.metadataOnly, signal }), options, signal);
      if (outcome === 'gone') update({ filesSkipped: progress.filesSkipped + 1 });
      else update({ filesDone: progress.filesDone + 1, bytesDone: progress.bytesDone + file.size });
      settle(entry, outcome === 'gone' ? 'skipped' : 'done');
    } catch (error) {
      if (signal.aborted) throw error;
      const failure = { path: file.path, code: isDoraError(error) ? error.code : 'INTERNAL', message: describeCause(error) };
      update({ filesFailed: progress.filesFailed + 1 }, failure);
      settle(entry, 'failed');
    }
  };

  try {
    await forEachListed(options, progress.checkpoint, (file) => {
      update({ filesListed: progress.filesListed + 1, bytesListed: progress.bytesListed + file.size });
      return loadOne(file);
    });
    update({ listed: true });
    if (spec.verify === true) {
      state = 'verifying';
      update({});
      await forEachListed(options, undefined, (file) =>
        withRetries(() => options.client.load(file.path, { replicas: spec.replicas, metadataOnly: spec.metadataOnly, signal }), options, signal).then(
          () => undefined,
          () => undefined, // a file that fails its check was counted when it first failed
        ),
      );
    }
  } catch (error) {
    state = signal.aborted ? 'stopped' : 'failed';
    const failure = signal.aborted ? undefined : { path: spec.path, code: isDoraError(error) ? error.code : 'INTERNAL', message: describeCause(error) };
    update({}, failure);
    return state;
  }
  const tried = progress.filesDone + progress.filesFailed;
  state = progress.filesFailed > (options.failureRatio ?? 0) * Math.max(1, tried) ? 'failed' : 'succeeded';
  update({});
  return state;
}

/** Lists `spec.path` recursively after `startAfter`, running `each` on every file, `parallel` at a time. */
async function forEachListed(options: LoadRunOptions, startAfter: string | undefined, each: (file: FileStatus) => Promise<void>): Promise<void> {
  const { client, spec, signal } = options;
  const parallel = options.parallel ?? 16;
  const running = new Set<Promise<void>>();
  const run = async (file: FileStatus): Promise<void> => {
    while (running.size >= parallel) await Promise.race(running);
    const task = each(file).finally(() => running.delete(task));
    running.add(task);
  };
  const root = await client.stat(spec.path, { signal });
  if (root.kind === 'file') {
    if (startAfter === undefined) await run(root);
  } else {
    let after = startAfter;
    for (;;) {
      if (signal.aborted) throw new DoraError('CANCELLED', `The job on "${spec.path}" was stopped`);
      const page = await client.listPage(spec.path, { recursive: true, startAfter: after, limit: PAGE, signal });
      for (const entry of page.entries) if (entry.kind === 'file') await run(entry);
      if (page.next === undefined) break;
      after = page.next;
    }
  }
  await Promise.all(running);
  if (signal.aborted) throw new DoraError('CANCELLED', `The job on "${spec.path}" was stopped`);
}

/** `call`, again after retryable failures with backoff; 'gone' when the file no longer exists. */
async function withRetries(call: () => Promise<unknown>, options: LoadRunOptions, signal: AbortSignal): Promise<'done' | 'gone'> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return 'done';
    } catch (error) {
      if (isDoraError(error, 'NOT_FOUND')) return 'gone';
      if (!(isDoraError(error) && error.retryable) || attempt >= attempts || signal.aborted) throw error;
      await sleep((options.retryDelayMs ?? 200) * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}
