import { callListeners } from './call-listeners.js';
import type { MembershipListener } from './membership.js';
import { sameLiveSet, sortById, type WorkerRecord } from './worker-record.js';

/**
 * The live set as one process knows it, with its listeners: what every Membership keeps. A
 * listener is called only when the set changes in ids, addresses or states (`sameLiveSet`).
 */
export class MemberSet {
  #members: readonly WorkerRecord[] = [];
  readonly #listeners = new Set<MembershipListener>();

  /** The set, sorted by id. */
  list(): readonly WorkerRecord[] {
    return this.#members;
  }

  /** Replaces the whole set; listeners hear of it if the live set differs. */
  replace(records: Iterable<WorkerRecord>): void {
    const next = Object.freeze(sortById(records));
    const changed = !sameLiveSet(this.#members, next);
    this.#members = next;
    if (changed) callListeners(this.#listeners, next);
  }

  /** Adds or replaces one record. */
  put(record: WorkerRecord): void {
    this.replace([...this.#members.filter((m) => m.id !== record.id), record]);
  }

  /** Removes one record; a record not present is no change. */
  remove(id: string): void {
    if (this.#members.some((m) => m.id === id)) this.replace(this.#members.filter((m) => m.id !== id));
  }

  watch(listener: MembershipListener): () => void {
    // A wrapper per call, so the same function watched twice is called twice and unsubscribed once.
    const entry: MembershipListener = (members) => listener(members);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  clearListeners(): void {
    this.#listeners.clear();
  }
}
