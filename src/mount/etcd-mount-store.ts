import { DoraError, describeCause } from '../common/errors.js';
import { callListeners } from '../membership/call-listeners.js';
import type { EtcdClient, EtcdEntry } from '../membership/etcd-client.js';
import { EtcdPrefixMirror } from '../membership/etcd-prefix-mirror.js';
import type { MountInfo } from './mount-info.js';
import type { MountStore } from './mount-store.js';

const FORMAT = 1;

export interface EtcdMountStoreOptions {
  /** The cluster's key prefix, e.g. '/dora/prod'; the table is the one key `${prefix}/mounts/table`. */
  readonly prefix: string;
}

/** Called with the whole table each time it changes in etcd, whoever saved it. */
export type MountTableListener = (mounts: MountInfo[]) => void;

/**
 * The mount table in etcd (DESIGN.md section 2): one key holding the table as JSON, in the same
 * shape as FileMountStore's file, so every save replaces it atomically. Workers and clients
 * watch it to learn of changes. The client is the caller's: close() leaves it open.
 */
export class EtcdMountStore implements MountStore {
  readonly #client: EtcdClient;
  readonly #key: string;
  readonly #listeners = new Set<MountTableListener>();
  #mirror: Promise<EtcdPrefixMirror> | undefined;
  #lastSeen: string | undefined;
  #closed = false;

  constructor(client: EtcdClient, options: EtcdMountStoreOptions) {
    this.#client = client;
    this.#key = `${options.prefix.replace(/\/+$/, '')}/mounts/table`;
  }

  async load(options: { signal?: AbortSignal | undefined } = {}): Promise<MountInfo[]> {
    const entry = await this.#client.get(this.#key, options);
    return entry === undefined ? [] : this.#parse(entry.value);
  }

  async save(mounts: readonly MountInfo[], options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    await this.#client.put(this.#key, `${JSON.stringify({ format: FORMAT, mounts })}\n`, options);
  }

  /**
   * Calls `listener` with the table each time it changes after the returned promise resolves
   * (saves through this store included; an identical save is not a change). The watch survives
   * etcd outages and catches up when etcd returns. Returns the function that stops the calls.
   * Throws UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, FAILED_PRECONDITION (closed).
   */
  async watch(listener: MountTableListener, options: { signal?: AbortSignal | undefined } = {}): Promise<() => void> {
    if (this.#closed) throw new DoraError('FAILED_PRECONDITION', 'Cannot watch the mount table: the store is closed');
    this.#mirror ??= this.#startMirror(options.signal).catch((error: unknown) => {
      this.#mirror = undefined;
      throw error;
    });
    await this.#mirror;
    const entry: MountTableListener = (mounts) => listener(mounts);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    const mirror = await this.#mirror?.catch(() => undefined);
    await mirror?.close();
  }

  async #startMirror(signal: AbortSignal | undefined): Promise<EtcdPrefixMirror> {
    const mirror = new EtcdPrefixMirror(this.#client, this.#key, (entries) => this.#changed(entries));
    await mirror.start({ signal });
    this.#lastSeen = mirror.entries().get(this.#key)?.value;
    return mirror;
  }

  #changed(entries: ReadonlyMap<string, EtcdEntry>): void {
    const value = entries.get(this.#key)?.value;
    if (value === this.#lastSeen) return;
    this.#lastSeen = value;
    let mounts: MountInfo[];
    try {
      mounts = value === undefined ? [] : this.#parse(value);
    } catch {
      return; // a table this version cannot read: keep the last one
    }
    callListeners(this.#listeners, mounts);
  }

  #parse(text: string): MountInfo[] {
    try {
      const parsed = JSON.parse(text) as { format?: unknown; mounts?: unknown };
      if (parsed.format !== FORMAT || !Array.isArray(parsed.mounts)) throw new Error(`expected {"format": ${FORMAT}, "mounts": [...]}`);
      return parsed.mounts as MountInfo[];
    } catch (error) {
      throw new DoraError('INVALID_ARGUMENT', `Cannot load the mount table "${this.#key}" from etcd: ${describeCause(error)}`, { cause: error });
    }
  }
}
