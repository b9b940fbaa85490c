import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { parseFileStatus, type HdfsFileStatus } from './hdfs-file-status.js';
import { WebHdfsError, WebHdfsProtocolError } from './hdfs-errors.js';

/** How requests identify their user: simple authentication's `user.name`, or a delegation token. */
export interface HdfsCredentials {
  readonly user?: string | undefined;
  readonly delegationToken?: string | undefined;
}

/** One page of a directory, in HDFS's order of names. */
export interface HdfsListPage {
  readonly statuses: readonly HdfsFileStatus[];
  /** Whether entries follow the last one (LISTSTATUS_BATCH's `remainingEntries` > 0). */
  readonly more: boolean;
}

/** At most this many hops from namenode to datanode (an HttpFS or gateway may add one). */
const MAX_REDIRECTS = 4;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The WebHDFS REST API (`/webhdfs/v1`) of one cluster, over undici: one operation per method,
 * paths absolute in HDFS. Data goes through the datanode the namenode redirects to (OPEN and
 * CREATE answer 307, or `{"Location"}` with `noredirect=true`). Methods throw `WebHdfsError`
 * for error answers and undici's or the socket's errors untranslated (see `fromHdfsError`).
 * Nothing is retried here.
 */
export class HdfsClient {
  readonly #base: string;
  readonly #auth: string;
  readonly #agent: Agent;
  /** Whether the server answers LISTSTATUS_BATCH (Hadoop 2.8+); undefined until it has been asked. */
  #batchListing: boolean | undefined;

  constructor(base: string, credentials: HdfsCredentials, options: { maxSockets: number }) {
    this.#base = base;
    this.#auth = [
      ...(credentials.user === undefined ? [] : [`user.name=${encodeURIComponent(credentials.user)}`]),
      ...(credentials.delegationToken === undefined ? [] : [`delegation=${encodeURIComponent(credentials.delegationToken)}`]),
    ].join('&');
    this.#agent = new Agent({ connections: options.maxSockets });
  }

  /** GETFILESTATUS. */
  async getFileStatus(path: string, signal: AbortSignal | undefined): Promise<HdfsFileStatus> {
    const json = await this.#json('GET', path, 'GETFILESTATUS', {}, signal);
    return parseFileStatus((json as { FileStatus?: unknown }).FileStatus);
  }

  /**
   * The entries of a directory after the name `startAfter` (LISTSTATUS_BATCH), or all of them
   * (LISTSTATUS) from servers that do not page. A file lists as itself, with pathSuffix ''.
   */
  async listPage(path: string, startAfter: string | undefined, signal: AbortSignal | undefined): Promise<HdfsListPage> {
    if (this.#batchListing !== false) {
      try {
        const json = await this.#json('GET', path, 'LISTSTATUS_BATCH', startAfter === undefined ? {} : { startAfter }, signal);
        this.#batchListing = true;
        const listing = (json as { DirectoryListing?: { partialListing?: { FileStatuses?: { FileStatus?: unknown } }; remainingEntries?: unknown } }).DirectoryListing;
        return { statuses: parseStatuses(listing?.partialListing?.FileStatuses?.FileStatus), more: typeof listing?.remainingEntries === 'number' && listing.remainingEntries > 0 };
      } catch (error) {
        if (this.#batchListing === true || !(error instanceof WebHdfsError && error.isUnsupportedOperation)) throw error;
        this.#batchListing = false;
      }
    }
    const json = await this.#json('GET', path, 'LISTSTATUS', {}, signal);
    const all = parseStatuses((json as { FileStatuses?: { FileStatus?: unknown } }).FileStatuses?.FileStatus);
    return { statuses: startAfter === undefined ? all : all.filter((s) => compareHdfsNames(s.pathSuffix, startAfter) > 0), more: false };
  }

  /** OPEN: `length` bytes at `offset`, from the datanode the namenode redirects to. */
  async open(path: string, range: { offset: number; length: number }, signal: AbortSignal | undefined): Promise<{ body: Readable; contentLength: number | undefined }> {
    const answer = await this.#follow('GET', this.#url(path, 'OPEN', { offset: String(range.offset), length: String(range.length) }), signal);
    const header = answer.headers['content-length'];
    return { body: answer.body, contentLength: typeof header === 'string' ? Number(header) : undefined };
  }

  /**
   * CREATE in WebHDFS's two steps: the namenode names a datanode, the data goes there (as one
   * stream; chunked when `size` is unknown). Never overwrites: dora writes to fresh names only.
   */
  async create(path: string, body: AsyncIterable<Uint8Array>, size: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    const first = await this.#send('PUT', this.#url(path, 'CREATE', { overwrite: 'false', noredirect: 'true' }), signal);
    let location: string;
    if (REDIRECTS.has(first.statusCode)) {
      location = locationOf(first);
      await first.body.dump();
    } else {
      const named = ((await (await this.#expectOk(first)).body.json()) as { Location?: unknown } | null)?.Location;
      if (typeof named !== 'string') throw new WebHdfsProtocolError('UNAVAILABLE', 'the namenode named no datanode for the data');
      location = named;
    }
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...(size === undefined ? {} : { 'content-length': String(size) }) };
    // A failing source ends the request with its error, which the caller reports (the stream's own 'error' is that same error).
    const stream = Readable.from(body, { objectMode: false }).on('error', () => undefined);
    const written = await this.#follow('PUT', location, signal, { body: stream, headers });
    await written.body.dump();
  }

  /** MKDIRS: the directory and its missing parents; true when it exists afterwards. */
  async mkdirs(path: string, signal: AbortSignal | undefined): Promise<boolean> {
    return booleanOf(await this.#json('PUT', path, 'MKDIRS', {}, signal));
  }

  /** DELETE: false when nothing was there. */
  async delete(path: string, options: { recursive: boolean }, signal: AbortSignal | undefined): Promise<boolean> {
    return booleanOf(await this.#json('DELETE', path, 'DELETE', { recursive: String(options.recursive) }, signal));
  }

  /**
   * RENAME with `renameoptions=OVERWRITE`: HDFS's rename2, which replaces a file (or an empty
   * directory) atomically and fails loudly. `honored` is false when the server ignored the option
   * and ran the old rename instead (HttpFS does): that one answers false rather than replace, and
   * moves the source *into* a directory at the destination.
   */
  async rename(from: string, to: string, signal: AbortSignal | undefined): Promise<{ honored: boolean; renamed: boolean }> {
    const answer = await this.#expectOk(await this.#send('PUT', this.#url(from, 'RENAME', { destination: to, renameoptions: 'OVERWRITE' }), signal));
    const text = await answer.body.text();
    if (text.trim() === '') return { honored: true, renamed: true }; // rename2 answers no body
    return { honored: false, renamed: booleanOf(JSON.parse(text)) };
  }

  /** The old RENAME (no options): false when the source is missing or the destination exists. */
  async renameOnce(from: string, to: string, signal: AbortSignal | undefined): Promise<boolean> {
    return booleanOf(await this.#json('PUT', from, 'RENAME', { destination: to }, signal));
  }

  /** SETXATTR; `flag` CREATE fails when the attribute exists, REPLACE when it does not. */
  async setXattr(path: string, name: string, value: Uint8Array, flag: 'CREATE' | 'REPLACE', signal: AbortSignal | undefined): Promise<void> {
    const encoded = `0s${Buffer.from(value).toString('base64')}`;
    await (await this.#expectOk(await this.#send('PUT', this.#url(path, 'SETXATTR', { 'xattr.name': name, 'xattr.value': encoded, flag }), signal))).body.dump();
  }

  /** GETXATTRS: every extended attribute the user may read, by name. */
  async getXattrs(path: string, signal: AbortSignal | undefined): Promise<Map<string, Buffer>> {
    const json = await this.#json('GET', path, 'GETXATTRS', { encoding: 'base64' }, signal);
    const list = (json as { XAttrs?: unknown }).XAttrs;
    const found = new Map<string, Buffer>();
    for (const item of Array.isArray(list) ? (list as unknown[]) : []) {
      const { name, value } = (item ?? {}) as { name?: unknown; value?: unknown };
      if (typeof name !== 'string') continue;
      found.set(name, typeof value === 'string' ? decodeXattrValue(value) : Buffer.alloc(0));
    }
    return found;
  }

  /** Closes every connection, to the namenode and to datanodes. */
  async close(): Promise<void> {
    await this.#agent.destroy();
  }

  #url(path: string, op: string, params: Readonly<Record<string, string>>): string {
    const encodedPath = path.split('/').map(encodeURIComponent).join('/');
    const query = [`op=${op}`, ...Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`), ...(this.#auth === '' ? [] : [this.#auth])].join('&');
    return `${this.#base}/webhdfs/v1${encodedPath === '' ? '/' : encodedPath}?${query}`;
  }

  async #json(method: Dispatcher.HttpMethod, path: string, op: string, params: Readonly<Record<string, string>>, signal: AbortSignal | undefined): Promise<unknown> {
    const answer = await this.#expectOk(await this.#send(method, this.#url(path, op, params), signal));
    const text = await answer.body.text();
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new WebHdfsProtocolError('UNAVAILABLE', `the server answered ${op} with something other than JSON (a proxy in the way?)`, { cause: error });
    }
  }

  /** Sends a request and follows redirects (to a datanode), failing on an error status. */
  async #follow(method: Dispatcher.HttpMethod, url: string, signal: AbortSignal | undefined, data?: { body: Readable; headers: Record<string, string> }): Promise<Dispatcher.ResponseData> {
    let target = url;
    for (let hop = 0; ; hop++) {
      // A body can be sent once: the namenode step of a CREATE goes without it (see `create`).
      const answer = await this.#send(method, target, signal, data);
      if (!REDIRECTS.has(answer.statusCode)) return this.#expectOk(answer);
      await answer.body.dump();
      if (data !== undefined) throw new WebHdfsProtocolError('UNAVAILABLE', `the datanode redirected the upload (${redact(target)})`);
      if (hop === MAX_REDIRECTS) throw new WebHdfsProtocolError('UNAVAILABLE', `more than ${MAX_REDIRECTS} redirects (the last to ${redact(target)})`);
      target = new URL(locationOf(answer), target).toString();
    }
  }

  #send(method: Dispatcher.HttpMethod, url: string, signal: AbortSignal | undefined, data?: { body: Readable; headers: Record<string, string> }): Promise<Dispatcher.ResponseData> {
    return request(url, { dispatcher: this.#agent, method, signal, ...(data === undefined ? { body: method === 'PUT' ? '' : null } : data) });
  }

  async #expectOk(answer: Dispatcher.ResponseData): Promise<Dispatcher.ResponseData> {
    if (answer.statusCode < 400) return answer;
    throw new WebHdfsError(answer.statusCode, await answer.body.text().catch(() => ''));
  }
}

/** Compares names as HDFS orders a directory: by UTF-8 bytes taken as signed, so bytes ≥ 0x80 come first. */
export function compareHdfsNames(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = ((x[i] as number) ^ 0x80) - ((y[i] as number) ^ 0x80);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function parseStatuses(value: unknown): HdfsFileStatus[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [];
  return list.map((item) => parseFileStatus(item));
}

function booleanOf(json: unknown): boolean {
  return (json as { boolean?: unknown } | null)?.boolean === true;
}

function locationOf(answer: Dispatcher.ResponseData): string {
  const location = answer.headers['location'];
  if (typeof location !== 'string' || location === '') throw new WebHdfsProtocolError('UNAVAILABLE', `the server redirected (HTTP ${answer.statusCode}) without a Location`);
  return location;
}

/** GETXATTRS values: `0s` base64, `0x` hex, or a quoted string. */
function decodeXattrValue(value: string): Buffer {
  if (value.startsWith('0s') || value.startsWith('0S')) return Buffer.from(value.slice(2), 'base64');
  if (value.startsWith('0x') || value.startsWith('0X')) return Buffer.from(value.slice(2), 'hex');
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return Buffer.from(value.slice(1, -1));
  return Buffer.from(value);
}

/** A URL for messages: without the delegation token. */
function redact(url: string): string {
  return url.replace(/([?&]delegation=)[^&]*/, '$1***');
}
