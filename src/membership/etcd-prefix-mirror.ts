import { setTimeout as sleep } from 'node:timers/promises';
import { isDoraError } from '../common/errors.js';
import { backoffDelay, type RetryPolicy } from '../common/retry.js';
import type { EtcdClient, EtcdEntry, EtcdEvent, EtcdWatch } from './etcd-client.js';
import type { Signalled } from './membership.js';

/** Called after each batch of changes with every entry now known. Must not throw. */
export type MirrorListener = (entries: ReadonlyMap<string, EtcdEntry>) => void;

/** How a broken watch is re-established: listed again until etcd answers. */
const RESYNC: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 100, maxDelayMs: 2000, maxElapsedMs: Infinity };

/**
 * A local copy of every key under an etcd prefix, kept current by a watch: what membership,
 * election and the mount table read. While etcd is unreachable the copy stays as last seen, and
 * etcd3 resumes the watch where it stopped when etcd returns; a watch that cannot resume (its
 * revision compacted) is replaced by listing the prefix again. Changes are applied in revision
 * order per key, so a stale event never undoes a newer local write.
 */
export class EtcdPrefixMirror {
  readonly #client: EtcdClient;
  readonly #prefix: string;
  readonly #listener: MirrorListener;
  readonly #entries = new Map<string, EtcdEntry>();
  /** The revision of the last change applied to each key, deletes included. */
  readonly #revisions = new Map<string, bigint>();
  readonly #stop = new AbortController();
  #watch: EtcdWatch | undefined;

  /** An empty mirror; start() fills it. */
  constructor(client: EtcdClient, prefix: string, listener: MirrorListener) {
    this.#client = client;
    this.#prefix = prefix;
    this.#listener = listener;
  }

  /**
   * Lists the prefix and starts watching it; the listener hears of changes after that. Call once.
   * Throws UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED, having started nothing.
   */
  async start(options: Signalled = {}): Promise<void> {
    const { entries, revision } = await this.#client.list(this.#prefix, options);
    if (this.#stop.signal.aborted) return;
    this.#load(entries, revision);
    this.#startWatch(revision + 1n);
  }

  entries(): ReadonlyMap<string, EtcdEntry> {
    return this.#entries;
  }

  /** Records a put this process made at `revision`, so it is read back before the watch brings it. */
  applyPut(key: string, value: string, revision: bigint): void {
    const createRevision = this.#entries.get(key)?.createRevision ?? revision;
    this.#apply([{ type: 'put', key, value, createRevision, modRevision: revision }]);
  }

  /** Records a delete this process made at `revision`. */
  applyDelete(key: string, revision: bigint): void {
    this.#apply([{ type: 'delete', key, value: '', createRevision: 0n, modRevision: revision }]);
  }

  /** Stops watching; the entries stay as they are. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#watch?.cancel();
  }

  #load(entries: readonly EtcdEntry[], revision: bigint): void {
    const listed = new Map(entries.map((e) => [e.key, e]));
    for (const key of this.#entries.keys()) {
      if (!listed.has(key)) this.#revisions.set(key, revision);
    }
    this.#entries.clear();
    for (const entry of entries) {
      this.#entries.set(entry.key, entry);
      this.#revisions.set(entry.key, entry.modRevision);
    }
  }

  #startWatch(fromRevision: bigint): void {
    this.#watch = this.#client.watchPrefix(this.#prefix, fromRevision, {
      onEvents: (events) => this.#apply(events),
      onBroken: () => void this.#resync(),
    });
  }

  #apply(events: readonly EtcdEvent[]): void {
    let changed = false;
    for (const event of events) {
      if (event.modRevision < (this.#revisions.get(event.key) ?? 0n)) continue;
      this.#revisions.set(event.key, event.modRevision);
      if (event.type === 'put') {
        const { type: _type, ...entry } = event;
        this.#entries.set(event.key, entry);
        changed = true;
      } else {
        changed = this.#entries.delete(event.key) || changed;
      }
    }
    if (changed && !this.#stop.signal.aborted) this.#listener(this.#entries);
  }

  async #resync(): Promise<void> {
    const broken = this.#watch;
    this.#watch = undefined;
    await broken?.cancel();
    const { signal } = this.#stop;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const { entries, revision } = await this.#client.list(this.#prefix, { signal });
        this.#load(entries, revision);
        this.#listener(this.#entries);
        this.#startWatch(revision + 1n);
        return;
      } catch (error) {
        // CANCELLED: this mirror or its client was closed.
        if (isDoraError(error, 'CANCELLED')) return;
        await sleep(backoffDelay(RESYNC, attempt, Math.random), undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
