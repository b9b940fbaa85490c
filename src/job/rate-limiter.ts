import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket of bytes: `rate` per second, up to `burst` saved. A take larger than what is saved
 * runs into debt and waits it off, so takes in a row are paced at `rate` however large each is.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at = performance.now();

  constructor(bytesPerSecond: number, burstBytes = bytesPerSecond) {
    this.#rate = bytesPerSecond;
    this.#burst = burstBytes;
    this.#tokens = burstBytes;
  }

  /** Resolves when `bytes` may go (at once while tokens are saved). Rejects with the signal's reason if aborted. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
    this.#at = now;
    this.#tokens -= bytes;
    if (this.#tokens < 0) await sleep((-this.#tokens / this.#rate) * 1000, undefined, { signal });
  }
}
