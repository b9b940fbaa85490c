import { byteRange } from '../../common/byte-range.js';
import { DoraError } from '../../common/errors.js';
import { emptyStream, translateStreamErrors } from '../../common/streams.js';
import { throwIfAborted } from '../../common/system-errors.js';
import type { UfsCallOptions, UfsCapabilities, UfsListOptions, UfsReadOptions, UfsReadResult, UfsStatus, UfsWriteSource, UnderFileSystem } from '../under-file-system.js';
import { runUfsCall } from '../ufs-call.js';
import { checkUfsPath } from '../ufs-path.js';
import { readOnlyError } from '../wrappers/with-read-only.js';
import { discard, readText, sliceBody } from './http-body.js';
import { firstHeader, type HttpAnswer, type HttpClient } from './http-client.js';
import { fromHttpError, HttpProtocolError, HttpStatusError } from './http-errors.js';
import { parseIndex, type IndexEntry } from './http-index.js';
import { listHttp } from './http-list.js';
import { answerRange, contentLength, directoryStatus, fileStatus, isStrongETag } from './http-status.js';

/** The largest index page a listing reads (about a million nginx JSON entries). */
const MAX_INDEX_BYTES = 128 * 1024 * 1024;

/**
 * `http://` and `https://` under storage: a web server's files, read-only. A file is a URL
 * below the root; a directory is a URL ending in '/' that answers an index page (nginx's JSON
 * autoindex, or an HTML page of links), and its URL without the '/' redirects there. Stat is a
 * HEAD; reads are GETs with a Range header, pinned to a version with If-Match where the version
 * is a strong ETag and checked against the answer's headers always. Every change is refused
 * with PERMISSION_DENIED.
 */
export class HttpUfs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities: UfsCapabilities = Object.freeze({ rename: false, multipart: false, tagging: false });
  readonly #client: HttpClient;
  /** The root's URL, ending in '/'. */
  readonly #base: string;

  constructor(client: HttpClient, root: { uri: string; url: string }) {
    this.#client = client;
    this.uri = root.uri;
    this.#base = root.url;
  }

  async stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    return this.#run(`Cannot stat "${this.uri}${path}"`, options, async (signal) => {
      checkUfsPath(this.uri, path);
      if (path === '') {
        const answer = await this.#send('HEAD', '', true, {}, signal);
        await answer.body.dump();
        if (answer.status >= 300) throw new HttpStatusError(answer.status);
        return directoryStatus('');
      }
      const found = await this.#head(path, signal);
      if (found === undefined) throw new HttpStatusError(404);
      return found;
    });
  }

  async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const offset = options.offset ?? 0;
    const attempt = `Cannot read "${this.uri}${path}" at offset ${offset}`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      byteRange(Number.MAX_SAFE_INTEGER, options, attempt); // validates the numbers
      if (options.length === 0) return this.#emptyRead(path, options, attempt, signal);
      const headers: Record<string, string> = {};
      if (offset > 0 || options.length !== undefined) headers['range'] = `bytes=${offset}-${options.length === undefined ? '' : offset + options.length - 1}`;
      if (options.expectVersion !== undefined && isStrongETag(options.expectVersion)) headers['if-match'] = options.expectVersion;
      const answer = await this.#send('GET', path, false, headers, signal);
      if (answer.directory) throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
      if (answer.status === 416) {
        await answer.body.dump();
        return this.#emptyRead(path, options, attempt, signal);
      }
      if (answer.status !== 200 && answer.status !== 206) {
        await answer.body.dump();
        throw new HttpStatusError(answer.status);
      }
      return this.#bytes(path, answer, options, attempt);
    });
  }

  /** Fails like a write to a read-only mount (after the path is checked), without touching the store or the source. */
  async write(path: string, _source: UfsWriteSource, options: UfsCallOptions = {}): Promise<UfsStatus> {
    return this.#refuse('write', path, options, { allowRoot: false });
  }

  async delete(path: string, options: UfsCallOptions = {}): Promise<void> {
    return this.#refuse('delete', path, options, { allowRoot: false });
  }

  async mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    return this.#refuse('mkdir', path, options, { allowRoot: true });
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    const source = { index: (p: string, signal: AbortSignal | undefined) => this.#index(p, signal), head: (p: string, signal: AbortSignal | undefined) => this.#head(p, signal) };
    return listHttp(source, path, { ...options, rootUri: this.uri });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** The stream of the wanted bytes out of a 200 or 206 answer, and the file's status. */
  #bytes(path: string, answer: HttpAnswer, options: UfsReadOptions, attempt: string): UfsReadResult {
    let status: UfsStatus;
    let skip: number;
    let take: number;
    let exact: boolean;
    try {
      const range = answerRange(answer);
      if (range === undefined) throw new HttpProtocolError('the server did not say which bytes it sent (no Content-Length or Content-Range)');
      status = fileStatus(path, answer.headers, range.size);
      checkVersion(status, options, attempt);
      const [from, to] = byteRange(range.size, options, attempt);
      if (from < range.start || (to > from && to > range.start + range.length)) {
        throw new DoraError('UNAVAILABLE', `${attempt}: the server sent bytes ${range.start}-${range.start + range.length - 1}, not ${from}-${to - 1}`);
      }
      [skip, take] = [from - range.start, to - from];
      exact = skip === 0 && take === range.length;
    } catch (error) {
      discard(answer.body);
      throw error;
    }
    if (take === 0) {
      discard(answer.body);
      return { stream: emptyStream(), status };
    }
    const body = exact ? answer.body : sliceBody(answer.body, skip, take, attempt);
    return { stream: translateStreamErrors(body, (error) => fromHttpError(error, attempt)), status };
  }

  /** A read of no bytes (or one the server found unsatisfiable) still checks the file's existence, version and size. */
  async #emptyRead(path: string, options: UfsReadOptions, attempt: string, signal: AbortSignal | undefined): Promise<UfsReadResult> {
    const status = await this.#head(path, signal);
    if (status === undefined) throw new HttpStatusError(404);
    if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
    checkVersion(status, options, attempt);
    const [from] = byteRange(status.size, options, attempt);
    if (options.length !== 0 && from < status.size) {
      throw new DoraError('UNAVAILABLE', `${attempt}: the server refused the range, yet the file has ${status.size} bytes (it may be changing)`);
    }
    return { stream: emptyStream(), status };
  }

  /** The status of a file or directory by a HEAD, or undefined for 404/410. */
  async #head(path: string, signal: AbortSignal | undefined): Promise<UfsStatus | undefined> {
    const answer = await this.#send('HEAD', path, false, {}, signal);
    await answer.body.dump();
    if (answer.directory) return directoryStatus(path);
    if (answer.status === 404 || answer.status === 410) return undefined;
    if (answer.status >= 300) throw new HttpStatusError(answer.status);
    const size = contentLength(answer.headers);
    if (size === undefined) throw new HttpProtocolError('the server did not say the file\'s size (no Content-Length)');
    return fileStatus(path, answer.headers, size);
  }

  /** The entries of the directory at `path`, or undefined when the server has no index there (404). */
  async #index(path: string, signal: AbortSignal | undefined): Promise<readonly IndexEntry[] | undefined> {
    const answer = await this.#send('GET', path, true, { accept: 'application/json, text/html;q=0.9, */*;q=0.1' }, signal);
    if (answer.status === 404 || answer.status === 410) {
      await answer.body.dump();
      return undefined;
    }
    if (answer.status >= 300) {
      await answer.body.dump();
      throw new HttpStatusError(answer.status);
    }
    const text = await readText(answer.body, MAX_INDEX_BYTES, `Cannot read the index of "${this.uri}${path}"`);
    try {
      return parseIndex(text, firstHeader(answer.headers, 'content-type'));
    } catch (error) {
      throw new HttpProtocolError(`the index page of "${this.uri}${path}" cannot be read: ${(error as Error).message}`);
    }
  }

  #send(method: 'GET' | 'HEAD', path: string, directory: boolean, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<HttpAnswer> {
    const encoded = path === '' ? '' : path.split('/').map(encodeURIComponent).join('/') + (directory ? '/' : '');
    return this.#client.request(method, new URL(this.#base + encoded), { headers, signal });
  }

  async #refuse(op: string, path: string, options: UfsCallOptions, check: { allowRoot: boolean }): Promise<never> {
    const attempt = `Cannot ${op} "${this.uri}${path}"`;
    throwIfAborted(options.signal, attempt);
    checkUfsPath(this.uri, path, check);
    throw readOnlyError(attempt, 'an HTTP store');
  }

  #run<T>(attempt: string, options: UfsCallOptions, body: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return runUfsCall(attempt, options, fromHttpError, body);
  }
}

/** Throws FAILED_PRECONDITION when the read is pinned to another version than the file's. */
function checkVersion(status: UfsStatus, options: UfsReadOptions, attempt: string): void {
  if (options.expectVersion !== undefined && options.expectVersion !== status.version) {
    throw new DoraError('FAILED_PRECONDITION', `${attempt}: the file changed (version ${status.version}, expected ${options.expectVersion})`);
  }
}
