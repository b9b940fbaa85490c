import { Readable } from 'node:stream';
import { isDoraError, type ErrorCode } from '../../common/errors.js';
import type { UfsCallOptions, UfsReadOptions, UfsReadResult, UfsStatus, UnderFileSystem } from '../under-file-system.js';
import { SpanKind, failSpan, inSpan, startSpan, withSpan, type Span } from '../../observe/tracing.js';
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
 * not throw): the metrics module turns these into Prometheus series. When tracing is on, each
 * call is also a client span `ufs.<op>` (a read's lasts until its last byte) of the mount, with
 * the bytes a read delivered or a write stored.
 */
export function withMetrics(ufs: UnderFileSystem, observe: (event: UfsCallEvent) => void, mount = ''): UnderFileSystem {
  return new MeteredUfs(ufs, observe, mount);
}

class MeteredUfs extends ForwardingUfs {
  readonly #observe: (event: UfsCallEvent) => void;
  readonly #mount: string;

  constructor(inner: UnderFileSystem, observe: (event: UfsCallEvent) => void, mount: string) {
    super(inner);
    this.#observe = observe;
    this.#mount = mount;
  }

  protected override async call<T, O extends UfsCallOptions>(call: UfsCall, options: O, run: (options: O) => Promise<T>): Promise<T> {
    const started = performance.now();
    const attempt = async (span?: Span): Promise<T> => {
      try {
        const result = await run(options);
        this.#report(call.op, 'ok', started);
        if (call.op === 'write') span?.setAttribute('dora.bytes', (result as UfsStatus).size);
        return result;
      } catch (error) {
        this.#report(call.op, outcomeOf(error), started);
        throw error;
      }
    };
    // A read's span is made by `read`, which lasts until the stream ends.
    return call.op === 'read' ? attempt() : inSpan(`ufs.${call.op}`, this.#attributes(call.path), attempt, { kind: SpanKind.CLIENT });
  }

  override async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const started = performance.now();
    const span = startSpan('ufs.read', { ...this.#attributes(path), 'dora.offset': options.offset ?? 0 }, SpanKind.CLIENT);
    let opened: UfsReadResult;
    try {
      opened = await withSpan(span, () => super.read(path, options));
    } catch (error) {
      failSpan(span, error);
      span?.end();
      throw error;
    }
    const observe = (outcome: 'ok' | ErrorCode, bytes: number): void => {
      this.#report('read.stream', outcome, started, bytes);
      span?.setAttribute('dora.bytes', bytes);
      if (outcome !== 'ok' && outcome !== 'CANCELLED') failSpan(span, new Error(outcome));
      span?.end();
    };
    return { status: opened.status, stream: Readable.from(counted(opened.stream, observe), { objectMode: false }) };
  }

  #attributes(path: string): Record<string, string> {
    return { 'dora.mount': this.#mount, 'dora.store': this.uri, 'dora.store.path': path };
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
