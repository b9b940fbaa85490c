import { createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DoraClient } from '../client/dora-client.js';
import { DoraError } from '../common/errors.js';
import { FileReader, type FileReaderOptions } from './file-reader.js';

/** A file opened for reading: pinned to the version it had when opened. */
interface ReadFile {
  readonly kind: 'read';
  /** Key of the reader shared by every handle open on this version of the file. */
  readonly key: string;
  readonly reader: FileReader;
}

/**
 * A file opened for writing: its bytes are staged in a local file (new files, O_TRUNC, appends and
 * random writes alike) and written through to dora whole when it is flushed (close), as the
 * mount's write type says. The file becomes visible to others atomically then.
 */
interface WriteFile {
  readonly kind: 'write';
  readonly path: string;
  readonly staging: string;
  readonly handle: FileHandle;
  size: number;
  dirty: boolean;
}

type OpenFile = ReadFile | WriteFile;

/** Open file handles of one FUSE mount, and the local staging area of its writes. */
export class OpenFiles {
  readonly #client: DoraClient;
  readonly #stagingDir: string;
  readonly #files = new Map<number, OpenFile>();
  /** Most bytes of an existing file copied to local disk to change it in place (append, random writes). */
  readonly #maxStagedBytes: number;
  readonly #readAhead: FileReaderOptions;
  /** Readers by path and version, with how many handles share each. */
  readonly #readers = new Map<string, { readonly reader: FileReader; handles: number }>();
  #next = 1;

  constructor(client: DoraClient, options: { stagingDir: string; maxStagedBytes: number; readAhead: FileReaderOptions }) {
    this.#client = client;
    this.#stagingDir = options.stagingDir;
    this.#maxStagedBytes = options.maxStagedBytes;
    this.#readAhead = options.readAhead;
  }

  /** Opens a file for reading, pinned to the version it has now (answered with the handle). */
  async openRead(path: string): Promise<{ readonly fh: number; readonly version: string }> {
    const status = await this.#client.stat(path);
    if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `Cannot open "${path}": it is a directory`);
    const key = `${status.path}\0${status.version}`;
    const shared = this.#readers.get(key) ?? { reader: new FileReader(this.#client, status, this.#readAhead), handles: 0 };
    shared.handles++;
    this.#readers.set(key, shared);
    return { fh: this.#add({ kind: 'read', key, reader: shared.reader }), version: status.version };
  }

  /** Opens `path` for writing: empty (create, O_TRUNC), or with its current bytes staged for changes in place. */
  async openWrite(path: string, options: { truncate: boolean }): Promise<number> {
    await mkdir(this.#stagingDir, { recursive: true });
    const staging = join(this.#stagingDir, `${this.#next}-${Date.now().toString(36)}`);
    const handle = await open(staging, 'w+');
    let size = 0;
    try {
      if (!options.truncate) size = await this.#stageCurrent(path, handle);
    } catch (error) {
      await handle.close();
      await rm(staging, { force: true });
      throw error;
    }
    return this.#add({ kind: 'write', path, staging, handle, size, dirty: options.truncate });
  }

  /** Bytes of an open file (from its pinned version, or its staging file), as buffers (no copy where they are held already). */
  async slices(fd: number, length: number, position: number): Promise<Buffer[]> {
    const file = this.#get(fd);
    if (file.kind === 'read') return file.reader.slices(length, position);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await file.handle.read(buffer, 0, length, position);
    return [buffer.subarray(0, bytesRead)];
  }

  /** Bytes of an open file copied into `buffer`. */
  async read(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
    const file = this.#get(fd);
    if (file.kind === 'write') return (await file.handle.read(buffer, 0, length, position)).bytesRead;
    return file.reader.read(buffer, length, position);
  }

  async write(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
    const file = this.#writable(fd);
    const { bytesWritten } = await file.handle.write(buffer, 0, length, position);
    file.size = Math.max(file.size, position + bytesWritten);
    file.dirty = true;
    return bytesWritten;
  }

  async truncate(fd: number, size: number): Promise<void> {
    const file = this.#writable(fd);
    await file.handle.truncate(size);
    file.size = size;
    file.dirty = true;
  }

  /**
   * Truncates the staged copies of `path` open for writing (the kernel truncates by path after an
   * open for O_TRUNC); false when none is open, and the caller truncates the file in dora itself.
   */
  async truncateOpen(path: string, size: number): Promise<boolean> {
    let found = false;
    for (const [fd, file] of this.#files) {
      if (file.kind !== 'write' || file.path !== path) continue;
      await this.truncate(fd, size);
      found = true;
    }
    return found;
  }

  /** The size a file being written has now, if one is open at `path`. */
  stagedSize(path: string): number | undefined {
    for (const file of this.#files.values()) if (file.kind === 'write' && file.path === path) return file.size;
    return undefined;
  }

  /** Writes a changed file through to dora (on close). Throws what the write throws (EIO, EROFS… for close()). */
  async flush(fd: number): Promise<void> {
    const file = this.#files.get(fd);
    if (file?.kind !== 'write' || !file.dirty) return;
    await this.#client.write(file.path, createReadStream(file.staging, { start: 0, end: Math.max(0, file.size - 1) }).iterator(), { size: file.size });
    file.dirty = false;
  }

  /** Forgets the handle and its staging file. */
  async release(fd: number): Promise<void> {
    const file = this.#files.get(fd);
    this.#files.delete(fd);
    if (file?.kind === 'read') this.#unshare(file);
    if (file?.kind !== 'write') return;
    await file.handle.close().catch(() => undefined);
    await rm(file.staging, { force: true });
  }

  #unshare(file: ReadFile): void {
    const shared = this.#readers.get(file.key);
    if (shared === undefined || --shared.handles > 0) return;
    this.#readers.delete(file.key);
    shared.reader.close();
  }

  async #stageCurrent(path: string, handle: FileHandle): Promise<number> {
    const status = await this.#client.stat(path).catch((error: unknown) => {
      if (error instanceof DoraError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    if (status === undefined) return 0;
    if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `Cannot open "${path}" for writing: it is a directory`);
    if (status.size > this.#maxStagedBytes) {
      throw new DoraError('RESOURCE_EXHAUSTED', `Cannot change "${path}" in place: ${status.size} bytes is more than the ${this.#maxStagedBytes} staged locally; rewrite it whole (O_TRUNC)`);
    }
    let position = 0;
    for await (const chunk of (await this.#client.read(path, { version: status.version })) as AsyncIterable<Buffer>) {
      await handle.write(chunk, 0, chunk.length, position);
      position += chunk.length;
    }
    return position;
  }

  #add(file: OpenFile): number {
    const fd = this.#next++;
    this.#files.set(fd, file);
    return fd;
  }

  #get(fd: number): OpenFile {
    const file = this.#files.get(fd);
    if (file === undefined) throw new DoraError('INVALID_ARGUMENT', `No open file ${fd}`);
    return file;
  }

  #writable(fd: number): WriteFile {
    const file = this.#get(fd);
    if (file.kind !== 'write') throw new DoraError('PERMISSION_DENIED', `File ${fd} is open for reading only`);
    return file;
  }
}
