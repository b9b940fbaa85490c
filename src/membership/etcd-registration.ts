import { setTimeout as sleep } from 'node:timers/promises';
import { DoraError, isDoraError } from '../common/errors.js';
import { backoffDelay, type RetryPolicy } from '../common/retry.js';
import { throwIfAborted } from '../common/system-errors.js';
import type { EtcdClient, EtcdLease } from './etcd-client.js';
import type { EtcdPrefixMirror } from './etcd-prefix-mirror.js';
import type { Signalled, WorkerRecordChanges, WorkerRegistration } from './membership.js';
import { checkWorkerRecord, type WorkerRecord } from './worker-record.js';

/** How a lost registration is put back: until etcd answers or the worker leaves. */
const REPAIR: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 100, maxDelayMs: 2000, maxElapsedMs: Infinity };

export interface EtcdRegistrationOptions {
  readonly client: EtcdClient;
  /** The mirror of the workers' prefix, told of this registration's writes (read-your-writes). */
  readonly mirror: EtcdPrefixMirror;
  readonly key: string;
  readonly ttlSeconds: number;
  /** Called once, when the registration leaves. */
  readonly onLeave: () => void;
}

/**
 * One worker's record in etcd, attached to a lease kept alive by this process: a killed process
 * stops the keepalives and its record goes when the lease ends. When the lease is lost (etcd was
 * away longer than the TTL) or the key vanishes, a new lease is granted and the record put again,
 * retrying until etcd answers. Writes are serialized, so leave() is never undone by a late put.
 */
export class EtcdRegistration implements WorkerRegistration {
  readonly #options: EtcdRegistrationOptions;
  readonly #left = new AbortController();
  #record: WorkerRecord;
  #lease: EtcdLease | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #repairing: Promise<void> | undefined;

  private constructor(record: WorkerRecord, options: EtcdRegistrationOptions) {
    this.#record = record;
    this.#options = options;
  }

  /** Grants a lease and puts the record. Throws UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED. */
  static async register(record: WorkerRecord, options: EtcdRegistrationOptions & Signalled): Promise<EtcdRegistration> {
    const registration = new EtcdRegistration(record, options);
    try {
      await registration.#serial(() => registration.#store(record, options.signal));
    } catch (error) {
      registration.#lease?.release();
      throw error;
    }
    return registration;
  }

  get record(): WorkerRecord {
    return this.#record;
  }

  async update(changes: WorkerRecordChanges, options: Signalled = {}): Promise<WorkerRecord> {
    const attempt = `Cannot update worker "${this.#record.id}"`;
    throwIfAborted(options.signal, attempt);
    const record = checkWorkerRecord({ ...this.#record, ...changes, id: this.#record.id }, attempt);
    await this.#serial(async () => {
      if (this.#left.signal.aborted) throw new DoraError('FAILED_PRECONDITION', `${attempt}: it has left`);
      await this.#store(record, options.signal);
      this.#record = record;
    });
    return record;
  }

  async leave(options: Signalled = {}): Promise<void> {
    if (this.#left.signal.aborted) return;
    this.#left.abort();
    this.#options.onLeave();
    const { client, mirror, key } = this.#options;
    await this.#serial(async () => {
      const lease = this.#lease;
      this.#lease = undefined;
      // Without keepalives the lease ends by itself: the record goes even if etcd cannot be told now.
      lease?.release();
      mirror.applyDelete(key, await client.delete(key, options));
      await lease?.revoke(options).catch(() => undefined);
    });
  }

  /** Puts the record back if it is missing (its key was deleted, or its lease ended). */
  repair(): void {
    if (this.#left.signal.aborted || this.#repairing !== undefined) return;
    this.#repairing = this.#repair().finally(() => (this.#repairing = undefined));
  }

  async #repair(): Promise<void> {
    const { signal } = this.#left;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.#serial(async () => {
          if (!signal.aborted) await this.#store(this.#record, signal);
        });
        return;
      } catch (error) {
        if (isDoraError(error, 'CANCELLED')) return; // left, or the client was closed
        await sleep(backoffDelay(REPAIR, attempt, Math.random), undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Puts `record` under the current lease, granting a new one if there is none or it has ended. */
  async #store(record: WorkerRecord, signal: AbortSignal | undefined): Promise<void> {
    const { client, mirror, key } = this.#options;
    const value = JSON.stringify(record);
    let lease = this.#lease !== undefined && !this.#lease.isLost() ? this.#lease : await this.#newLease(signal);
    let revision: bigint;
    try {
      revision = await client.put(key, value, { lease, signal });
    } catch (error) {
      if (!isDoraError(error, 'NOT_FOUND')) throw error;
      lease = await this.#newLease(signal); // etcd ended the lease before this process noticed
      revision = await client.put(key, value, { lease, signal });
    }
    mirror.applyPut(key, value, revision);
  }

  async #newLease(signal: AbortSignal | undefined): Promise<EtcdLease> {
    this.#lease?.release();
    this.#lease = undefined;
    const lease = await this.#options.client.grantLease(this.#options.ttlSeconds, { signal });
    this.#lease = lease;
    lease.on('lost', () => {
      if (this.#lease === lease) this.repair();
    });
    return lease;
  }

  /** Runs `write` after every write queued before it. */
  #serial<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(write, write);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
