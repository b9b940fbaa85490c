import type { EvictionPolicy } from './eviction-policy.js';

/** A node of the recency list: a circular, doubly linked list around a sentinel. */
interface Node {
  readonly key: string;
  prev: Node;
  next: Node;
}

/**
 * Least recently used first. O(1) per operation: a Map from key to a node of a doubly linked
 * list ordered from least (after the sentinel) to most recently used (before it).
 *
 * Not the "Map insertion order" trick (delete + set to touch, first key as victim): V8 leaves
 * a hole at the front of a Map's table for every deleted entry until it next rehashes, so finding
 * the first key after many evictions walks those holes — measured at 38 µs per eviction with
 * 100,000 pages and 150 µs with 400,000, growing with the cache.
 */
export class LruPolicy implements EvictionPolicy {
  readonly #nodes = new Map<string, Node>();
  readonly #sentinel: Node;

  constructor() {
    const sentinel = { key: '' } as Node;
    sentinel.prev = sentinel;
    sentinel.next = sentinel;
    this.#sentinel = sentinel;
  }

  get size(): number {
    return this.#nodes.size;
  }

  add(key: string, _bytes: number): void {
    const existing = this.#nodes.get(key);
    if (existing !== undefined) {
      this.#moveToNewest(existing);
      return;
    }
    const newest = this.#sentinel.prev;
    const node: Node = { key, prev: newest, next: this.#sentinel };
    newest.next = node;
    this.#sentinel.prev = node;
    this.#nodes.set(key, node);
  }

  touch(key: string): void {
    const node = this.#nodes.get(key);
    if (node !== undefined) this.#moveToNewest(node);
  }

  remove(key: string): void {
    const node = this.#nodes.get(key);
    if (node === undefined) return;
    this.#unlink(node);
    this.#nodes.delete(key);
  }

  victim(): string | undefined {
    const oldest = this.#sentinel.next;
    return oldest === this.#sentinel ? undefined : oldest.key;
  }

  #moveToNewest(node: Node): void {
    if (node.next === this.#sentinel) return;
    this.#unlink(node);
    const newest = this.#sentinel.prev;
    node.prev = newest;
    node.next = this.#sentinel;
    newest.next = node;
    this.#sentinel.prev = node;
  }

  #unlink(node: Node): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
  }
}
