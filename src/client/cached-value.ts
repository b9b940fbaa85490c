import { abortedError } from '../common/system-errors.js';

export interface CachedValueOptions {
  /** How long a loaded value is fresh. */
  readonly ttlMs: number;
  /** Injectable clock for tests. */
  readonly now?: () => number;
}

/**
 * A value loaded on demand and kept for `ttlMs`. Concurrent callers share one load. When a
 * reload fails but an older value exists, the older value is served (the coordinator being down
 * must not stop reads); with nothing to fall back on, the load's error is thrown.
 */
export class CachedValue<T> {
  readonly #load: () => Promise<T>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #value: { readonly value: T; readonly at: number } | undefined;
  #pending: Promise<T> | undefined;

  constructor(load: () => Promise<T>, options: CachedValueOptions) {
    this.#load = load;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The value, loaded if absent or older than the TTL (or `fresh` is set). With `fresh`, a failed
   * load throws instead of serving the older value. An abort ends the wait, not the shared load.
   */
  async get(options: { signal?: AbortSignal | undefined; fresh?: boolean; attempt: string }): Promise<T> {
    const cached = this.#value;
    if (cached !== undefined && options.fresh !== true && this.#now() - cached.at < this.#ttlMs) return cached.value;
    const pending = (this.#pending ??= this.#reload());
    try {
      return await abortable(pending, options.signal, options.attempt);
    } catch (error) {
      if (cached === undefined || options.fresh === true || options.signal?.aborted === true) throw error;
      return cached.value;
    }
  }

  /** Forgets the value's freshness: the next `get` reloads (and still falls back to it on failure). */
  invalidate(): void {
    if (this.#value !== undefined) this.#value = { value: this.#value.value, at: -Infinity };
  }

  /** Replaces the value, as if just loaded. */
  set(value: T): void {
    this.#value = { value, at: this.#now() };
  }

  async #reload(): Promise<T> {
    try {
      const value = await this.#load();
      this.set(value);
      return value;
    } finally {
      this.#pending = undefined;
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, attempt: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortedError(attempt, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(attempt, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
