import { Readable } from 'node:stream';
import { isDoraError, type ErrorCode } from '../../common/errors.js';
import type { UfsCallOptions, UfsReadOptions, UfsReadResult, UnderFileSystem } from '../under-file-system.js';
import { ForwardingUfs, type UfsCall, type UfsOperation } from './forwarding-ufs.js';

/** One finished call to a store. */
export interface UfsCallEvent {
  /** `read.stream` is a read's body, from open to its end; `read` is the time to open it. */
  readonly op: UfsOperation | 'read.stream';
  /** The store's root URI (label metrics by scheme or mount, never by path). */
  readonly uri: string;
  readonly outcome: 'ok' | ErrorCode;
  readonly durationMs: number;
  /** Bytes delivered, for `read.stream`. */
  readonly bytes?: number;
}

/**
 * Reports every call's outcome and latency, and every read's bytes, to `observe` (which must
 * not throw). The metrics module turns these into Prometheus series.
 */
export function withMetrics(ufs: UnderFileSystem, observe: (event: UfsCallEvent) => void): UnderFileSystem {
  return new MeteredUfs(ufs, observe);
}

class MeteredUfs extends ForwardingUfs {
  readonly #observe: (event: UfsCallEvent) => void;

  constructor(inner: UnderFileSystem, observe: (event: UfsCallEvent) => void) {
    super(inner);
    this.#observe = observe;
  }

  protected override async call<T, O extends UfsCallOptions>(call: UfsCall, options: O, run: (options: O) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run(options);
      this.#report(call.op, 'ok', started);
      return result;
    } catch (error) {
      this.#report(call.op, outcomeOf(error), started);
      throw error;
    }
  }

  override async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const started = performance.now();
    const opened = await super.read(path, options);
    const observe = (outcome: 'ok' | ErrorCode, bytes: number): void => this.#report('read.stream', outcome, started, bytes);
    return { status: opened.status, stream: Readable.from(counted(opened.stream, observe), { objectMode: false }) };
  }

  #report(op: UfsCallEvent['op'], outcome: UfsCallEvent['outcome'], started: number, bytes?: number): void {
    this.#observe({ op, uri: this.uri, outcome, durationMs: performance.now() - started, ...(bytes === undefined ? {} : { bytes }) });
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, observe: (outcome: 'ok' | ErrorCode, bytes: number) => void): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  let outcome: 'ok' | ErrorCode = 'CANCELLED'; // unless it ends or fails: the reader stopped early
  let yielding = false;
  try {
    for await (const chunk of source) {
      bytes += chunk.byteLength;
      yielding = true;
      yield chunk;
      yielding = false;
    }
    outcome = 'ok';
  } catch (error) {
    // An error thrown in at `yield` is the reader's (a stream destroyed with an error, or a
    // `break` out of for-await, which destroys with an AbortError): the store did not fail.
    if (!yielding) outcome = outcomeOf(error);
    throw error;
  } finally {
    observe(outcome, bytes);
  }
}

function outcomeOf(error: unknown): ErrorCode {
  return isDoraError(error) ? error.code : 'INTERNAL';
}
