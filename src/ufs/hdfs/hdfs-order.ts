import { compareKeys } from '../ufs-path.js';

/**
 * Turns a directory's entries from HDFS's order into dora's, as they stream in.
 *
 * HDFS orders a directory's names by UTF-8 bytes taken as *signed*, so names with a byte ≥ 0x80
 * (any non-ASCII character) at the first differing position sort before ASCII ones; dora
 * orders by unsigned bytes, with a directory sorting as `name/` (after `name-x`, before
 * `name0`). An entry is released once no later name can sort before it: after HDFS has handed
 * over name L, every later name sorts (in dora's order) above P, the part of L before its first
 * non-ASCII character, so every held entry whose key is ≤ P is final. A directory of ASCII names
 * therefore holds only a few entries at a time; where names share a non-ASCII character early,
 * entries wait until HDFS has passed them all (at worst, the whole directory).
 */
export class HdfsReorder<E> {
  readonly #held: MinHeap<{ key: string; entry: E }>;
  #bound = '';

  constructor() {
    this.#held = new MinHeap((a, b) => compareKeys(a.key, b.key));
  }

  /** Takes the next name HDFS listed, with the entry to release for it (none for a name dora skips). */
  add(name: string, entry?: { key: string; entry: E }): void {
    let ascii = 0;
    while (ascii < name.length && name.charCodeAt(ascii) < 0x80) ascii++;
    this.#bound = name.slice(0, ascii);
    if (entry !== undefined) this.#held.push(entry);
  }

  /** The entries now known to come next, in dora's order; all of them once the listing has ended. */
  release(ended: boolean): E[] {
    const out: E[] = [];
    for (let top = this.#held.peek(); top !== undefined && (ended || compareKeys(top.key, this.#bound) <= 0); top = this.#held.peek()) {
      out.push(this.#held.pop()?.entry as E);
    }
    return out;
  }

  /** Entries held back, waiting for later names. */
  get size(): number {
    return this.#held.size;
  }
}

/** A binary min-heap. */
class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#less = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.#less(items[i] as T, items[parent] as T) >= 0) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && this.#less(items[left] as T, items[least] as T) < 0) least = left;
      if (right < items.length && this.#less(items[right] as T, items[least] as T) < 0) least = right;
      if (least === i) break;
      [items[i], items[least]] = [items[least] as T, items[i] as T];
      i = least;
    }
    return top;
  }
}
