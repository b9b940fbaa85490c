/**
 * Pulls a stream's chunks into a caller's buffer, whatever sizes the stream yields, and tells
 * whether more follows: after `fill` has filled the buffer it looks one chunk ahead, so a
 * resumable upload knows which chunk is its last. Holds at most one source chunk of its own.
 */
export class ChunkReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #pending: Uint8Array | undefined;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#source = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
  }

  /** True once the source has nothing more (every byte has been handed out). */
  get ended(): boolean {
    return this.#ended && this.#pending === undefined;
  }

  /**
   * Copies bytes into `buffer` from `used` on, until it is full or the source ends, and returns
   * how much of `buffer` is now filled. Checks `signal` between chunks.
   */
  async fill(buffer: Uint8Array, used: number, signal: AbortSignal | undefined): Promise<number> {
    while (used < buffer.length) {
      const chunk = await this.#next(signal);
      if (chunk === undefined) return used;
      const n = Math.min(chunk.length, buffer.length - used);
      buffer.set(chunk.subarray(0, n), used);
      used += n;
      if (n < chunk.length) this.#pending = chunk.subarray(n);
    }
    // Look ahead, so `ended` is known for a full buffer too.
    if (this.#pending === undefined && !this.#ended) this.#pending = await this.#next(signal);
    return used;
  }

  /** Stops the source early (on failure), releasing what it holds. */
  async close(): Promise<void> {
    this.#pending = undefined;
    if (!this.#ended) {
      this.#ended = true;
      await this.#source.return?.();
    }
  }

  async #next(signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
    if (this.#pending !== undefined) {
      const chunk = this.#pending;
      this.#pending = undefined;
      return chunk;
    }
    while (!this.#ended) {
      signal?.throwIfAborted();
      const step = await this.#source.next();
      signal?.throwIfAborted();
      if (step.done === true) this.#ended = true;
      else if (step.value.length > 0) return step.value;
    }
    return undefined;
  }
}

async function* toAsync(iterator: Iterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let step = iterator.next(); step.done !== true; step = iterator.next()) yield step.value;
}
