import { Readable } from 'node:stream';
import { backoffDelay, isRetryable, retry, SYSTEM_CLOCK, type RetryClock, type RetryPolicy } from '../../common/retry.js';
import { abortedError } from '../../common/system-errors.js';
import type { UfsCallOptions, UfsListOptions, UfsReadOptions, UfsReadResult, UfsStatus, UnderFileSystem } from '../under-file-system.js';
import { listingKey } from '../ufs-path.js';
import { ForwardingUfs, type UfsCall } from './forwarding-ufs.js';

export interface WithRetryOptions {
  clock?: RetryClock;
  /** Learns of each retry (for metrics and logs). */
  onRetry?: (call: { op: string; path: string }, error: unknown, attempt: number) => void;
}

/**
 * Retries idempotent calls that fail with a retryable error (throttling, 5xx, resets,
 * timeouts), with exponential backoff and full jitter, bounded by attempts and time, and
 * cancelled by the call's signal. Beyond opening: a read stream that breaks mid-way resumes
 * from the byte it reached, pinned to the version it started with, and a listing that breaks
 * resumes after the last entry it yielded. Writes of a stream cannot be replayed and are not
 * retried.
 */
export function withRetry(ufs: UnderFileSystem, policy: RetryPolicy, options: WithRetryOptions = {}): UnderFileSystem {
  return new RetryingUfs(ufs, policy, options);
}

class RetryingUfs extends ForwardingUfs {
  readonly #policy: RetryPolicy;
  readonly #clock: RetryClock;
  readonly #onRetry: WithRetryOptions['onRetry'];

  constructor(inner: UnderFileSystem, policy: RetryPolicy, options: WithRetryOptions) {
    super(inner);
    this.#policy = policy;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#onRetry = options.onRetry;
  }

  protected override call<T, O extends UfsCallOptions>(call: UfsCall, options: O, run: (options: O) => Promise<T>): Promise<T> {
    if (!call.idempotent) return run(options);
    return retry(() => run(options), this.#policy, {
      signal: options.signal,
      clock: this.#clock,
      onRetry: (error, attempt) => this.#onRetry?.(call, error, attempt),
    });
  }

  override async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const opened = await super.read(path, options);
    const start = options.offset ?? 0;
    const end = options.length === undefined ? opened.status.size : Math.min(opened.status.size, start + options.length);
    const reopen = (offset: number): Promise<UfsReadResult> =>
      super.read(path, { ...options, offset, length: end - offset, expectVersion: opened.status.version });
    const stream = Readable.from(this.#resume(path, opened.stream, start, reopen, options.signal), { objectMode: false });
    return { stream, status: opened.status };
  }

  override list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    return this.#resumeList(path, options);
  }

  async *#resume(path: string, first: Readable, start: number, reopen: (offset: number) => Promise<UfsReadResult>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    let stream = first;
    let position = start;
    let failures = 0;
    let firstFailure = 0;
    let yielding = false;
    for (;;) {
      try {
        for await (const chunk of stream as AsyncIterable<Uint8Array>) {
          position += chunk.byteLength;
          failures = 0;
          yielding = true;
          yield chunk;
          yielding = false;
        }
        return;
      } catch (error) {
        // An error thrown in at `yield` is the reader's (it destroyed the stream): never resume then.
        if (yielding) throw error;
        failures += 1;
        if (failures === 1) firstFailure = this.#clock.now();
        if (!this.#mayResume(error, failures, firstFailure) || signal?.aborted === true) throw error;
        this.#onRetry?.({ op: 'read', path }, error, failures);
        await this.#backoff(failures, signal, `Cannot read "${this.uri}${path}"`);
        stream = (await reopen(position)).stream;
      }
    }
  }

  async *#resumeList(path: string, options: UfsListOptions): AsyncGenerator<UfsStatus> {
    let after = options.startAfter;
    let failures = 0;
    let firstFailure = 0;
    for (;;) {
      try {
        for await (const entry of this.inner.list(path, { ...options, startAfter: after })) {
          after = options.recursive === true ? entry.path : listingKey(entry);
          failures = 0;
          yield entry;
        }
        return;
      } catch (error) {
        failures += 1;
        if (failures === 1) firstFailure = this.#clock.now();
        if (!this.#mayResume(error, failures, firstFailure) || options.signal?.aborted === true) throw error;
        this.#onRetry?.({ op: 'list', path }, error, failures);
        await this.#backoff(failures, options.signal, `Cannot list "${this.uri}${path}"`);
      }
    }
  }

  /** Waits before retry number `retry`; an abort ends the wait with CANCELLED (DEADLINE_EXCEEDED for a timeout). */
  /** A broken stream resumes while the error is retryable and the policy's attempts and time allow. */
  #mayResume(error: unknown, failures: number, firstFailure: number): boolean {
    return isRetryable(error) && failures < this.#policy.maxAttempts && this.#clock.now() - firstFailure <= this.#policy.maxElapsedMs;
  }

  async #backoff(retry: number, signal: AbortSignal | undefined, attempt: string): Promise<void> {
    try {
      await this.#clock.sleep(backoffDelay(this.#policy, retry, this.#clock.random), signal);
    } catch (reason) {
      throw abortedError(attempt, signal?.reason ?? reason);
    }
  }
}
