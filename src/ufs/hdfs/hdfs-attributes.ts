import type { UfsAttributes } from '../under-file-system.js';

/**
 * The extended attribute in which dora keeps what HDFS does not: the content's MD5 (computed
 * while writing) and the content type and user metadata a write carried. One JSON value, so a
 * write sets it with one SETXATTR; the `user.` namespace, so any user who may read the file may
 * read it. Bound to the version the file had when written: a file changed since (an append, a
 * truncate) is described by nothing rather than by its old self.
 */
export const ATTRIBUTES_XATTR = 'user.dora.attributes';

export interface HdfsAttributeRecord {
  readonly version: string;
  readonly md5: string;
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

export function encodeAttributes(record: HdfsAttributeRecord): Buffer {
  return Buffer.from(JSON.stringify({
    version: record.version,
    md5: record.md5,
    ...(record.contentType === undefined ? {} : { contentType: record.contentType }),
    ...(record.metadata === undefined || Object.keys(record.metadata).length === 0 ? {} : { metadata: record.metadata }),
  }));
}

/** The record kept for a file of `version`, or undefined when there is none or it describes another version. */
export function decodeAttributes(xattrs: ReadonlyMap<string, Buffer> | undefined, version: string): HdfsAttributeRecord | undefined {
  const value = xattrs?.get(ATTRIBUTES_XATTR);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined; // not dora's: ignored, as a missing record would be
  }
  const r = parsed as Record<string, unknown> | null;
  if (r === null || r['version'] !== version || typeof r['md5'] !== 'string') return undefined;
  const metadata = r['metadata'];
  const validMetadata = typeof metadata === 'object' && metadata !== null && Object.values(metadata).every((v) => typeof v === 'string');
  return {
    version,
    md5: r['md5'],
    ...(typeof r['contentType'] === 'string' ? { contentType: r['contentType'] } : {}),
    ...(validMetadata ? { metadata: metadata as Record<string, string> } : {}),
  };
}

/** What a file's status says it was written with (no record: no content type, no metadata). */
export function recordAttributes(record: HdfsAttributeRecord | undefined): UfsAttributes {
  return { ...(record?.contentType === undefined ? {} : { contentType: record.contentType }), metadata: record?.metadata ?? {} };
}
