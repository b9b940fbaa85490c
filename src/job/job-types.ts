/** Jobs the coordinator runs over whole directories (DESIGN.md section 6). */

export type JobState = 'running' | 'verifying' | 'stopped' | 'succeeded' | 'failed';

/** Cache every file under `path` on its owner (or its first `replicas` workers). */
export interface LoadSpec {
  readonly kind: 'load';
  readonly path: string;
  readonly replicas?: number | undefined;
  /** Bytes per second the whole job may fetch; unlimited when absent. */
  readonly bandwidth?: number | undefined;
  /** Check again at the end that every file is cached at its current version, loading what is not. */
  readonly verify?: boolean | undefined;
  /** Cache file statuses only, not their bytes. */
  readonly metadataOnly?: boolean | undefined;
}

/** Drop cached pages and metadata of every file under `path`, on every live worker. */
export interface FreeSpec {
  readonly kind: 'free';
  readonly path: string;
}

/**
 * Copy every file under `from` to the same relative path under `to` (any two mounts), streaming
 * through the workers and checking size and checksum; `move` deletes each source file once its
 * copy is verified.
 */
export interface CopySpec {
  readonly kind: 'copy' | 'move';
  readonly from: string;
  readonly to: string;
  /** Replace destination files that differ; without it they are failures (ALREADY_EXISTS). */
  readonly overwrite?: boolean | undefined;
  /** Compare content, not just size: read the destination back after writing, and compare both when it exists already. */
  readonly checkContent?: boolean | undefined;
  /** Bytes per second the whole job may copy; unlimited when absent. */
  readonly bandwidth?: number | undefined;
}

export type JobSpec = LoadSpec | FreeSpec | CopySpec;

/** A job in a few words: "load /sales", "copy /s3/a to /local/a". */
export function describeJob(spec: JobSpec): string {
  return 'from' in spec ? `${spec.kind} ${spec.from} to ${spec.to}` : `${spec.kind} ${spec.path}`;
}

/** How far a job got, as the files listed so far tell. */
export interface JobProgress {
  readonly filesListed: number;
  readonly bytesListed: number;
  /** Whether the listing reached its end (the totals are then final). */
  readonly listed: boolean;
  readonly filesDone: number;
  readonly bytesDone: number;
  /** Files gone from the store since they were listed: not failures. */
  readonly filesSkipped: number;
  readonly filesFailed: number;
  /** Every file at or before this listing position is done: a resumed job lists on from here. */
  readonly checkpoint?: string | undefined;
  /** The counts of the files at or before the checkpoint: where a resumed job counts on from (files after it are done again). */
  readonly atCheckpoint?: JobCounts | undefined;
}

export type JobCounts = Pick<JobProgress, 'filesListed' | 'bytesListed' | 'filesDone' | 'bytesDone' | 'filesSkipped' | 'filesFailed'>;

/** A file that kept failing, and why. */
export interface JobFailure {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export const NO_PROGRESS: JobProgress = { filesListed: 0, bytesListed: 0, listed: false, filesDone: 0, bytesDone: 0, filesSkipped: 0, filesFailed: 0 };

/** A job as the coordinator keeps it (and persists it). */
export interface JobRecord {
  readonly id: string;
  readonly spec: JobSpec;
  readonly state: JobState;
  readonly progress: JobProgress;
  /** The most recent failures (at most 100), newest last. */
  readonly failures: readonly JobFailure[];
  readonly submittedAt: number;
  readonly updatedAt: number;
  readonly endedAt?: number | undefined;
}

/** Whether a job in this state still runs (a restarted coordinator resumes it). */
export function isActive(state: JobState): boolean {
  return state === 'running' || state === 'verifying';
}
