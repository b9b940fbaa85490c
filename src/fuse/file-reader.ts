import type { DoraClient } from '../client/dora-client.js';
import { ReadAheadStream, type ReadAheadWindow } from './read-ahead.js';

/** How many files may read ahead at once: each holds up to `ahead + behind` bytes, so this bounds the memory. */
export class ReadAheadSlots {
  #free: number;

  constructor(slots: number) {
    this.#free = slots;
  }

  take(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }

  give(): void {
    this.#free++;
  }
}

export interface FileReaderOptions extends ReadAheadWindow {
  readonly slots: ReadAheadSlots;
}

/**
 * Reads of one file opened for reading, pinned to the version it had when opened. A request that
 * continues the previous one (or starts at byte 0) starts a sequential run read ahead through one
 * stream; other requests (random access, or no read-ahead slot free) fetch just their bytes.
 */
export class FileReader {
  readonly #client: DoraClient;
  readonly #path: string;
  readonly #version: string;
  readonly #size: number;
  readonly #options: FileReaderOptions;
  #run: ReadAheadStream | undefined;
  #slot = false;
  #lastEnd = 0;

  constructor(client: DoraClient, file: { path: string; version: string; size: number }, options: FileReaderOptions) {
    this.#client = client;
    this.#path = file.path;
    this.#version = file.version;
    this.#size = file.size;
    this.#options = options;
  }

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    const wanted = Math.min(length, this.#size - position);
    if (wanted <= 0) return 0;
    const run = this.#runFor(position);
    this.#lastEnd = position + wanted;
    const filled = run === undefined ? undefined : await run.read(buffer, wanted, position);
    return filled ?? (await this.#fetch(buffer, wanted, position));
  }

  close(): void {
    this.#run?.close();
    this.#run = undefined;
    if (this.#slot) this.#options.slots.give();
    this.#slot = false;
  }

  /** The run that serves `position`: the current one, a new one when the request is sequential, else none. */
  #runFor(position: number): ReadAheadStream | undefined {
    if (this.#run?.covers(position) === true) return this.#run;
    if (position !== this.#lastEnd && position !== 0) return undefined;
    if (!this.#slot) this.#slot = this.#options.slots.take();
    if (!this.#slot) return undefined;
    this.#run?.close();
    this.#run = new ReadAheadStream(this.#client.read(this.#path, { offset: position, version: this.#version }), position, this.#options);
    return this.#run;
  }

  async #fetch(buffer: Buffer, length: number, position: number): Promise<number> {
    const stream = await this.#client.read(this.#path, { offset: position, length, version: this.#version });
    let filled = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) filled += chunk.copy(buffer, filled);
    return filled;
  }
}
