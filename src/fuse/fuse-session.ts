import type { DoraFs, FuseSettings } from './dora-fs.js';

/** A live FUSE mount, however it talks to the kernel. */
export interface FuseSession {
  /** Settles when the kernel ends the session (the mount was removed, by anyone), where the transport can tell. */
  readonly closed: Promise<void>;
  /** Unmounts (lazily: open files keep working until closed) and releases the session. Idempotent. */
  unmount(): Promise<void>;
}

/** Mounts `fs` at `mountPoint` and resolves once the kernel serves it. */
export type FuseTransport = (mountPoint: string, fs: DoraFs, settings: FuseSettings) => Promise<FuseSession>;
