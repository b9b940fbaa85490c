import { createHash, randomBytes } from 'node:crypto';
import { byteRange } from '../../common/byte-range.js';
import { DoraError } from '../../common/errors.js';
import { checkedChunks, emptyStream, translateStreamErrors } from '../../common/streams.js';
import { throwIfAborted } from '../../common/system-errors.js';
import type {
  UfsCallOptions,
  UfsCapabilities,
  UfsListOptions,
  UfsReadOptions,
  UfsReadResult,
  UfsStatus,
  UfsWriteOptions,
  UfsWriteSource,
  UnderFileSystem,
} from '../under-file-system.js';
import { runUfsCall } from '../ufs-call.js';
import { checkUfsPath } from '../ufs-path.js';
import { ATTRIBUTES_XATTR, decodeAttributes, encodeAttributes, recordAttributes, type HdfsAttributeRecord } from './hdfs-attributes.js';
import type { HdfsClient } from './hdfs-client.js';
import { fromHdfsError } from './hdfs-errors.js';
import { exactLength } from './hdfs-exact-length.js';
import { childOf, isTempName, parentOf, TEMP_PREFIX, toUfsStatus, type HdfsFileStatus } from './hdfs-file-status.js';
import { ParkedListings } from './hdfs-list-resume.js';
import { listHdfs, type HdfsListContext } from './hdfs-list.js';
import type { HdfsLocation } from './hdfs-location.js';

export interface HdfsUfsOptions {
  /**
   * Whether dora keeps each file's MD5, content type and metadata in the extended attribute
   * `user.dora.attributes` (and reads it back in stat and listings). Off for clusters with
   * extended attributes disabled.
   */
  readonly xattrs: boolean;
}

/**
 * `hdfs://`, `webhdfs://` and `swebhdfs://` under storage: HDFS through its WebHDFS REST API.
 * HDFS is a file system: directories are real, renames atomic. A write streams to a hidden
 * `.dora-tmp-*` file in the target's directory (through the datanode the namenode names), gets
 * its attributes, and is renamed over the target with rename2's OVERWRITE, so readers see the
 * old file or the new one, never a part. A file's version is its modification time, length and
 * inode id; its ETag the MD5 dora computed while writing it, kept in an extended attribute.
 */
export class HdfsUfs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities: UfsCapabilities = { rename: true, multipart: false, tagging: false };
  readonly #client: HdfsClient;
  readonly #root: string;
  readonly #xattrs: boolean;
  readonly #parked = new ParkedListings();
  /** Whether the server honours rename2's OVERWRITE; undefined until a rename has shown. */
  #rename2: boolean | undefined;

  constructor(client: HdfsClient, location: HdfsLocation, options: HdfsUfsOptions) {
    this.#client = client;
    this.#root = location.root;
    this.uri = location.uri;
    this.#xattrs = options.xattrs;
  }

  async stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot stat "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path);
      const host = this.#hdfsPath(path);
      // Asked side by side: a stat costs one round trip, not two.
      const [found, xattrs] = await Promise.all([this.#client.getFileStatus(host, signal), this.#readXattrs(host, attempt, signal)]);
      const status = toUfsStatus(path, found);
      if (status === undefined) throw new DoraError('NOT_FOUND', `${attempt}: it is a symbolic link`);
      if (status.kind === 'directory') return { ...status, attributes: { metadata: {} } };
      if (xattrs === 'unreadable') return status;
      const record = decodeAttributes(xattrs, status.version);
      return { ...status, ...(record === undefined ? {} : { etag: record.md5 }), attributes: recordAttributes(record) };
    });
  }

  async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const attempt = `Cannot read "${this.uri}${path}" at offset ${options.offset ?? 0}`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      const host = this.#hdfsPath(path);
      const status = toUfsStatus(path, await this.#client.getFileStatus(host, signal));
      if (status === undefined) throw new DoraError('NOT_FOUND', `${attempt}: it is a symbolic link`);
      if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
      if (options.expectVersion !== undefined && options.expectVersion !== status.version) {
        throw new DoraError('FAILED_PRECONDITION', `${attempt}: the file changed (version ${status.version}, expected ${options.expectVersion})`);
      }
      const [start, end] = byteRange(status.size, options, attempt);
      if (end <= start) return { stream: emptyStream(), status };
      // WebHDFS has no conditional read: the answer's length is what can tell a replaced file.
      const opened = await this.#client.open(host, { offset: start, length: end - start }, signal);
      if (opened.contentLength !== undefined && opened.contentLength !== end - start) {
        opened.body.destroy();
        const code = options.expectVersion === undefined ? 'ABORTED' : 'FAILED_PRECONDITION';
        throw new DoraError(code, `${attempt}: the file changed while it was opened (${opened.contentLength} bytes offered, ${end - start} expected)`);
      }
      const stream = exactLength(opened.body, end - start, () => new DoraError('UNAVAILABLE', `${attempt}: the datanode's answer ended early`));
      return { stream: translateStreamErrors(stream, (error) => fromHdfsError(error, attempt)), status };
    });
  }

  async write(path: string, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot write "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      checkUserName(path, attempt);
      const target = this.#hdfsPath(path);
      // Refused before any byte is sent; a directory made in between is caught by rename2, or not
      // by a server without it (see #replace).
      if ((await this.#statOrNone(target, signal))?.type === 'DIRECTORY') throw new DoraError('IS_A_DIRECTORY', `${attempt}: a directory is in the way`);
      const temp = childOf(parentOf(target), TEMP_PREFIX + randomBytes(8).toString('hex'));
      const size = source instanceof Uint8Array ? source.byteLength : options.size;
      const md5 = createHash('md5');
      let sourceError: unknown;
      const body = async function* (): AsyncGenerator<Uint8Array> {
        try {
          for await (const chunk of checkedChunks(source instanceof Uint8Array ? [source] : source, { size, attempt })) {
            throwIfAborted(signal, attempt);
            md5.update(chunk);
            yield chunk;
          }
        } catch (error) {
          sourceError = error;
          throw error;
        }
      };
      try {
        await this.#client.create(temp, body(), size, signal).catch((error: unknown) => {
          throw sourceError ?? error;
        });
        throwIfAborted(signal, attempt);
        const written = toUfsStatus(path, await this.#client.getFileStatus(temp, signal));
        if (written?.kind !== 'file') throw new DoraError('ABORTED', `${attempt}: the temporary file changed while written`);
        const record: HdfsAttributeRecord = { version: written.version, md5: md5.digest('hex'), contentType: options.contentType, metadata: options.metadata };
        if (this.#xattrs) await this.#client.setXattr(temp, ATTRIBUTES_XATTR, encodeAttributes(record), 'CREATE', signal).catch((error: unknown) => {
          throw xattrError(error, attempt);
        });
        await this.#replace(temp, target, attempt, signal, true);
        return this.#xattrs ? { ...written, etag: record.md5, attributes: recordAttributes(record) } : written;
      } catch (error) {
        // Not under the caller's signal: a cancelled write must still clean up.
        await this.#client.delete(temp, { recursive: false }, undefined).catch(() => undefined);
        throw error;
      }
    });
  }

  async delete(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot delete "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      const host = this.#hdfsPath(path);
      try {
        await this.#client.delete(host, { recursive: false }, signal);
      } catch (error) {
        // A directory holding only what crashed writes left behind (never listed) is empty to dora.
        if (fromHdfsError(error, attempt).code !== 'DIRECTORY_NOT_EMPTY') throw error;
        const page = await this.#client.listPage(host, undefined, signal);
        if (page.more || !page.statuses.every((s) => s.type === 'FILE' && isTempName(s.pathSuffix))) throw error;
        for (const leftover of page.statuses) await this.#client.delete(childOf(host, leftover.pathSuffix), { recursive: false }, signal);
        await this.#client.delete(host, { recursive: false }, signal);
      }
    });
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    const attempt = `Cannot list "${this.uri}${path}"`;
    const recursive = options.recursive === true;
    return this.#parked.list(path, options, (signal) => {
      const context: HdfsListContext = { client: this.#client, rootUri: this.uri, hdfsPath: (p) => this.#hdfsPath(p), etags: this.#xattrs, recursive, startAfter: options.startAfter, attempt, signal };
      return { entries: listHdfs(context, path), context };
    });
  }

  async mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot create directory "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path);
      checkUserName(path, attempt);
      await this.#mkdirs(this.#hdfsPath(path), attempt, signal);
    });
  }

  async rename(from: string, to: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot rename "${this.uri}${from}" to "${this.uri}${to}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, from, { allowRoot: false });
      checkUfsPath(this.uri, to, { allowRoot: false });
      checkUserName(to, attempt);
      const source = this.#hdfsPath(from);
      const target = this.#hdfsPath(to);
      try {
        await this.#replace(source, target, attempt, signal, false);
      } catch (error) {
        // rename2 wants the destination's directory to exist, and says so with the NOT_FOUND a missing source gives.
        if (fromHdfsError(error, attempt).code !== 'NOT_FOUND') throw error;
        await this.#client.getFileStatus(source, signal);
        await this.#mkdirs(parentOf(target), attempt, signal);
        await this.#replace(source, target, attempt, signal, false);
      }
    });
  }

  async close(): Promise<void> {
    this.#parked.close();
    await this.#client.close();
  }

  /**
   * Renames `from` over `to` atomically (rename2, OVERWRITE). A server that ignores the option
   * (HttpFS) runs the old rename, which will not replace a file: the file at `to` is deleted and
   * the rename repeated, so for a moment no file is at `to`. The old rename also moves a source
   * *into* a directory at `to`, so until the server has shown it honours rename2 the destination
   * is looked at first (`destinationChecked`: the caller has just done so).
   */
  async #replace(from: string, to: string, attempt: string, signal: AbortSignal | undefined, destinationChecked: boolean): Promise<void> {
    if (this.#rename2 !== true && !destinationChecked && (await this.#statOrNone(to, signal))?.type === 'DIRECTORY') {
      throw new DoraError('FAILED_PRECONDITION', `${attempt}: a directory is in the way`);
    }
    const answer = await this.#client.rename(from, to, signal);
    this.#rename2 = answer.honored;
    if (answer.renamed) return;
    if ((await this.#statOrNone(to, signal))?.type === 'FILE') await this.#client.delete(to, { recursive: false }, signal);
    if (await this.#client.renameOnce(from, to, signal)) return;
    await this.#client.getFileStatus(from, signal); // NOT_FOUND for a missing source,
    await this.#client.getFileStatus(parentOf(to), signal); // or a missing destination directory
    throw new DoraError('ABORTED', `${attempt}: the server refused the rename (another writer, or something in the way)`);
  }

  async #statOrNone(host: string, signal: AbortSignal | undefined): Promise<HdfsFileStatus | undefined> {
    try {
      return await this.#client.getFileStatus(host, signal);
    } catch (error) {
      if (fromHdfsError(error, '').code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async #mkdirs(host: string, attempt: string, signal: AbortSignal | undefined): Promise<void> {
    if (!(await this.#client.mkdirs(host, signal))) throw new DoraError('FAILED_PRECONDITION', `${attempt}: the namenode did not create it`);
  }

  /** A file's extended attributes; 'unreadable' when they are off or this user may not read them. */
  async #readXattrs(host: string, attempt: string, signal: AbortSignal | undefined): Promise<ReadonlyMap<string, Buffer> | 'unreadable'> {
    if (!this.#xattrs) return 'unreadable';
    try {
      return await this.#client.getXattrs(host, signal);
    } catch (error) {
      const code = fromHdfsError(error, '').code;
      if (code === 'PERMISSION_DENIED' || code === 'NOT_FOUND') return 'unreadable'; // GETFILESTATUS tells what is missing
      throw xattrError(error, attempt);
    }
  }

  #hdfsPath(path: string): string {
    return path === '' ? this.#root || '/' : `${this.#root}/${path}`;
  }

  #run<T>(attempt: string, options: UfsCallOptions, body: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return runUfsCall(attempt, options, fromHdfsError, body);
  }
}

/** Refuses names dora keeps for itself (files being written). */
function checkUserName(path: string, attempt: string): void {
  if (path.split('/').some(isTempName)) throw new DoraError('INVALID_ARGUMENT', `${attempt}: names starting "${TEMP_PREFIX}" are reserved by dora`);
}

/** A refused extended attribute, with what to do when the cluster keeps none (`dfs.namenode.xattrs.enabled=false`). */
function xattrError(error: unknown, attempt: string): DoraError {
  const translated = fromHdfsError(error, attempt);
  if (translated.code !== 'FAILED_PRECONDITION' && translated.code !== 'UNIMPLEMENTED') return translated;
  const hint = `; where the cluster has extended attributes disabled, mount with the option xattrs=false`;
  return new DoraError(translated.code, `${translated.message} (extended attribute ${ATTRIBUTES_XATTR})${hint}`, { cause: error });
}
