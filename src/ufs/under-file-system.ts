import type { Readable } from 'node:stream';

/**
 * The one interface over every storage system dora mounts ("under storage").
 *
 * Paths are relative to the store's root URI: '/'-separated, no leading or trailing slash, no
 * empty, '.' or '..' segments; '' is the root. Every method rejects a non-canonical path with
 * INVALID_ARGUMENT before touching the store, and every failure is a DoraError whose `retryable`
 * flag says whether trying again can help. Backends are plain I/O: retries, timeouts and metrics
 * are wrappers (see `with-retry.ts`, `with-timeout.ts`, `with-metrics.ts`).
 */
export interface UnderFileSystem {
  /** The store's root, e.g. `file:///srv/data/` or `s3://bucket/prefix/` (always ends in '/'). */
  readonly uri: string;
  readonly capabilities: UfsCapabilities;

  /**
   * Status of a file or directory. Idempotent.
   * Throws NOT_FOUND when nothing exists at the path.
   */
  stat(path: string, options?: UfsCallOptions): Promise<UfsStatus>;

  /**
   * Opens bytes [offset, offset + length) of a file, clamped to its end, as a stream. Resolves
   * once the store has answered, so a missing file fails here and not mid-stream. Idempotent.
   * Throws NOT_FOUND, IS_A_DIRECTORY, OUT_OF_RANGE when offset > size, and FAILED_PRECONDITION
   * when `expectVersion` is set and the file's version differs. Mid-stream failures are
   * DoraErrors emitted by the stream.
   */
  read(path: string, options?: UfsReadOptions): Promise<UfsReadResult>;

  /**
   * Writes a whole file, replacing any previous one. The file becomes visible atomically once
   * complete; a failed or cancelled write leaves the previous content (or nothing) in place.
   * When `size` is given the source must yield exactly that many bytes, else INVALID_ARGUMENT.
   * Creates missing parent directories. Throws IS_A_DIRECTORY, NOT_A_DIRECTORY (a parent is a
   * file), PERMISSION_DENIED, RESOURCE_EXHAUSTED. Idempotent only for a replayable source.
   */
  write(path: string, source: UfsWriteSource, options?: UfsWriteOptions): Promise<UfsStatus>;

  /**
   * Deletes a file or an empty directory. Idempotent: deleting nothing succeeds.
   * Throws DIRECTORY_NOT_EMPTY, and INVALID_ARGUMENT for the root.
   */
  delete(path: string, options?: UfsCallOptions): Promise<void>;

  /**
   * Lists a directory in ascending byte order of path, fetching lazily page by page, so a
   * listing of millions of entries never sits in memory. One level yields files and
   * directories; `recursive` yields every file below the directory (directories are implied by
   * their files' paths). Idempotent; a listing can be resumed with `startAfter`.
   * Throws (when iterated) NOT_FOUND, NOT_A_DIRECTORY.
   */
  list(path: string, options?: UfsListOptions): AsyncIterable<UfsStatus>;

  /**
   * Creates a directory and its missing parents. Idempotent: an existing directory succeeds.
   * Throws ALREADY_EXISTS when a file is at the path.
   */
  mkdir(path: string, options?: UfsCallOptions): Promise<void>;

  /**
   * Renames a file or directory atomically, replacing a file at the destination.
   * Present only when `capabilities.rename`. Not idempotent. Throws NOT_FOUND.
   */
  rename?(from: string, to: string, options?: UfsCallOptions): Promise<void>;

  /** The store's native multipart upload. Present only when `capabilities.multipart`. */
  readonly multipart?: UfsMultipart;

  /** Tags (key–value pairs) on files and directories. Present only when `capabilities.tagging`. */
  readonly tagging?: UfsTagging;

  /** Releases connections and handles. Calls after close are not allowed. */
  close(): Promise<void>;
}

export interface UfsCapabilities {
  /** `rename` is atomic and native to the store. */
  readonly rename: boolean;
  /** `multipart` uploads parts to the store itself (not staged elsewhere). */
  readonly multipart: boolean;
  /** `tagging` keeps tags on files and directories (natively, or in a hidden sidecar). */
  readonly tagging: boolean;
}

export type UfsEntryKind = 'file' | 'directory';

export interface UfsStatus {
  /** Relative to the store's root; '' for the root itself. */
  readonly path: string;
  readonly kind: UfsEntryKind;
  /** Bytes; 0 for a directory. */
  readonly size: number;
  /** Last modification in ms since the epoch; 0 where the store keeps none (S3 prefixes). */
  readonly mtimeMs: number;
  /**
   * What cached bytes are keyed by: changes whenever the content may have changed. The ETag
   * where the store has one, else derived from mtime, size and file id. '' for directories.
   */
  readonly version: string;
  /**
   * The MD5 of the content (hex) for a file written whole, or the store's own ETag (unquoted),
   * where the store keeps one.
   */
  readonly etag?: string;
  /**
   * What the file was written with, where the store keeps it. Absent when not fetched: listings
   * leave it out, `stat` fills it in.
   */
  readonly attributes?: UfsAttributes;
}

/** Content type and user metadata of a file, kept by the store (natively or in a sidecar). */
export interface UfsAttributes {
  readonly contentType?: string;
  /** User metadata, names in lower case (S3's `x-amz-meta-*` without the prefix). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** A file's or directory's tags: at most 50, as S3 allows, and an empty set removes them. */
export type UfsTags = Readonly<Record<string, string>>;

export interface UfsCallOptions {
  signal?: AbortSignal | undefined;
}

export interface UfsReadOptions extends UfsCallOptions {
  /** First byte to read; default 0. */
  offset?: number | undefined;
  /** Most bytes to read; default to the end of the file. */
  length?: number | undefined;
  /** Fail with FAILED_PRECONDITION unless the file's version is this one. */
  expectVersion?: string | undefined;
}

export interface UfsReadResult {
  /** Exactly the requested bytes; emits a DoraError on failure. */
  readonly stream: Readable;
  /** The file the bytes come from (its whole size and version). */
  readonly status: UfsStatus;
}

/** A replayable buffer, or a stream of chunks (a Node Readable is one). */
export type UfsWriteSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface UfsWriteOptions extends UfsCallOptions {
  /** The exact length of the source, when known. */
  size?: number | undefined;
  contentType?: string | undefined;
  /** User metadata to keep with the file (names in lower case). */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Tags to set on the new file; ignored where `capabilities.tagging` is false. */
  tags?: UfsTags | undefined;
}

export interface UfsListOptions extends UfsCallOptions {
  recursive?: boolean | undefined;
  /** Yield only entries whose path sorts after this one (relative to the store's root). */
  startAfter?: string | undefined;
}

export interface UfsPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** Native multipart upload: parts go to the store as they arrive, never held in memory. */
export interface UfsMultipart {
  /** Starts an upload and returns its id. */
  create(path: string, options?: UfsWriteOptions): Promise<string>;
  /** Uploads one part (1..10000). Idempotent for a replayable source. */
  uploadPart(path: string, upload: { uploadId: string; partNumber: number }, source: UfsWriteSource, options?: UfsWriteOptions): Promise<UfsPart>;
  /** Assembles the parts in order; the file becomes visible atomically. */
  complete(path: string, uploadId: string, parts: readonly UfsPart[], options?: UfsCallOptions): Promise<UfsStatus>;
  /** Discards the upload and its parts. Idempotent. */
  abort(path: string, uploadId: string, options?: UfsCallOptions): Promise<void>;
}

/** Tags on files and directories (the root included). */
export interface UfsTagging {
  /** The tags of a file or directory; none is an empty object. Throws NOT_FOUND. Idempotent. */
  get(path: string, options?: UfsCallOptions): Promise<UfsTags>;
  /** Replaces the tags of a file or directory; an empty set removes them. Throws NOT_FOUND. Idempotent. */
  put(path: string, tags: UfsTags, options?: UfsCallOptions): Promise<void>;
}
