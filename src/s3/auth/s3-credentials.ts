import { DoraError } from '../../common/errors.js';
import { S3AuthError } from './s3-auth-error.js';

/** What a key may do in a bucket. `read` covers GET/HEAD/list; `read-write` adds PUT/DELETE/multipart. */
export type BucketAccess = 'read' | 'read-write';

/** The access an operation needs. */
export type RequiredAccess = 'read' | 'write';

export interface CredentialEntry {
  secret: string;
  /**
   * Per-bucket permissions. Omitted or `'*'`: every bucket, read-write. A record lists the buckets the
   * key may use; its `'*'` entry, if any, applies to buckets not listed by name.
   */
  buckets?: Readonly<Record<string, BucketAccess>> | '*';
}

/** Access key → entry, as it appears in dora's configuration. */
export type CredentialsConfig = Readonly<Record<string, CredentialEntry>>;

// Keys appear unquoted in `Authorization: ... Credential=<key>/<scope>, ...`: no separators allowed.
const ACCESS_KEY_PATTERN = /^[A-Za-z0-9._~+@-]+$/;

interface StoredEntry {
  readonly secret: string;
  readonly buckets: ReadonlyMap<string, BucketAccess> | '*';
}

/**
 * The S3 credentials dora accepts: access key id → secret key and bucket permissions. Immutable once
 * built. Secrets live in a private field, so logging the store never prints them.
 */
export class CredentialStore {
  readonly #entries: ReadonlyMap<string, StoredEntry>;

  private constructor(entries: ReadonlyMap<string, StoredEntry>) {
    this.#entries = entries;
  }

  /**
   * Builds a store from configuration data (e.g. parsed YAML).
   * @throws DoraError INVALID_ARGUMENT naming the offending key when the data is not a CredentialsConfig.
   */
  static from(plain: unknown): CredentialStore {
    if (!isRecord(plain)) throw invalid('the credentials', 'expected an object of access key → { secret, buckets? }');
    const entries = new Map<string, StoredEntry>();
    for (const [accessKeyId, value] of Object.entries(plain)) {
      if (!ACCESS_KEY_PATTERN.test(accessKeyId)) {
        throw invalid(`access key "${accessKeyId}"`, 'only letters, digits and . _ ~ + @ - are allowed');
      }
      if (!isRecord(value)) throw invalid(`access key "${accessKeyId}"`, 'expected { secret, buckets? }');
      const { secret, buckets } = value;
      if (typeof secret !== 'string' || secret === '') {
        throw invalid(`access key "${accessKeyId}"`, 'secret must be a non-empty string');
      }
      entries.set(accessKeyId, { secret, buckets: parseBuckets(accessKeyId, buckets) });
    }
    return new CredentialStore(entries);
  }

  /** How many access keys are configured; zero means the S3 API runs without authentication. */
  get size(): number {
    return this.#entries.size;
  }

  /** The secret key for an access key id, or undefined when the key is not configured. */
  secretFor(accessKeyId: string): string | undefined {
    return this.#entries.get(accessKeyId)?.secret;
  }

  /**
   * Whether a configured key may perform an operation needing `access` in `bucket`. A bucket of
   * undefined stands for service-level operations (ListBuckets), which every configured key may perform.
   */
  allows(accessKeyId: string, bucket: string | undefined, access: RequiredAccess): boolean {
    const entry = this.#entries.get(accessKeyId);
    if (entry === undefined) return false;
    if (bucket === undefined || entry.buckets === '*') return true;
    const granted = entry.buckets.get(bucket) ?? entry.buckets.get('*');
    if (granted === undefined) return false;
    return access === 'read' || granted === 'read-write';
  }

  /** @throws S3AuthError AccessDenied when {@link allows} says no. */
  authorize(accessKeyId: string, bucket: string | undefined, access: RequiredAccess): void {
    if (!this.allows(accessKeyId, bucket, access)) {
      const target = bucket === undefined ? 'the service' : `bucket "${bucket}"`;
      throw new S3AuthError('AccessDenied', `Cannot ${access} ${target} as "${accessKeyId}": access denied`);
    }
  }
}

function parseBuckets(accessKeyId: string, buckets: unknown): StoredEntry['buckets'] {
  if (buckets === undefined || buckets === '*') return '*';
  if (!isRecord(buckets)) throw invalid(`access key "${accessKeyId}"`, `buckets must be '*' or an object of bucket → 'read' | 'read-write'`);
  const map = new Map<string, BucketAccess>();
  for (const [bucket, access] of Object.entries(buckets)) {
    if (access !== 'read' && access !== 'read-write') {
      throw invalid(`access key "${accessKeyId}"`, `bucket "${bucket}" must map to 'read' or 'read-write', got ${JSON.stringify(access)}`);
    }
    map.set(bucket, access);
  }
  return map;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(subject: string, cause: string): DoraError {
  return new DoraError('INVALID_ARGUMENT', `Cannot configure S3 credentials for ${subject}: ${cause}`);
}
