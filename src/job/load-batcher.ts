import type { DoraClient } from '../client/dora-client.js';
import type { WorkerInfo } from '../client/client-types.js';
import { errorFromJson } from '../client/remote-error.js';
import { DoraError } from '../common/errors.js';

/** Most files sent to one worker in one request. */
const BATCH = 64;

interface Waiting {
  readonly path: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Loads files the way a load job asks for them, one at a time, while sending them to the workers
 * in batches: the files asked for within one turn of the event loop go to each owner in one
 * request (up to BATCH). Each file still succeeds or fails on its own, so the job retries and
 * counts it alone; a request that fails as a whole (its worker died) fails each of its files.
 */
export class LoadBatcher {
  readonly #client: DoraClient;
  readonly #options: { replicas?: number | undefined; metadataOnly?: boolean | undefined; signal: AbortSignal };
  readonly #queues = new Map<string, { worker: WorkerInfo; waiting: Waiting[] }>();
  #scheduled = false;

  constructor(client: DoraClient, options: { replicas?: number | undefined; metadataOnly?: boolean | undefined; signal: AbortSignal }) {
    this.#client = client;
    this.#options = options;
  }

  /** Caches `path` on its owner(s); resolves once every owner has it. */
  async load(path: string): Promise<void> {
    const owners = await this.#client.owners(path, { replicas: this.#options.replicas, signal: this.#options.signal });
    await Promise.all(owners.map((worker) => new Promise<void>((resolve, reject) => this.#enqueue(worker, { path, resolve, reject }))));
  }

  #enqueue(worker: WorkerInfo, waiting: Waiting): void {
    let queue = this.#queues.get(worker.address);
    if (queue === undefined) this.#queues.set(worker.address, (queue = { worker, waiting: [] }));
    queue.waiting.push(waiting);
    if (queue.waiting.length >= BATCH) this.#send(queue.worker, queue.waiting.splice(0));
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    for (const queue of this.#queues.values()) if (queue.waiting.length > 0) this.#send(queue.worker, queue.waiting.splice(0));
  }

  #send(worker: WorkerInfo, batch: readonly Waiting[]): void {
    const { metadataOnly, signal } = this.#options;
    this.#client.loadOn(worker, batch.map((w) => w.path), { metadataOnly, signal }).then(
      (answers) => {
        batch.forEach((waiting, i) => {
          const answer = answers[i];
          if (answer?.loaded !== undefined) waiting.resolve();
          else waiting.reject(errorFromJson(answer?.error) ?? new DoraError('INTERNAL', `Cannot load "${waiting.path}": worker ${worker.id} gave no answer for it`));
        });
      },
      (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
    );
  }
}
