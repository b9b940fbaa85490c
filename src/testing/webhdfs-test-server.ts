import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  parseRequest,
  remote,
  RemoteError,
  sendAuthenticationRequired,
  sendJson,
  sendRemoteError,
  sendUnavailable,
  type WebHdfsRequest,
} from './webhdfs-test-http.js';
import { WebHdfsTestNamespace } from './webhdfs-test-namespace.js';

export interface WebHdfsTestServerOptions {
  /** Entries per LISTSTATUS_BATCH page (HDFS's `dfs.ls.limit`, 1000 by default). */
  readonly pageLimit?: number;
  /** Users whose every change is refused with AccessControlException (HDFS would check permission bits). */
  readonly readOnlyUsers?: readonly string[];
  /** Delegation tokens the server accepts, and the user each one stands for. */
  readonly delegationTokens?: Readonly<Record<string, string>>;
}

/** What the server is made to do instead of answering: a 503 from a proxy, a standby namenode, safe mode (changes only). */
export type WebHdfsOutage = 'unavailable' | 'standby' | 'safemode';

/** A request either node answered. */
export interface WebHdfsTestRequest {
  readonly node: 'namenode' | 'datanode';
  readonly method: string;
  readonly op: string;
  readonly path: string;
  readonly query: URLSearchParams;
}

/**
 * A handle on a running WebHDFS test server: NOT Hadoop (no Java runs here), but a small
 * `node:http` server over a temporary directory that speaks the documented subset of the
 * WebHDFS REST API dora uses, with a namenode port and a separate datanode port (see
 * docs/stores/hdfs.md for the subset).
 */
export interface WebHdfsTestServer {
  /** `http://127.0.0.1:<namenode port>`. */
  readonly endpoint: string;
  readonly namenodePort: number;
  readonly datanodePort: number;
  /** Every request answered so far, in order. */
  readonly requests: readonly WebHdfsTestRequest[];
  /** Features an older or different server lacks, on by default; switch one off to test the fallbacks. */
  readonly features: { batchListing: boolean; renameOptions: boolean; xattrs: boolean };
  setOutage(outage: WebHdfsOutage | undefined): void;
  stop(): Promise<void>;
}

/** Operations that change the namespace: refused to read-only users and in safe mode. */
const CHANGES = new Set(['CREATE', 'MKDIRS', 'DELETE', 'RENAME', 'SETXATTR']);

/** Starts a namenode and a datanode on free ports of 127.0.0.1, over a new temporary directory. */
export async function startWebHdfsTestServer(options: WebHdfsTestServerOptions = {}): Promise<WebHdfsTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-webhdfs-'));
  const state: State = {
    namespace: new WebHdfsTestNamespace(dir),
    pageLimit: options.pageLimit ?? 1000,
    readOnly: new Set(options.readOnlyUsers ?? []),
    tokens: new Map(Object.entries(options.delegationTokens ?? {})),
    features: { batchListing: true, renameOptions: true, xattrs: true },
    requests: [],
    outage: undefined,
    namenode: '',
    datanode: '',
  };
  const namenode = await listen((req, res) => serve(req, res, state, 'namenode'));
  const datanode = await listen((req, res) => serve(req, res, state, 'datanode'));
  state.namenode = `127.0.0.1:${port(namenode)}`;
  state.datanode = `127.0.0.1:${port(datanode)}`;
  return {
    endpoint: `http://${state.namenode}`,
    namenodePort: port(namenode),
    datanodePort: port(datanode),
    requests: state.requests,
    features: state.features,
    setOutage: (outage) => (state.outage = outage),
    stop: async () => {
      await Promise.all([close(namenode), close(datanode)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface State {
  readonly namespace: WebHdfsTestNamespace;
  readonly pageLimit: number;
  readonly readOnly: ReadonlySet<string>;
  readonly tokens: ReadonlyMap<string, string>;
  readonly features: { batchListing: boolean; renameOptions: boolean; xattrs: boolean };
  readonly requests: WebHdfsTestRequest[];
  outage: WebHdfsOutage | undefined;
  namenode: string;
  datanode: string;
}

function serve(req: IncomingMessage, res: ServerResponse, state: State, node: 'namenode' | 'datanode'): void {
  const answer = async (): Promise<void> => {
    const request = parseRequest(req);
    if (request === undefined) throw new RemoteError(404, 'java.io.FileNotFoundException', `No such resource: ${req.url ?? ''}`);
    state.requests.push({ node, method: request.method, op: request.op, path: request.path, query: request.query });
    if (state.outage === 'unavailable') return sendUnavailable(res);
    if (node === 'namenode' && state.outage === 'standby') throw remote.standby('Operation category READ is not supported in state standby');
    if (node === 'namenode' && state.outage === 'safemode' && CHANGES.has(request.op)) throw remote.safeMode(`Cannot ${request.op.toLowerCase()} ${request.path}. Name node is in safe mode.`);
    const user = authenticate(request, state);
    if (user === undefined) return sendAuthenticationRequired(res);
    WebHdfsTestNamespace.check(request.path);
    if (CHANGES.has(request.op) && state.readOnly.has(user) && (node === 'datanode' || request.op !== 'CREATE')) {
      throw remote.accessDenied(`Permission denied: user=${user}, access=WRITE, inode="${request.path}":hdfs:supergroup:drwxr-xr-x`);
    }
    await (node === 'namenode' ? namenodeOp(request, res, state, user) : datanodeOp(request, req, res, state, user));
  };
  answer().catch((error: unknown) => {
    req.resume(); // an unread upload must not stall the connection
    if (res.headersSent) return void res.destroy();
    sendRemoteError(res, error instanceof RemoteError ? error : new RemoteError(500, 'java.lang.RuntimeException', String(error)));
  });
}

/** The user a request acts as: its delegation token's, else its user.name; undefined when it names none. */
function authenticate(request: WebHdfsRequest, state: State): string | undefined {
  const token = request.query.get('delegation');
  if (token !== null) {
    const user = state.tokens.get(token);
    if (user === undefined) throw remote.invalidToken(`token (HDFS_DELEGATION_TOKEN token for unknown) can't be found in cache`);
    return user;
  }
  return request.query.get('user.name') || undefined;
}

async function namenodeOp(request: WebHdfsRequest, res: ServerResponse, state: State, user: string): Promise<void> {
  const { namespace } = state;
  const { path, query } = request;
  switch (`${request.method} ${request.op}`) {
    case 'GET GETFILESTATUS':
      return sendJson(res, 200, { FileStatus: await namespace.status(path) });
    case 'GET LISTSTATUS':
      return sendJson(res, 200, { FileStatuses: { FileStatus: await namespace.list(path) } });
    case 'GET LISTSTATUS_BATCH': {
      if (!state.features.batchListing) throw unknownOp('GetOpParam', request.op);
      const page = await namespace.listPage(path, query.get('startAfter') ?? undefined, state.pageLimit);
      return sendJson(res, 200, { DirectoryListing: { partialListing: { FileStatuses: { FileStatus: page.statuses } }, remainingEntries: page.remaining } });
    }
    case 'GET OPEN': {
      const found = await namespace.status(path);
      if (found.type !== 'FILE') throw remote.notFound(`Path is not a file: ${path}`);
      return redirect(request, res, state);
    }
    case 'PUT CREATE':
      return redirect(request, res, state);
    case 'PUT MKDIRS':
      await namespace.mkdirs(path, user);
      return sendJson(res, 200, { boolean: true });
    case 'DELETE DELETE':
      return sendJson(res, 200, { boolean: await namespace.delete(path, query.get('recursive') === 'true') });
    case 'PUT RENAME': {
      const destination = query.get('destination');
      if (destination === null || !destination.startsWith('/')) throw remote.illegalArgument(`Invalid parameter value: destination = ${destination ?? 'null'} is not an absolute path`);
      WebHdfsTestNamespace.check(destination);
      const options = (query.get('renameoptions') ?? '').split(',').filter((o) => o !== '' && o.toUpperCase() !== 'NONE');
      if (options.length === 0 || !state.features.renameOptions) return sendJson(res, 200, { boolean: await namespace.renameOld(path, destination) });
      await namespace.rename2(path, destination, options.some((o) => o.toUpperCase() === 'OVERWRITE'));
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' }).end();
    }
    case 'PUT SETXATTR': {
      checkXattrs(state);
      await namespace.setXattr(path, query.get('xattr.name') ?? '', decodeValue(query.get('xattr.value') ?? ''), query.get('flag') ?? '');
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' }).end();
    }
    case 'GET GETXATTRS': {
      checkXattrs(state);
      const found = await namespace.getXattrs(path, query.getAll('xattr.name'));
      const encoding = (query.get('encoding') ?? 'text').toLowerCase();
      return sendJson(res, 200, { XAttrs: [...found].map(([name, value]) => ({ name, value: encodeValue(value, encoding) })) });
    }
    default:
      throw unknownOp(request.method === 'GET' ? 'GetOpParam' : request.method === 'PUT' ? 'PutOpParam' : request.method === 'POST' ? 'PostOpParam' : 'DeleteOpParam', request.op);
  }
}

/** OPEN and CREATE: 307 to the datanode with the same query, or `{"Location"}` when asked not to redirect. */
function redirect(request: WebHdfsRequest, res: ServerResponse, state: State): void {
  const query = request.rawQuery.split('&').filter((p) => !p.startsWith('noredirect=')).join('&');
  const encoded = request.path.split('/').map(encodeURIComponent).join('/');
  const location = `http://${state.datanode}/webhdfs/v1${encoded}?${query}&namenoderpcaddress=${state.namenode}`;
  if (request.query.get('noredirect') === 'true') return sendJson(res, 200, { Location: location });
  res.writeHead(307, { location, 'content-type': 'application/octet-stream', 'content-length': '0' }).end();
}

async function datanodeOp(request: WebHdfsRequest, req: IncomingMessage, res: ServerResponse, state: State, user: string): Promise<void> {
  const { query } = request;
  if (request.method === 'GET' && request.op === 'OPEN') {
    const opened = await state.namespace.open(request.path, Number(query.get('offset') ?? 0), query.has('length') ? Number(query.get('length')) : undefined);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(opened.length) });
    if (opened.stream === undefined) return void res.end();
    await pipeline(opened.stream, res).catch(() => res.destroy());
    return;
  }
  if (request.method === 'PUT' && request.op === 'CREATE') {
    const out = await state.namespace.create(request.path, query.get('overwrite') === 'true', user);
    try {
      await pipeline(req, out);
    } catch {
      return void res.destroy(); // the client went away: the partial file stays, as a closed-by-recovery HDFS file would
    }
    res.writeHead(201, { location: `hdfs://${state.namenode}${request.path.split('/').map(encodeURIComponent).join('/')}`, 'content-length': '0' }).end();
    return;
  }
  throw unknownOp('DatanodeOp', request.op);
}

function checkXattrs(state: State): void {
  if (!state.features.xattrs) throw remote.io('The XAttr operation has been rejected.  Support for XAttrs has been disabled by setting dfs.namenode.xattrs.enabled to false.');
}

function unknownOp(kind: string, op: string): RemoteError {
  return remote.illegalArgument(`Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.${kind}.Op.${op}`);
}

/** XAttrCodec.decodeValue: `0x` hex, `0s` base64, a quoted string, else the text's UTF-8. */
function decodeValue(value: string): Buffer {
  if (/^0x/i.test(value)) return Buffer.from(value.slice(2), 'hex');
  if (/^0s/i.test(value)) return Buffer.from(value.slice(2), 'base64');
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return Buffer.from(value.slice(1, -1));
  return Buffer.from(value);
}

function encodeValue(value: Buffer, encoding: string): string {
  if (encoding === 'hex') return `0x${value.toString('hex')}`;
  if (encoding === 'base64') return `0s${value.toString('base64')}`;
  return `"${value.toString('utf8')}"`;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  // Hadoop's HTTP server takes request headers (the URL included) up to 64 KiB (`hadoop.http.max.request.header.size`).
  const server = createServer({ maxHeaderSize: 65536 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
