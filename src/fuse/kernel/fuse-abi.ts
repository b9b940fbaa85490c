/**
 * The kernel's FUSE protocol (linux/fuse.h, protocol 7.x): opcodes, flags, and the little-endian
 * layouts dora reads and writes. Requests start with a 40-byte header, replies with a 16-byte one.
 */
export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
  RENAME2: 45,
} as const;

export const IN_HEADER = 40;
export const OUT_HEADER = 16;
export const ROOT_ID = 1;

/** INIT flags dora asks for: requests in parallel, large writes, up to `max_pages` per request, O_TRUNC in OPEN. */
export const INIT_ASYNC_READ = 1 << 0;
export const INIT_ATOMIC_O_TRUNC = 1 << 3;
export const INIT_BIG_WRITES = 1 << 5;
export const INIT_PARALLEL_DIROPS = 1 << 18;
export const INIT_MAX_PAGES = 1 << 22;

export const FOPEN_KEEP_CACHE = 1 << 1;

export const FATTR_SIZE = 1 << 3;
export const FATTR_FH = 1 << 6;

export const RENAME_NOREPLACE = 1 << 0;

const DT_DIR = 4;
const DT_REG = 8;

/** The fixed part of a request. */
export interface RequestHeader {
  readonly opcode: number;
  readonly unique: bigint;
  readonly nodeid: number;
  readonly uid: number;
  readonly gid: number;
}

export function readHeader(buffer: Buffer): RequestHeader {
  return {
    opcode: buffer.readUInt32LE(4),
    unique: buffer.readBigUInt64LE(8),
    nodeid: Number(buffer.readBigUInt64LE(16)),
    uid: buffer.readUInt32LE(24),
    gid: buffer.readUInt32LE(28),
  };
}

export function replyHeader(length: number, error: number, unique: bigint): Buffer {
  const header = Buffer.allocUnsafe(OUT_HEADER);
  header.writeUInt32LE(OUT_HEADER + length, 0);
  header.writeInt32LE(error, 4);
  header.writeBigUInt64LE(unique, 8);
  return header;
}

/** A NUL-terminated name at `offset`, and where the next field starts. */
export function readName(body: Buffer, offset = 0): { name: string; next: number } {
  const end = body.indexOf(0, offset);
  const stop = end === -1 ? body.length : end;
  return { name: body.toString('utf8', offset, stop), next: stop + 1 };
}

export interface Attr {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
}

const ATTR = 88;

function writeAttr(out: Buffer, at: number, attr: Attr): void {
  const seconds = BigInt(Math.floor(attr.mtimeMs / 1000));
  const nanos = Math.round((attr.mtimeMs % 1000) * 1e6);
  out.writeBigUInt64LE(BigInt(attr.ino), at);
  out.writeBigUInt64LE(BigInt(attr.size), at + 8);
  out.writeBigUInt64LE(BigInt(Math.ceil(attr.size / 512)), at + 16);
  for (const field of [24, 32, 40]) out.writeBigUInt64LE(seconds, at + field); // atime, mtime, ctime
  for (const field of [48, 52, 56]) out.writeUInt32LE(nanos, at + field);
  out.writeUInt32LE(attr.mode, at + 60);
  out.writeUInt32LE(attr.nlink, at + 64);
  out.writeUInt32LE(attr.uid, at + 68);
  out.writeUInt32LE(attr.gid, at + 72);
  out.writeUInt32LE(0, at + 76); // rdev
  out.writeUInt32LE(4096, at + 80); // blksize
  out.writeUInt32LE(0, at + 84);
}

function writeValid(out: Buffer, at: number, ms: number): void {
  out.writeBigUInt64LE(BigInt(Math.floor(ms / 1000)), at);
}

/** fuse_entry_out: a looked-up (or created) node, its attributes, and how long both may be cached. */
export function entryOut(nodeid: number, attr: Attr, validMs: number): Buffer {
  const out = Buffer.alloc(40 + ATTR);
  out.writeBigUInt64LE(BigInt(nodeid), 0);
  writeValid(out, 16, validMs); // entry_valid
  writeValid(out, 24, validMs); // attr_valid
  out.writeUInt32LE((validMs % 1000) * 1e6, 32);
  out.writeUInt32LE((validMs % 1000) * 1e6, 36);
  writeAttr(out, 40, attr);
  return out;
}

/** fuse_attr_out. */
export function attrOut(attr: Attr, validMs: number): Buffer {
  const out = Buffer.alloc(16 + ATTR);
  writeValid(out, 0, validMs);
  out.writeUInt32LE((validMs % 1000) * 1e6, 8);
  writeAttr(out, 16, attr);
  return out;
}

/** fuse_open_out. */
export function openOut(fh: number, flags: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(BigInt(fh), 0);
  out.writeUInt32LE(flags, 8);
  return out;
}

/** fuse_write_out. */
export function writeOut(size: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(size, 0);
  return out;
}

/** fuse_statfs_out. */
export function statfsOut(capacity: { blocks: number; free: number; blockSize: number; nameMax: number }): Buffer {
  const out = Buffer.alloc(80);
  out.writeBigUInt64LE(BigInt(capacity.blocks), 0);
  out.writeBigUInt64LE(BigInt(capacity.free), 8);
  out.writeBigUInt64LE(BigInt(capacity.free), 16);
  out.writeUInt32LE(capacity.blockSize, 40);
  out.writeUInt32LE(capacity.nameMax, 44);
  out.writeUInt32LE(capacity.blockSize, 48);
  return out;
}

/** fuse_init_out for protocol 7.`minor`. */
export function initOut(minor: number, flags: number, options: { maxReadahead: number; maxWrite: number; maxPages: number; maxBackground: number }): Buffer {
  const out = Buffer.alloc(64);
  out.writeUInt32LE(7, 0);
  out.writeUInt32LE(minor, 4);
  out.writeUInt32LE(options.maxReadahead, 8);
  out.writeUInt32LE(flags, 12);
  out.writeUInt16LE(options.maxBackground, 16);
  out.writeUInt16LE(Math.floor((options.maxBackground * 3) / 4), 18); // congestion threshold
  out.writeUInt32LE(options.maxWrite, 20);
  out.writeUInt32LE(1, 24); // time granularity: 1 ns
  out.writeUInt16LE(options.maxPages, 28);
  return out;
}

/** One fuse_dirent (padded to 8 bytes), or undefined when it does not fit in `room` bytes. */
export function dirent(ino: number, offset: number, name: string, directory: boolean, room: number): Buffer | undefined {
  const nameBytes = Buffer.from(name);
  const size = 24 + nameBytes.length;
  const padded = (size + 7) & ~7;
  if (padded > room) return undefined;
  const out = Buffer.alloc(padded);
  out.writeBigUInt64LE(BigInt(ino), 0);
  out.writeBigUInt64LE(BigInt(offset), 8);
  out.writeUInt32LE(nameBytes.length, 16);
  out.writeUInt32LE(directory ? DT_DIR : DT_REG, 20);
  nameBytes.copy(out, 24);
  return out;
}
