import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { DoraError } from '../../common/errors.js';
import type { ObjectClient, ObjectGetResult, ObjectInfo, ObjectListPage, ObjectWriteFields, ObjectWritten } from '../object/object-client.js';
import { compareKeys } from '../ufs-path.js';
import type { SwiftApi } from './swift-api.js';
import { header, untilAborted } from './swift-auth.js';
import { SwiftProtocolError, fromSwiftError } from './swift-errors.js';
import type { SwiftLocation } from './swift-location.js';
import { attributesFromHeaders, metadataHeaders } from './swift-metadata.js';
import { ChunkReader } from '../../common/chunk-reader.js';
import { deleteObject, deleteQuietly, largeObjectSegments, unquote, uploadSlo, type SloTuning } from './swift-slo.js';

/** When an object goes in one PUT and how it is cut up otherwise. */
export interface SwiftUploadTuning extends SloTuning {
  /** Objects of known size up to this many bytes go in one PUT; larger ones, and unsized ones past one segment, as a static large object. */
  readonly multipartThreshold: number;
}

/** A row of a container listing (`?format=json`): an object, or with a delimiter a `subdir`. */
interface ListingRow {
  readonly name?: string;
  readonly subdir?: string;
  readonly bytes?: number;
  readonly hash?: string;
  readonly last_modified?: string;
  /** Present (quoted) for static large objects: the ETag HEAD and GET give. */
  readonly slo_etag?: string;
}

const SEGMENT_CONTAINER_TIMEOUT_MS = 30_000;

/**
 * One Swift container as an `ObjectClient`. An object's version is its ETag: the MD5 of the
 * content for a plain object (also its `etag`), Swift's SLO ETag for a static large object
 * (which HEAD, GET, If-Match and listings all agree on). Objects of known size up to the
 * threshold go in one PUT; larger ones as static large objects (`swift-slo.ts`), whose segments
 * are deleted with them and when they are replaced. Nothing here retries.
 */
export class SwiftClient implements ObjectClient {
  readonly #api: SwiftApi;
  readonly #container: string;
  readonly #segmentContainer: string;
  readonly #tuning: SwiftUploadTuning;
  #segmentsChecked: Promise<void> | undefined;
  #creatingSegments: Promise<void> | undefined;

  constructor(api: SwiftApi, location: Pick<SwiftLocation, 'container' | 'segmentContainer'>, tuning: SwiftUploadTuning) {
    this.#api = api;
    this.#container = location.container;
    this.#segmentContainer = location.segmentContainer;
    this.#tuning = tuning;
  }

  async head(key: string, signal: AbortSignal | undefined): Promise<ObjectInfo | undefined> {
    const answer = await this.#api.call({ method: 'HEAD', container: this.#container, object: key, accept: [200, 204, 404], signal });
    await answer.body.dump();
    return answer.statusCode === 404 ? undefined : infoFrom(key, answer.headers, Number(header(answer.headers, 'content-length') ?? 0));
  }

  async get(key: string, range: { offset: number; length?: number | undefined }, ifMatch: string | undefined, signal: AbortSignal | undefined): Promise<ObjectGetResult> {
    const { offset, length } = range;
    const headers: Record<string, string> = {};
    if (offset > 0 || length !== undefined) headers['range'] = `bytes=${offset}-${length === undefined ? '' : offset + length - 1}`;
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch.replace(/"/g, '')}"`;
    const answer = await this.#api.call({ method: 'GET', container: this.#container, object: key, headers, accept: [200, 206], signal });
    const total = /\/(\d+)\s*$/.exec(header(answer.headers, 'content-range') ?? '')?.[1] ?? header(answer.headers, 'content-length') ?? '0';
    if (answer.statusCode === 200 && (offset > 0 || (length !== undefined && Number(total) > length))) {
      answer.body.destroy();
      throw new SwiftProtocolError('INTERNAL', `the store ignored the range ${headers['range'] ?? ''}`);
    }
    const info = infoFrom(key, answer.headers, Number(total));
    return { ...info, body: answer.body, totalSize: info.size };
  }

  async put(key: string, body: Uint8Array | Readable, fields: ObjectWriteFields & { size?: number | undefined }, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    const headers = objectHeaders(fields);
    // A static large object being replaced leaves segments behind: they go once the new object is in place.
    const replaced = await largeObjectSegments(this.#api, this.#container, key, signal);
    const written = await this.#upload(key, body, body instanceof Uint8Array ? body.byteLength : fields.size, headers, signal);
    if (replaced !== undefined) await deleteQuietly(this.#api, replaced, this.#tuning.uploadConcurrency);
    return written;
  }

  delete(key: string, signal: AbortSignal | undefined): Promise<void> {
    return deleteObject(this.#api, this.#container, key, signal);
  }

  async list(prefix: string, page: { delimiter?: '/' | undefined; startAfter?: string | undefined; token?: string | undefined; maxKeys: number }, signal: AbortSignal | undefined): Promise<ObjectListPage> {
    // Swift's marker is exclusive, as S3's StartAfter: the listing goes on after it.
    const marker = page.token ?? page.startAfter;
    const query = { format: 'json', prefix: prefix === '' ? undefined : prefix, delimiter: page.delimiter, marker, limit: page.maxKeys };
    const answer = await this.#api.text({ method: 'GET', container: this.#container, query, accept: [200, 204], signal });
    const rows = answer.text.trim() === '' ? [] : (JSON.parse(answer.text) as ListingRow[]);
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    for (const row of rows) {
      if (row.subdir !== undefined) {
        // A marker inside a directory (a/b) still rolls up to that directory (a/), which sorts before it.
        if (marker === undefined || compareKeys(row.subdir, marker) > 0) prefixes.push(row.subdir);
      } else if (row.name !== undefined) {
        objects.push(listed(row));
      }
    }
    const last = rows[rows.length - 1];
    return { objects, prefixes, nextToken: rows.length >= page.maxKeys && last !== undefined ? (last.subdir ?? last.name) : undefined };
  }

  translate(error: unknown, attempt: string): DoraError {
    return fromSwiftError(error, attempt);
  }

  close(): Promise<void> {
    return this.#api.close();
  }

  async #upload(key: string, body: Uint8Array | Readable, size: number | undefined, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    const { multipartThreshold, partSize } = this.#tuning;
    if (size !== undefined && size <= multipartThreshold) return this.#putWhole(key, body, size, headers, signal);
    // Large or unsized: read one segment; a stream that ends within it goes in one PUT after all.
    const reader = new ChunkReader(body);
    let first: Uint8Array;
    try {
      first = await reader.read(partSize, signal);
    } catch (error) {
      await reader.close().catch(() => undefined);
      throw error;
    }
    if (reader.ended && first.byteLength <= multipartThreshold) return this.#putWhole(key, first, first.byteLength, headers, signal);
    const target = { container: this.#container, key, segmentContainer: this.#segmentContainer, headers, checkSegmentContainer: this.#checkSegmentContainer, createSegmentContainer: this.#createSegmentContainer };
    return uploadSlo(this.#api, target, { first, reader }, this.#tuning, signal);
  }

  /**
   * One PUT. A buffer goes with its MD5 as ETag (Swift refuses other bytes with 422); a stream's
   * MD5 is computed as it goes and checked against the ETag Swift answers, and its last chunk is
   * held back until the source has ended, so a source that fails never completes the object.
   */
  async #putWhole(key: string, body: Uint8Array | Readable, size: number, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    const hash = createHash('md5');
    const sent = body instanceof Uint8Array ? body : hashedHoldingLast(body, hash);
    const expected = body instanceof Uint8Array ? hash.update(body).digest('hex') : undefined;
    const answer = await this.#api.text({
      method: 'PUT',
      container: this.#container,
      object: key,
      headers: { ...headers, 'content-length': String(size), ...(expected === undefined ? {} : { etag: expected }) },
      body: sent,
      signal,
    });
    const etag = unquote(header(answer.headers, 'etag') ?? '');
    const md5 = expected ?? hash.digest('hex');
    if (etag !== md5) {
      await deleteQuietly(this.#api, [{ container: this.#container, object: key }], 1);
      throw new SwiftProtocolError('DATA_LOSS', `the store received other bytes than were sent (ETag ${etag}, MD5 ${md5}); the object was deleted`);
    }
    return { version: etag, etag };
  }

  /**
   * Makes sure the segment container exists, once per client: HEAD, and PUT when it is missing.
   * A 403 means the user may write but not read it (a container ACL): it is taken to exist, and
   * a segment PUT that finds it missing after all creates it. Checking first spares every
   * segment of a first upload a PUT whose body is sent only to be refused with 404.
   */
  readonly #checkSegmentContainer = (signal: AbortSignal | undefined): Promise<void> => {
    if (this.#segmentsChecked === undefined) {
      const checked = this.#api
        .call({ method: 'HEAD', container: this.#segmentContainer, accept: [200, 204, 403, 404], signal: AbortSignal.timeout(SEGMENT_CONTAINER_TIMEOUT_MS) })
        .then(async (answer) => {
          await answer.body.dump();
          if (answer.statusCode === 404) await this.#createSegmentContainer(undefined);
        });
      checked.catch(() => {
        if (this.#segmentsChecked === checked) this.#segmentsChecked = undefined;
      });
      this.#segmentsChecked = checked;
    }
    return untilAborted(this.#segmentsChecked, signal);
  };

  /** Creates the segment container (PUT is idempotent); calls at the same moment share one request. */
  readonly #createSegmentContainer = (signal: AbortSignal | undefined): Promise<void> => {
    this.#creatingSegments ??= this.#api
      .text({ method: 'PUT', container: this.#segmentContainer, accept: [201, 202, 204], signal: AbortSignal.timeout(SEGMENT_CONTAINER_TIMEOUT_MS) })
      .then(() => undefined)
      .finally(() => (this.#creatingSegments = undefined));
    return untilAborted(this.#creatingSegments, signal);
  };
}

/** The headers an object is written with: its content type and user metadata. */
function objectHeaders(fields: ObjectWriteFields): Record<string, string> {
  const headers = metadataHeaders(fields.metadata);
  const { contentType } = fields;
  if (contentType !== undefined) {
    if (!/^[\x20-\x7e]+$/.test(contentType)) throw new SwiftProtocolError('INVALID_ARGUMENT', `content type ${JSON.stringify(contentType)} is not printable ASCII`);
    headers['content-type'] = contentType;
  }
  return headers;
}

/** An object's info from the headers of HEAD or GET; `size` is the whole object's. */
function infoFrom(key: string, headers: Dispatcher.ResponseData['headers'], size: number): ObjectInfo {
  const etag = unquote(header(headers, 'etag') ?? '');
  const large = header(headers, 'x-static-large-object')?.toLowerCase() === 'true';
  const { contentType, metadata } = attributesFromHeaders(headers);
  return { key, size, mtimeMs: mtimeOf(headers), version: etag, etag: large ? undefined : etag, contentType, metadata };
}

/** X-Timestamp (seconds with five decimals) to whole ms, as listings give it; else Last-Modified (whole seconds). */
function mtimeOf(headers: Dispatcher.ResponseData['headers']): number {
  const timestamp = /^(\d+)(?:\.(\d+))?/.exec(header(headers, 'x-timestamp') ?? '');
  if (timestamp !== null) return Number(timestamp[1]) * 1000 + Number((timestamp[2] ?? '').padEnd(3, '0').slice(0, 3));
  return Date.parse(header(headers, 'last-modified') ?? '') || 0;
}

/** An object as a listing gives it: `last_modified` is UTC with microseconds and no zone. */
function listed(row: ListingRow): ObjectInfo {
  const version = row.slo_etag === undefined ? (row.hash ?? '') : unquote(row.slo_etag);
  const modified = row.last_modified === undefined ? NaN : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(row.last_modified) ? row.last_modified : `${row.last_modified}Z`);
  return { key: row.name ?? '', size: row.bytes ?? 0, mtimeMs: Number.isFinite(modified) ? modified : 0, version, etag: row.slo_etag === undefined ? row.hash : undefined };
}

/** Passes a stream on one chunk behind, hashing it: the last chunk leaves only once the source has ended. */
async function* hashedHoldingLast(source: AsyncIterable<Uint8Array>, hash: Hash): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined;
  for await (const chunk of source) {
    if (held !== undefined) yield held;
    hash.update(chunk);
    held = chunk;
  }
  if (held !== undefined) yield held;
}
