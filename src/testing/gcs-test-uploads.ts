import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { objectResource, type GcsTestBucket, type GcsTestObjectFields } from './gcs-test-bucket.js';
import { GcsTestError, parseMultipart, readBody, sendJson } from './gcs-test-http.js';

/** Every chunk of a resumable upload but the last is a multiple of this; only whole units are kept. */
const CHUNK_UNIT = 256 * 1024;

interface Session {
  readonly bucket: GcsTestBucket;
  readonly name: string;
  readonly fields: GcsTestObjectFields;
  /** From X-Upload-Content-Length, when the client declared it. */
  readonly declared: number | undefined;
  readonly chunks: Buffer[];
  persisted: number;
}

/**
 * Objects: insert, as the JSON API takes it (https://cloud.google.com/storage/docs/uploads-downloads):
 * `uploadType=media` (the body is the content), `multipart` (a multipart/related body: the
 * resource as JSON, then the content) and `resumable` (a session URI, then chunks PUT to it).
 * A resumable session keeps only whole 256 KiB units of a chunk that does not finish the upload,
 * answers 308 with `Range: bytes=0-N` for what it holds, refuses a chunk that starts past that
 * (400), finalizes the object when the bytes reach the declared total, and is cancelled by DELETE
 * (499). An object appears only once its whole body has arrived.
 */
export class GcsTestUploads {
  /** When set, a chunk request keeps at most this many bytes (a multiple of 256 KiB), to test resuming after 308. */
  persistAtMost: number | undefined;
  /** Chunk requests received, the largest chunk's bytes, and sessions cancelled. */
  chunkRequests = 0;
  largestChunk = 0;
  cancelled = 0;
  readonly #endpoint: string;
  readonly #sessions = new Map<string, Session>();

  constructor(endpoint: string) {
    this.#endpoint = endpoint;
  }

  /** Sessions started and neither finished nor cancelled. */
  get open(): number {
    return this.#sessions.size;
  }

  /** POST /upload/storage/v1/b/{bucket}/o?uploadType=… */
  async insert(req: IncomingMessage, res: ServerResponse, bucket: GcsTestBucket, query: URLSearchParams): Promise<void> {
    const uploadType = query.get('uploadType');
    const body = await readBody(req);
    if (uploadType === 'media') {
      const name = required(query.get('name'));
      const object = bucket.put(name, body, { contentType: req.headers['content-type'] });
      sendJson(res, 200, objectResource(this.#endpoint, bucket.name, object));
    } else if (uploadType === 'multipart') {
      const [meta, media] = parseMultipart(body, req.headers['content-type'] ?? '');
      if (meta === undefined || media === undefined) throw new GcsTestError(400, 'invalid', 'A multipart upload needs a metadata part and a media part');
      const resource = parseResource(meta.data);
      const object = bucket.put(required(resource.name ?? query.get('name')), media.data, {
        contentType: resource.contentType ?? media.headers['content-type'],
        metadata: resource.metadata,
      });
      sendJson(res, 200, objectResource(this.#endpoint, bucket.name, object));
    } else if (uploadType === 'resumable') {
      const resource = body.length === 0 ? {} : parseResource(body);
      const declared = req.headers['x-upload-content-length'];
      const id = randomBytes(24).toString('base64url');
      const name = required(query.get('name') ?? resource.name);
      this.#sessions.set(id, {
        bucket,
        name,
        fields: { contentType: resource.contentType ?? header(req, 'x-upload-content-type'), metadata: resource.metadata },
        declared: declared === undefined ? undefined : Number(declared),
        chunks: [],
        persisted: 0,
      });
      const location = `${this.#endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket.name)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
      res.writeHead(200, { location, 'x-guploader-uploadid': id, 'content-length': '0' });
      res.end();
    } else {
      throw new GcsTestError(400, 'invalid', `Invalid uploadType: ${uploadType ?? '(none)'}`);
    }
  }

  /** PUT to a session URI: one chunk (`Content-Range: bytes a-b/total|*`) or a status query (`bytes *\/total|*`). */
  async chunk(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    this.chunkRequests++;
    const session = this.#session(id);
    const body = await readBody(req);
    this.largestChunk = Math.max(this.largestChunk, body.length);
    const range = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(req.headers['content-range'] ?? 'bytes */*');
    if (range === null) throw new GcsTestError(400, 'invalid', `Invalid Content-Range: ${req.headers['content-range']}`);
    const total = range[3] === '*' ? undefined : Number(range[3]);
    if (total !== undefined && session.declared !== undefined && total !== session.declared) {
      throw new GcsTestError(400, 'invalid', `The total ${total} differs from the declared X-Upload-Content-Length ${session.declared}`);
    }
    let end = session.persisted; // one past the last byte this request holds
    if (range[1] !== undefined && range[2] !== undefined) {
      const first = Number(range[1]);
      end = Number(range[2]) + 1;
      if (end - first !== body.length) throw new GcsTestError(400, 'invalid', `Content-Range spans ${end - first} bytes but the body has ${body.length}`);
      if (first > session.persisted) {
        throw new GcsTestError(400, 'invalid', `Invalid request. According to the Content-Range header, the upload offset is ${first} byte(s), which exceeds already uploaded size of ${session.persisted} byte(s).`);
      }
      if (total !== undefined && end > total) throw new GcsTestError(400, 'invalid', `Content-Range ends at byte ${end - 1}, past the total of ${total}`);
      // Only whole units of a chunk that does not finish the upload are kept, and at most persistAtMost.
      let keep = end === total ? end : Math.floor(end / CHUNK_UNIT) * CHUNK_UNIT;
      if (this.persistAtMost !== undefined) keep = Math.min(keep, session.persisted + this.persistAtMost);
      if (keep > session.persisted) {
        session.chunks.push(body.subarray(session.persisted - first, keep - first));
        session.persisted = keep;
      }
    } else if (body.length > 0) {
      throw new GcsTestError(400, 'invalid', 'A status query (Content-Range: bytes */…) has no body');
    }
    if (total !== undefined && session.persisted === total) {
      this.#sessions.delete(id);
      const object = session.bucket.put(session.name, Buffer.concat(session.chunks), session.fields);
      sendJson(res, 200, objectResource(this.#endpoint, session.bucket.name, object));
      return;
    }
    res.writeHead(308, 'Resume Incomplete', { 'content-length': '0', ...(session.persisted === 0 ? {} : { range: `bytes=0-${session.persisted - 1}` }) });
    res.end();
  }

  /** DELETE to a session URI: cancels it (499); later requests to it get 404. */
  cancel(res: ServerResponse, id: string): void {
    this.#session(id);
    this.#sessions.delete(id);
    this.cancelled++;
    res.writeHead(499, 'Client Closed Request', { 'content-length': '0' });
    res.end();
  }

  #session(id: string): Session {
    const session = this.#sessions.get(id);
    if (session === undefined) throw new GcsTestError(404, 'notFound', 'No such upload session (finished, cancelled or never started)');
    return session;
  }
}

function parseResource(data: Buffer): { name?: string; contentType?: string; metadata?: Record<string, string> } {
  try {
    const parsed = JSON.parse(data.toString()) as { name?: unknown; contentType?: unknown; metadata?: unknown };
    const metadata = typeof parsed.metadata === 'object' && parsed.metadata !== null ? (parsed.metadata as Record<string, string>) : undefined;
    return {
      ...(typeof parsed.name === 'string' ? { name: parsed.name } : {}),
      ...(typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {}),
      ...(metadata === undefined ? {} : { metadata }),
    };
  } catch {
    throw new GcsTestError(400, 'parseError', 'Parse Error: the object resource is not JSON');
  }
}

function required(name: string | null | undefined): string {
  if (name === null || name === undefined || name === '') throw new GcsTestError(400, 'required', 'Required parameter: name');
  return name;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
