import { crc32 } from 'node:zlib';

/**
 * The format of one page file: a 16-byte header, then the page's bytes.
 *
 *   0  8  magic 'DORAPG1\0' (the trailing digit is the format version)
 *   8  4  data length, unsigned little-endian
 *  12  4  CRC-32 (zlib's) of the data, unsigned little-endian
 *  16  …  data
 *
 * The length lets a reader tell a truncated file from a whole one without trusting the file
 * size; the checksum catches torn writes that survived a crash and bit rot.
 */
export const PAGE_HEADER_BYTES = 16;

/** The largest page the header can describe. */
export const MAX_PAGE_BYTES = 0xffff_ffff;

const MAGIC = Buffer.from('DORAPG1\0', 'latin1');

/** The header for a page file holding `data` (at most MAX_PAGE_BYTES). */
export function encodePageHeader(data: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(PAGE_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(data.length, 8);
  header.writeUInt32LE(crc32(data), 12);
  return header;
}

/**
 * The page's data within a whole page file (a view, not a copy), or undefined when the magic,
 * length or checksum does not match: the file is damaged and must not be served.
 */
export function decodePageFile(file: Buffer): Buffer | undefined {
  if (file.length < PAGE_HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = file.subarray(PAGE_HEADER_BYTES);
  if (file.readUInt32LE(8) !== data.length) return undefined;
  return file.readUInt32LE(12) === crc32(data) ? data : undefined;
}
