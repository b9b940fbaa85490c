import type { FileStatus } from '../client/client-types.js';

/**
 * Attributes a directory listing brought, each kept for the lookup that follows it (`ls -l` lists,
 * then asks every entry's attributes): at most `limit` of them, for at most the attribute timeout,
 * and each served once, so the kernel's own attribute cache stays the only one that ages.
 */
export class ListingAttributes {
  readonly #entries = new Map<string, { readonly status: FileStatus; readonly until: number }>();
  readonly #limit: number;
  readonly #ttlMs: number;

  constructor(limit: number, ttlMs: number) {
    this.#limit = limit;
    this.#ttlMs = ttlMs;
  }

  remember(status: FileStatus): void {
    if (this.#limit === 0) return;
    this.#entries.delete(status.path);
    this.#entries.set(status.path, { status, until: Date.now() + this.#ttlMs });
    if (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  /** The attributes a recent listing gave `path`, once. */
  take(path: string): FileStatus | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined) return undefined;
    this.#entries.delete(path);
    return entry.until >= Date.now() ? entry.status : undefined;
  }

  /** Forgets everything: the namespace changed through the mount. */
  clear(): void {
    this.#entries.clear();
  }
}
