import { InFlight } from '../http/in-flight.js';
import { RequestIds } from '../observe/request-ids.js';
import { serveObserved } from '../observe/served-request.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './handlers/bucket-handlers.js';
import { copyObject } from './handlers/copy-object.js';
import { deleteObjects } from './handlers/delete-objects.js';
import { listObjectVersions } from './handlers/list-object-versions.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './handlers/multipart-handlers.js';
import { listObjects } from './handlers/list-objects.js';
import { getObject } from './handlers/object-read.js';
import { deleteObject, putObject } from './handlers/object-write.js';
import {
  deleteBucketTagging,
  deleteObjectTagging,
  getBucketTagging,
  getObjectTagging,
  putBucketTagging,
  putObjectTagging,
} from './handlers/tagging-handlers.js';
import { acceptAnonymousRequest } from './auth/anonymous-policy.js';
import type { RequestPayload } from './auth/request-payload.js';
import type { CredentialStore } from './auth/s3-credentials.js';
import { verifyRequest } from './auth/sigv4-verifier.js';
import type { S3Context } from './s3-context.js';
import { S3Error, toS3Error } from './s3-error.js';
import { forwardRequest, isMultipartCall } from './s3-forward.js';
import { objectPath, parseS3Target, type S3Request } from './s3-request.js';
import { sendS3Error } from './s3-response.js';

type Handler = (req: S3Request, res: ServerResponse, ctx: S3Context) => Promise<void>;

export interface S3ServerOptions {
  /** Access keys and what they may do; none configured means anonymous requests. */
  readonly credentials?: CredentialStore;
  /** Without credentials, accept anonymous requests from other hosts too (by default only loopback clients may). */
  readonly allowAnonymousRemote?: boolean;
  /** Told of each request once answered (metrics). */
  readonly observe?: (request: S3RequestEvent) => void;
  /** Requests slower than this are logged at warn; default 2 s. */
  readonly slowRequestMs?: number;
}

/** One answered S3 request. */
export interface S3RequestEvent {
  /** GetObject, PutObject…; `Unknown` when the request could not be routed. */
  readonly operation: string;
  readonly status: number;
  readonly seconds: number;
  /** Body bytes received (a PUT's) and sent (a GET's), as their content-length says. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Most bytes of request headers (S3 allows 8 KiB of user metadata; the rest is headroom). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The S3-compatible API, path-style (`/bucket/key`), over the dora namespace: bucket = a
 * top-level directory. Every response carries a request id; every failure is the XML error S3
 * sends, from the one table in s3-error.ts.
 */
export class S3Server {
  /** Requests being served now. */
  readonly inFlight = new InFlight();
  readonly #server: Server;
  readonly #ctx: S3Context;
  readonly #options: S3ServerOptions;
  readonly #ids = new RequestIds();

  constructor(ctx: S3Context, options: S3ServerOptions = {}) {
    this.#ctx = ctx;
    this.#options = options;
    this.#server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const { address, port: bound, family } = this.#server.address() as AddressInfo;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${bound}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      setTimeout(() => this.#server.closeAllConnections(), 2000).unref();
    });
  }

  #authenticate(raw: IncomingMessage, method: string, bucket: string): { accessKeyId: string | undefined; payload: RequestPayload } {
    return authenticateRequest(raw, method, bucket, this.#options);
  }

  async #handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight.track(res);
    const requestId = this.#ids.next();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('server', 'dora');
    const operation = { name: 'Unknown' };
    const observe = this.#options.observe;
    await serveObserved(
      raw,
      res,
      {
        server: 's3',
        requestId: () => requestId,
        name: () => operation.name,
        slowMs: this.#options.slowRequestMs ?? 2000,
        onDone: (seconds, status) =>
          observe?.({ operation: operation.name, status, seconds, bytesIn: Number(raw.headers['content-length'] ?? 0) || 0, bytesOut: Number(res.getHeader('content-length') ?? 0) || 0 }),
      },
      () => this.#serve(raw, res, requestId, operation),
    );
  }

  async #serve(raw: IncomingMessage, res: ServerResponse, requestId: string, operation: { name: string }): Promise<void> {
    const method = raw.method ?? 'GET';
    const resource = (raw.url ?? '/').split('?')[0] ?? '/';
    try {
      const target = parseS3Target(raw.url ?? '/');
      if (isMultipartCall(target) && raw.headers['x-dora-forwarded'] === undefined && this.#ctx.namespace.ownerGateway !== undefined) {
        const gateway = await this.#ctx.namespace.ownerGateway(objectPath(target.bucket, target.key));
        if (gateway !== undefined) {
          operation.name = 'Forwarded';
          return await forwardRequest(raw, res, gateway); // the owner authenticates it
        }
      }
      const { accessKeyId, payload } = this.#authenticate(raw, method, target.bucket);
      const req: S3Request = { method, ...target, headers: raw.headers, raw, requestId, accessKeyId, payload };
      const handler = route(req);
      if (handler !== undefined) operation.name = operationName(handler, method);
      if (handler === undefined) throw new S3Error('NotImplemented', 501, 'A header or query you provided implies functionality that is not implemented');
      await handler(req, res, this.#ctx);
    } catch (error) {
      raw.resume(); // drain an unread body so the connection can be reused
      sendS3Error(res, toS3Error(error), { method, resource, requestId });
    }
  }
}

/** Checks the signature (or the anonymous policy) and the key's access to the bucket. */
function authenticateRequest(
  raw: IncomingMessage,
  method: string,
  bucket: string,
  options: S3ServerOptions,
): { accessKeyId: string | undefined; payload: RequestPayload } {
  const url = raw.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const credentials = options.credentials;
  if (credentials === undefined || credentials.size === 0) {
    return acceptAnonymousRequest({ query, headers: raw.headersDistinct }, raw.socket.remoteAddress, { allowAnonymousRemote: options.allowAnonymousRemote === true });
  }
  const verified = verifyRequest({ method, path, query, headers: raw.headersDistinct }, credentials, { now: new Date() });
  credentials.authorize(verified.accessKeyId, bucket === '' ? undefined : bucket, method === 'GET' || method === 'HEAD' ? 'read' : 'write');
  return verified;
}

/** The S3 name of what `handler` does: getObject → GetObject (HeadObject for a HEAD). */
function operationName(handler: Handler, method: string): string {
  const name = handler.name.charAt(0).toUpperCase() + handler.name.slice(1);
  return method === 'HEAD' ? name.replace(/^Get/, 'Head') : name;
}

/** Picks the operation from the method, whether there is a bucket and a key, and the subresource. */
function route(req: S3Request): Handler | undefined {
  const sub = (name: string): boolean => req.query.has(name);
  if (req.bucket === '') return req.method === 'GET' ? listBuckets : undefined;
  if (req.key === '') {
    switch (req.method) {
      case 'GET':
        if (sub('location')) return getBucketLocation;
        if (sub('versions')) return listObjectVersions;
        if (sub('uploads')) return listMultipartUploads;
        if (sub('tagging')) return getBucketTagging;
        if (['acl', 'policy', 'cors', 'lifecycle', 'versioning'].some(sub)) return undefined;
        return listObjects;
      case 'HEAD':
        return headBucket;
      case 'PUT':
        if (sub('tagging')) return putBucketTagging;
        return [...req.query.keys()].length === 0 ? createBucket : undefined;
      case 'DELETE':
        if (sub('tagging')) return deleteBucketTagging;
        return [...req.query.keys()].length === 0 ? deleteBucket : undefined;
      case 'POST':
        return sub('delete') ? deleteObjects : undefined;
      default:
        return undefined;
    }
  }
  if (sub('uploads') && req.method === 'POST') return createMultipartUpload;
  if (sub('uploadId')) {
    if (req.method === 'PUT' && sub('partNumber')) return uploadPart;
    if (req.method === 'GET') return listParts;
    if (req.method === 'POST') return completeMultipartUpload;
    if (req.method === 'DELETE') return abortMultipartUpload;
    return undefined;
  }
  if (sub('tagging')) {
    if (req.method === 'GET') return getObjectTagging;
    if (req.method === 'PUT') return putObjectTagging;
    if (req.method === 'DELETE') return deleteObjectTagging;
    return undefined;
  }
  // Parameters that leave the operation plain: overrides, presigning, and the SDKs' own `x-id`.
  const plain = ![...req.query.keys()].some((k) => !k.startsWith('response-') && k !== 'versionId' && k !== 'x-id' && !/^x-amz-/i.test(k));
  if (!plain) return undefined;
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return getObject;
    case 'PUT':
      return req.headers['x-amz-copy-source'] === undefined ? putObject : copyObject;
    case 'DELETE':
      return deleteObject;
    default:
      return undefined;
  }
}

