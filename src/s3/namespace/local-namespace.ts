import { DoraError } from '../../common/errors.js';
import type { WorkerService } from '../../worker/worker-service.js';
import type { NamespaceBytes, S3Namespace } from './s3-namespace.js';

/** The namespace served by one worker in this process (`dora start`, or a cluster worker's own files). */
export function localNamespace(service: WorkerService): S3Namespace {
  return {
    stat: (path, options) => service.stat(path, options),
    list: (path, options) => service.list(path, options),
    read: async (path, { offset, length, version }): Promise<NamespaceBytes> => {
      const read = await service.read(path, { offset, length });
      if (read.status.version !== version) {
        if ('stream' in read) read.stream.destroy();
        throw new DoraError('ABORTED', `Cannot read "${path}" at offset ${offset}: the file changed while it was read`);
      }
      return 'bytes' in read ? read.bytes : (read.stream as AsyncIterable<Uint8Array>);
    },
    write: (path, body, options) => service.write(path, body, options),
    mkdir: (path) => service.mkdir(path),
    delete: (path, options) => service.delete(path, options),
    tags: (path) => service.tags(path),
    setTags: (path, tags) => service.setTags(path, tags),
  };
}
