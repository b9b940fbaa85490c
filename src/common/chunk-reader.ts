/**
 * Reads a write's source in pieces of the caller's size, whatever chunk sizes the source yields,
 * and tells whether more follows: after each piece it looks one chunk ahead, so an upload knows
 * which piece is its last (a GCS resumable upload's final chunk, a Swift SLO's last segment). A
 * buffer source is cut into views, never copied; the reader holds at most one source chunk
 * beyond what it handed out.
 */
export class ChunkReader {
  readonly #source: AsyncIterator<Uint8Array> | undefined;
  #pending: Uint8Array | undefined;
  #ended = false;

  constructor(source: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    if (source instanceof Uint8Array) {
      this.#source = undefined;
      this.#pending = source.byteLength > 0 ? source : undefined;
      this.#ended = true;
    } else {
      this.#source = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
    }
  }

  /** True once every byte has been handed out. */
  get ended(): boolean {
    return this.#ended && this.#pending === undefined;
  }

  /**
   * The next `size` bytes, fewer only at the end (empty when nothing is left): one chunk's view
   * when a chunk holds them, else the chunks joined once (a small write never holds `size` bytes).
   */
  async read(size: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    const used = await this.#take(size, signal, (chunk) => chunks.push(chunk));
    return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, used);
  }

  /**
   * Copies bytes into `buffer` from `used` on, until it is full or the source ends, and returns
   * how much of `buffer` is now filled. Checks `signal` between chunks.
   */
  async fill(buffer: Uint8Array, used: number, signal: AbortSignal | undefined): Promise<number> {
    let at = used;
    await this.#take(buffer.length - used, signal, (chunk) => {
      buffer.set(chunk, at);
      at += chunk.length;
    });
    return at;
  }

  /** Stops a stream source early (on failure), releasing what it holds. */
  async close(): Promise<void> {
    this.#pending = undefined;
    if (!this.#ended) {
      this.#ended = true;
      await this.#source?.return?.();
    }
  }

  /**
   * Hands `take` up to `size` bytes, chunk by chunk (views, never copies), keeping the rest of a
   * chunk for next time; then looks one chunk ahead so `ended` is known after a full piece too.
   * Returns the bytes handed.
   */
  async #take(size: number, signal: AbortSignal | undefined, take: (chunk: Uint8Array) => void): Promise<number> {
    let used = 0;
    while (used < size) {
      const chunk = await this.#next(signal);
      if (chunk === undefined) break;
      const n = Math.min(chunk.byteLength, size - used);
      take(n < chunk.byteLength ? chunk.subarray(0, n) : chunk);
      used += n;
      if (n < chunk.byteLength) this.#pending = chunk.subarray(n);
    }
    if (this.#pending === undefined && !this.#ended) this.#pending = await this.#next(signal);
    return used;
  }

  async #next(signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
    if (this.#pending !== undefined) {
      const chunk = this.#pending;
      this.#pending = undefined;
      return chunk;
    }
    while (this.#source !== undefined && !this.#ended) {
      signal?.throwIfAborted();
      const step = await this.#source.next();
      signal?.throwIfAborted();
      if (step.done === true) this.#ended = true;
      else if (step.value.byteLength > 0) return step.value;
    }
    return undefined;
  }
}

async function* toAsync(iterator: Iterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let step = iterator.next(); step.done !== true; step = iterator.next()) yield step.value;
}
