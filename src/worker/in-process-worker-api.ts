import { Readable } from 'node:stream';
import type { WorkerApi } from '../client/worker-api.js';
import { parseWriteType } from '../mount/mount-info.js';
import type { WorkerNode } from './worker-node.js';

/**
 * A worker's API called inside its own process, for a client that lives there (a FUSE mount beside
 * the worker): the same calls as over HTTP, without a socket, request parsing or copies between.
 */
export function inProcessWorkerApi(worker: WorkerNode): { readonly address: string; readonly api: WorkerApi } {
  const service = worker.service;
  const api: WorkerApi = {
    stat: (path, options) => service.stat(path, options),
    tags: (path, options) => service.tags(path, options),
    setTags: (path, tags, options) => service.setTags(path, { ...tags }, options),
    list: (path, options) => service.list(path, withoutUndefined(options)),
    async read(path, options) {
      const range = await service.read(path, options);
      const stream = 'stream' in range ? range.stream : Readable.from([range.bytes]);
      return { body: stream, cancel: () => stream.destroy(), version: range.status.version, size: range.status.size };
    },
    write: (path, body, options) => {
      const writeType = options.writeType === undefined ? undefined : parseWriteType(options.writeType, `Cannot write "${path}"`);
      return service.write(path, body instanceof Uint8Array ? Readable.from([body]) : body, { ...options, writeType });
    },
    delete: (path, options) => service.delete(path, withoutUndefined(options)),
    rename: (from, to, options) => service.rename(from, to, options),
    mkdir: (path, options) => service.mkdir(path, options),
    invalidate: (path) => service.invalidate(path),
    free: (path) => service.free(path),
    load: (path, options) => service.load(path, withoutUndefined(options)),
    loadMany: (paths, options) => service.loadMany(paths, withoutUndefined(options)),
    cache: () => Promise.resolve(worker.cacheSummary()),
  };
  return { address: worker.url, api };
}

/** Options without their undefined members (the service's options are exact). */
function withoutUndefined<T extends object>(options: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
