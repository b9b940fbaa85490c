// The file systems the FUSE benchmark reads through, each daemon a process of its own in the
// foreground: `dora fuse mount` and bindfs (a pass-through FUSE file system over a local
// directory). Each is ready once /proc/self/mountinfo lists it and its root answers a stat, and is
// unmounted however the benchmark ends. Also: dropping the kernel's page, dentry and inode caches.
import { stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { detachMounts as unmount, mountsAt } from '../src/fuse/mount-points.js';
import { startProcess, waitUntilReady, type ManagedProcess } from '../src/testing/child-process.js';
import { runCommand } from './bench-tools.js';
import { commandLine } from './fuse-readers.js';

export interface FuseDaemon {
  readonly mountPoint: string;
  /** The command that started the daemon, as a shell would read it. */
  readonly command: string;
  /** Stops the daemon and makes sure nothing is left mounted at `mountPoint`. Idempotent. */
  stop(): Promise<void>;
}

const DORA = fileURLToPath(new URL('../../bin/dora.js', import.meta.url));

/**
 * Runs `node [nodeArgs] bin/dora.js --address <coordinator> fuse mount <mountPoint> [--set key=value...]`
 * and waits until the kernel serves the mount. Stopping sends SIGTERM (the daemon unmounts itself),
 * then unmounts whatever is left.
 */
export async function startDoraFuse(
  mountPoint: string,
  options: { coordinatorUrl: string; set?: Readonly<Record<string, string>>; nodeArgs?: readonly string[] },
): Promise<FuseDaemon> {
  const sets = Object.entries(options.set ?? {}).map(([key, value]) => `${key}=${value}`);
  const args = [DORA, '--address', options.coordinatorUrl, 'fuse', 'mount', mountPoint, ...(sets.length > 0 ? ['--set', ...sets] : [])];
  const proc = startProcess(process.execPath, [...(options.nodeArgs ?? []), ...args], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  const daemon: FuseDaemon = {
    mountPoint,
    command: commandLine('node', args),
    stop: once(async () => {
      await proc.stop(10_000);
      await unmount(mountPoint);
    }),
  };
  await ready(proc, mountPoint, 'dora fuse mount', daemon);
  return daemon;
}

/**
 * Runs `bindfs -f [extra] <source> <mountPoint>` and waits until the kernel serves the mount.
 * Stopping unmounts (bindfs then exits), then stops the process if it has not.
 */
export async function startBindfs(source: string, mountPoint: string, extra: readonly string[] = []): Promise<FuseDaemon> {
  const args = ['-f', ...extra, source, mountPoint];
  const proc = startProcess('bindfs', args);
  const daemon: FuseDaemon = {
    mountPoint,
    command: commandLine('bindfs', args),
    stop: once(async () => {
      await unmount(mountPoint);
      await proc.stop(5000);
    }),
  };
  await ready(proc, mountPoint, 'bindfs', daemon);
  return daemon;
}

async function ready(proc: ManagedProcess, mountPoint: string, what: string, daemon: FuseDaemon): Promise<void> {
  const serving = async (): Promise<boolean> => (await isMounted(mountPoint)) && (await stat(mountPoint).then(() => true, () => false));
  try {
    await waitUntilReady(proc, serving, `${what} at "${mountPoint}"`);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
}

/** Whether something is mounted at `path` (an absolute path without symlinks). */
export async function isMounted(path: string): Promise<boolean> {
  return (await mountsAt(path)) > 0;
}

export const DROP_CACHES = 'sync; echo 3 > /proc/sys/vm/drop_caches';

/** `sync; echo 3 > /proc/sys/vm/drop_caches`: the page cache, dentries and inodes. Needs root. */
export async function dropKernelCaches(): Promise<void> {
  const synced = await runCommand('sync', []);
  if (synced.code !== 0) throw new Error(`Cannot drop the kernel's caches: sync exited with ${synced.code}: ${synced.stderr.trim()}`);
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3');
  } catch (error) {
    throw new Error(`Cannot drop the kernel's caches: ${(error as Error).message} (run as root, or pass --drop-caches no)`, { cause: error });
  }
}

function once(step: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= step());
}
