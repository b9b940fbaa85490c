import { DoraError } from '../common/errors.js';
import type { EvictionPolicy } from './eviction-policy.js';
import type { CachedFileUsage, PageKey } from './page-store.js';

/** The pages of one version of one file. */
export interface PageGroup<V> {
  /** Unique within one index for as long as the group has pages; never reused. */
  readonly id: number;
  readonly fileId: string;
  readonly version: string;
  /**
   * By page index, with holes where pages are absent: 8 bytes a slot where a Map costs about 30 an
   * entry and 170 empty. V8 keeps a very sparse array (a lone page 1,000,000) as a dictionary.
   */
  readonly pages: Array<V | undefined>;
  count: number;
  /** The next cached version of the same file: files rarely have more than one, so a chain beats a Map per file. */
  nextVersion: PageGroup<V> | undefined;
}

/**
 * A page store's in-memory index: what each page holds (its bytes for the memory store, its size
 * for a disk store), exact byte accounting, and the eviction policy's order. Every operation is
 * O(1) except `removeFile`, which is O(pages of that file).
 *
 * Pages are grouped by file then version, so dropping a file finds its pages directly. The policy
 * sees each page under a short key `${group id}:${index}` rather than the full file URI: the URI
 * is stored once per group, not once per page. bench/page-index-bench.ts measures the bytes per page.
 */
export class PageIndex<V> {
  readonly #byFile = new Map<string, PageGroup<V>>();
  readonly #byId = new Map<number, PageGroup<V>>();
  readonly #policy: EvictionPolicy;
  readonly #sizeOf: (value: V) => number;
  #nextId = 1;
  #pages = 0;
  #bytes = 0;

  constructor(policy: EvictionPolicy, sizeOf: (value: V) => number) {
    this.#policy = policy;
    this.#sizeOf = sizeOf;
  }

  get pages(): number {
    return this.#pages;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: PageKey): V | undefined {
    return this.#group(key.fileId, key.version)?.pages[key.index];
  }

  has(key: PageKey): boolean {
    return this.get(key) !== undefined;
  }

  /** Records a use for eviction; a no-op for an absent page. */
  touch(key: PageKey): void {
    const group = this.#group(key.fileId, key.version);
    if (group?.pages[key.index] !== undefined) this.#policy.touch(policyKey(group.id, key.index));
  }

  /** Adds a page as the most recently used, replacing any previous value for the key. */
  add(key: PageKey, value: V): void {
    let group = this.#group(key.fileId, key.version);
    if (group === undefined) {
      group = { id: this.#nextId++, fileId: key.fileId, version: key.version, pages: [], count: 0, nextVersion: this.#byFile.get(key.fileId) };
      this.#byFile.set(key.fileId, group);
      this.#byId.set(group.id, group);
    }
    const bytes = this.#sizeOf(value);
    const previous = group.pages[key.index];
    if (previous !== undefined) this.#bytes -= this.#sizeOf(previous);
    else {
      this.#pages++;
      group.count++;
    }
    group.pages[key.index] = value;
    this.#bytes += bytes;
    this.#policy.add(policyKey(group.id, key.index), bytes);
  }

  /** Drops a page; returns what it held, or undefined when it was absent. */
  remove(key: PageKey): V | undefined {
    const group = this.#group(key.fileId, key.version);
    return group === undefined ? undefined : this.#removeFrom(group, key.index);
  }

  /** The page the policy would evict next, still present; undefined when the index is empty. */
  victim(): PageKey | undefined {
    const victim = this.#policy.victim();
    if (victim === undefined) return undefined;
    const colon = victim.indexOf(':');
    const group = this.#byId.get(Number(victim.slice(0, colon)));
    if (group === undefined) throw new DoraError('INTERNAL', `Cannot evict page "${victim}": the eviction policy named a page the index does not hold`);
    return { fileId: group.fileId, version: group.version, index: Number(victim.slice(colon + 1)) };
  }

  /** Drops every page of a file except those of `keepVersion`; returns the pages dropped with what they held. */
  removeFile(fileId: string, keepVersion?: string): Array<[PageKey, V]> {
    const dropped: Array<[PageKey, V]> = [];
    for (let group = this.#byFile.get(fileId); group !== undefined; ) {
      const next = group.nextVersion;
      if (group.version !== keepVersion) {
        // Object.keys lists only the slots in use, even of a sparse array.
        for (const slot of Object.keys(group.pages)) {
          const index = Number(slot);
          const value = this.#removeFrom(group, index);
          if (value !== undefined) dropped.push([{ fileId, version: group.version, index }, value]);
        }
      }
      group = next;
    }
    return dropped;
  }

  /** The files whose id starts with `prefix`, with their pages and bytes: O(files held). */
  files(prefix: string): CachedFileUsage[] {
    const found: CachedFileUsage[] = [];
    for (const [fileId, head] of this.#byFile) {
      if (!fileId.startsWith(prefix)) continue;
      let pages = 0;
      let bytes = 0;
      for (let group: PageGroup<V> | undefined = head; group !== undefined; group = group.nextVersion) {
        pages += group.count;
        group.pages.forEach((value) => (bytes += value === undefined ? 0 : this.#sizeOf(value))); // forEach skips holes
      }
      found.push({ fileId, pages, bytes });
    }
    return found;
  }

  /** Whether any page of this version of this file is present. */
  hasGroup(fileId: string, version: string): boolean {
    return this.#group(fileId, version) !== undefined;
  }

  #group(fileId: string, version: string): PageGroup<V> | undefined {
    let group = this.#byFile.get(fileId);
    while (group !== undefined && group.version !== version) group = group.nextVersion;
    return group;
  }

  #removeFrom(group: PageGroup<V>, index: number): V | undefined {
    const { pages } = group;
    const value = pages[index];
    if (value === undefined) return undefined;
    // A hole, not undefined: a sparse array then keeps no entry for it.
    delete pages[index];
    group.count--;
    this.#pages--;
    this.#bytes -= this.#sizeOf(value);
    this.#policy.remove(policyKey(group.id, index));
    if (group.count === 0) this.#unlinkGroup(group);
    return value;
  }

  #unlinkGroup(group: PageGroup<V>): void {
    this.#byId.delete(group.id);
    const head = this.#byFile.get(group.fileId);
    if (head === group) {
      if (group.nextVersion === undefined) this.#byFile.delete(group.fileId);
      else this.#byFile.set(group.fileId, group.nextVersion);
      return;
    }
    for (let g = head; g !== undefined; g = g.nextVersion) {
      if (g.nextVersion === group) {
        g.nextVersion = group.nextVersion;
        return;
      }
    }
  }
}

function policyKey(groupId: number, index: number): string {
  return `${groupId}:${index}`;
}
