import { join, resolve } from 'node:path';
import { DoraError } from '../common/errors.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { EtcdClient } from '../membership/etcd-client.js';
import { EtcdMembership } from '../membership/etcd-membership.js';
import type { Membership } from '../membership/membership.js';
import { StaticMembership } from '../membership/static-membership.js';
import type { WorkerRecord } from '../membership/worker-record.js';
import { EtcdMountStore } from '../mount/etcd-mount-store.js';
import { FileMountStore } from '../mount/file-mount-store.js';
import type { MountStore } from '../mount/mount-store.js';

/** What a cluster process shares with the others: membership and the mount table. */
export interface ClusterState {
  /** Present when the cluster runs on etcd. */
  readonly etcd: EtcdClient | undefined;
  readonly membership: Membership;
  readonly mountStore: MountStore;
  /** Calls `listener` when another process changes the mount table (etcd only). Returns the unsubscribe. */
  watchMounts(listener: () => void): Promise<() => void>;
  close(): Promise<void>;
}

/**
 * Opens the cluster's shared state from configuration: with `etcd.endpoints`, leased
 * registrations and the mount table in etcd; without, the static worker list
 * (`membership.workers`) and the mount table in a file.
 */
export async function openClusterState(config: DoraConfig, options: { signal?: AbortSignal } = {}): Promise<ClusterState> {
  if (config.etcd.endpoints.length === 0) {
    const membership = new StaticMembership(config.membership.workers.map(staticWorker));
    return {
      etcd: undefined,
      membership,
      mountStore: new FileMountStore(config.mountTable.file || join(resolve(config.dataDir), 'mounts.json')),
      watchMounts: async () => () => undefined,
      close: () => membership.close(),
    };
  }
  const etcd = new EtcdClient({ endpoints: config.etcd.endpoints, requestTimeoutMs: config.client.connectTimeout });
  try {
    const membership = await EtcdMembership.open(etcd, { prefix: config.etcd.prefix, leaseTtlSeconds: Math.ceil(config.membership.leaseTtl / 1000), signal: options.signal });
    const mountStore = new EtcdMountStore(etcd, { prefix: config.etcd.prefix });
    return {
      etcd,
      membership,
      mountStore,
      watchMounts: (listener) => mountStore.watch(() => listener(), options),
      async close() {
        await membership.close();
        await mountStore.close();
        await etcd.close();
      },
    };
  } catch (error) {
    await etcd.close();
    throw error;
  }
}

/** A static worker entry: `URL` or `id=URL`; without an id, one is made from the URL's host and port. */
function staticWorker(entry: string): WorkerRecord {
  const at = entry.indexOf('=');
  const address = (at < 0 ? entry : entry.slice(at + 1)).trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new DoraError('INVALID_ARGUMENT', `Cannot use the static worker "${entry}": ${JSON.stringify(address)} is not a URL`);
  }
  const id = at < 0 ? `${url.hostname}-${url.port || '80'}`.replace(/[^A-Za-z0-9._-]/g, '_') : entry.slice(0, at).trim();
  return { id, address, state: 'live', startedAt: 0 };
}
