import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GcsTestBucket, objectResource, type GcsTestObject } from './gcs-test-bucket.js';
import { GcsTestError, readBody, sendError, sendJson } from './gcs-test-http.js';
import { GcsTestOAuth, type GcsTestPrincipal, type GcsTestRole } from './gcs-test-oauth.js';
import { GcsTestUploads } from './gcs-test-uploads.js';

/**
 * A handle on a running GCS test server: NOT Google's service, but a small in-memory server
 * that speaks the subset of Cloud Storage's JSON API dora uses, as documented, with its OAuth 2.0
 * token endpoint (see docs/stores/gcs.md for the subset).
 */
export interface GcsTestServer {
  /** `http://127.0.0.1:<port>`: the `endpoint` mount option. */
  readonly endpoint: string;
  /** The token endpoint (`token_uri` of the keys it makes). */
  readonly tokenUri: string;
  readonly oauth: GcsTestOAuth;
  readonly uploads: GcsTestUploads;
  /** Creates an empty bucket (public buckets answer reads without credentials). */
  createBucket(name: string, options?: { publicRead?: boolean }): void;
  /** A service account's JSON key (see `GcsTestOAuth.serviceAccountKey`). */
  serviceAccountKey(email: string, options?: { role?: GcsTestRole; register?: boolean }): string;
  /** From now on every request is answered with this status (e.g. 503), until set to undefined. */
  setOutage(status: number | undefined): void;
  /** Requests answered so far (token requests included). */
  readonly requests: number;
  stop(): Promise<void>;
}

const OBJECTS = /^\/storage\/v1\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/;
const UPLOADS = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/;

/** Starts a GCS test server on a free port of 127.0.0.1. */
export async function startGcsTestServer(): Promise<GcsTestServer> {
  const buckets = new Map<string, GcsTestBucket>();
  let outage: number | undefined;
  let requests = 0;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = new GcsTestOAuth(`${endpoint}/token`);
  const up = new GcsTestUploads(endpoint);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const context: Context = { req, res, buckets, oauth: auth, uploads: up, endpoint };
    const answer = outage === undefined ? route(context) : Promise.reject(new GcsTestError(outage, 'backendError', 'The service is currently unavailable (test server outage).'));
    answer.catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      sendError(res, error instanceof GcsTestError ? error : new GcsTestError(500, 'backendError', String(error)));
    });
  });
  return {
    endpoint,
    tokenUri: auth.tokenUri,
    oauth: auth,
    uploads: up,
    createBucket: (name, options) => void buckets.set(name, new GcsTestBucket(name, options)),
    serviceAccountKey: (email, options) => auth.serviceAccountKey(email, options),
    setOutage: (status) => (outage = status),
    get requests() {
      return requests;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly buckets: Map<string, GcsTestBucket>;
  readonly oauth: GcsTestOAuth;
  readonly uploads: GcsTestUploads;
  readonly endpoint: string;
}

async function route(c: Context): Promise<void> {
  const url = new URL(c.req.url ?? '/', c.endpoint);
  const method = c.req.method ?? 'GET';
  if (url.pathname === '/token' && method === 'POST') return token(c);
  const upload = UPLOADS.exec(url.pathname);
  if (upload !== null) {
    const id = url.searchParams.get('upload_id');
    // A session URI is its own credential: no Authorization needed.
    if (id !== null && method === 'PUT') return c.uploads.chunk(c.req, c.res, id);
    if (id !== null && method === 'DELETE') return c.uploads.cancel(c.res, id);
    if (method !== 'POST') throw new GcsTestError(405, 'methodNotAllowed', `${method} is not allowed here`);
    const bucket = bucketOf(c, upload[1] ?? '', 'write');
    return c.uploads.insert(c.req, c.res, bucket, url.searchParams);
  }
  const match = OBJECTS.exec(url.pathname);
  if (match === null) throw new GcsTestError(404, 'notFound', `Not Found: ${url.pathname}`);
  const [, bucketName = '', encodedName] = match;
  const isObjectList = encodedName === undefined && url.pathname.endsWith('/o');
  if (encodedName === undefined && !isObjectList) {
    if (method !== 'GET') throw new GcsTestError(405, 'methodNotAllowed', `${method} is not allowed here`);
    const bucket = bucketOf(c, bucketName, 'read');
    return sendJson(c.res, 200, { kind: 'storage#bucket', id: bucket.name, name: bucket.name, location: 'US', storageClass: 'STANDARD', timeCreated: bucket.created.toISOString() });
  }
  if (isObjectList) {
    if (method !== 'GET') throw new GcsTestError(405, 'methodNotAllowed', `${method} is not allowed here`);
    const page = bucketOf(c, bucketName, 'read').list(url.searchParams);
    return sendJson(c.res, 200, {
      kind: 'storage#objects',
      ...(page.items.length === 0 ? {} : { items: page.items.map((o) => objectResource(c.endpoint, bucketName, o)) }),
      ...(page.prefixes.length === 0 ? {} : { prefixes: page.prefixes }),
      ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
    });
  }
  const name = decodeURIComponent(encodedName ?? '');
  if (method === 'DELETE') {
    bucketOf(c, bucketName, 'write').delete(name);
    c.res.writeHead(204).end();
    return;
  }
  if (method !== 'GET') throw new GcsTestError(405, 'methodNotAllowed', `${method} is not allowed here`);
  const object = bucketOf(c, bucketName, 'read').get(name, url.searchParams.get('ifGenerationMatch'));
  if (url.searchParams.get('alt') === 'media') return media(c, object);
  return sendJson(c.res, 200, objectResource(c.endpoint, bucketName, object));
}

/** The bucket, once the request's credentials may `access` it: 401 without valid ones, 403 without the role. */
function bucketOf(c: Context, encoded: string, access: 'read' | 'write'): GcsTestBucket {
  const principal = c.oauth.principal(c.req.headers.authorization);
  const bucket = c.buckets.get(decodeURIComponent(encoded));
  const permission = access === 'read' ? 'storage.objects.get' : 'storage.objects.create';
  if (principal === 'invalid') throw new GcsTestError(401, 'authError', 'Invalid Credentials');
  if (principal === undefined && !(access === 'read' && bucket?.publicRead === true)) {
    throw new GcsTestError(401, 'required', `Anonymous caller does not have ${permission} access to the Google Cloud Storage object.`);
  }
  if (bucket === undefined) throw new GcsTestError(404, 'notFound', 'The specified bucket does not exist.');
  if (access === 'write' && (principal as GcsTestPrincipal).role !== 'writer') {
    const who = (principal as GcsTestPrincipal).email;
    throw new GcsTestError(403, 'forbidden', `${who} does not have ${permission} access to the Google Cloud Storage object. Permission '${permission}' denied on resource (or it may not exist).`);
  }
  return bucket;
}

/** Objects: get with alt=media: the content, or one range of it (`bytes=a-b`, `a-`, `-n`). */
function media(c: Context, object: GcsTestObject): void {
  const size = object.data.length;
  const headers: Record<string, string> = {
    'content-type': object.contentType,
    'x-goog-generation': object.generation,
    'x-goog-metageneration': '1',
    'x-goog-hash': `md5=${object.md5Hash}`,
    'x-goog-stored-content-length': String(size),
    'x-goog-stored-content-encoding': 'identity',
    'last-modified': object.updated.toUTCString(),
    'accept-ranges': 'bytes',
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(c.req.headers.range ?? '');
  if (range === null || (range[1] === '' && range[2] === '')) {
    c.res.writeHead(200, { ...headers, 'content-length': String(size) }).end(object.data);
    return;
  }
  let first = range[1] === '' ? size - Number(range[2]) : Number(range[1]);
  let last = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
  if (range[1] === '') first = Math.max(0, first);
  if (first >= size || last < first || (range[1] === '' && Number(range[2]) === 0)) {
    throw new GcsTestError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.');
  }
  last = Math.max(first, last);
  c.res.writeHead(206, { ...headers, 'content-length': String(last - first + 1), 'content-range': `bytes ${first}-${last}/${size}` }).end(object.data.subarray(first, last + 1));
}

/** The OAuth 2.0 token endpoint: a form-encoded JWT bearer grant in, a token or an OAuth error out. */
async function token(c: Context): Promise<void> {
  const answer = c.oauth.exchange(new URLSearchParams((await readBody(c.req)).toString()));
  if ('access_token' in answer) return sendJson(c.res, 200, answer);
  sendJson(c.res, answer.status, { error: answer.error, error_description: answer.description });
}
