import { read, writev } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path/posix';
import { DoraError } from '../../common/errors.js';
import type { Attributes, DoraFs, FuseSettings } from '../dora-fs.js';
import { runFuseRequest } from '../fuse-failure.js';
import type { FuseSession } from '../fuse-session.js';
import { detachMounts } from '../mount-points.js';
import { DirectoryStream } from './directory-stream.js';
import * as abi from './fuse-abi.js';
import { mountFuseDevice, setReadAhead } from './kernel-mount.js';
import { NodeTable } from './node-table.js';

const { Op } = abi;
/** Where the name is in the body of requests that name a child of their node. */
const NAME_OFFSETS: ReadonlyMap<number, number> = new Map([[Op.LOOKUP, 0], [Op.UNLINK, 0], [Op.RMDIR, 0], [Op.MKDIR, 8], [Op.CREATE, 16]]);
const OP_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Op).map(([name, code]) => [code, name.toLowerCase()]));
/** Largest request and write: 256 pages of 4 KiB (the kernel's limit, with INIT_MAX_PAGES). */
const MAX_IO = 1024 * 1024;
/** A request buffer holds the largest write and its headers. */
const REQUEST_BUFFER = MAX_IO + 4096;
/** Requests the kernel may have in flight in the background (read-ahead, writes). */
const MAX_BACKGROUND = 32;
/** Request buffers kept for reuse. */
const POOLED = 8;

/**
 * Mounts `fs` by speaking the kernel's FUSE protocol on /dev/fuse directly (needs root): requests of
 * up to 1 MiB, several at once, answered asynchronously; directories read in pages by offset.
 */
export async function mountWithKernel(mountPoint: string, fs: DoraFs, settings: FuseSettings): Promise<FuseSession> {
  const device = await mountFuseDevice(mountPoint, { allowOther: settings.allowOther });
  const session = new KernelSession(device, fs, settings);
  try {
    await session.initialized;
  } catch (error) {
    await detachMounts(mountPoint).catch(() => undefined);
    throw error;
  }
  await setReadAhead(mountPoint, Math.max(128, Math.min(settings.readAhead, 16 * MAX_IO) / 1024));
  let unmounted: Promise<void> | undefined;
  return {
    closed: session.closed,
    unmount: () =>
      (unmounted ??= (async () => {
        await detachMounts(mountPoint);
        await session.closed;
      })()),
  };
}

/** One mount's conversation with the kernel: one read of /dev/fuse outstanding (a libuv thread), every request answered as it completes. */
class KernelSession {
  readonly initialized: Promise<void>;
  readonly closed: Promise<void>;
  readonly #device: FileHandle;
  readonly #fs: DoraFs;
  readonly #validMs: number;
  readonly #nodes = new NodeTable();
  readonly #directories = new Map<number, DirectoryStream>();
  readonly #pool: Buffer[] = [];
  #nextDirectory = 1;
  #init: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  #close: (() => void) | undefined;

  constructor(device: FileHandle, fs: DoraFs, settings: FuseSettings) {
    this.#device = device;
    this.#fs = fs;
    this.#validMs = settings.attrTimeout;
    this.initialized = new Promise((resolve, reject) => (this.#init = { resolve, reject }));
    this.closed = new Promise((resolve) => (this.#close = resolve));
    this.#receive();
  }

  /** Reads the next request; the kernel answers ENODEV once unmounted. */
  #receive(): void {
    const buffer = this.#take();
    read(this.#device.fd, buffer, 0, REQUEST_BUFFER, null, (error, length) => {
      if (error !== null) {
        this.#give(buffer);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') return this.#receive(); // a request interrupted before it was read
        this.#init?.reject(error);
        void this.#device.close().finally(() => this.#close?.());
        return;
      }
      this.#receive();
      void this.#dispatch(buffer.subarray(0, length)).finally(() => this.#give(buffer));
    });
  }

  async #dispatch(request: Buffer): Promise<void> {
    const header = abi.readHeader(request);
    const body = request.subarray(abi.IN_HEADER);
    switch (header.opcode) {
      case Op.FORGET:
        return this.#nodes.forget(header.nodeid, Number(body.readBigUInt64LE(0)));
      case Op.BATCH_FORGET:
        for (let i = 0, count = body.readUInt32LE(0); i < count; i++) this.#nodes.forget(Number(body.readBigUInt64LE(8 + 16 * i)), Number(body.readBigUInt64LE(16 + 16 * i)));
        return;
      case Op.INTERRUPT:
        return; // every request is answered when done: the kernel takes an interrupted one's late answer
    }
    const observed = { op: OP_NAMES.get(header.opcode) ?? `opcode ${header.opcode}`, path: () => this.#requestPath(header, body) };
    const outcome = await runFuseRequest(observed, () => this.#handle(header, body));
    if ('errno' in outcome) {
      await this.#answer(header.unique, outcome.errno, []);
      return;
    }
    await this.#answer(header.unique, 0, outcome.value);
    if (header.opcode === Op.INIT) this.#init?.resolve();
  }

  /** The path a request is about, for its log line: the child it names, for those that name one. */
  #requestPath(header: abi.RequestHeader, body: Buffer): string | undefined {
    const dir = this.#nodes.path(header.nodeid);
    const offset = NAME_OFFSETS.get(header.opcode);
    return dir === undefined || offset === undefined ? dir : join(dir, abi.readName(body, offset).name);
  }

  /** The reply's parts to request `header` (a read's bytes as the buffers they are held in: written without a copy). */
  async #handle(header: abi.RequestHeader, body: Buffer): Promise<Buffer[]> {
    const fs = this.#fs;
    const node = header.nodeid;
    const path = (): string => this.#nodes.path(node) ?? doraFail('NOT_FOUND', `Node ${node} is no longer known`);
    const child = (name: string): string => join(path(), name);
    switch (header.opcode) {
      case Op.INIT:
        return [this.#initReply(body)];
      case Op.LOOKUP: {
        const { name } = abi.readName(body);
        return [await this.#entry(node, name)];
      }
      case Op.GETATTR:
        return [abi.attrOut(attr(node, await fs.getattr(path())), this.#validMs)];
      case Op.SETATTR: {
        const valid = body.readUInt32LE(0);
        const size = Number(body.readBigUInt64LE(16));
        if ((valid & abi.FATTR_SIZE) !== 0) {
          if ((valid & abi.FATTR_FH) !== 0) await fs.ftruncate(Number(body.readBigUInt64LE(8)), size);
          else await fs.truncate(path(), size);
        } else {
          await fs.accept(path()); // modes, owners, times: stores keep none
        }
        return [abi.attrOut(attr(node, await fs.getattr(path())), this.#validMs)];
      }
      case Op.OPEN: {
        const opened = await fs.open(path(), body.readUInt32LE(0));
        return [abi.openOut(opened.fh, opened.keepCache ? abi.FOPEN_KEEP_CACHE : 0)];
      }
      case Op.READ:
        return fs.readSlices(Number(body.readBigUInt64LE(0)), Math.min(body.readUInt32LE(16), MAX_IO), Number(body.readBigUInt64LE(8)));
      case Op.WRITE: {
        const size = body.readUInt32LE(16);
        const written = await fs.write(Number(body.readBigUInt64LE(0)), body.subarray(40, 40 + size), size, Number(body.readBigUInt64LE(8)));
        return [abi.writeOut(written)];
      }
      case Op.FLUSH:
      case Op.FSYNC:
        await fs.flush(Number(body.readBigUInt64LE(0)));
        return [];
      case Op.RELEASE:
        await fs.release(Number(body.readBigUInt64LE(0)));
        return [];
      case Op.CREATE: {
        const { name } = abi.readName(body, 16);
        const fh = await fs.create(child(name));
        return [await this.#entry(node, name), abi.openOut(fh, 0)];
      }
      case Op.MKDIR: {
        const { name } = abi.readName(body, 8);
        await fs.mkdir(child(name));
        return [await this.#entry(node, name)];
      }
      case Op.UNLINK:
      case Op.RMDIR: {
        const { name } = abi.readName(body);
        await (header.opcode === Op.UNLINK ? fs.unlink(child(name)) : fs.rmdir(child(name)));
        this.#nodes.remove(node, name);
        return [];
      }
      case Op.RENAME:
      case Op.RENAME2:
        await this.#rename(node, body, header.opcode === Op.RENAME2);
        return [];
      case Op.OPENDIR: {
        const id = this.#nextDirectory++;
        this.#directories.set(id, new DirectoryStream(fs, path(), node, this.#nodes));
        return [abi.openOut(id, 0)];
      }
      case Op.READDIR: {
        const directory = this.#directories.get(Number(body.readBigUInt64LE(0))) ?? doraFail('INVALID_ARGUMENT', 'No such open directory');
        return [await directory.read(Number(body.readBigUInt64LE(8)), body.readUInt32LE(16))];
      }
      case Op.RELEASEDIR: {
        const id = Number(body.readBigUInt64LE(0));
        await this.#directories.get(id)?.close();
        this.#directories.delete(id);
        return [];
      }
      case Op.STATFS:
        return [abi.statfsOut(await fs.statfs())];
      case Op.ACCESS:
      case Op.FSYNCDIR:
      case Op.DESTROY:
        return [];
      default:
        return doraFail('UNIMPLEMENTED', `FUSE operation ${header.opcode} is not supported`);
    }
  }

  /** Looks `name` up in `parent`: its attributes, and a node the kernel holds one more lookup of. */
  async #entry(parent: number, name: string): Promise<Buffer> {
    const parentPath = this.#nodes.path(parent) ?? doraFail('NOT_FOUND', `Node ${parent} is no longer known`);
    const attributes = await this.#fs.getattr(join(parentPath, name));
    const id = this.#nodes.lookup(parent, name);
    return abi.entryOut(id, attr(id, attributes), this.#validMs);
  }

  async #rename(parent: number, body: Buffer, withFlags: boolean): Promise<void> {
    const newParent = Number(body.readBigUInt64LE(0));
    const flags = withFlags ? body.readUInt32LE(8) : 0;
    const from = abi.readName(body, withFlags ? 16 : 8);
    const to = abi.readName(body, from.next);
    if ((flags & ~abi.RENAME_NOREPLACE) !== 0) doraFail('INVALID_ARGUMENT', 'Renames that exchange or whiteout are not supported');
    const source = join(this.#nodes.path(parent) ?? doraFail('NOT_FOUND', 'Unknown directory'), from.name);
    const target = join(this.#nodes.path(newParent) ?? doraFail('NOT_FOUND', 'Unknown directory'), to.name);
    if ((flags & abi.RENAME_NOREPLACE) !== 0 && (await this.#fs.getattr(target).then(() => true, () => false))) {
      doraFail('ALREADY_EXISTS', `Cannot rename to "${target}": something is there`);
    }
    await this.#fs.rename(source, target);
    this.#nodes.rename(parent, from.name, newParent, to.name);
  }

  #initReply(body: Buffer): Buffer {
    const major = body.readUInt32LE(0);
    const minor = body.readUInt32LE(4);
    if (major !== 7 || minor < 28) doraFail('UNIMPLEMENTED', `The kernel speaks FUSE ${major}.${minor}; dora needs 7.28 or later`);
    const wanted = abi.INIT_ASYNC_READ | abi.INIT_ATOMIC_O_TRUNC | abi.INIT_BIG_WRITES | abi.INIT_PARALLEL_DIROPS | abi.INIT_MAX_PAGES;
    return abi.initOut(Math.min(minor, 38), body.readUInt32LE(12) & wanted, { maxReadahead: MAX_IO, maxWrite: MAX_IO, maxPages: MAX_IO / 4096, maxBackground: MAX_BACKGROUND });
  }

  #answer(unique: bigint, error: number, parts: readonly Buffer[]): Promise<void> {
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    return new Promise((resolve) => {
      // ENOENT: the request was interrupted and is gone; anything else ends with the session.
      writev(this.#device.fd, [abi.replyHeader(length, error, unique), ...parts], () => resolve());
    });
  }

  #take(): Buffer {
    return this.#pool.pop() ?? Buffer.allocUnsafeSlow(REQUEST_BUFFER);
  }

  #give(buffer: Buffer): void {
    if (this.#pool.length < POOLED) this.#pool.push(buffer);
  }
}

function attr(ino: number, attributes: Attributes): abi.Attr {
  return { ...attributes, ino };
}

function doraFail(code: 'NOT_FOUND' | 'INVALID_ARGUMENT' | 'UNIMPLEMENTED' | 'ALREADY_EXISTS', message: string): never {
  throw new DoraError(code, message);
}
