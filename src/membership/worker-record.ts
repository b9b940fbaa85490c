import { DoraError } from '../common/errors.js';

/** 'decommissioning': still serving, but being drained from the ring before it stops (DESIGN.md section 5). */
export type WorkerState = 'live' | 'decommissioning';
export const WORKER_STATES: readonly WorkerState[] = ['live', 'decommissioning'];

/**
 * A worker as membership knows it: what a worker registers and every client reads. A superset of
 * the client SDK's `WorkerInfo` and the coordinator's `WorkerRecord`, so it can be handed to both.
 */
export interface WorkerRecord {
  /** Stable across restarts (kept in the data directory): it fixes the worker's place on the hash ring. */
  readonly id: string;
  /** Base URL of the worker's internal API, e.g. 'http://127.0.0.1:29999'. */
  readonly address: string;
  /** Base URL of the worker's S3-compatible API, where it serves one. */
  readonly s3Address?: string;
  readonly state: WorkerState;
  /** When this run of the worker started, in ms since the epoch. */
  readonly startedAt: number;
  /** Bytes the worker's page store may hold, over all tiers. */
  readonly capacityBytes?: number;
}

/** The fields a record is made of; a change in any other is not a change of the live set. */
const LIVE_SET_FIELDS = ['id', 'address', 's3Address', 'state'] as const;

/**
 * Checks that `value` is a well-formed record and returns a copy holding only the known fields.
 * Throws INVALID_ARGUMENT naming the first bad field; `attempt` starts the message.
 */
export function checkWorkerRecord(value: unknown, attempt: string): WorkerRecord {
  const fail = (why: string): never => {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('a worker record must be an object');
  const r = value as Record<string, unknown>;
  if (typeof r['id'] !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(r['id'])) fail(`worker id ${JSON.stringify(r['id'])} is not 1-128 letters, digits, ".", "_" or "-"`);
  if (typeof r['address'] !== 'string' || r['address'] === '') fail('"address" must be a non-empty string');
  if (r['s3Address'] !== undefined && typeof r['s3Address'] !== 'string') fail('"s3Address" must be a string');
  if (!WORKER_STATES.includes(r['state'] as WorkerState)) fail(`state ${JSON.stringify(r['state'])} is not one of ${WORKER_STATES.join(', ')}`);
  if (typeof r['startedAt'] !== 'number' || !Number.isFinite(r['startedAt'])) fail('"startedAt" must be a number of ms');
  const capacity = r['capacityBytes'];
  if (capacity !== undefined && (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0)) fail('"capacityBytes" must be a whole number of bytes');
  return {
    id: r['id'] as string,
    address: r['address'] as string,
    ...(r['s3Address'] === undefined ? {} : { s3Address: r['s3Address'] as string }),
    state: r['state'] as WorkerState,
    startedAt: r['startedAt'] as number,
    ...(capacity === undefined ? {} : { capacityBytes: capacity as number }),
  };
}

/** Records in id order: every process lists the same set the same way, whatever order it learnt it in. */
export function sortById(records: Iterable<WorkerRecord>): WorkerRecord[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Whether two id-sorted lists are the same live set: the same ids with the same addresses and
 * states. Start times and capacities do not move a worker on the ring, so they do not count.
 */
export function sameLiveSet(a: readonly WorkerRecord[], b: readonly WorkerRecord[]): boolean {
  return a.length === b.length && a.every((record, i) => LIVE_SET_FIELDS.every((field) => record[field] === b[i]?.[field]));
}
