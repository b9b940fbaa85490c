import type { EtcdClient } from '../membership/etcd-client.js';
import type { JobStore } from './job-store.js';
import type { JobRecord } from './job-types.js';

/** Jobs in etcd, one key each under `<prefix>/jobs/`: every coordinator of a cluster sees them, and a new leader resumes them. */
export class EtcdJobStore implements JobStore {
  readonly #client: EtcdClient;
  readonly #prefix: string;

  constructor(client: EtcdClient, options: { prefix: string }) {
    this.#client = client;
    this.#prefix = `${options.prefix.replace(/\/+$/, '')}/jobs/`;
  }

  async save(job: JobRecord): Promise<void> {
    await this.#client.put(`${this.#prefix}${job.id}`, JSON.stringify(job));
  }

  async delete(id: string): Promise<void> {
    await this.#client.delete(`${this.#prefix}${id}`);
  }

  async all(): Promise<JobRecord[]> {
    const { entries } = await this.#client.list(this.#prefix);
    return entries.map((entry) => JSON.parse(entry.value) as JobRecord);
  }
}
