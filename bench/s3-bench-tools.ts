// Helpers shared by issue 4's S3 API benchmarks: digests of the bytes sent and received (computed
// outside the timed part), the worker's cache totals that prove reads were hits, and waiting for
// the work a write leaves behind it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpText } from './bench-tools.js';

export interface Digests {
  readonly bytes: number;
  /** Hex. */
  readonly sha256: string;
  /** Hex: a single PUT's ETag. */
  readonly md5: string;
  /** The ETag S3 gives a multipart upload of these bytes in parts of `partSize`: md5 of the parts' md5s, dash, part count. */
  readonly multipartEtag: string | undefined;
}

/** Reads a file once for its sha256 and md5 (and, given a part size, its multipart ETag). */
export async function fileDigests(path: string, options: { partSize?: number } = {}): Promise<Digests> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  const partMd5s: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  let bytes = 0;
  const partSize = options.partSize ?? Number.POSITIVE_INFINITY;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    md5.update(chunk);
    bytes += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, partSize - inPart);
      part.update(chunk.subarray(at, at + take));
      at += take;
      inPart += take;
      if (inPart === partSize) {
        partMd5s.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  if (inPart > 0) partMd5s.push(part.digest());
  const multipartEtag = options.partSize === undefined ? undefined : `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}`;
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('hex'), multipartEtag };
}

/** A GET whose body is hashed as it streams (never held): status, byte count and sha256. */
export function hashedGet(url: string): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** Byte count and sha256 of a stream, consumed to its end. */
export async function hashStream(stream: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** What `GET /v1/cache` reports: totals since the worker started. */
export interface CacheTotals {
  readonly pages: number;
  readonly hits: number;
  readonly misses: number;
  readonly bytesFromCache: number;
  readonly bytesFromStore: number;
}

export async function cacheTotals(workerUrl: string): Promise<CacheTotals> {
  const s = JSON.parse(await httpText(`${workerUrl}/v1/cache`)) as CacheTotals;
  return { pages: s.pages, hits: s.hits, misses: s.misses, bytesFromCache: s.bytesFromCache, bytesFromStore: s.bytesFromStore };
}

/**
 * Throws unless every page lookup between `before` and `after` was a hit and `bytes` bytes (at
 * least, when `atLeast`) came from the cache: the timed reads never touched the store.
 */
export function checkAllHits(what: string, before: CacheTotals, after: CacheTotals, bytes: number, options: { atLeast?: boolean } = {}): void {
  const misses = after.misses - before.misses;
  const fromStore = after.bytesFromStore - before.bytesFromStore;
  const fromCache = after.bytesFromCache - before.bytesFromCache;
  const enough = options.atLeast === true ? fromCache >= bytes : fromCache === bytes;
  if (misses !== 0 || fromStore !== 0 || !enough) {
    throw new Error(`Cannot trust ${what}: ${misses} page misses, ${fromStore} bytes from the store, ${fromCache} bytes from the cache (expected ${options.atLeast === true ? 'at least ' : ''}${bytes})`);
  }
}

/** Polls until `dir` is empty or missing (a worker's spool or multipart staging), for at most `timeoutMs`. */
export async function waitEmpty(dir: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    if (entries.length === 0) return;
    if (Date.now() > deadline) throw new Error(`Cannot wait for "${dir}" to empty: ${entries.length} entries left after ${timeoutMs} ms`);
    await sleep(100);
  }
}
