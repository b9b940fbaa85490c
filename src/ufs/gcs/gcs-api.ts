import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import type { GcsAuth } from './gcs-auth.js';
import { GcsHttpError } from './gcs-errors.js';

export interface GcsObject {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** The content's version: a decimal number that changes whenever the object is written. */
  readonly generation: string;
  /** MD5 of the content in hex; absent for composite objects. */
  readonly md5: string | undefined;
  /** From the object's metadata (not from downloads). */
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

export interface GcsDownload extends GcsObject {
  readonly body: Readable;
}

export interface GcsListPage {
  readonly objects: readonly GcsObject[];
  /** Names ending in the delimiter, standing for everything below them. */
  readonly prefixes: readonly string[];
  readonly nextPageToken: string | undefined;
}

/** What a new object is written with. */
export interface GcsObjectFields {
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** A resumable session's answer to a chunk: the object once complete, else how many bytes it holds. */
export type GcsChunkResult = { readonly object: GcsObject } | { readonly persisted: number };

/** The object resource, as far as dora reads it (https://cloud.google.com/storage/docs/json_api/v1/objects#resource). */
interface ObjectResource {
  name?: string;
  size?: string;
  generation?: string;
  md5Hash?: string;
  updated?: string;
  contentType?: string;
  metadata?: Record<string, string>;
}

interface GcsCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A path below the endpoint, or a resumable session's URI (which needs no Authorization: it is its own credential). */
  readonly target: { path: string; query?: Record<string, string | number | undefined> } | { session: string };
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | Readable;
  /** Statuses that are answers rather than errors; default 2xx. */
  readonly accept?: readonly number[];
  readonly signal: AbortSignal | undefined;
}

/**
 * The slice of Cloud Storage's JSON API (https://cloud.google.com/storage/docs/json_api) dora
 * uses, over one keep-alive undici Agent. Methods throw GcsHttpError for error statuses and
 * undici's errors for network failures, untranslated (see `fromGcsError`), and never retry: the
 * one exception is a request refused with 401 whose body can be sent again, which is sent once
 * more with a renewed token (an access token can expire between its check and its use).
 */
export class GcsApi {
  readonly #agent: Agent;
  readonly #endpoint: URL;
  readonly #auth: GcsAuth;

  /** `auth` is made with the API's own connection pool (a token endpoint is reached through it). */
  constructor(settings: { endpoint: string; maxSockets: number; auth: (dispatcher: Dispatcher) => GcsAuth }) {
    this.#agent = new Agent({ connections: settings.maxSockets, keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
    this.#endpoint = new URL(settings.endpoint);
    this.#auth = settings.auth(this.#agent);
  }

  /** Objects: get (metadata). */
  async get(bucket: string, name: string, signal: AbortSignal | undefined): Promise<GcsObject> {
    const answer = await this.#call({ method: 'GET', target: { path: objectPath(bucket, name) }, signal });
    return fromResource((await answer.body.json()) as ObjectResource);
  }

  /**
   * Objects: get with `alt=media`: the content, or the bytes of `range` (`bytes=a-b`), pinned to
   * a generation when `ifGenerationMatch` is set (else 412). The generation, MD5 and whole size
   * come from the `x-goog-generation`, `x-goog-hash` and `Content-Range` (or
   * `x-goog-stored-content-length`) headers GCS sends with media.
   */
  async download(bucket: string, name: string, options: { range?: string | undefined; ifGenerationMatch?: string | undefined }, signal: AbortSignal | undefined): Promise<GcsDownload> {
    const answer = await this.#call({
      method: 'GET',
      target: { path: objectPath(bucket, name), query: { alt: 'media', ifGenerationMatch: options.ifGenerationMatch } },
      headers: options.range === undefined ? {} : { range: options.range },
      signal,
    });
    const h = answer.headers;
    const generation = header(h, 'x-goog-generation') ?? options.ifGenerationMatch;
    if (generation === undefined) {
      answer.body.destroy();
      throw new Error('the store sent media without an x-goog-generation header');
    }
    const total = /\/(\d+)$/.exec(header(h, 'content-range') ?? '')?.[1] ?? header(h, 'x-goog-stored-content-length') ?? header(h, 'content-length');
    const md5 = /(?:^|,)\s*md5=([^,\s]+)/.exec(header(h, 'x-goog-hash') ?? '')?.[1];
    const modified = header(h, 'last-modified');
    return {
      name,
      size: Number(total ?? 0),
      mtimeMs: modified === undefined ? 0 : Date.parse(modified) || 0,
      generation,
      md5: hexOf(md5),
      body: answer.body,
    };
  }

  /** Objects: list, one page: objects in name order, and with a delimiter the prefixes below it. */
  async list(
    bucket: string,
    options: { prefix: string; delimiter?: string | undefined; startOffset?: string | undefined; pageToken?: string | undefined; maxResults: number },
    signal: AbortSignal | undefined,
  ): Promise<GcsListPage> {
    const answer = await this.#call({ method: 'GET', target: { path: `${bucketPath(bucket)}/o`, query: { ...options } }, signal });
    const page = (await answer.body.json()) as { items?: ObjectResource[]; prefixes?: string[]; nextPageToken?: string };
    return { objects: (page.items ?? []).map(fromResource), prefixes: page.prefixes ?? [], nextPageToken: page.nextPageToken || undefined };
  }

  /** Objects: delete. */
  async delete(bucket: string, name: string, signal: AbortSignal | undefined): Promise<void> {
    const answer = await this.#call({ method: 'DELETE', target: { path: objectPath(bucket, name) }, signal });
    await answer.body.dump();
  }

  /**
   * Objects: insert in one request: `uploadType=media` when there are no fields to set, else
   * `uploadType=multipart` (metadata and content as one multipart/related body). A buffer is sent
   * whole; a stream is streamed, and must yield exactly `size` bytes.
   */
  async insert(bucket: string, name: string, content: Uint8Array | Readable, options: GcsObjectFields & { size: number }, signal: AbortSignal | undefined): Promise<GcsObject> {
    const plain = options.contentType === undefined && (options.metadata === undefined || Object.keys(options.metadata).length === 0);
    let call: Omit<GcsCall, 'method' | 'signal'>;
    if (plain) {
      call = {
        target: { path: `/upload${bucketPath(bucket)}/o`, query: { uploadType: 'media', name } },
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(options.size) },
        body: content instanceof Uint8Array ? content : Readable.from(holdingLast(content)),
      };
    } else {
      const boundary = `dora-${randomBytes(16).toString('hex')}`;
      const head = Buffer.from(
        `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(resource(name, options))}\r\n` +
          `--${boundary}\r\ncontent-type: ${mediaType(options.contentType)}\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      call = {
        target: { path: `/upload${bucketPath(bucket)}/o`, query: { uploadType: 'multipart' } },
        headers: { 'content-type': `multipart/related; boundary=${boundary}`, 'content-length': String(head.length + options.size + tail.length) },
        body: content instanceof Uint8Array ? Buffer.concat([head, content, tail]) : Readable.from(framed(head, content, tail)),
      };
    }
    const answer = await this.#call({ ...call, method: 'POST', signal });
    return fromResource((await answer.body.json()) as ObjectResource);
  }

  /** Objects: insert with `uploadType=resumable`: starts a session and returns its URI. */
  async startResumable(bucket: string, name: string, options: GcsObjectFields & { size?: number | undefined }, signal: AbortSignal | undefined): Promise<string> {
    const answer = await this.#call({
      method: 'POST',
      target: { path: `/upload${bucketPath(bucket)}/o`, query: { uploadType: 'resumable', name } },
      headers: {
        'content-type': 'application/json; charset=UTF-8',
        'x-upload-content-type': mediaType(options.contentType),
        ...(options.size === undefined ? {} : { 'x-upload-content-length': String(options.size) }),
      },
      body: JSON.stringify(resource(name, options)),
      signal,
    });
    await answer.body.dump();
    const location = header(answer.headers, 'location');
    if (location === undefined) throw new Error('the store started a resumable upload without a Location header');
    return new URL(location, this.#endpoint).href;
  }

  /**
   * Sends bytes [offset, offset + chunk.length) of a resumable upload, with the object's `total`
   * size once known (a chunk reaching it finalizes the object). 308 answers how many bytes the
   * session holds, which may be fewer than were sent; 200/201, the object.
   */
  async putChunk(session: string, chunk: Uint8Array, position: { offset: number; total?: number | undefined }, signal: AbortSignal | undefined): Promise<GcsChunkResult> {
    const total = position.total ?? '*';
    const range = chunk.length === 0 ? `bytes */${total}` : `bytes ${position.offset}-${position.offset + chunk.length - 1}/${total}`;
    const answer = await this.#call({
      method: 'PUT',
      target: { session },
      headers: { 'content-range': range, 'content-length': String(chunk.length) },
      body: chunk,
      accept: [200, 201, 308],
      signal,
    });
    if (answer.statusCode !== 308) return { object: fromResource((await answer.body.json()) as ObjectResource) };
    await answer.body.dump();
    // No Range header: the session holds nothing yet.
    const held = /^bytes=0-(\d+)$/.exec(header(answer.headers, 'range') ?? '')?.[1];
    return { persisted: held === undefined ? 0 : Number(held) + 1 };
  }

  /** Cancels a resumable session (DELETE → 499); one already gone is fine. */
  async cancelResumable(session: string, signal: AbortSignal | undefined): Promise<void> {
    const answer = await this.#call({ method: 'DELETE', target: { session }, accept: [200, 204, 404, 410, 499], signal });
    await answer.body.dump();
  }

  async destroy(): Promise<void> {
    await this.#agent.destroy();
  }

  async #call(call: GcsCall): Promise<Dispatcher.ResponseData> {
    const url = 'session' in call.target ? new URL(call.target.session) : this.#url(call.target.path, call.target.query ?? {});
    let authorization = 'session' in call.target ? undefined : await this.#auth.authorization(call.signal);
    let answer = await this.#send(url, call, authorization);
    if (answer.statusCode === 401 && authorization !== undefined && this.#auth.renew(authorization) && !(call.body instanceof Readable)) {
      await answer.body.dump();
      authorization = await this.#auth.authorization(call.signal);
      answer = await this.#send(url, call, authorization);
    }
    const ok = call.accept === undefined ? answer.statusCode >= 200 && answer.statusCode < 300 : call.accept.includes(answer.statusCode);
    if (ok) return answer;
    throw new GcsHttpError(answer.statusCode, await answer.body.text().catch(() => ''));
  }

  #send(url: URL, call: GcsCall, authorization: string | undefined): Promise<Dispatcher.ResponseData> {
    return this.#agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: call.method,
      headers: { ...call.headers, ...(authorization === undefined ? {} : { authorization }) },
      body: call.body ?? null,
      signal: call.signal ?? null,
    });
  }

  #url(path: string, query: Record<string, string | number | undefined>): URL {
    const search = Object.entries(query)
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([k, v]) => `${k}=${encode(String(v))}`)
      .join('&');
    const url = new URL(this.#endpoint);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    url.search = search;
    return url;
  }
}

/** Percent-encodes everything but RFC 3986's unreserved characters ('/' too: a name is one path segment). */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function bucketPath(bucket: string): string {
  return `/storage/v1/b/${encode(bucket)}`;
}

function objectPath(bucket: string, name: string): string {
  return `${bucketPath(bucket)}/o/${encode(name)}`;
}

/** A content type fit for a header, else the store's default. */
function mediaType(contentType: string | undefined): string {
  return contentType !== undefined && /^[\x20-\x7e]+$/.test(contentType) ? contentType : 'application/octet-stream';
}

function resource(name: string, fields: GcsObjectFields): ObjectResource {
  return {
    name,
    ...(fields.contentType === undefined ? {} : { contentType: fields.contentType }),
    ...(fields.metadata === undefined || Object.keys(fields.metadata).length === 0 ? {} : { metadata: { ...fields.metadata } }),
  };
}

function fromResource(r: ObjectResource): GcsObject {
  return {
    name: r.name ?? '',
    size: Number(r.size ?? 0),
    mtimeMs: r.updated === undefined ? 0 : Date.parse(r.updated) || 0,
    generation: r.generation ?? '',
    md5: hexOf(r.md5Hash),
    contentType: r.contentType,
    metadata: r.metadata ?? {},
  };
}

/** GCS gives MD5s in base64; dora's ETags are hex. */
function hexOf(base64: string | undefined): string | undefined {
  return base64 === undefined || base64 === '' ? undefined : Buffer.from(base64, 'base64').toString('hex');
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Passes chunks through one step behind, so the request's last byte leaves only once the source
 * has ended: a source that fails (say, longer than declared) fails before the store holds the
 * declared length and creates the object.
 */
async function* holdingLast(content: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined;
  for await (const chunk of content) {
    if (held !== undefined) yield held;
    held = chunk;
  }
  if (held !== undefined) yield held;
}

async function* framed(head: Uint8Array, content: AsyncIterable<Uint8Array>, tail: Uint8Array): AsyncGenerator<Uint8Array> {
  yield head;
  yield* content;
  yield tail;
}
