import {
  ClientClosedError,
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCInvalidArgumentError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  isRecoverableError,
  type IKeyValue,
  type IOptions,
  type Lease,
  type Watcher,
} from 'etcd3';
import { DoraError, describeCause, isDoraError } from '../common/errors.js';
import { abortedError } from '../common/system-errors.js';
import type { Signalled } from './membership.js';

export interface EtcdClientOptions {
  /** Client URLs of the etcd cluster, e.g. ['http://127.0.0.1:2379']. */
  readonly endpoints: readonly string[];
  /** Bounds each request (not the watch and keepalive streams), in ms. Default 5000. */
  readonly requestTimeoutMs?: number;
  /** Longest wait between attempts to reconnect a watch or a connection, in ms. Default 2000. */
  readonly reconnectMaxDelayMs?: number;
}

/** A key as stored; revisions order every change in the cluster. */
export interface EtcdEntry {
  readonly key: string;
  readonly value: string;
  readonly createRevision: bigint;
  readonly modRevision: bigint;
}

/** One change seen by a watch; `modRevision` is the revision of the change (of the delete, for one). */
export interface EtcdEvent extends EtcdEntry {
  readonly type: 'put' | 'delete';
}

export interface EtcdWatchHandlers {
  /** The changes of one revision or batch, in revision order. Must not throw. */
  onEvents(events: readonly EtcdEvent[]): void;
  /** The watch ended for good (e.g. its revision was compacted): list again and watch anew. */
  onBroken(error: DoraError): void;
}

export interface EtcdWatch {
  /** Stops the watch. Idempotent. */
  cancel(): Promise<void>;
}

/** A lease granted by etcd and kept alive (every third of its TTL) until revoked, released or lost. */
export interface EtcdLease {
  readonly id: string;
  readonly ttlSeconds: number;
  /** When etcd last confirmed the lease (granted or kept alive), in ms since the epoch. */
  confirmedAt(): number;
  /** Whether the lease is known gone: etcd said so, or it could not be kept alive past twice its TTL. */
  isLost(): boolean;
  /** Calls `listener` on each confirmation ('keepalive') or once when the lease is lost ('lost'). */
  on(event: 'keepalive' | 'lost', listener: () => void): () => void;
  /** Ends the lease now, deleting its keys. Idempotent; a lease already gone is not an error. Throws UNAVAILABLE. */
  revoke(options?: Signalled): Promise<void>;
  /** Stops keeping the lease alive and lets it expire, as a killed process would. Idempotent. */
  release(): void;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>;
type WatchBackoff = NonNullable<FaultHandling['watchBackoff']>;

const NEVER_ABORTED = new AbortController().signal;

/**
 * The one file that imports etcd3: the few etcd operations dora needs, with etcd3's errors
 * translated to DoraErrors (UNAVAILABLE and DEADLINE_EXCEEDED retryable) and strings for keys and
 * values. The client is shared (membership, mount store, election); whoever created it closes it.
 */
export class EtcdClient {
  readonly endpoints: readonly string[];
  readonly #etcd: Etcd3;
  readonly #watches = new Set<Watcher>();
  readonly #leases = new Set<Lease>();
  #closed = false;

  /** Connects lazily: an unreachable cluster shows in the first call. Throws INVALID_ARGUMENT for no endpoints. */
  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new DoraError('INVALID_ARGUMENT', 'Cannot connect to etcd: no endpoints given');
    const timeoutMs = options.requestTimeoutMs ?? 5000;
    const maxDelayMs = options.reconnectMaxDelayMs ?? 2000;
    this.endpoints = [...options.endpoints];
    this.#etcd = new Etcd3({
      hosts: [...options.endpoints],
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': maxDelayMs,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      },
      faultHandling: {
        // etcd3's default circuit breaker refuses every call for 5 s after three failures, which
        // only delays recovery; failing over between endpoints is left to its retry policy.
        host: () => ({ execute: async (fn: (context: { signal: AbortSignal }) => unknown) => fn({ signal: NEVER_ABORTED }) }) as unknown as HostPolicy,
        watchBackoff: backoff(50, maxDelayMs),
      },
    });
  }

  /** The key's entry, or undefined when absent. Throws UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED. */
  async get(key: string, options: Signalled = {}): Promise<EtcdEntry | undefined> {
    const response = await this.#call(`Cannot read "${key}" from etcd`, options.signal, () => this.#etcd.get(key).exec());
    const kv = response.kvs[0];
    return kv === undefined ? undefined : toEntry(kv);
  }

  /** Every key under `prefix`, sorted by key, and the revision they were read at. */
  async list(prefix: string, options: Signalled = {}): Promise<{ entries: EtcdEntry[]; revision: bigint }> {
    const response = await this.#call(`Cannot list "${prefix}" in etcd`, options.signal, () => this.#etcd.getAll().prefix(prefix).exec());
    return { entries: response.kvs.map(toEntry), revision: BigInt(response.header.revision) };
  }

  /** Stores `value` (attached to `lease`, if given) and returns the revision. Throws NOT_FOUND when the lease is gone. */
  async put(key: string, value: string, options: Signalled & { lease?: EtcdLease } = {}): Promise<bigint> {
    const { lease } = options;
    const response = await this.#call(`Cannot put "${key}" in etcd`, options.signal, () => {
      const put = this.#etcd.put(key).value(value);
      return (lease === undefined ? put : put.lease(lease.id)).exec();
    });
    return BigInt(response.header.revision);
  }

  /** Deletes the key (absent is fine) and returns the revision. */
  async delete(key: string, options: Signalled = {}): Promise<bigint> {
    const response = await this.#call(`Cannot delete "${key}" from etcd`, options.signal, () => this.#etcd.delete().key(key).exec());
    return BigInt(response.header.revision);
  }

  /** Grants a lease of `ttlSeconds` (a whole number, at least 1) and keeps it alive. */
  async grantLease(ttlSeconds: number, options: Signalled = {}): Promise<EtcdLease> {
    const attempt = `Cannot grant an etcd lease of ${ttlSeconds} s`;
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) throw new DoraError('INVALID_ARGUMENT', `${attempt}: the TTL must be a whole number of seconds, at least 1`);
    const inner = this.#etcd.lease(ttlSeconds);
    this.#leases.add(inner);
    try {
      const id = await this.#call(attempt, options.signal, () => inner.grant());
      return new GrantedLease(inner, id, ttlSeconds, () => this.#leases.delete(inner));
    } catch (error) {
      inner.release();
      this.#leases.delete(inner);
      throw error;
    }
  }

  /**
   * Watches every key under `prefix` from `fromRevision` on. A broken connection is resumed where
   * it stopped, replaying what was missed; only a watch that cannot resume calls `onBroken`.
   */
  watchPrefix(prefix: string, fromRevision: bigint, handlers: EtcdWatchHandlers): EtcdWatch {
    if (this.#closed) throw new DoraError('CANCELLED', `Cannot watch "${prefix}" in etcd: the client is closed`);
    const watcher = this.#etcd.watch().prefix(prefix).startRevision(fromRevision.toString()).watcher();
    this.#watches.add(watcher);
    watcher.on('data', (response) => {
      if (response.events.length > 0) handlers.onEvents(response.events.map((e) => ({ type: e.type === 'Put' ? 'put' : 'delete', ...toEntry(e.kv) })));
    });
    watcher.on('error', (error) => handlers.onBroken(fromEtcdError(error, `Cannot watch "${prefix}" in etcd`)));
    let cancelled: Promise<void> | undefined;
    return {
      cancel: () => (cancelled ??= this.#cancelWatch(watcher)),
    };
  }

  /**
   * Stops every watch and stops keeping leases alive (without revoking them: their keys go when
   * they expire, as after a crash), then closes the connections. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#watches].map((w) => this.#cancelWatch(w)));
    for (const lease of this.#leases) lease.release();
    this.#etcd.close();
  }

  async #cancelWatch(watcher: Watcher): Promise<void> {
    this.#watches.delete(watcher);
    watcher.removeAllListeners('data');
    watcher.on('error', () => undefined);
    // etcd3 waits for the server to confirm a cancel, which never comes while it is unreachable.
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
    await Promise.race([watcher.cancel().catch(() => undefined), bounded]);
    clearTimeout(timer);
  }

  async #call<T>(attempt: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    try {
      if (this.#closed) throw new DoraError('CANCELLED', `${attempt}: the client is closed`);
      signal?.throwIfAborted();
      return await raceSignal(run(), signal);
    } catch (error) {
      throw fromEtcdError(error, attempt);
    }
  }
}

class GrantedLease implements EtcdLease {
  readonly id: string;
  readonly ttlSeconds: number;
  readonly #inner: Lease;
  readonly #onEnd: () => void;
  readonly #listeners = { keepalive: new Set<() => void>(), lost: new Set<() => void>() };
  #confirmedAt = Date.now();
  #lost = false;

  constructor(inner: Lease, id: string, ttlSeconds: number, onEnd: () => void) {
    this.#inner = inner;
    this.id = id;
    this.ttlSeconds = ttlSeconds;
    this.#onEnd = onEnd;
    inner.on('keepaliveSucceeded', () => {
      this.#confirmedAt = Date.now();
      for (const listener of [...this.#listeners.keepalive]) listener();
    });
    inner.on('lost', () => {
      if (this.#lost) return;
      this.#lost = true;
      this.#onEnd();
      for (const listener of [...this.#listeners.lost]) listener();
    });
  }

  confirmedAt(): number {
    return this.#confirmedAt;
  }

  isLost(): boolean {
    return this.#lost;
  }

  on(event: 'keepalive' | 'lost', listener: () => void): () => void {
    const entry = (): void => listener();
    this.#listeners[event].add(entry);
    return () => {
      this.#listeners[event].delete(entry);
    };
  }

  async revoke(options: Signalled = {}): Promise<void> {
    this.#onEnd();
    const attempt = `Cannot revoke etcd lease ${this.id}`;
    try {
      options.signal?.throwIfAborted();
      await raceSignal(this.#inner.revoke(), options.signal);
    } catch (error) {
      throw fromEtcdError(error, attempt);
    }
  }

  release(): void {
    this.#onEnd();
    this.#inner.release();
  }
}

/** Translates an etcd3 or gRPC error, or an abort, into a DoraError whose message is `${attempt}: ${cause}`. */
export function fromEtcdError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return abortedError(attempt, error);
  const message = `${attempt}: ${describeCause(error)}`;
  const options = { cause: error };
  if (error instanceof EtcdLeaseInvalidError) return new DoraError('NOT_FOUND', `${attempt}: the lease has expired or was revoked`, options);
  if (error instanceof GRPCDeadlineExceededError) return new DoraError('DEADLINE_EXCEEDED', message, options);
  if (error instanceof EtcdPermissionDeniedError || error instanceof EtcdAuthenticationFailedError || error instanceof GRPCUnauthenticatedError) {
    return new DoraError('PERMISSION_DENIED', message, options);
  }
  if (error instanceof GRPCInvalidArgumentError) return new DoraError('INVALID_ARGUMENT', message, options);
  if (error instanceof GRPCResourceExhastedError) return new DoraError('RESOURCE_EXHAUSTED', message, { ...options, retryable: true });
  if (error instanceof ClientClosedError) return new DoraError('CANCELLED', `${attempt}: the client is closed`, options);
  if (error instanceof Error && isRecoverableError(error)) return new DoraError('UNAVAILABLE', message, options);
  return new DoraError('INTERNAL', message, options);
}

function toEntry(kv: IKeyValue): EtcdEntry {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: BigInt(kv.create_revision), modRevision: BigInt(kv.mod_revision) };
}

/** Exponential backoff with jitter, from `delayMs` doubling up to `maxMs`, in etcd3's backoff shape. */
function backoff(delayMs: number, maxMs: number): WatchBackoff {
  return { duration: Math.round(delayMs * (0.5 + Math.random() / 2)), next: () => backoff(Math.min(maxMs, delayMs * 2), maxMs) };
}

async function raceSignal<T>(run: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return run;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
