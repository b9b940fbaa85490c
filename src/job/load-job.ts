import type { LoadSpec } from './job-types.js';
import type { JobRunOptions, TreeWork } from './tree-runner.js';

/**
 * A load: each file cached on its owner (or its first `replicas` workers) at its current version;
 * `verify` loads every file once more at the end, which fetches only what is no longer cached.
 */
export function loadWork(options: JobRunOptions<LoadSpec>): TreeWork {
  const { client, spec } = options;
  const load = (path: string, signal: AbortSignal): Promise<'done'> =>
    client.load(path, { replicas: spec.replicas, metadataOnly: spec.metadataOnly, signal }).then(() => 'done' as const);
  return {
    root: spec.path,
    bandwidth: spec.bandwidth,
    charge: (file) => (spec.metadataOnly === true ? 0 : file.size),
    each: (file, signal) => load(file.path, signal),
    ...(spec.verify === true ? { verify: (file, signal) => load(file.path, signal) } : {}),
  };
}
