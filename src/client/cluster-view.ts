import type { MountInfo } from '../mount/mount-info.js';
import { CachedValue } from './cached-value.js';
import type { WorkerInfo } from './client-types.js';
import type { HttpTransport, Peer } from './http-transport.js';
import type { WorkerSelector } from '../hash/worker-selector.js';

/** Builds the selector that places files on the live workers. */
export type SelectorFactory = (workers: readonly WorkerInfo[]) => WorkerSelector<WorkerInfo>;

/**
 * Where a client learns the cluster from when it lives inside it (a worker routing S3 requests):
 * the membership and mount table it already watches, instead of asking the coordinator.
 */
export interface ClusterSource {
  workers(): readonly WorkerInfo[];
  mounts(): readonly MountInfo[];
}

export interface ClusterViewOptions {
  readonly transport: HttpTransport;
  readonly coordinator: Peer;
  readonly source?: ClusterSource | undefined;
  /** Called each time the live set changes after the first answer. */
  readonly onChange?: (() => void) | undefined;
  /** Called with every worker list fetched (live or not). */
  readonly onWorkers?: ((workers: readonly WorkerInfo[]) => void) | undefined;
  readonly selector: SelectorFactory;
  /** How long the worker list and mount table are trusted before the coordinator is asked again. */
  readonly ttlMs: number;
  /** Bounds each call to the coordinator made to refresh the view. */
  readonly requestTimeoutMs: number;
}

interface Signalled {
  signal?: AbortSignal | undefined;
}

/**
 * What the client knows of the cluster: its live workers (as a selector) and its mount table,
 * both asked of the coordinator and kept for a few seconds. The selector (the hash ring) is
 * rebuilt only when the live set changes. While the coordinator is unreachable the last answers
 * are used, so reads go on without it.
 */
export class ClusterView {
  readonly #options: ClusterViewOptions;
  readonly #selector: CachedValue<WorkerSelector<WorkerInfo>>;
  readonly #mounts: CachedValue<readonly MountInfo[]>;
  #built: { readonly signature: string; readonly selector: WorkerSelector<WorkerInfo> } | undefined;
  #changes = 0;

  constructor(options: ClusterViewOptions) {
    this.#options = options;
    this.#selector = new CachedValue(async () => this.#place(await this.#fetchWorkers()), { ttlMs: options.ttlMs });
    this.#mounts = new CachedValue(() => this.#fetchMounts(), { ttlMs: options.ttlMs });
  }

  /** How many times the live set changed (and the ring was rebuilt) since the first answer. */
  get membershipChanges(): number {
    return this.#changes;
  }

  /** A selector over the live workers. Throws UNAVAILABLE when the coordinator was never reached. */
  selector(options: Signalled = {}): Promise<WorkerSelector<WorkerInfo>> {
    return this.#selector.get({ signal: options.signal, attempt: 'Cannot list workers' });
  }

  /** The mount table (secrets redacted); `fresh` asks the coordinator now and fails if it cannot answer. */
  mounts(options: Signalled & { fresh?: boolean } = {}): Promise<readonly MountInfo[]> {
    return this.#mounts.get({ signal: options.signal, fresh: options.fresh === true, attempt: 'Cannot list mounts' });
  }

  /** The coordinator's worker list, uncached. */
  async workers(options: Signalled = {}): Promise<readonly WorkerInfo[]> {
    return this.#fetchWorkers(options.signal);
  }

  /** A worker did not answer: ask the coordinator again before the next call. */
  workerFailed(): void {
    this.#selector.invalidate();
  }

  /** The mount table changed through this client. */
  mountsChanged(): void {
    this.#mounts.invalidate();
  }

  /** The selector for this worker list: the previous one while the live set is the same. */
  #place(workers: readonly WorkerInfo[]): WorkerSelector<WorkerInfo> {
    this.#options.onWorkers?.(workers);
    const live = workers.filter(isLive);
    const signature = JSON.stringify(live.map((w) => [w.id, w.address, w.s3Address ?? '']).sort());
    if (this.#built?.signature === signature) return this.#built.selector;
    if (this.#built !== undefined) {
      this.#changes++;
      this.#options.onChange?.();
    }
    this.#built = { signature, selector: this.#options.selector(live) };
    return this.#built.selector;
  }

  async #fetchWorkers(signal?: AbortSignal): Promise<readonly WorkerInfo[]> {
    if (this.#options.source !== undefined) return this.#options.source.workers();
    const answer = await this.#options.transport.json<{ workers?: WorkerInfo[] }>(this.#options.coordinator, {
      method: 'GET',
      path: '/api/v1/nodes',
      attempt: 'Cannot list workers',
      signal: this.#bounded(signal),
    });
    return answer.workers ?? [];
  }

  async #fetchMounts(signal?: AbortSignal): Promise<readonly MountInfo[]> {
    if (this.#options.source !== undefined) return this.#options.source.mounts();
    const answer = await this.#options.transport.json<{ mounts?: MountInfo[] }>(this.#options.coordinator, {
      method: 'GET',
      path: '/api/v1/mounts',
      attempt: 'Cannot list mounts',
      signal: this.#bounded(signal),
    });
    return answer.mounts ?? [];
  }

  #bounded(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs);
    return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  }
}

/** Workers that take new reads: live ones (a decommissioning worker is off the ring). */
function isLive(worker: WorkerInfo): boolean {
  return worker.state === undefined || worker.state === 'live';
}
