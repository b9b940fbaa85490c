import type { MountInfo } from '../mount/mount-info.js';
import { CachedValue } from './cached-value.js';
import type { WorkerInfo } from './client-types.js';
import type { HttpTransport, Peer } from './http-transport.js';
import type { WorkerSelector, WorkerSelectorFactory } from './worker-selector.js';

export interface ClusterViewOptions {
  readonly transport: HttpTransport;
  readonly coordinator: Peer;
  readonly selector: WorkerSelectorFactory;
  /** How long the worker list and mount table are trusted before the coordinator is asked again. */
  readonly ttlMs: number;
  /** Bounds each call to the coordinator made to refresh the view. */
  readonly requestTimeoutMs: number;
}

interface Signalled {
  signal?: AbortSignal | undefined;
}

/**
 * What the client knows of the cluster: its workers (as a selector) and its mount table, both
 * asked of the coordinator and kept for a few seconds. While the coordinator is unreachable the
 * last answers are used, so reads go on without it.
 */
export class ClusterView {
  readonly #options: ClusterViewOptions;
  readonly #selector: CachedValue<WorkerSelector>;
  readonly #mounts: CachedValue<readonly MountInfo[]>;

  constructor(options: ClusterViewOptions) {
    this.#options = options;
    this.#selector = new CachedValue(async () => options.selector(await this.#fetchWorkers()), { ttlMs: options.ttlMs });
    this.#mounts = new CachedValue(() => this.#fetchMounts(), { ttlMs: options.ttlMs });
  }

  /** A selector over the current workers. Throws UNAVAILABLE when the coordinator was never reached. */
  selector(options: Signalled = {}): Promise<WorkerSelector> {
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

  async #fetchWorkers(signal?: AbortSignal): Promise<readonly WorkerInfo[]> {
    const answer = await this.#options.transport.json<{ workers?: WorkerInfo[] }>(this.#options.coordinator, {
      method: 'GET',
      path: '/api/v1/nodes',
      attempt: 'Cannot list workers',
      signal: this.#bounded(signal),
    });
    return answer.workers ?? [];
  }

  async #fetchMounts(signal?: AbortSignal): Promise<readonly MountInfo[]> {
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
