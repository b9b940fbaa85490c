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

export type JobSpec = LoadSpec;

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
