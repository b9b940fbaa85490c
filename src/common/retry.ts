import { setTimeout as sleepTimer } from 'node:timers/promises';
import { isDoraError } from './errors.js';
import { abortedError } from './system-errors.js';

/** How a failing call is retried: exponential backoff with full jitter, bounded by attempts and time. */
export interface RetryPolicy {
  /** Calls in all, including the first; 1 means no retry. */
  readonly maxAttempts: number;
  /** The first backoff's ceiling; it doubles each retry up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No retry starts once this much time has passed since the first call. */
  readonly maxElapsedMs: number;
}

/** Injectable clock and randomness, so tests never sleep for real. */
export interface RetryClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

export const SYSTEM_CLOCK: RetryClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleepTimer(ms, undefined, signal === undefined ? {} : { signal });
  },
  random: Math.random,
};

export interface RetryOptions {
  signal?: AbortSignal | undefined;
  clock?: RetryClock;
  /** Called before each retry with the error that caused it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Whether an error says that trying again can help. */
export function isRetryable(error: unknown): boolean {
  return isDoraError(error) && error.retryable;
}

/** The backoff before retry number `retry` (1-based): uniform in [0, min(max, base·2^(retry-1))]. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Calls `run` until it succeeds, fails with an error that is not retryable, or the policy's
 * attempts or time run out; then throws the last error. A cancelled signal ends the wait at once.
 */
export async function retry<T>(run: (attempt: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (error) {
      const delay = backoffDelay(policy, attempt, clock.random);
      const outOfTime = clock.now() + delay - started > policy.maxElapsedMs;
      if (!isRetryable(error) || attempt >= policy.maxAttempts || outOfTime || options.signal?.aborted === true) throw error;
      options.onRetry?.(error, attempt, delay);
      try {
        await clock.sleep(delay, options.signal);
      } catch (reason) {
        throw abortedError('Cannot retry', options.signal?.reason ?? reason);
      }
    }
  }
}
