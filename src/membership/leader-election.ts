import type { Signalled } from './membership.js';

/** Who leads, as one process sees it. */
export interface LeadershipState {
  /** Whether this process leads now. */
  readonly isLeader: boolean;
  /** The leader's address (what it campaigned with); undefined when no candidate is known. */
  readonly leader: string | undefined;
}

/**
 * One active leader among several coordinator processes (DESIGN.md section 1). Followers read the
 * leader's address to redirect or proxy to it. Leadership is held through a lease: a leader that
 * cannot renew it steps down before it can expire, so two processes never both believe they lead
 * (on clocks that run at the same rate); the work a leader does is not fenced beyond that.
 */
export interface LeaderElection {
  readonly isLeader: boolean;
  /** The current leader's address, as last known (kept while the registry is unreachable). */
  leader(): string | undefined;
  /** Calls `listener` each time isLeader or the leader changes. Returns the function that stops the calls. */
  watch(listener: (state: LeadershipState) => void): () => void;
  /**
   * Enters this process as a candidate; it leads once the candidates before it are gone. Resolves
   * once entered, not once elected. Idempotent. A candidacy lost with its lease (the registry was
   * away too long) is entered again by itself. Throws UNAVAILABLE, CANCELLED, FAILED_PRECONDITION
   * (closed, or opened without an address).
   */
  campaign(options?: Signalled): Promise<void>;
  /** Withdraws the candidacy: a leader steps down and the next candidate takes over. Idempotent. Throws UNAVAILABLE. */
  resign(options?: Signalled): Promise<void>;
  /** Resigns and stops watching. Idempotent; never throws. */
  close(): Promise<void>;
}
