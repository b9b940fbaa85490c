import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before } from 'node:test';
import type { MountRequest } from '../src/mount/mount-info.js';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions, type LocalWorker, type LocalWorkerCache } from '../src/testing/local-cluster.js';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { createDefaultUfsRegistry } from '../src/ufs/ufs-registry.js';
import type { UnderFileSystem } from '../src/ufs/under-file-system.js';

/** Polls `condition` every 50 ms; fails the test naming `what` after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`Not true after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Each worker's cache summary, by id. */
export async function caches(workers: readonly LocalWorker[]): Promise<Map<string, LocalWorkerCache>> {
  return new Map(await Promise.all(workers.map(async (w) => [w.id, await w.cache()] as const)));
}

/** A stream read on demand, only as far as asked, hashing what arrived. */
export function pausedRead(source: AsyncIterable<Uint8Array>): { readAtLeast(bytes: number): Promise<void>; finish(): Promise<string>; received(): number } {
  const chunks = source[Symbol.asyncIterator]();
  const hash = createHash('sha256');
  let received = 0;
  const pull = async (until: number): Promise<void> => {
    while (received < until) {
      const next = await chunks.next();
      if (next.done === true) return;
      hash.update(next.value);
      received += next.value.byteLength;
    }
  };
  return {
    readAtLeast: (bytes) => pull(bytes),
    received: () => received,
    async finish() {
      await pull(Infinity);
      return hash.digest('hex');
    },
  };
}

/** A LocalCluster beside a moto server, one bucket of it mounted at /data, and that bucket opened straight (for setup). */
export interface S3Cluster {
  readonly cluster: LocalCluster;
  readonly moto: S3ServerHandle;
  /** The bucket itself, not through dora: to put files in the store. */
  readonly bucket: UnderFileSystem;
  /** The workers still running. */
  live(): LocalWorker[];
}

/**
 * Starts, in the describe block that calls it, a cluster (`options`, default three workers) and moto
 * side by side before its tests, with bucket `name` mounted at /data (and `s3Mounts` too); stops them
 * after. The fields are there once the block's `before` hooks ran.
 */
export function s3ClusterFixture(name: string, options: LocalClusterOptions & { s3Mounts?: (moto: S3ServerHandle) => MountRequest[] } = {}): S3Cluster {
  let started: { cluster: LocalCluster; moto: S3ServerHandle; bucket: UnderFileSystem } | undefined;
  const parts: { cluster?: LocalCluster; moto?: S3ServerHandle; bucket?: UnderFileSystem } = {};
  const { s3Mounts, ...clusterOptions } = options;
  before(async () => {
    const starting = startLocalCluster({ workers: 3, ...clusterOptions });
    parts.moto = await startMotoServer().catch(async (error: unknown) => {
      await (await starting.catch(() => undefined))?.stop();
      throw error;
    });
    const cluster = (parts.cluster = await starting);
    await createBucket(parts.moto, name);
    for (const mount of [{ path: '/data', uri: `s3://${name}/`, options: s3Options(parts.moto) }, ...(s3Mounts?.(parts.moto) ?? [])]) await cluster.mount(mount);
    parts.bucket = await createDefaultUfsRegistry().create(`s3://${name}/`, s3Options(parts.moto));
    started = { cluster, moto: parts.moto, bucket: parts.bucket };
  });
  after(async () => {
    await parts.cluster?.stop();
    await parts.bucket?.close();
    await parts.moto?.stop();
  });
  const get = (): NonNullable<typeof started> => started ?? assert.fail('the cluster did not start');
  return {
    get cluster() {
      return get().cluster;
    },
    get moto() {
      return get().moto;
    },
    get bucket() {
      return get().bucket;
    },
    live: () => (started?.cluster.workers ?? []).filter((w) => w.running),
  };
}

/** `promise`, or a failure naming `what` after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Not done after ${timeoutMs} ms: ${what}`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
