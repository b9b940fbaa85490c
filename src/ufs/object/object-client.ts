import type { Readable } from 'node:stream';
import type { DoraError } from '../../common/errors.js';

/**
 * The narrow slice of an object store (Azure Blob, Google Cloud Storage, OpenStack Swift) that
 * `ObjectUfs` builds a file system on: flat keys in one container, listed by prefix with a '/'
 * delimiter. A backend implements this one interface; directories, ranges, versions, markers
 * and error handling above it are written once, in `ObjectUfs`.
 *
 * Methods throw the store's own errors untranslated; `translate` turns any of them (or a
 * network error) into a DoraError with the store's meaning (NOT_FOUND, PERMISSION_DENIED,
 * FAILED_PRECONDITION, OUT_OF_RANGE, UNAVAILABLE…), which is what `ObjectUfs` looks at.
 * Clients do not retry: `withRetry` owns retrying.
 */
export interface ObjectClient {
  /** The object at `key`, or undefined when there is none. */
  head(key: string, signal: AbortSignal | undefined): Promise<ObjectInfo | undefined>;

  /**
   * Bytes [offset, offset + length) of an object (to its end when length is undefined). When
   * `ifMatch` is set, fails (FAILED_PRECONDITION once translated) unless the object's `version`
   * is that one. A range starting past the end fails as OUT_OF_RANGE; a missing key as NOT_FOUND.
   */
  get(key: string, range: { offset: number; length?: number | undefined }, ifMatch: string | undefined, signal: AbortSignal | undefined): Promise<ObjectGetResult>;

  /**
   * Writes a whole object, visible atomically once complete; on failure or abort nothing (or the
   * previous object) stays. `size` is the body's exact length when known. The client picks one
   * request or a chunked upload (staged blocks, resumable upload, segments) by size, holding at
   * most partSize × uploadConcurrency bytes.
   */
  put(key: string, body: Uint8Array | Readable, fields: ObjectWriteFields & { size?: number | undefined }, signal: AbortSignal | undefined): Promise<ObjectWritten>;

  /** Deletes an object (and its segments where it has them). Deleting nothing succeeds. */
  delete(key: string, signal: AbortSignal | undefined): Promise<void>;

  /**
   * One page of keys starting with `prefix`, in ascending byte order. With `delimiter` '/', keys
   * with a '/' past the prefix are rolled up into `prefixes` (each ending in '/'). `startAfter`
   * (first page only) skips keys up to and including it; `token` continues a listing.
   */
  list(prefix: string, page: { delimiter?: '/' | undefined; startAfter?: string | undefined; token?: string | undefined; maxKeys: number }, signal: AbortSignal | undefined): Promise<ObjectListPage>;

  /** A failure of this client's calls as a DoraError: `${attempt}: ${cause}`. */
  translate(error: unknown, attempt: string): DoraError;

  /** Releases sockets. */
  close(): Promise<void>;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** What cached bytes are keyed by: the ETag, a generation; changes with every new content. */
  readonly version: string;
  /** The content's MD5 in hex where the store keeps it (single-request uploads). */
  readonly etag?: string | undefined;
  /** Content type and user metadata (lower-case names): from head and get, absent in listings. */
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

export interface ObjectGetResult extends ObjectInfo {
  readonly body: Readable;
  /** The whole object's size (not the range's). */
  readonly totalSize: number;
}

export interface ObjectWriteFields {
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** What a write produced. */
export interface ObjectWritten {
  readonly version: string;
  readonly etag?: string | undefined;
  readonly mtimeMs?: number | undefined;
}

export interface ObjectListPage {
  readonly objects: readonly ObjectInfo[];
  /** Common prefixes, each ending in '/'. */
  readonly prefixes: readonly string[];
  readonly nextToken: string | undefined;
}

/** Where a store root is: a container (bucket) and a key prefix ('' or ending in '/'). */
export interface ObjectLocation {
  readonly container: string;
  readonly prefix: string;
}
