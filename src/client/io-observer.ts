import type { IoEvent } from './client-options.js';
import { SpanKind, failSpan, startSpan, withSpan, type Span } from '../observe/tracing.js';

/** One read or write under way: its span (when tracing) and its start. */
export interface IoCall {
  /** Runs `fn` inside the call's span, so the worker calls it makes continue its trace. */
  within<T>(fn: () => T): T;
  /** Ends the call: bytes delivered or written, and the failure if it failed. */
  end(bytes: number, error?: unknown): void;
}

/**
 * Times a client's whole reads and writes for the interface it serves (`observeIo`) and, when
 * tracing is on, gives each a client span (`dora.read`, `dora.write`) with the path and bytes.
 */
export class IoObserver {
  readonly #observe: ((event: IoEvent) => void) | undefined;

  constructor(observe: ((event: IoEvent) => void) | undefined) {
    this.#observe = observe;
  }

  begin(op: IoEvent['op'], path: string): IoCall {
    const started = performance.now();
    const span: Span | undefined = startSpan(`dora.${op}`, { 'dora.path': path }, SpanKind.CLIENT);
    let ended = false;
    return {
      within: (fn) => withSpan(span, fn),
      end: (bytes, error) => {
        if (ended) return;
        ended = true;
        this.#observe?.({ op, seconds: (performance.now() - started) / 1000, bytes, ok: error === undefined });
        if (span !== undefined) {
          span.setAttribute('dora.bytes', bytes);
          if (error !== undefined) failSpan(span, error);
          span.end();
        }
      },
    };
  }
}
