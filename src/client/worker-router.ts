import { DoraError, isDoraError } from '../common/errors.js';
import { coveringMount, storeIdentity } from '../mount/dora-path.js';
import type { ClientEvent } from './client-options.js';
import type { WorkerInfo } from './client-types.js';
import type { ClusterView } from './cluster-view.js';
import type { HttpTransport } from './http-transport.js';
import { isUnreachable, markUnreachable } from './remote-error.js';
import { HttpWorkerApi, type WorkerApi } from './worker-api.js';

/** How a call picks among a file's workers. */
export interface Route {
  /** Try the next worker when one does not answer (reads and metadata; never changes). */
  failover?: boolean;
  /** Start at this client's replica rather than the owner (reads). */
  spread?: boolean;
  replicas?: number | undefined;
}

/** How long a worker that did not answer is tried last. */
const SUSPECT_MS = 10_000;

/** What a call to one worker is given. */
export interface WorkerCall {
  /** Aborted when the caller aborts, or when the worker leaves the cluster while the call waits on it. */
  readonly signal: AbortSignal;
  /** Keeps the call watched past its answer (a read's body) until the returned function is called. */
  hold(): () => void;
}

/**
 * Sends each call to the workers of its file (DESIGN.md section 3): the file's identity is placed
 * on the ring of live workers; the owner first (or, for reads, this client's replica), then the
 * rest of the file's preference list when a worker does not answer.
 */
export class WorkerRouter {
  readonly #view: ClusterView;
  readonly #transport: HttpTransport;
  readonly #observe: ((event: ClientEvent) => void) | undefined;
  readonly #apis = new Map<string, WorkerApi>();
  /** Workers that did not answer lately, by address, until when they are tried last. */
  readonly #suspects = new Map<string, number>();
  /** Where this client starts among a file's replicas, so clients spread their reads. */
  readonly #spread = Math.floor(Math.random() * 1024);
  /** Calls waiting on each worker, to abort when it leaves the cluster (a hung worker never answers). */
  readonly #waiting = new Map<string, Set<AbortController>>();
  readonly #pollMs: number;
  #poller: NodeJS.Timeout | undefined;
  #failovers = 0;

  constructor(options: {
    view: ClusterView;
    transport: HttpTransport;
    observe?: ((event: ClientEvent) => void) | undefined;
    pollMs: number;
    inProcess?: { readonly address: string; readonly api: WorkerApi } | undefined;
  }) {
    this.#view = options.view;
    this.#transport = options.transport;
    this.#observe = options.observe;
    this.#pollMs = options.pollMs;
    if (options.inProcess !== undefined) this.#apis.set(options.inProcess.address, options.inProcess.api);
  }

  /**
   * The workers the cluster lists now: calls waiting on a worker it no longer lists fail over at
   * once (UNAVAILABLE, as if it had not answered) instead of waiting out the idle timeout.
   */
  listed(workers: readonly WorkerInfo[]): void {
    const present = new Set(workers.map((w) => w.address));
    for (const [address, calls] of this.#waiting) {
      if (present.has(address)) continue;
      const gone = markUnreachable(new DoraError('UNAVAILABLE', `Worker ${address} left the cluster while a call waited on it`, { retryable: true }));
      for (const call of calls) call.abort(gone);
    }
  }

  /** Stops watching for workers that leave. */
  close(): void {
    clearInterval(this.#poller);
    this.#poller = undefined;
  }

  /** Calls served by another worker because the first did not answer. */
  get failovers(): number {
    return this.#failovers;
  }

  /**
   * Runs `call` on the owner of `path`. With `failover`, a worker that does not answer is followed
   * by the next in the file's preference list (its replicas, then the worker the ring would
   * choose without it); else the owner's failure is the answer. A worker that does not answer is
   * tried last for a while, and makes the view ask the coordinator again. Throws the last
   * worker's failure; no worker to ask is UNAVAILABLE, marked unreachable (for store fallback).
   */
  async run<T>(path: string, signal: AbortSignal | undefined, call: (worker: WorkerApi, context: WorkerCall) => Promise<T>, route: Route = {}): Promise<T> {
    let candidates: readonly WorkerInfo[];
    try {
      const placement = await this.placement(path, signal, route.replicas);
      candidates = this.#ordered(placement.owners, route.spread === true ? placement.replicas : 1);
    } catch (error) {
      throw isDoraError(error, 'UNAVAILABLE') ? markUnreachable(error) : error;
    }
    let failure: unknown; // built only when needed: a DoraError captures a stack
    for (const [i, worker] of (route.failover === true ? candidates : candidates.slice(0, 1)).entries()) {
      const watch = this.#watch(worker.address, signal);
      try {
        const result = await call(this.api(worker.address), watch.context);
        if (i > 0) {
          this.#failovers++;
          this.#observe?.('failover');
        }
        this.#suspects.delete(worker.address);
        return result;
      } catch (error) {
        if (!isUnreachable(error) || signal?.aborted === true) throw error;
        this.#suspects.set(worker.address, Date.now() + SUSPECT_MS);
        this.#view.workerFailed();
        failure = error;
      } finally {
        watch.done();
      }
    }
    throw failure ?? new DoraError('UNAVAILABLE', `Cannot reach a worker for "${path}": none is live`);
  }

  /** Registers a call waiting on `address` until `done` (and every `hold`) is released; polls the cluster meanwhile. */
  #watch(address: string, signal: AbortSignal | undefined): { context: WorkerCall; done: () => void } {
    const controller = new AbortController();
    const calls = this.#waiting.get(address) ?? new Set<AbortController>();
    this.#waiting.set(address, calls);
    calls.add(controller);
    // While calls wait, the worker list is asked again every poll; the poller stops itself once none waits.
    this.#poller ??= setInterval(() => {
      if (this.#waiting.size === 0) this.close();
      else void this.#view.selector().catch(() => undefined);
    }, this.#pollMs).unref();
    let holds = 1;
    const release = (): void => {
      if (--holds > 0) return;
      calls.delete(controller);
      if (calls.size === 0) this.#waiting.delete(address);
    };
    const callSignal = signal === undefined ? controller.signal : AbortSignal.any([signal, controller.signal]);
    return {
      context: {
        signal: callSignal,
        hold: () => {
          holds++;
          let released = false;
          return () => {
            if (!released) release();
            released = true;
          };
        },
      },
      done: release,
    };
  }

  /** A file's preference list (one more worker than its replicas, for failover) and its replica count. */
  async placement(path: string, signal: AbortSignal | undefined, wanted: number | undefined): Promise<{ owners: readonly WorkerInfo[]; replicas: number }> {
    const selector = await this.#view.selector({ signal });
    // Without the mount table (a coordinator never reached), files are placed by dora path.
    const mounts = await this.#view.mounts({ signal }).catch(() => []);
    const replicas = wanted ?? coveringMount(mounts, path)?.replicas ?? 1;
    return { owners: selector.owners(storeIdentity(mounts, path), replicas + 1), replicas };
  }

  /** The API of the worker at `address`, one per address (the in-process worker's own, called directly). */
  api(address: string): WorkerApi {
    let api = this.#apis.get(address);
    if (api === undefined) {
      api = new HttpWorkerApi(this.#transport, address);
      this.#apis.set(address, api);
    }
    return api;
  }

  /** Starts reads at this client's replica (spreading clients over a file's replicas); suspects go last. */
  #ordered(owners: readonly WorkerInfo[], replicas: number): WorkerInfo[] {
    const start = replicas > 1 ? this.#spread % Math.min(replicas, owners.length) : 0;
    const rotated = [...owners.slice(start, replicas), ...owners.slice(0, start), ...owners.slice(replicas)];
    const now = Date.now();
    const suspect = (w: WorkerInfo): boolean => (this.#suspects.get(w.address) ?? 0) > now;
    return [...rotated.filter((w) => !suspect(w)), ...rotated.filter(suspect)];
  }
}
