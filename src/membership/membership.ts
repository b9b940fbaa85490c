import type { WorkerRecord } from './worker-record.js';

export interface Signalled {
  signal?: AbortSignal | undefined;
}

/** Called with the new live set (sorted by id) each time it changes. */
export type MembershipListener = (members: readonly WorkerRecord[]) => void;

/** The fields of its own record a worker may change while registered. */
export type WorkerRecordChanges = Partial<Omit<WorkerRecord, 'id'>>;

/**
 * Which workers are live (DESIGN.md section 5): workers register themselves, everyone reads the
 * set and is told when it changes. Static (a list in config) or etcd (registrations with leases).
 */
export interface Membership {
  /**
   * Registers `self` as live until the registration leaves (or, in etcd, until this process stops
   * keeping it alive). Joining an id that is already registered replaces its record: ids are
   * unique per data directory, so it is the same worker restarted. The record is listed by
   * `members()` of this membership when the promise resolves.
   * Throws INVALID_ARGUMENT (malformed record), ALREADY_EXISTS (this membership already holds a
   * registration of that id), FAILED_PRECONDITION (closed), UNAVAILABLE (registry unreachable),
   * CANCELLED.
   */
  join(self: WorkerRecord, options?: Signalled): Promise<WorkerRegistration>;
  /**
   * The last known live set, sorted by id; never throws. While the registry is unreachable this
   * is the set seen last, so reads go on.
   */
  members(): readonly WorkerRecord[];
  /**
   * Calls `listener` each time the live set changes: a worker joins or leaves, or its address or
   * state changes. Re-registering an identical record, or changing only its start time or
   * capacity, does not call it. Returns the function that stops the calls (idempotent).
   */
  watch(listener: MembershipListener): () => void;
  /** Leaves every registration made through this membership and stops watching. Idempotent. */
  close(): Promise<void>;
}

/** A worker's own registration. */
export interface WorkerRegistration {
  /** The record as last registered. */
  readonly record: WorkerRecord;
  /**
   * Changes this worker's record, e.g. `{ state: 'decommissioning' }`, and resolves once it is
   * stored and listed. Idempotent. Throws INVALID_ARGUMENT, UNAVAILABLE, CANCELLED, or
   * FAILED_PRECONDITION after leave().
   */
  update(changes: WorkerRecordChanges, options?: Signalled): Promise<WorkerRecord>;
  /**
   * Removes the record at once (rather than when a lease runs out). Idempotent; throws only
   * UNAVAILABLE when the registry cannot be told, and then the record goes when its lease ends.
   */
  leave(options?: Signalled): Promise<void>;
}
