/**
 * Which cached page to drop next. A page store tells its policy about every page it adds, uses
 * and removes, and asks it for a victim when it needs room; the policy never touches the pages.
 *
 * Keys are opaque strings chosen by the store. Every method is O(1) for LRU; an implementation
 * that cannot be (LFU with a heap) says so. Methods never throw: an unknown key is ignored.
 */
export interface EvictionPolicy {
  /** Starts tracking a page of `bytes` bytes as the most recently used; for a known key, same as `touch`. */
  add(key: string, bytes: number): void;
  /** Records a use of the page. A no-op for an unknown key. */
  touch(key: string): void;
  /** Stops tracking the page. Idempotent. */
  remove(key: string): void;
  /** The page to evict next, still tracked (the store calls `remove` when it has dropped it); undefined when empty. */
  victim(): string | undefined;
  /** Pages tracked. */
  readonly size: number;
}

/**
 * Makes a fresh, empty policy: each store owns its own (policies hold per-store state, so one
 * instance must never be shared). `() => new LruPolicy()` is the default; an LFU policy plugs in here.
 */
export type EvictionPolicyFactory = () => EvictionPolicy;
