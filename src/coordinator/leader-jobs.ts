import type { DoraClient } from '../client/dora-client.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { JobManager } from '../job/job-manager.js';
import type { JobStore } from '../job/job-store.js';

/** How long before a leader that could not load the jobs tries again. */
const RETRY_MS = 1000;

/**
 * Jobs run by whichever coordinator leads: it starts a job manager over the shared store when it
 * becomes leader (resuming the jobs left running, from their checkpoints) and closes it when it
 * stops leading, leaving them running for the next leader. `sync` is called on every leadership
 * change; changes are applied one at a time.
 */
export class LeaderJobs {
  readonly #store: JobStore;
  readonly #client: () => DoraClient;
  readonly #isLeader: () => boolean;
  readonly #config: DoraConfig;
  #manager: JobManager | undefined;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: { store: JobStore; client: () => DoraClient; isLeader: () => boolean; config: DoraConfig }) {
    this.#config = options.config;
    this.#store = options.store;
    this.#client = options.client;
    this.#isLeader = options.isLeader;
  }

  /** The running manager while this coordinator leads and has loaded the jobs; else undefined. */
  get manager(): JobManager | undefined {
    return this.#manager;
  }

  /** Brings the manager in line with the leadership now; resolves once it is. */
  sync(): Promise<void> {
    this.#tail = this.#tail.then(() => this.#apply());
    return this.#tail;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.sync();
  }

  async #apply(): Promise<void> {
    const lead = this.#isLeader() && !this.#closed;
    if (lead === (this.#manager !== undefined)) return;
    if (!lead) {
      const manager = this.#manager;
      this.#manager = undefined;
      await manager?.close();
      return;
    }
    const manager = new JobManager({ store: this.#store, client: this.#client, config: this.#config });
    try {
      await manager.start();
      this.#manager = manager;
    } catch {
      await manager.close();
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => void this.sync(), RETRY_MS).unref(); // the store did not answer: try again
    }
  }
}
