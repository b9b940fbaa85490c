import type { S3Namespace } from './namespace/s3-namespace.js';
import type { CredentialStore } from './auth/s3-credentials.js';
import type { MultipartStore } from './multipart/multipart-store.js';

/** What S3 handlers work with: the namespace (this worker's, or routed to each file's owner). */
export interface S3Context {
  readonly namespace: S3Namespace;
  /** The region clients are told (GetBucketLocation, x-amz-bucket-region). */
  readonly region: string;
  /** The access keys, when configured (copies check read access to their source bucket). */
  readonly credentials?: CredentialStore;
  /** Where multipart uploads are staged. */
  readonly multipart?: MultipartStore;
}

export const OWNER = { ID: 'dora', DisplayName: 'dora' } as const;

/** `Thu, 01 Jan 2026 00:00:00 GMT`, as HTTP dates are written. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** `2026-01-01T00:00:00.000Z`, as S3 XML dates are written. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** An ETag as S3 sends it: quoted. */
export function quotedEtag(etag: string): string {
  return `"${etag}"`;
}

/** A file's ETag as S3 sends it: the content's MD5 where known, else its version (quoted). */
export function objectEtag(status: { readonly etag?: string | undefined; readonly version: string }): string {
  return quotedEtag(status.etag ?? status.version);
}
