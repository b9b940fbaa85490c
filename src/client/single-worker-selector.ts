import { DoraError } from '../common/errors.js';
import type { WorkerInfo } from './client-types.js';
import type { WorkerSelector } from './worker-selector.js';

/**
 * Sends every path to one worker: the live worker with the smallest id (so every client picks the
 * same one), or the first listed when none says it is live. Enough for `dora start`'s one worker;
 * a cluster uses the consistent-hash ring.
 */
export class SingleWorkerSelector implements WorkerSelector {
  readonly #worker: WorkerInfo | undefined;

  constructor(workers: readonly WorkerInfo[]) {
    const live = workers.filter((w) => w.state === 'live').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.#worker = live[0] ?? workers[0];
  }

  select(path: string): WorkerInfo {
    if (this.#worker === undefined) throw new DoraError('UNAVAILABLE', `Cannot choose a worker for "${path}": the coordinator lists no worker`);
    return this.#worker;
  }
}
