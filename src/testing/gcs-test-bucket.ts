import { createHash } from 'node:crypto';
import { GcsTestError } from './gcs-test-http.js';

/** One stored object of the GCS test server. */
export interface GcsTestObject {
  readonly name: string;
  readonly data: Buffer;
  readonly generation: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** base64, as the JSON API gives it. */
  readonly md5Hash: string;
  readonly updated: Date;
}

/** What a new object is written with. */
export interface GcsTestObjectFields {
  readonly contentType?: string | undefined;
  readonly metadata?: Record<string, string> | undefined;
}

const MAX_RESULTS = 1000;

let lastGeneration = 0;

/**
 * Generations as GCS makes them: microseconds since the epoch, strictly increasing, so a
 * rewritten object always gets a new one.
 */
function nextGeneration(): string {
  lastGeneration = Math.max(lastGeneration + 1, Date.now() * 1000);
  return String(lastGeneration);
}

/** A bucket of the GCS test server, in memory: objects by name, listed in byte order of name. */
export class GcsTestBucket {
  readonly name: string;
  readonly publicRead: boolean;
  readonly created = new Date();
  readonly #objects = new Map<string, GcsTestObject>();

  constructor(name: string, options: { publicRead?: boolean } = {}) {
    this.name = name;
    this.publicRead = options.publicRead ?? false;
  }

  /** Replaces (or creates) an object with a new generation. */
  put(name: string, data: Buffer, fields: GcsTestObjectFields): GcsTestObject {
    checkName(name);
    const metadata = fields.metadata !== undefined && Object.keys(fields.metadata).length > 0 ? { ...fields.metadata } : undefined;
    const object: GcsTestObject = {
      name,
      data,
      generation: nextGeneration(),
      contentType: fields.contentType ?? 'application/octet-stream',
      metadata,
      md5Hash: createHash('md5').update(data).digest('base64'),
      updated: new Date(),
    };
    this.#objects.set(name, object);
    return object;
  }

  /** The object; throws 404, or 412 when `ifGenerationMatch` is given and differs. */
  get(name: string, ifGenerationMatch: string | null): GcsTestObject {
    const object = this.#objects.get(name);
    if (object === undefined) throw new GcsTestError(404, 'notFound', `No such object: ${this.name}/${name}`);
    if (ifGenerationMatch !== null && ifGenerationMatch !== object.generation) {
      throw new GcsTestError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
    }
    return object;
  }

  delete(name: string): void {
    if (!this.#objects.delete(name)) throw new GcsTestError(404, 'notFound', `No such object: ${this.name}/${name}`);
  }

  /**
   * Objects: list. Names under `prefix`, from `startOffset` on (inclusive), in byte order; with a
   * delimiter, names with it past the prefix roll up into `prefixes`. `maxResults` counts items
   * and prefixes together; the page token is where the page stopped.
   */
  list(query: URLSearchParams): { items: GcsTestObject[]; prefixes: string[]; nextPageToken: string | undefined } {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const startOffset = query.get('startOffset');
    const maxResults = Math.min(MAX_RESULTS, Number(query.get('maxResults') ?? MAX_RESULTS));
    if (!Number.isInteger(maxResults) || maxResults < 1) throw new GcsTestError(400, 'invalid', `Invalid value for maxResults: ${query.get('maxResults')}`);
    const resume = decodeToken(query.get('pageToken'));
    const names = [...this.#objects.keys()].filter((n) => n.startsWith(prefix)).sort(byteOrder);
    const items: GcsTestObject[] = [];
    const prefixes: string[] = [];
    let last: { after: string; prefix?: string } | undefined;
    for (const name of names) {
      if (startOffset !== null && byteOrder(name, startOffset) < 0) continue;
      if (resume !== undefined && (byteOrder(name, resume.after) <= 0 || (resume.prefix !== undefined && name.startsWith(resume.prefix)))) continue;
      const cut = delimiter === '' ? -1 : name.indexOf(delimiter, prefix.length);
      const rolled = cut < 0 ? undefined : name.slice(0, cut + delimiter.length);
      if (rolled !== undefined && rolled === last?.prefix) continue;
      if (items.length + prefixes.length === maxResults) {
        return { items, prefixes, nextPageToken: Buffer.from(JSON.stringify(last)).toString('base64url') };
      }
      if (rolled === undefined) {
        items.push(this.#objects.get(name) as GcsTestObject);
        last = { after: name };
      } else {
        prefixes.push(rolled);
        last = { after: name, prefix: rolled };
      }
    }
    return { items, prefixes, nextPageToken: undefined };
  }
}

/** The object resource (https://cloud.google.com/storage/docs/json_api/v1/objects#resource), as far as the test server keeps one. */
export function objectResource(endpoint: string, bucket: string, o: GcsTestObject): Record<string, unknown> {
  const path = `b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(o.name)}`;
  return {
    kind: 'storage#object',
    id: `${bucket}/${o.name}/${o.generation}`,
    selfLink: `${endpoint}/storage/v1/${path}`,
    mediaLink: `${endpoint}/download/storage/v1/${path}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket,
    generation: o.generation,
    metageneration: '1',
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.data.length),
    md5Hash: o.md5Hash,
    etag: Buffer.from(`${o.generation}/1`).toString('base64'),
    timeCreated: o.updated.toISOString(),
    updated: o.updated.toISOString(),
    ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
  };
}

/** Object names: 1-1024 bytes of UTF-8, no carriage return or line feed. */
function checkName(name: string): void {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > 1024 || /[\r\n]/.test(name)) throw new GcsTestError(400, 'invalid', `The object name '${name.slice(0, 64)}' is invalid.`);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function decodeToken(token: string | null): { after: string; prefix?: string } | undefined {
  if (token === null || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as { after?: unknown; prefix?: unknown };
    if (typeof parsed.after === 'string') return { after: parsed.after, ...(typeof parsed.prefix === 'string' ? { prefix: parsed.prefix } : {}) };
  } catch {
    // reported below
  }
  throw new GcsTestError(400, 'invalid', 'Invalid pageToken');
}
