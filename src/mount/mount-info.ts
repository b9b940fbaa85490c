import { DoraError } from '../common/errors.js';

/** How writes reach the store (DESIGN.md section 4). */
export type WriteType = 'CACHE_THROUGH' | 'THROUGH' | 'ASYNC_THROUGH';
export const WRITE_TYPES: readonly WriteType[] = ['CACHE_THROUGH', 'THROUGH', 'ASYNC_THROUGH'];

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
}

/** What `dora mount add` asks for; everything but path and uri has a default. */
export interface MountRequest {
  path: string;
  uri: string;
  readOnly?: boolean | undefined;
  writeType?: string | undefined;
  options?: Readonly<Record<string, string>> | undefined;
  credentials?: string | undefined;
}

export function parseWriteType(value: string | undefined, attempt: string): WriteType {
  if (value === undefined) return 'CACHE_THROUGH';
  const upper = value.toUpperCase() as WriteType;
  if (!WRITE_TYPES.includes(upper)) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: write type ${JSON.stringify(value)} is not one of ${WRITE_TYPES.join(', ')}`);
  }
  return upper;
}
