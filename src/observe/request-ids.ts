import { randomBytes } from 'node:crypto';

/**
 * Request ids of one server: a random prefix and a counter, 16 hex digits (random bytes per
 * request cost ~7% of a small GET).
 */
export class RequestIds {
  readonly #prefix = randomBytes(4).toString('hex').toUpperCase();
  #count = 0;

  next(): string {
    this.#count = (this.#count + 1) % 0x1_0000_0000;
    return this.#prefix + this.#count.toString(16).toUpperCase().padStart(8, '0');
  }
}

/** An id a caller sent (`x-request-id`) that is safe to log and echo: short, no spaces or quotes. */
export function acceptedRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && /^[\w.:-]{1,64}$/.test(value) ? value : undefined;
}
