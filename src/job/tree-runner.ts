import { setTimeout as sleep } from 'node:timers/promises';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { DoraError, describeCause, isDoraError } from '../common/errors.js';
import type { JobCounts, JobFailure, JobProgress, JobSpec, JobState } from './job-types.js';
import { RateLimiter } from './rate-limiter.js';

/** What a job runner is given: where it starts, how it reports, and its tuning. */
export interface JobRunOptions<S extends JobSpec = JobSpec> {
  readonly client: DoraClient;
  readonly spec: S;
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

/** What a job does to the files under its path. */
export interface TreeWork {
  readonly root: string;
  /** Bytes per second for the whole job, charged per file before it runs; unlimited when absent. */
  readonly bandwidth?: number | undefined;
  /** Files in flight at once when the job's options name none (default 16). */
  readonly parallel?: number | undefined;
  /** Bytes a file is charged against the bandwidth (default its size). */
  charge?(file: FileStatus): number;
  /** Does one file. Resolves 'gone' when it vanished meanwhile (skipped); throws to fail it, retryable errors being retried. */
  each(file: FileStatus, signal: AbortSignal): Promise<'done' | 'gone'>;
  /** A second pass over the listing once every file is done (state 'verifying'); its failures count nothing new. */
  verify?(file: FileStatus, signal: AbortSignal): Promise<unknown>;
  /** Runs once the files are done and before the job succeeds (a move removing emptied directories). */
  finish?(signal: AbortSignal): Promise<void>;
}

/** Entries of one listing page; the runner asks for the next page once fewer than this are waiting. */
const PAGE = 1000;
/** Settled files held behind an unsettled one (for the checkpoint), per file in flight, before the listing waits. */
const BACKLOG_PER_FILE = 16;

/**
 * Runs a job over every file under `work.root`: lists it recursively page by page (never holding the
 * whole listing; work starts with the first page) and does each file, `parallel` at a time and
 * within the bandwidth, retrying retryable failures with backoff (the next call finds a new owner).
 * Files gone meanwhile are skipped. The checkpoint moves over every file settled in listing order,
 * so a job resumed from it lists on from there. Answers the job's final state: stopped when
 * `signal` aborts, failed when the listing fails or more than `failureRatio` of the files did.
 */
export async function runOverTree(options: JobRunOptions, work: TreeWork): Promise<JobState> {
  const { signal } = options;
  const limiter = work.bandwidth === undefined ? undefined : new RateLimiter(work.bandwidth, work.bandwidth / 10); // 0.1 s of burst
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

  const doOne = async (file: FileStatus): Promise<void> => {
    const entry = { path: file.path, size: file.size };
    pending.push(entry);
    try {
      await limiter?.take(work.charge?.(file) ?? file.size, signal);
      const outcome = await withRetries(() => work.each(file, signal), options, signal);
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
    // Files done behind one still running are held for the checkpoint: past a bound, wait for it.
    const backlogged = (): boolean => pending.length >= BACKLOG_PER_FILE * (options.parallel ?? work.parallel ?? 16);
    await forEachListed(options, work, progress.checkpoint, backlogged, (file) => {
      update({ filesListed: progress.filesListed + 1, bytesListed: progress.bytesListed + file.size });
      return doOne(file);
    });
    update({ listed: true });
    const { verify } = work;
    if (verify !== undefined) {
      state = 'verifying';
      update({});
      await forEachListed(options, work, undefined, () => false, (file) =>
        withRetries(() => verify(file, signal), options, signal).then(
          () => undefined,
          () => undefined, // a file that fails its check was counted when it first failed
        ),
      );
    }
    await work.finish?.(signal);
  } catch (error) {
    state = signal.aborted ? 'stopped' : 'failed';
    const failure = signal.aborted ? undefined : { path: work.root, code: isDoraError(error) ? error.code : 'INTERNAL', message: describeCause(error) };
    update({}, failure);
    return state;
  }
  const tried = progress.filesDone + progress.filesFailed;
  state = progress.filesFailed > (options.failureRatio ?? 0) * Math.max(1, tried) ? 'failed' : 'succeeded';
  update({});
  return state;
}

/** Lists `work.root` recursively after `startAfter`, running `each` on every file, `parallel` at a time (and none more while `backlogged`). */
async function forEachListed(
  options: JobRunOptions,
  work: TreeWork,
  startAfter: string | undefined,
  backlogged: () => boolean,
  each: (file: FileStatus) => Promise<void>,
): Promise<void> {
  const { client, signal } = options;
  const { root } = work;
  const parallel = options.parallel ?? work.parallel ?? 16;
  const running = new Set<Promise<void>>();
  const run = async (file: FileStatus): Promise<void> => {
    while (running.size >= parallel || (running.size > 0 && backlogged())) await Promise.race(running);
    const task = each(file).finally(() => running.delete(task));
    running.add(task);
  };
  const top = await client.stat(root, { signal });
  if (top.kind === 'file') {
    if (startAfter === undefined) await run(top);
  } else {
    let after = startAfter;
    for (;;) {
      if (signal.aborted) throw new DoraError('CANCELLED', `The job on "${root}" was stopped`);
      const page = await client.listPage(root, { recursive: true, startAfter: after, limit: PAGE, signal });
      for (const entry of page.entries) if (entry.kind === 'file') await run(entry);
      if (page.next === undefined) break;
      after = page.next;
    }
  }
  await Promise.all(running);
  if (signal.aborted) throw new DoraError('CANCELLED', `The job on "${root}" was stopped`);
}

/** `call`, again after retryable failures with backoff; 'gone' when the file no longer exists. */
export async function withRetries<T>(call: () => Promise<T>, options: Pick<JobRunOptions, 'attempts' | 'retryDelayMs'>, signal: AbortSignal): Promise<T | 'gone'> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (isDoraError(error, 'NOT_FOUND')) return 'gone';
      if (!(isDoraError(error) && error.retryable) || attempt >= attempts || signal.aborted) throw error;
      await sleep((options.retryDelayMs ?? 200) * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}
