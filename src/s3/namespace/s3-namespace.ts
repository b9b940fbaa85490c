import type { FileStatus } from '../../worker/file-status.js';
import type { ListPage } from '../../worker/list-directory.js';
import type { WriteOptions } from '../../worker/write-handler.js';

/** The bytes of a read: whole when they lie within one page, else a stream. */
export type NamespaceBytes = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * The dora namespace as the S3 handlers use it: served by the local worker (`dora start`) or
 * routed to each file's owner worker in a cluster (`RoutedNamespace`). Paths are dora paths;
 * failures are DoraErrors, mapped to S3 errors by the one table in s3-error.ts.
 */
export interface S3Namespace {
  /** Throws NOT_FOUND. With `attributes`, the content type and metadata are filled in. */
  stat(path: string, options?: { attributes?: boolean }): Promise<FileStatus>;
  /** One page of a directory listing in key order. Throws NOT_FOUND, NOT_A_DIRECTORY. */
  list(path: string, options?: { recursive?: boolean; startAfter?: string; limit?: number }): Promise<ListPage>;
  /** Bytes [offset, offset + length) of exactly `version`: ABORTED (retryable) when the file changed, never a mix. */
  read(path: string, options: { offset: number; length: number; version: string }): Promise<NamespaceBytes>;
  write(path: string, body: AsyncIterable<Uint8Array>, options: WriteOptions): Promise<FileStatus>;
  mkdir(path: string): Promise<void>;
  delete(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Throws UNIMPLEMENTED where the store keeps no tags. */
  tags(path: string): Promise<Readonly<Record<string, string>>>;
  setTags(path: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** The S3 API of the worker that owns `path` when it is another one (multipart uploads are kept there); absent on one node. */
  ownerGateway?(path: string): Promise<string | undefined>;
}
