import type { DoraClient } from '../client/dora-client.js';
import { copyInto, ReadAheadStream, type ReadAheadWindow } from './read-ahead.js';

/** How many runs may read ahead at once: each holds up to `ahead + behind` bytes, so this bounds the memory. */
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

/** Sequential runs one file keeps at once (readers at different places in it). */
const MAX_RUNS = 4;
/** Ends of recent requests remembered to tell a sequential request from a random one. */
const RECENT_ENDS = 16;

/**
 * Reads of one version of one file, shared by every handle open on it (the kernel sends a file's
 * requests through any of them). A request that starts where an answered one ended starts a
 * sequential run, read ahead through one stream; requests within a run's reach are served from it,
 * whichever reader made them; others (a first request, random access, no read-ahead slot free)
 * fetch just their bytes, so the first byte of a cold file costs one small read.
 */
export class FileReader {
  readonly #client: DoraClient;
  readonly #path: string;
  readonly #version: string;
  readonly #size: number;
  readonly #options: FileReaderOptions;
  /** Least recently used first. */
  #runs: ReadAheadStream[] = [];
  readonly #recentEnds: number[] = [];

  constructor(client: DoraClient, file: { path: string; version: string; size: number }, options: FileReaderOptions) {
    this.#client = client;
    this.#path = file.path;
    this.#version = file.version;
    this.#size = file.size;
    this.#options = options;
  }

  /** Up to `length` bytes at `position` (fewer at the end), as the buffers they arrived in (no copy). */
  async slices(length: number, position: number): Promise<Buffer[]> {
    const wanted = Math.min(length, this.#size - position);
    if (wanted <= 0) return [];
    const run = this.#runFor(position);
    const parts = (run === undefined ? undefined : await run.slices(wanted, position)) ?? (await this.#fetch(wanted, position));
    // Remembered once answered: a run starts only after a request was served, so a cold file's
    // first bytes do not share the link with a run's read-ahead.
    this.#recentEnds.push(position + parts.reduce((sum, part) => sum + part.length, 0));
    if (this.#recentEnds.length > RECENT_ENDS) this.#recentEnds.shift();
    return parts;
  }

  /** `slices`, copied into `buffer`: the bytes read. */
  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    return copyInto(buffer, await this.slices(length, position));
  }

  close(): void {
    for (const run of [...this.#runs]) this.#drop(run);
  }

  /** The run that serves `position`: one that reaches it, a new one when the request is sequential, else none. */
  #runFor(position: number): ReadAheadStream | undefined {
    for (const run of this.#runs.filter((r) => r.failed)) this.#drop(run);
    const covering = this.#runs.find((run) => run.covers(position));
    if (covering !== undefined) {
      this.#runs = [...this.#runs.filter((run) => run !== covering), covering];
      return covering;
    }
    if (!this.#recentEnds.includes(position)) return undefined;
    const oldest = this.#runs[0];
    if (this.#runs.length >= MAX_RUNS && oldest !== undefined) this.#drop(oldest);
    if (!this.#options.slots.take()) return undefined;
    const run = new ReadAheadStream(this.#client.read(this.#path, { offset: position, version: this.#version }), position, this.#options);
    this.#runs.push(run);
    return run;
  }

  /** Stops a run and gives its read-ahead slot back. */
  #drop(run: ReadAheadStream): void {
    run.close();
    this.#options.slots.give();
    this.#runs = this.#runs.filter((r) => r !== run);
  }

  async #fetch(length: number, position: number): Promise<Buffer[]> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.#client.read(this.#path, { offset: position, length, version: this.#version })) parts.push(chunk as Buffer);
    return parts;
  }
}
