import type { Readable } from 'node:stream';
import type { DoraClient } from '../../client/dora-client.js';
import type { FileStatus } from '../../worker/file-status.js';
import type { WorkerService } from '../../worker/worker-service.js';
import { localNamespace } from './local-namespace.js';
import type { NamespaceBytes, S3Namespace } from './s3-namespace.js';

/**
 * The namespace as a cluster worker's S3 API serves it: each call goes to the worker that owns
 * the path on the hash ring (DESIGN.md section 3), through the same selector every client uses.
 * Calls this worker owns (or, for reads, holds a replica of) are served in-process; the rest go
 * over the worker API with the SDK's failover to the next worker and, for reads, to the store.
 */
export class RoutedNamespace implements S3Namespace {
  readonly #local: S3Namespace;
  readonly #client: DoraClient;
  readonly #selfId: string;

  constructor(service: WorkerService, client: DoraClient, selfId: string) {
    this.#local = localNamespace(service);
    this.#client = client;
    this.#selfId = selfId;
  }

  async stat(path: string, options: { attributes?: boolean } = {}): Promise<FileStatus> {
    return (await this.#isOwner(path)) ? this.#local.stat(path, options) : this.#client.stat(path, options);
  }

  async list(path: string, options: { recursive?: boolean; startAfter?: string; limit?: number } = {}): Promise<{ entries: FileStatus[]; next?: string }> {
    if (await this.#isOwner(path)) return this.#local.list(path, options);
    const page = await this.#client.listPage(path, options);
    return { entries: [...page.entries], ...(page.next === undefined ? {} : { next: page.next }) };
  }

  async read(path: string, options: { offset: number; length: number; version: string }): Promise<NamespaceBytes> {
    if (await this.#isOwner(path, 'replica')) return this.#local.read(path, options);
    const stream: Readable = await this.#client.read(path, options);
    return stream as AsyncIterable<Uint8Array>;
  }

  async write(path: string, body: AsyncIterable<Uint8Array>, options: Parameters<S3Namespace['write']>[2]): Promise<FileStatus> {
    return (await this.#isOwner(path)) ? this.#local.write(path, body, options) : this.#client.write(path, body, options);
  }

  async mkdir(path: string): Promise<void> {
    return (await this.#isOwner(path)) ? this.#local.mkdir(path) : this.#client.mkdir(path);
  }

  async delete(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return (await this.#isOwner(path)) ? this.#local.delete(path, options) : this.#client.delete(path, options);
  }

  async tags(path: string): Promise<Readonly<Record<string, string>>> {
    return (await this.#isOwner(path)) ? this.#local.tags(path) : this.#client.tags(path);
  }

  async setTags(path: string, tags: Readonly<Record<string, string>>): Promise<void> {
    return (await this.#isOwner(path)) ? this.#local.setTags(path, tags) : this.#client.setTags(path, tags);
  }

  async ownerGateway(path: string): Promise<string | undefined> {
    const [owner] = await this.#client.owners(path).catch(() => []);
    return owner === undefined || owner.id === this.#selfId ? undefined : owner.s3Address;
  }

  /** Whether this worker owns `path` (or, for `replica`, is one of its replicas). No live worker: serve it here. */
  async #isOwner(path: string, scope: 'owner' | 'replica' = 'owner'): Promise<boolean> {
    const owners = await this.#client.owners(path).catch(() => []);
    if (owners.length === 0) return true;
    return (scope === 'owner' ? owners.slice(0, 1) : owners).some((w) => w.id === this.#selfId);
  }
}
