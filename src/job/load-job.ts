import { LoadBatcher } from './load-batcher.js';
import type { LoadSpec } from './job-types.js';
import type { JobRunOptions, TreeWork } from './tree-runner.js';

/** Files a load has in flight: enough that each worker gets batches of many small files. */
const LOAD_PARALLEL = 256;

/**
 * A load: each file cached on its owner (or its first `replicas` workers) at its current version,
 * sent to the workers in batches; `verify` loads every file once more at the end, which fetches
 * only what is no longer cached.
 */
export function loadWork(options: JobRunOptions<LoadSpec>): TreeWork {
  const { client, spec, signal } = options;
  const batcher = new LoadBatcher(client, { replicas: spec.replicas, metadataOnly: spec.metadataOnly, signal });
  const load = (path: string): Promise<'done'> => batcher.load(path).then(() => 'done' as const);
  return {
    root: spec.path,
    parallel: LOAD_PARALLEL,
    bandwidth: spec.bandwidth,
    charge: (file) => (spec.metadataOnly === true ? 0 : file.size),
    each: (file) => load(file.path),
    ...(spec.verify === true ? { verify: (file) => load(file.path) } : {}),
  };
}
