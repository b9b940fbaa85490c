import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The checksum algorithms S3 accepts in x-amz-checksum-* headers and trailers. */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';

/** An incremental checksum whose digest is what S3 puts in x-amz-checksum-*: base64 of the big-endian value. */
export interface PayloadChecksum {
  update(data: Uint8Array): void;
  /** Ends the checksum; call once. */
  digest(): string;
}

const ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

/** `x-amz-checksum-crc32` → `crc32`; undefined for other names and unknown algorithms. */
export function checksumAlgorithmOf(headerName: string): ChecksumAlgorithm | undefined {
  const prefix = 'x-amz-checksum-';
  if (!headerName.startsWith(prefix)) return undefined;
  const algorithm = headerName.slice(prefix.length);
  return ALGORITHMS.find((a) => a === algorithm);
}

export function createPayloadChecksum(algorithm: ChecksumAlgorithm): PayloadChecksum {
  switch (algorithm) {
    case 'crc32': {
      let value = 0;
      return { update: (data) => void (value = crc32(data, value)), digest: () => uint32Base64(value) };
    }
    case 'crc32c': {
      let value = 0xffffffff;
      return { update: (data) => void (value = crc32cUpdate(value, data)), digest: () => uint32Base64((value ^ 0xffffffff) >>> 0) };
    }
    case 'crc64nvme':
      return new Crc64Nvme();
    case 'sha1':
    case 'sha256':
      return hashChecksum(createHash(algorithm));
  }
}

function hashChecksum(hash: Hash): PayloadChecksum {
  return { update: (data) => void hash.update(data), digest: () => hash.digest('base64') };
}

function uint32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78; Node has no built-in for it.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < data.length; i++) c = (CRC32C_TABLE[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return c >>> 0;
}

// CRC-64/NVME, reflected polynomial 0x9A6C9329AC4BC9B5, kept as two 32-bit halves so the loop avoids BigInt.
const [CRC64_LO, CRC64_HI] = (() => {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  const poly = 0x9a6c9329ac4bc9b5n;
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    lo[n] = Number(c & 0xffffffffn);
    hi[n] = Number(c >> 32n);
  }
  return [lo, hi] as const;
})();

class Crc64Nvme implements PayloadChecksum {
  #lo = 0xffffffff;
  #hi = 0xffffffff;

  update(data: Uint8Array): void {
    let lo = this.#lo;
    let hi = this.#hi;
    for (let i = 0; i < data.length; i++) {
      const index = (lo ^ (data[i] ?? 0)) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_LO[index] ?? 0)) >>> 0;
      hi = ((hi >>> 8) ^ (CRC64_HI[index] ?? 0)) >>> 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }

  digest(): string {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32BE((this.#hi ^ 0xffffffff) >>> 0, 0);
    bytes.writeUInt32BE((this.#lo ^ 0xffffffff) >>> 0, 4);
    return bytes.toString('base64');
  }
}
