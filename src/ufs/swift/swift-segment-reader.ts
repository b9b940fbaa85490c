/**
 * Cuts a write's source into segments of a given size, whatever chunk sizes it yields, and tells
 * whether more follows: after each segment it looks one chunk ahead, so the caller knows which
 * segment is the last. A buffer source is cut into views, never copied; a stream's chunks are
 * joined into one buffer per segment, and the reader holds at most one source chunk beyond it.
 */
export class SegmentReader {
  readonly #buffer: Uint8Array | undefined;
  readonly #source: AsyncIterator<Uint8Array> | undefined;
  #offset = 0;
  #pending: Uint8Array | undefined;
  #sourceEnded = false;

  constructor(source: Uint8Array | AsyncIterable<Uint8Array>) {
    if (source instanceof Uint8Array) {
      this.#buffer = source;
      this.#source = undefined;
    } else {
      this.#buffer = undefined;
      this.#source = source[Symbol.asyncIterator]();
    }
  }

  /** True once every byte has been handed out. */
  get ended(): boolean {
    if (this.#buffer !== undefined) return this.#offset >= this.#buffer.byteLength;
    return this.#sourceEnded && this.#pending === undefined;
  }

  /** The next segment: `size` bytes, fewer only for the last one (empty when the source is empty). */
  async read(size: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#buffer !== undefined) {
      const segment = this.#buffer.subarray(this.#offset, this.#offset + size);
      this.#offset += segment.byteLength;
      return segment;
    }
    // Chunks are gathered and joined once, so a small write never holds a whole segment's worth.
    const chunks: Uint8Array[] = [];
    let used = 0;
    while (used < size) {
      const chunk = await this.#next(signal);
      if (chunk === undefined) break;
      const n = Math.min(chunk.byteLength, size - used);
      chunks.push(n < chunk.byteLength ? chunk.subarray(0, n) : chunk);
      used += n;
      if (n < chunk.byteLength) this.#pending = chunk.subarray(n);
    }
    // Look ahead, so that `ended` is known for a full segment too.
    if (this.#pending === undefined && !this.#sourceEnded) this.#pending = await this.#next(signal);
    return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, used);
  }

  /** Stops a stream source early (on failure). */
  async close(): Promise<void> {
    this.#pending = undefined;
    if (this.#source !== undefined && !this.#sourceEnded) {
      this.#sourceEnded = true;
      await this.#source.return?.();
    }
  }

  async #next(signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
    if (this.#pending !== undefined) {
      const chunk = this.#pending;
      this.#pending = undefined;
      return chunk;
    }
    while (this.#source !== undefined && !this.#sourceEnded) {
      signal?.throwIfAborted();
      const step = await this.#source.next();
      signal?.throwIfAborted();
      if (step.done === true) this.#sourceEnded = true;
      else if (step.value.byteLength > 0) return step.value;
    }
    return undefined;
  }
}
