import type { IoEvent } from '../client/client-options.js';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DoraClient } from '../client/dora-client.js';
import { DoraFs, type FuseSettings } from './dora-fs.js';
import { ReadAheadSlots } from './file-reader.js';
import type { FuseSession, FuseTransport } from './fuse-session.js';
import { mountWithKernel } from './kernel/kernel-session.js';
import { mountWithLibfuse } from './libfuse/libfuse-transport.js';
import { OpenFiles } from './open-files.js';

export interface DoraFuseOptions {
  readonly client: DoraClient;
  /** Where to mount on the host; created if missing. A stale mount there (a crashed daemon) is replaced. */
  readonly mountPoint: string;
  /** The dora path shown at the mount point; default '/'. */
  readonly root?: string;
  /** The `fuse.*` configuration: transport, caching, read-ahead, staging, access. */
  readonly settings: FuseSettings;
  /** Told of each read and write the kernel asks for (the FUSE interface's metrics). */
  readonly observeIo?: ((event: IoEvent) => void) | undefined;
}

/** Read-ahead keeps this much behind a sequential reader for the kernel's out-of-order requests. */
const READ_BEHIND = 1024 * 1024;

/** The transport `fuse.transport` names: `auto` speaks the kernel protocol where it may mount (root), else libfuse. */
export function fuseTransport(settings: FuseSettings): { readonly name: 'kernel' | 'libfuse'; readonly mount: FuseTransport } {
  const kernel = settings.transport === 'kernel' || (settings.transport === 'auto' && process.getuid?.() === 0);
  return kernel ? { name: 'kernel', mount: mountWithKernel } : { name: 'libfuse', mount: mountWithLibfuse };
}

/**
 * The dora namespace as a local file system (issue 6), over the client SDK: every read goes
 * through the cluster's cache, with its failover; a file opened for reading sees one version, and
 * sequential readers are read ahead. Writes (new files, O_TRUNC, appends and random writes to files
 * up to `fuse.maxStagedFile`) are staged on local disk and written through whole on close.
 */
export class DoraFuse {
  readonly mountPoint: string;
  /** How this mount talks to the kernel. */
  readonly transport: 'kernel' | 'libfuse';
  readonly #session: FuseSession;
  readonly #stagingDir: string;

  private constructor(mountPoint: string, transport: 'kernel' | 'libfuse', session: FuseSession, stagingDir: string) {
    this.mountPoint = mountPoint;
    this.transport = transport;
    this.#session = session;
    this.#stagingDir = stagingDir;
  }

  /**
   * Mounts and resolves once the kernel serves the mount. A mount left by a crashed daemon
   * ("Transport endpoint is not connected") is replaced; a live one is not ("Mountpoint in use").
   */
  static async mount(options: DoraFuseOptions): Promise<DoraFuse> {
    const { settings } = options;
    const stagingDir = join(tmpdir(), `dora-fuse-${process.pid}-${Date.now().toString(36)}`);
    const window = { ahead: settings.readAhead, behind: READ_BEHIND };
    const slots = settings.readAhead === 0 ? 0 : Math.max(1, Math.floor(settings.readAheadMemory / (settings.readAhead + READ_BEHIND)));
    const files = new OpenFiles(options.client, { stagingDir, maxStagedBytes: settings.maxStagedFile, readAhead: { ...window, slots: new ReadAheadSlots(slots) } });
    const transport = fuseTransport(settings);
    const session = await transport.mount(options.mountPoint, new DoraFs(options.client, options.root ?? '/', files, settings, options.observeIo), settings);
    return new DoraFuse(options.mountPoint, transport.name, session, stagingDir);
  }

  /** Settles when the mount goes away, unmounted by anyone (where the transport can tell). */
  get closed(): Promise<void> {
    return this.#session.closed;
  }

  /** Unmounts and removes the staging area of writes. Idempotent. */
  async unmount(): Promise<void> {
    await this.#session.unmount();
    await rm(this.#stagingDir, { recursive: true, force: true });
  }
}
