import { DoraError } from '../common/errors.js';
import { throwIfAborted } from '../common/system-errors.js';
import type { EtcdClient, EtcdEntry } from './etcd-client.js';
import { EtcdPrefixMirror } from './etcd-prefix-mirror.js';
import { EtcdRegistration } from './etcd-registration.js';
import { MemberSet } from './member-set.js';
import type { Membership, MembershipListener, Signalled, WorkerRegistration } from './membership.js';
import { checkWorkerRecord, type WorkerRecord } from './worker-record.js';

const DEFAULT_TTL_SECONDS = 5;

export interface EtcdMembershipOptions {
  /** The cluster's key prefix, e.g. '/dora/prod'; workers register under `${prefix}/workers/<id>`. */
  readonly prefix: string;
  /** The TTL of each worker's lease: how long a killed worker stays listed. Default 5 s. */
  readonly leaseTtlSeconds?: number;
}

/**
 * Membership through etcd (DESIGN.md section 5): each worker puts its record under the cluster
 * prefix with a lease it keeps alive; live means registered and leased. Every process mirrors
 * the prefix with a watch, so members() answers from memory and keeps the last known set while
 * etcd is unreachable. The client is the caller's: close() leaves it open.
 */
export class EtcdMembership implements Membership {
  readonly #client: EtcdClient;
  readonly #workersPrefix: string;
  readonly #ttlSeconds: number;
  readonly #set = new MemberSet();
  readonly #registrations = new Map<string, EtcdRegistration>();
  readonly #mirror: EtcdPrefixMirror;
  #closed = false;

  private constructor(client: EtcdClient, options: EtcdMembershipOptions) {
    this.#client = client;
    this.#workersPrefix = `${options.prefix.replace(/\/+$/, '')}/workers/`;
    this.#mirror = new EtcdPrefixMirror(client, this.#workersPrefix, (entries) => this.#changed(entries));
    this.#ttlSeconds = options.leaseTtlSeconds ?? DEFAULT_TTL_SECONDS;
  }

  /**
   * Reads the registered workers and starts watching them. Throws INVALID_ARGUMENT (bad TTL),
   * UNAVAILABLE or DEADLINE_EXCEEDED (etcd unreachable), CANCELLED.
   */
  static async open(client: EtcdClient, options: EtcdMembershipOptions & Signalled): Promise<EtcdMembership> {
    const ttl = options.leaseTtlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isSafeInteger(ttl) || ttl < 1) throw new DoraError('INVALID_ARGUMENT', `Cannot use a worker lease TTL of ${ttl} s: it must be a whole number of seconds, at least 1`);
    const membership = new EtcdMembership(client, options);
    await membership.#mirror.start(options);
    membership.#changed(membership.#mirror.entries());
    return membership;
  }

  async join(self: WorkerRecord, options: Signalled = {}): Promise<WorkerRegistration> {
    const attempt = `Cannot register worker ${JSON.stringify((self as Partial<WorkerRecord> | null)?.id)} in etcd`;
    throwIfAborted(options.signal, attempt);
    const record = checkWorkerRecord(self, attempt);
    if (this.#closed) throw new DoraError('FAILED_PRECONDITION', `${attempt}: the membership is closed`);
    if (this.#registrations.has(record.id)) throw new DoraError('ALREADY_EXISTS', `${attempt}: it has already joined through this membership`);
    const registration = await EtcdRegistration.register(record, {
      client: this.#client,
      mirror: this.#mirror,
      key: this.#workersPrefix + record.id,
      ttlSeconds: this.#ttlSeconds,
      signal: options.signal,
      onLeave: () => this.#registrations.delete(record.id),
    });
    this.#registrations.set(record.id, registration);
    return registration;
  }

  members(): readonly WorkerRecord[] {
    return this.#set.list();
  }

  watch(listener: MembershipListener): () => void {
    return this.#set.watch(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#set.clearListeners();
    await Promise.allSettled([...this.#registrations.values()].map((r) => r.leave()));
    await this.#mirror.close();
  }

  #changed(entries: ReadonlyMap<string, EtcdEntry>): void {
    const records = new Map<string, WorkerRecord>();
    for (const [key, entry] of entries) {
      const record = parseRecord(entry.value);
      // A record another version wrote in a shape this one cannot read is left out, not fatal.
      if (record !== undefined && key === this.#workersPrefix + record.id) records.set(record.id, record);
    }
    this.#set.replace(records.values());
    for (const [id, registration] of this.#registrations) {
      if (!records.has(id)) registration.repair();
    }
  }
}

function parseRecord(value: string): WorkerRecord | undefined {
  try {
    return checkWorkerRecord(JSON.parse(value), 'Cannot read a worker record');
  } catch {
    return undefined;
  }
}
