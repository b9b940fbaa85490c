/** Anything a selector can place keys on: a worker, known by an id that never changes while it lives. */
export interface RingMember {
  /** Stable and unique within a member set; selection depends on nothing else about the member. */
  readonly id: string;
}

/**
 * Chooses which members own a key (DESIGN.md sections 3 and 5: the owner of a file, and the first N
 * distinct workers for a file kept with N replicas).
 *
 * Selection is pure and deterministic: it depends only on the key and the set of member ids, so
 * every process that builds a selector from the same set, listed in any order, picks the same
 * owners. A selector is immutable; when the member set changes, build a new one. Between two sets
 * that differ by one member, a key's preference list changes only by that member being inserted or
 * dropped: no other key moves, and the other owners keep their relative order.
 */
export interface WorkerSelector<T extends RingMember> {
  /** Every member once, ordered by id (UTF-16 code units), whatever order they were given in. */
  readonly members: readonly T[];

  /**
   * The first `count` distinct members for `key`, in preference order: the first is the owner, the
   * rest its replicas. `owners(key, n)` is a prefix of `owners(key, n + 1)`. A count above the
   * number of members returns every member. Returns the member objects the selector was built
   * from. Throws UNAVAILABLE when there are no members, INVALID_ARGUMENT when `count` is not a
   * whole number ≥ 1. Idempotent.
   */
  owners(key: string, count?: number): readonly T[];
}

/** Builds a selector over a member set; called again whenever the set changes. */
export type WorkerSelectorFactory = <T extends RingMember>(members: readonly T[]) => WorkerSelector<T>;
