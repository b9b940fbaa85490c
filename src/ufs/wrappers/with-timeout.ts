import { Readable } from 'node:stream';
import { DoraError } from '../../common/errors.js';
import { abortedError } from '../../common/system-errors.js';
import type { UfsCallOptions, UfsListOptions, UfsReadOptions, UfsReadResult, UfsStatus, UfsWriteOptions, UfsWriteSource, UnderFileSystem } from '../under-file-system.js';
import { ForwardingUfs, type UfsCall } from './forwarding-ufs.js';

export interface TimeoutPolicy {
  /** Deadline for a metadata call, a listing page, and a read's first byte. */
  readonly callMs: number;
  /** A stream that delivers nothing for this long while being asked for data fails. */
  readonly idleMs: number;
}

/**
 * Bounds how long a store may keep dora waiting, failing with DEADLINE_EXCEEDED (retryable).
 * Calls whose length grows with their size are bounded by idleness instead of a total deadline:
 * a read after its first byte, a listing between pages, and writes, whose source must keep
 * being consumed.
 */
export function withTimeout(ufs: UnderFileSystem, policy: TimeoutPolicy): UnderFileSystem {
  return new TimeoutUfs(ufs, policy);
}

class TimeoutUfs extends ForwardingUfs {
  readonly #policy: TimeoutPolicy;

  constructor(inner: UnderFileSystem, policy: TimeoutPolicy) {
    super(inner);
    this.#policy = policy;
  }

  protected override call<T, O extends UfsCallOptions>(call: UfsCall, options: O, run: (options: O) => Promise<T>): Promise<T> {
    if (call.op === 'read') return run(options); // read() below handles both phases
    const unbounded = call.op === 'write' || call.op === 'multipart.uploadPart';
    const deadline = new Deadline(options.signal, unbounded ? undefined : this.#policy.callMs, `Cannot ${call.op} "${this.uri}${call.path}"`);
    return deadline.guard(run({ ...options, signal: deadline.signal })).finally(() => deadline.dispose());
  }

  /**
   * A write is bounded by the store's progress, not its length: each chunk handed to the store
   * must be taken within idleMs, and the store must answer within idleMs of the last byte.
   */
  override async write(path: string, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsStatus> {
    const deadline = new Deadline(options.signal, undefined, `Cannot write "${this.uri}${path}"`);
    const size = source instanceof Uint8Array ? source.byteLength : options.size;
    try {
      const guarded = stallGuarded(source instanceof Uint8Array ? slices(source) : source, this.#policy.idleMs, deadline);
      return await deadline.guard(this.inner.write(path, guarded, { ...options, size, signal: deadline.signal }));
    } finally {
      deadline.dispose();
    }
  }

  override async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const attempt = `Cannot read "${this.uri}${path}"`;
    const deadline = new Deadline(options.signal, this.#policy.callMs, attempt);
    let opened: UfsReadResult;
    try {
      opened = await deadline.guard(this.inner.read(path, { ...options, signal: deadline.signal }));
    } catch (error) {
      deadline.dispose();
      throw error;
    }
    const stream = Readable.from(idleGuarded(opened.stream, this.#policy.idleMs, deadline, attempt), { objectMode: false });
    return { stream, status: opened.status };
  }

  override list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    const policy = this.#policy;
    const attempt = `Cannot list "${this.uri}${path}"`;
    const inner = this.inner;
    return (async function* () {
      const deadline = new Deadline(options.signal, undefined, attempt);
      yield* idleGuarded(inner.list(path, { ...options, signal: deadline.signal }), policy.callMs, deadline, attempt);
    })();
  }
}

/** An abort signal that follows the caller's and fires on its own timer. */
class Deadline {
  readonly #controller = new AbortController();
  readonly #attempt: string;
  readonly #parent: AbortSignal | undefined;
  readonly #follow = (): void => this.#controller.abort(this.#parent?.reason);
  #timer: NodeJS.Timeout | undefined;

  constructor(parent: AbortSignal | undefined, ms: number | undefined, attempt: string) {
    this.#attempt = attempt;
    this.#parent = parent;
    if (parent !== undefined) {
      if (parent.aborted) this.#follow();
      else parent.addEventListener('abort', this.#follow, { once: true });
    }
    if (ms !== undefined) this.arm(ms);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  arm(ms: number): void {
    this.clear();
    this.#timer = setTimeout(() => this.#controller.abort(this.error(ms)), ms);
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and stops following the caller's signal (a long-lived one would collect listeners). */
  dispose(): void {
    this.clear();
    this.#parent?.removeEventListener('abort', this.#follow);
  }

  error(ms: number): DoraError {
    return new DoraError('DEADLINE_EXCEEDED', `${this.#attempt}: the store did not answer within ${ms} ms`, { retryable: true });
  }

  /**
   * Settles like `work`, or rejects as soon as the signal fires (with this deadline's error when
   * the timer fired it), even if `work` never notices the signal.
   */
  async guard<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    let fire = (): void => undefined;
    const fired = new Promise<never>((_, reject) => {
      // CANCELLED for the caller's abort (DEADLINE_EXCEEDED for its timeout); this deadline's own error as is.
      fire = () => reject(abortedError(this.#attempt, signal.reason));
      if (signal.aborted) fire();
      else signal.addEventListener('abort', fire, { once: true });
    });
    fired.catch(() => undefined);
    try {
      return await Promise.race([work, fired]);
    } catch (error) {
      const reason: unknown = this.signal.reason;
      throw reason instanceof DoraError && reason.code === 'DEADLINE_EXCEEDED' ? reason : error;
    } finally {
      signal.removeEventListener('abort', fire);
      this.clear();
    }
  }
}

/** Yields `source`'s items, failing when one takes longer than `idleMs` to arrive after it is asked for. */
async function* idleGuarded<T>(source: AsyncIterable<T>, idleMs: number, deadline: Deadline, attempt: string): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      deadline.arm(idleMs);
      const next = await deadline.guard(iterator.next());
      if (next.done === true) return;
      yield next.value;
    }
  } catch (error) {
    if (error instanceof DoraError && error.code === 'DEADLINE_EXCEEDED') {
      throw new DoraError('DEADLINE_EXCEEDED', `${attempt}: the store sent nothing for ${idleMs} ms`, { retryable: true, cause: error });
    }
    throw error;
  } finally {
    deadline.dispose();
    await iterator.return?.();
  }
}

/** Yields `source`, arming the deadline while the store holds a chunk it has not taken yet. */
async function* stallGuarded(source: AsyncIterable<Uint8Array>, idleMs: number, deadline: Deadline): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    deadline.arm(idleMs);
    yield chunk;
    deadline.clear(); // the store asked for more: it is making progress
  }
  deadline.arm(idleMs); // and must answer soon after the last byte
}

/** A buffer as 1 MiB slices, so a write's progress can be watched. */
async function* slices(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += 1024 * 1024) yield data.subarray(i, i + 1024 * 1024);
}
