import { DoraError } from '../common/errors.js';
import { parseDuration } from '../conf/units.js';

/**
 * How writes reach the store (DESIGN.md section 4). ASYNC_THROUGH joins when the worker has a
 * write journal that survives restarts; until then it is refused rather than faked.
 */
export type WriteType = 'CACHE_THROUGH' | 'THROUGH';
export const WRITE_TYPES: readonly WriteType[] = ['CACHE_THROUGH', 'THROUGH'];

/** One entry of the mount table: a dora path bound to a store. */
export interface MountInfo {
  /** Canonical dora path, e.g. '/sales'. */
  readonly path: string;
  /** The store's root, e.g. 's3://bucket/sales/'. */
  readonly uri: string;
  readonly readOnly: boolean;
  readonly writeType: WriteType;
  /** Store options (endpoint, region, pathStyle, …) passed to the backend. */
  readonly options: Readonly<Record<string, string>>;
  /** Names credentials kept outside the table, resolved when the store is opened. */
  readonly credentials?: string;
  /**
   * How long cached metadata of this mount is trusted before the store is asked again, in ms:
   * -1 never re-checks (until invalidated), 0 always re-checks. Absent: the process default.
   */
  readonly syncIntervalMs?: number;
  /** How many workers keep each file of this mount (the first N on the hash ring). Absent: 1. */
  readonly replicas?: number;
}

/** Most replicas a mount may ask for. */
export const MAX_REPLICAS = 16;

/** What `dora mount add` asks for; everything but path and uri has a default. */
export interface MountRequest {
  path: string;
  uri: string;
  readOnly?: boolean | undefined;
  writeType?: string | undefined;
  options?: Readonly<Record<string, string>> | undefined;
  credentials?: string | undefined;
  /** A duration (`30s`), or -1 (never re-check) / 0 (always). */
  syncInterval?: string | number | undefined;
  /** Workers per file, 1 to 16. */
  replicas?: string | number | undefined;
}

export function parseWriteType(value: string | undefined, attempt: string): WriteType {
  if (value === undefined) return 'CACHE_THROUGH';
  const upper = value.toUpperCase() as WriteType;
  if (!WRITE_TYPES.includes(upper)) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: write type ${JSON.stringify(value)} is not one of ${WRITE_TYPES.join(', ')}`);
  }
  return upper;
}

/** Parses a mount's sync interval: a duration, -1 (never re-check) or 0 (always). */
export function parseSyncInterval(value: string | number | undefined, attempt: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === -1 || value === '-1') return -1;
  try {
    return typeof value === 'number' ? checkWhole(value) : parseDuration(value);
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: sync interval ${JSON.stringify(value)} is not a duration, -1 or 0`, { cause: error });
  }
}

function checkWhole(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error('not a whole number of ms');
  return ms;
}

/** Parses a replica count: a whole number from 1 to MAX_REPLICAS. */
export function parseReplicas(value: string | number | undefined, attempt: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_REPLICAS) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: replicas ${JSON.stringify(value)} is not a whole number from 1 to ${MAX_REPLICAS}`);
  }
  return n;
}
