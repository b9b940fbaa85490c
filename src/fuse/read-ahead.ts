import type { Readable } from 'node:stream';
import { DoraError } from '../common/errors.js';

export interface ReadAheadWindow {
  /** Bytes read ahead of the furthest byte asked for, before the stream is paused. */
  readonly ahead: number;
  /** Bytes kept behind the furthest byte asked for, for the kernel's slightly out-of-order requests. */
  readonly behind: number;
}

interface Waiter {
  readonly until: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One sequential run through an open file: a single stream from the byte the run started at,
 * read ahead of the kernel's requests by at most `ahead` bytes (then paused: bounded memory) and
 * kept `behind` bytes back. The kernel's 128 KiB requests, several at once and slightly out of
 * order, are served from the window; one ranged call to the worker serves the whole run instead of
 * one call per request.
 */
export class ReadAheadStream {
  #stream: Readable | undefined;
  #closed = false;
  readonly #window: ReadAheadWindow;
  readonly #chunks: Buffer[] = [];
  readonly #waiters: Waiter[] = [];
  /** File offset of the first byte held, and of the byte after the last. */
  #start: number;
  #end: number;
  /** The furthest byte any request asked for so far. */
  #asked: number;
  #ended = false;
  #error: unknown = undefined;

  /** `opening`: the stream from byte `from` on; requests made before it answers wait for it. */
  constructor(opening: Promise<Readable>, from: number, window: ReadAheadWindow) {
    this.#window = window;
    this.#start = from;
    this.#end = from;
    this.#asked = from;
    opening.then(
      (stream) => {
        if (this.#closed) {
          stream.destroy();
          return;
        }
        this.#stream = stream;
        stream.on('data', (chunk: Buffer) => this.#arrived(chunk));
        stream.once('end', () => this.#finish(undefined));
        stream.once('error', (error) => this.#finish(error));
      },
      (error: unknown) => this.#finish(error),
    );
  }

  /** Whether a request at `position` belongs to this run: held, or arriving within the read-ahead. */
  covers(position: number): boolean {
    return this.#error === undefined && position >= this.#start && position <= this.#asked + this.#window.ahead;
  }

  /** Whether the run failed (its requests fail; the next one starts afresh). */
  get failed(): boolean {
    return this.#error !== undefined;
  }

  /**
   * The bytes [position, position + length) (which `covers` position), clamped to the end, as
   * slices of the chunks held (no copy), waiting for them to arrive; undefined when they were
   * dropped meanwhile (a request far behind the others), for the caller to fetch them on their own.
   */
  async slices(length: number, position: number): Promise<Buffer[] | undefined> {
    const until = position + length;
    if (until > this.#asked) {
      this.#asked = until;
      this.#trim();
      if (this.#stream?.isPaused() === true && this.#end - this.#asked < this.#window.ahead) this.#stream.resume();
    }
    if (this.#end < until && !this.#ended) {
      if (this.#error !== undefined) throw this.#error;
      await new Promise<void>((resolve, reject) => this.#waiters.push({ until, resolve, reject }));
    }
    if (this.#error !== undefined && this.#end < until) throw this.#error;
    if (position < this.#start) return undefined;
    return this.#slice(position, Math.min(until, this.#end));
  }

  /** Stops the stream and fails any waiting request. */
  close(): void {
    this.#closed = true;
    this.#finish(new DoraError('CANCELLED', 'The file was closed during the read'));
    this.#stream?.destroy();
    this.#chunks.length = 0;
  }

  #arrived(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#end += chunk.length;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i];
      if (waiter !== undefined && waiter.until <= this.#end) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
    if (this.#end - this.#asked >= this.#window.ahead) this.#stream?.pause();
  }

  #finish(error: unknown): void {
    if (this.#ended || this.#error !== undefined) return;
    if (error === undefined) this.#ended = true;
    else this.#error = error;
    for (const waiter of this.#waiters.splice(0)) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  /** Drops chunks wholly more than `behind` bytes before the furthest byte asked for. */
  #trim(): void {
    const keepFrom = this.#asked - this.#window.behind;
    let dropped = 0;
    while (dropped < this.#chunks.length) {
      const chunk = this.#chunks[dropped];
      if (chunk === undefined || this.#start + chunk.length > keepFrom) break;
      this.#start += chunk.length;
      dropped++;
    }
    if (dropped > 0) this.#chunks.splice(0, dropped);
  }

  #slice(from: number, to: number): Buffer[] {
    const parts: Buffer[] = [];
    let offset = this.#start;
    for (const chunk of this.#chunks) {
      const chunkEnd = offset + chunk.length;
      if (chunkEnd > from && offset < to) parts.push(chunk.subarray(Math.max(from, offset) - offset, Math.min(to, chunkEnd) - offset));
      if (chunkEnd >= to) break;
      offset = chunkEnd;
    }
    return parts;
  }
}

/** Copies `parts` one after another into `buffer`; answers the bytes copied. */
export function copyInto(buffer: Buffer, parts: readonly Buffer[]): number {
  let filled = 0;
  for (const part of parts) filled += part.copy(buffer, filled);
  return filled;
}
