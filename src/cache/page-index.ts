import { DoraError } from '../common/errors.js';
import type { EvictionPolicy } from './eviction-policy.js';
import type { PageKey } from './page-store.js';

/** The pages of one version of one file, by page index. */
export interface PageGroup<V> {
  /** Unique within one index for as long as the group has pages; never reused. */
  readonly id: number;
  readonly fileId: string;
  readonly version: string;
  readonly pages: Map<number, V>;
}

/**
 * A page store's in-memory index: what each page holds (its bytes for the memory store, its size
 * for a disk store), exact byte accounting, and the eviction policy's order. Every operation is
 * O(1) except `deleteFile`, which is O(pages of that file).
 *
 * Pages are grouped by file then version, so dropping a file finds its pages directly. The policy
 * sees each page under a short key `${group id}:${index}` rather than the full file URI: the URI
 * is stored once per group, not once per page, which is most of the index's memory per page.
 */
export class PageIndex<V> {
  readonly #byFile = new Map<string, Map<string, PageGroup<V>>>();
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
    return this.#group(key.fileId, key.version)?.pages.get(key.index);
  }

  has(key: PageKey): boolean {
    return this.#group(key.fileId, key.version)?.pages.has(key.index) ?? false;
  }

  /** Records a use for eviction; a no-op for an absent page. */
  touch(key: PageKey): void {
    const group = this.#group(key.fileId, key.version);
    if (group?.pages.has(key.index)) this.#policy.touch(policyKey(group.id, key.index));
  }

  /** Adds a page as the most recently used. The caller has removed any previous value for the key. */
  add(key: PageKey, value: V): void {
    let versions = this.#byFile.get(key.fileId);
    if (versions === undefined) this.#byFile.set(key.fileId, (versions = new Map()));
    let group = versions.get(key.version);
    if (group === undefined) {
      group = { id: this.#nextId++, fileId: key.fileId, version: key.version, pages: new Map() };
      versions.set(key.version, group);
      this.#byId.set(group.id, group);
    }
    const bytes = this.#sizeOf(value);
    const previous = group.pages.get(key.index);
    if (previous !== undefined) this.#bytes -= this.#sizeOf(previous);
    else this.#pages++;
    group.pages.set(key.index, value);
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
    const versions = this.#byFile.get(fileId);
    if (versions === undefined) return [];
    const dropped: Array<[PageKey, V]> = [];
    for (const group of [...versions.values()]) {
      if (group.version === keepVersion) continue;
      for (const [index, value] of [...group.pages]) {
        this.#removeFrom(group, index);
        dropped.push([{ fileId, version: group.version, index }, value]);
      }
    }
    return dropped;
  }

  /** Whether any page of this version of this file is present. */
  hasGroup(fileId: string, version: string): boolean {
    return this.#group(fileId, version) !== undefined;
  }

  #group(fileId: string, version: string): PageGroup<V> | undefined {
    return this.#byFile.get(fileId)?.get(version);
  }

  #removeFrom(group: PageGroup<V>, index: number): V | undefined {
    const value = group.pages.get(index);
    if (value === undefined) return undefined;
    group.pages.delete(index);
    this.#pages--;
    this.#bytes -= this.#sizeOf(value);
    this.#policy.remove(policyKey(group.id, index));
    if (group.pages.size === 0) {
      this.#byId.delete(group.id);
      const versions = this.#byFile.get(group.fileId);
      versions?.delete(group.version);
      if (versions?.size === 0) this.#byFile.delete(group.fileId);
    }
    return value;
  }
}

function policyKey(groupId: number, index: number): string {
  return `${groupId}:${index}`;
}
