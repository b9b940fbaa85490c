import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectWriteFields, ObjectWritten } from '../object/object-client.js';
import type { AzureApi } from './azure-api.js';

const MiB = 1024 * 1024;
/** Azure's largest Put Blob (service version 2019-12-12 and later). */
export const MAX_PUT_BLOB_BYTES = 5000 * MiB;
/** Azure's largest block. */
export const MAX_BLOCK_BYTES = 4000 * MiB;
/** Azure's most committed blocks per blob. */
const MAX_BLOCKS = 50_000;

export interface AzureUploadTuning {
  /** Bodies of known size up to this many bytes go in one Put Blob (at most MAX_PUT_BLOB_BYTES). */
  readonly multipartThreshold: number;
  /** Bytes per staged block (at most MAX_BLOCK_BYTES). */
  readonly partSize: number;
  /** Blocks staged at the same time. */
  readonly uploadConcurrency: number;
}

/**
 * Writes a block blob. A body of known size up to the threshold goes in one Put Blob (its MD5
 * sent along for a buffer, computed by Azure for a stream). Anything larger, and a stream of
 * unknown size longer than one block, goes as staged blocks (Put Block) committed at once (Put
 * Block List), so the new content appears atomically and a failed write leaves the previous one:
 * its staged blocks stay uncommitted, and Azure discards them. At most partSize ×
 * uploadConcurrency bytes are held. The content's MD5, computed on the way, is committed as the
 * blob's Content-MD5.
 */
export async function putBlob(
  api: AzureApi,
  name: string,
  body: Uint8Array | Readable,
  fields: ObjectWriteFields & { size?: number | undefined },
  tuning: AzureUploadTuning,
  signal: AbortSignal | undefined,
): Promise<ObjectWritten> {
  const attributes = { contentType: fields.contentType, metadata: fields.metadata };
  const size = body instanceof Uint8Array ? body.byteLength : fields.size;
  if (size !== undefined && size <= tuning.multipartThreshold) {
    if (body instanceof Uint8Array) return api.upload(name, body, size, { ...attributes, md5: md5Of(body) }, signal);
    return api.upload(name, body, size, attributes, signal);
  }
  // Big enough blocks that a blob of known size needs no more than Azure allows.
  const partSize = size === undefined ? tuning.partSize : Math.max(tuning.partSize, Math.ceil(size / MAX_BLOCKS));
  const blocks = (body instanceof Uint8Array ? slices(body, partSize) : blocksOf(body, partSize))[Symbol.asyncIterator]();
  try {
    return await stageAndCommit(api, name, blocks, { attributes, partSize, concurrency: tuning.uploadConcurrency, signal });
  } finally {
    await blocks.return?.(undefined);
  }
}

async function stageAndCommit(
  api: AzureApi,
  name: string,
  blocks: AsyncIterator<Uint8Array>,
  options: { attributes: ObjectWriteFields; partSize: number; concurrency: number; signal: AbortSignal | undefined },
): Promise<ObjectWritten> {
  let block = await nextBlock(blocks);
  // All of it fits in one block: one Put Blob, with its MD5.
  if (block === undefined || block.byteLength < options.partSize) {
    const whole = block ?? new Uint8Array(0);
    return api.upload(name, whole, whole.byteLength, { ...options.attributes, md5: md5Of(whole) }, options.signal);
  }
  const writeId = randomUUID();
  const ids: string[] = [];
  const md5 = createHash('md5');
  const inflight = new Set<Promise<void>>();
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  let failure: { error: unknown } | undefined;
  try {
    while (block !== undefined) {
      if (ids.length === MAX_BLOCKS) throw Object.assign(new Error(`more than ${MAX_BLOCKS} blocks`), { code: 'BlockCountExceedsLimit' });
      const id = blockId(writeId, ids.length);
      ids.push(id);
      md5.update(block);
      const staged: Promise<void> = api
        .stageBlock(name, id, block, signal)
        .catch((error: unknown) => {
          failure ??= { error };
          stop.abort(error);
        })
        .finally(() => inflight.delete(staged));
      inflight.add(staged);
      block = undefined; // held by its request only, until staged
      // Read on only once a block's slot is free: at most `concurrency` blocks in memory.
      while (inflight.size >= options.concurrency) await Promise.race(inflight);
      if (failure !== undefined) throw failure.error;
      block = await nextBlock(blocks);
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw failure.error;
    return await api.commitBlocks(name, ids, { ...options.attributes, md5: md5.digest() }, options.signal);
  } finally {
    if (inflight.size > 0) {
      stop.abort(new Error('the write failed'));
      await Promise.allSettled(inflight);
    }
  }
}

async function nextBlock(blocks: AsyncIterator<Uint8Array>): Promise<Uint8Array | undefined> {
  const next = await blocks.next();
  return next.done === true ? undefined : next.value;
}

/** A buffer as blocks of `partSize` bytes (the last one shorter), without copying. */
async function* slices(body: Uint8Array, partSize: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < body.byteLength; at += partSize) yield body.subarray(at, at + partSize);
}

/** A stream as blocks of `partSize` bytes (the last one shorter), holding no more than one block. */
async function* blocksOf(source: AsyncIterable<Uint8Array>, partSize: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    let rest = chunk;
    while (bytes + rest.byteLength >= partSize) {
      const take = partSize - bytes;
      parts.push(rest.subarray(0, take));
      const block = Buffer.concat(parts, partSize);
      parts = [];
      bytes = 0;
      rest = rest.subarray(take);
      yield block;
    }
    if (rest.byteLength > 0) {
      parts.push(rest);
      bytes += rest.byteLength;
    }
  }
  if (bytes > 0) yield Buffer.concat(parts, bytes);
}

function md5Of(data: Uint8Array): Uint8Array {
  return createHash('md5').update(data).digest();
}

/**
 * Block ids of one blob must all have the same length, uncommitted ones of other writers
 * included: 48 characters before base64, as the Azure SDK's own uploads use.
 */
function blockId(writeId: string, index: number): string {
  return Buffer.from(`${writeId}${String(index).padStart(12, '0')}`).toString('base64');
}
