import { setTimeout as sleep } from 'node:timers/promises';
import { DoraError, isDoraError } from '../common/errors.js';
import { backoffDelay, type RetryPolicy } from '../common/retry.js';
import { callListeners } from './call-listeners.js';
import type { EtcdClient, EtcdEntry, EtcdLease } from './etcd-client.js';
import { EtcdPrefixMirror } from './etcd-prefix-mirror.js';
import type { LeaderElection, LeadershipState } from './leader-election.js';
import type { Signalled } from './membership.js';

export interface EtcdLeaderElectionOptions {
  /** The cluster's key prefix; candidates are kept under `${prefix}/leader/`. */
  readonly prefix: string;
  /** What this process campaigns with: its address, for followers to redirect to. Absent: observe only. */
  readonly address?: string;
  /** The TTL of the candidacy's lease: how long a killed leader blocks the next. Default 5 s. */
  readonly leaseTtlSeconds?: number;
}

/** A leader steps down once its lease has gone unconfirmed for this share of its TTL. */
const STALE_FRACTION = 0.75;
const REENTER: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 100, maxDelayMs: 2000, maxElapsedMs: Infinity };

interface Candidacy {
  readonly key: string;
  readonly lease: EtcdLease;
}

/**
 * Leader election through etcd, as etcd's own concurrency package does it: each candidate puts
 * a key under the prefix with its lease, and the key created first leads. Everyone mirrors the
 * prefix, so the leader's address is known to followers and observers alike.
 */
export class EtcdLeaderElection implements LeaderElection {
  readonly #client: EtcdClient;
  readonly #prefix: string;
  readonly #address: string | undefined;
  readonly #ttlSeconds: number;
  readonly #listeners = new Set<(state: LeadershipState) => void>();
  readonly #closed = new AbortController();
  readonly #mirror: EtcdPrefixMirror;
  #state: LeadershipState = { isLeader: false, leader: undefined };
  #candidacy: Candidacy | undefined;
  #wanted = false;
  #reentering = false;
  #staleTimer: NodeJS.Timeout | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(client: EtcdClient, options: EtcdLeaderElectionOptions) {
    this.#client = client;
    this.#prefix = `${options.prefix.replace(/\/+$/, '')}/leader/`;
    this.#mirror = new EtcdPrefixMirror(client, this.#prefix, () => this.#update());
    this.#address = options.address;
    this.#ttlSeconds = options.leaseTtlSeconds ?? 5;
  }

  /**
   * Starts following the election (without campaigning). Throws INVALID_ARGUMENT (bad TTL),
   * UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED. The client stays the caller's.
   */
  static async open(client: EtcdClient, options: EtcdLeaderElectionOptions & Signalled): Promise<EtcdLeaderElection> {
    const ttl = options.leaseTtlSeconds ?? 5;
    if (!Number.isSafeInteger(ttl) || ttl < 1) throw new DoraError('INVALID_ARGUMENT', `Cannot use a leader lease TTL of ${ttl} s: it must be a whole number of seconds, at least 1`);
    const election = new EtcdLeaderElection(client, options);
    await election.#mirror.start(options);
    election.#update();
    return election;
  }

  get isLeader(): boolean {
    return this.#state.isLeader;
  }

  leader(): string | undefined {
    return this.#state.leader;
  }

  watch(listener: (state: LeadershipState) => void): () => void {
    const entry = (state: LeadershipState): void => listener(state);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  async campaign(options: Signalled = {}): Promise<void> {
    const attempt = 'Cannot campaign for leadership';
    if (this.#closed.signal.aborted) throw new DoraError('FAILED_PRECONDITION', `${attempt}: the election is closed`);
    if (this.#address === undefined) throw new DoraError('FAILED_PRECONDITION', `${attempt}: this process was opened to observe only (no address)`);
    this.#wanted = true;
    await this.#serial(() => this.#enter(options.signal));
  }

  async resign(options: Signalled = {}): Promise<void> {
    this.#wanted = false;
    await this.#serial(() => this.#withdraw(options.signal));
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    await this.resign().catch(() => undefined);
    clearTimeout(this.#staleTimer);
    await this.#mirror.close();
    this.#listeners.clear();
  }

  async #enter(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#wanted || this.#closed.signal.aborted || this.#candidacy !== undefined) return;
    const lease = await this.#client.grantLease(this.#ttlSeconds, { signal });
    try {
      const key = this.#prefix + lease.id;
      const value = this.#address ?? '';
      this.#mirror.applyPut(key, value, await this.#client.put(key, value, { lease, signal }));
      this.#candidacy = { key, lease };
    } catch (error) {
      lease.release();
      throw error;
    }
    lease.on('keepalive', () => this.#update());
    lease.on('lost', () => this.#update());
    this.#update();
  }

  async #withdraw(signal: AbortSignal | undefined): Promise<void> {
    const candidacy = this.#candidacy;
    if (candidacy === undefined) return;
    this.#candidacy = undefined;
    this.#update();
    // Without keepalives the lease, and with it the key, ends by itself if etcd cannot be told now.
    candidacy.lease.release();
    this.#mirror.applyDelete(candidacy.key, await this.#client.delete(candidacy.key, { signal }));
    await candidacy.lease.revoke({ signal }).catch(() => undefined);
  }

  /** Recomputes who leads from the mirror and this candidacy's lease, and tells listeners of a change. */
  #update(): void {
    const entries = this.#mirror.entries();
    const candidacy = this.#candidacy;
    if (candidacy !== undefined && (candidacy.lease.isLost() || !entries.has(candidacy.key))) {
      // The lease ended (or the key was deleted): this candidacy is over; enter again behind the others.
      this.#candidacy = undefined;
      candidacy.lease.release();
      this.#reenter();
    }
    const first = firstCreated(entries.values());
    const staleAt = (this.#candidacy?.lease.confirmedAt() ?? 0) + this.#ttlSeconds * 1000 * STALE_FRACTION;
    const isLeader = first !== undefined && first.key === this.#candidacy?.key && Date.now() < staleAt;
    clearTimeout(this.#staleTimer);
    if (isLeader) this.#staleTimer = setTimeout(() => this.#update(), staleAt - Date.now()).unref();
    const state = { isLeader, leader: first?.value };
    if (state.isLeader === this.#state.isLeader && state.leader === this.#state.leader) return;
    this.#state = state;
    if (this.#closed.signal.aborted) return;
    callListeners(this.#listeners, state);
  }

  #reenter(): void {
    if (this.#reentering) return;
    this.#reentering = true;
    void (async () => {
      const { signal } = this.#closed;
      for (let attempt = 1; this.#wanted && !signal.aborted && this.#candidacy === undefined; attempt++) {
        try {
          await this.#serial(() => this.#enter(signal));
        } catch (error) {
          if (isDoraError(error, 'CANCELLED')) break; // closed, or the client was closed
          await sleep(backoffDelay(REENTER, attempt, Math.random), undefined, { signal }).catch(() => undefined);
        }
      }
      this.#reentering = false;
    })();
  }

  /** Runs `step` after every step queued before it. */
  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(step, step);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function firstCreated(entries: Iterable<EtcdEntry>): EtcdEntry | undefined {
  let first: EtcdEntry | undefined;
  for (const entry of entries) if (first === undefined || entry.createRevision < first.createRevision) first = entry;
  return first;
}
