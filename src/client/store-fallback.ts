import type { Readable } from 'node:stream';
import { DoraError, describeCause, isDoraError } from '../common/errors.js';
import { coveringMount, isUnder, normalizeDoraPath, relativeTo } from '../mount/dora-path.js';
import type { UfsOptions, UfsRegistry } from '../ufs/ufs-registry.js';
import type { UfsStatus, UnderFileSystem } from '../ufs/under-file-system.js';
import { withMetrics } from '../ufs/wrappers/with-metrics.js';
import type { FileStatus } from './client-types.js';
import { isUnreachable } from './remote-error.js';

/** A mount as fallback needs it: where it is, the store, and the options to open the store with. */
export interface FallbackMount {
  readonly path: string;
  readonly uri: string;
  readonly options?: UfsOptions | undefined;
  readonly credentials?: string | undefined;
}

export interface StoreFallbackOptions {
  readonly registry: UfsRegistry;
  /** The mount table to resolve paths with (the coordinator's, or one the application supplies). */
  readonly mounts: (signal?: AbortSignal) => Promise<readonly FallbackMount[]>;
  /** Store options a mount needs beyond those listed (secrets the coordinator redacts). */
  readonly resolveCredentials?: ((mount: FallbackMount) => UfsOptions | Promise<UfsOptions>) | undefined;
  /** Told of each call served here. */
  readonly onFallback?: (() => void) | undefined;
}

interface Signalled {
  signal?: AbortSignal | undefined;
}

/** How the coordinator shows a redacted option; such values are dropped, not passed to the store. */
const REDACTED = '***';

/**
 * Serves reads, stats and listings straight from the stores when no worker answers: resolves a
 * dora path by longest mount prefix and opens the mount's store through the registry (each
 * store once, kept until `close`). The coordinator redacts secrets from the mount table, so a
 * store opened here uses its non-secret options plus whatever `resolveCredentials` adds, else
 * the store's default credential chain (environment, profile, instance role).
 */
export class StoreFallback {
  readonly #options: StoreFallbackOptions;
  readonly #opened = new Map<string, Promise<UnderFileSystem>>();
  #served = 0;
  #closed = false;

  constructor(options: StoreFallbackOptions) {
    this.#options = options;
  }

  /** Calls served from the stores since created. */
  get served(): number {
    return this.#served;
  }

  /**
   * Runs `call` here after a worker failed with `error`, or rethrows `error` when fallback does not
   * apply (the worker answered, the caller gave up, the fallback is closed). When the fallback
   * cannot reach the coordinator either (for the mount table), the worker's error is the one reported.
   */
  async after<T>(error: unknown, signal: AbortSignal | undefined, call: (fallback: this) => Promise<T>): Promise<T> {
    if (!isUnreachable(error) || signal?.aborted === true || this.#closed) throw error;
    this.#served += 1;
    this.#options.onFallback?.();
    try {
      return await call(this);
    } catch (failure) {
      throw isUnreachable(failure) ? error : failure;
    }
  }

  async stat(path: string, options: Signalled = {}): Promise<FileStatus> {
    const { mount, ufs, relative } = await this.#resolve(path, options.signal);
    return toFileStatus(await ufs.stat(relative, { signal: options.signal }), mount);
  }

  /** Lists like the worker: ascending path order, `startAfter` a dora path. */
  async *list(path: string, options: Signalled & { recursive?: boolean | undefined; startAfter?: string | undefined } = {}): AsyncGenerator<FileStatus> {
    const { mount, ufs, relative } = await this.#resolve(path, options.signal);
    let startAfter: string | undefined;
    if (options.startAfter !== undefined) {
      const after = normalizeDoraPath(options.startAfter);
      if (isUnder(after, mount.path)) startAfter = relativeTo(after, mount.path);
      else if (after > mount.path) return; // every entry of the mount sorts before it
    }
    const listing = ufs.list(relative, { recursive: options.recursive === true, startAfter, signal: options.signal });
    for await (const entry of listing) yield toFileStatus(entry, mount);
  }

  /** Bytes [offset, offset + length) of a file; FAILED_PRECONDITION when `expectVersion` no longer matches. */
  async read(path: string, options: Signalled & { offset?: number | undefined; length?: number | undefined; expectVersion?: string | undefined } = {}): Promise<{ stream: Readable; status: FileStatus }> {
    const { mount, ufs, relative } = await this.#resolve(path, options.signal);
    const result = await ufs.read(relative, options);
    return { stream: result.stream, status: toFileStatus(result.status, mount) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const opened = [...this.#opened.values()];
    this.#opened.clear();
    await Promise.all(opened.map(async (ufs) => (await ufs.catch(() => undefined))?.close()));
  }

  async #resolve(path: string, signal: AbortSignal | undefined): Promise<{ mount: FallbackMount; ufs: UnderFileSystem; relative: string }> {
    const canonical = normalizeDoraPath(path);
    const mounts = await this.#options.mounts(signal);
    const mount = coveringMount(mounts.map((m) => ({ ...m, path: normalizeDoraPath(m.path) })), canonical);
    if (mount === undefined) throw new DoraError('NOT_FOUND', `Cannot resolve "${canonical}": no mount covers it`);
    return { mount, ufs: await this.#open(mount), relative: relativeTo(canonical, mount.path) };
  }

  #open(mount: FallbackMount): Promise<UnderFileSystem> {
    const key = JSON.stringify([mount.path, mount.uri, mount.options ?? {}, mount.credentials ?? null]);
    let opened = this.#opened.get(key);
    if (opened === undefined) {
      opened = this.#create(mount);
      this.#opened.set(key, opened);
      opened.catch(() => this.#opened.delete(key));
    }
    return opened;
  }

  async #create(mount: FallbackMount): Promise<UnderFileSystem> {
    const attempt = `Cannot open the store "${mount.uri}" of mount "${mount.path}" to read it directly`;
    try {
      const listed = Object.entries(mount.options ?? {}).filter(([, value]) => value !== REDACTED);
      const extra = (await this.#options.resolveCredentials?.(mount)) ?? {};
      const ufs = await this.#options.registry.create(mount.uri, { ...Object.fromEntries(listed), ...extra });
      return withMetrics(ufs, () => undefined, mount.path); // its calls are `ufs.*` spans of the application's trace, as a worker's are
    } catch (error) {
      throw new DoraError(isDoraError(error) ? error.code : 'INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
    }
  }
}

/** A store entry as the worker would describe it. */
function toFileStatus(status: UfsStatus, mount: FallbackMount): FileStatus {
  const path = status.path === '' ? mount.path : mount.path === '/' ? `/${status.path}` : `${mount.path}/${status.path}`;
  return {
    path,
    name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1),
    kind: status.kind,
    size: status.size,
    mtimeMs: status.mtimeMs,
    version: status.version,
    mount: mount.path,
  };
}
