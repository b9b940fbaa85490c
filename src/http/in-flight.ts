import type { ServerResponse } from 'node:http';

/** Counts requests being served (until their response closes), so a draining server knows when it is idle. */
export class InFlight {
  #count = 0;
  #waiters: Array<() => void> = [];

  /** Counts `res` until it closes (finished, or its client went away). */
  track(res: ServerResponse): void {
    this.#count++;
    res.once('close', () => {
      this.#count--;
      if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get count(): number {
    return this.#count;
  }

  /** Resolves true once no request is in flight (beyond `allowed`), false after `timeoutMs`. */
  async idle(timeoutMs: number, allowed = 0): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#count > allowed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }
}
