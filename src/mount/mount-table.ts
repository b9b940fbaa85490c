import { DoraError, describeCause, isDoraError } from '../common/errors.js';
import type { UfsRegistry, UfsOptions } from '../ufs/ufs-registry.js';
import type { UnderFileSystem } from '../ufs/under-file-system.js';
import { withReadOnly } from '../ufs/wrappers/with-read-only.js';
import { isUnder, normalizeDoraPath, relativeTo } from './dora-path.js';
import { parseReplicas, parseSyncInterval, parseWriteType, type MountInfo, type MountRequest } from './mount-info.js';
import type { MountStore } from './mount-store.js';

export interface MountTableOptions {
  registry: UfsRegistry;
  /** Turns a mount's credentials name into store options (e.g. accessKeyId, secretAccessKey). */
  resolveCredentials?: (name: string) => UfsOptions;
  /** Wraps each opened store (retries, timeouts, metrics). */
  decorate?: (ufs: UnderFileSystem, mount: MountInfo) => UnderFileSystem;
  /** How long adding a mount waits for its store to answer; default 10 s. */
  probeTimeoutMs?: number;
}

/** A dora path resolved to the store that holds it. */
export interface Resolved {
  readonly mount: MountInfo;
  readonly ufs: UnderFileSystem;
  /** The path inside the store ('' for the mount point itself). */
  readonly path: string;
}

/**
 * The unified namespace: mount points bound to stores, resolved by longest prefix. Changes are
 * validated completely (and the store probed) before anything is saved, so a rejected mount
 * leaves the table as it was. Read-only mounts hand out stores that refuse writes.
 */
export class MountTable {
  readonly #store: MountStore;
  readonly #options: MountTableOptions;
  #mounts: MountInfo[];
  readonly #opened = new Map<string, Promise<UnderFileSystem>>();
  /** Changes (add, remove, reload) run one at a time: none reads the table another is rewriting. */
  #changing: Promise<unknown> = Promise.resolve();

  private constructor(store: MountStore, mounts: MountInfo[], options: MountTableOptions) {
    this.#store = store;
    this.#mounts = sortByDepth(mounts);
    this.#options = options;
  }

  static async open(store: MountStore, options: MountTableOptions & { signal?: AbortSignal }): Promise<MountTable> {
    return new MountTable(store, await store.load({ signal: options.signal }), options);
  }

  /** Every mount, shallowest first. */
  list(): readonly MountInfo[] {
    return [...this.#mounts].reverse();
  }

  /**
   * Adds a mount after checking it: a canonical free mount point, a known scheme and valid
   * options, a parent that is a directory (or absent) where it nests, and a store that answers.
   * Throws INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION, or the store's own failure
   * (UNAVAILABLE, PERMISSION_DENIED, NOT_FOUND) — each naming the mount, the store and the cause.
   */
  add(request: MountRequest, options: { signal?: AbortSignal } = {}): Promise<MountInfo> {
    return this.#serially(() => this.#add(request, options));
  }

  async #add(request: MountRequest, options: { signal?: AbortSignal }): Promise<MountInfo> {
    const attempt = `Cannot mount "${request.uri}" at "${request.path}"`;
    const path = rethrowAs(attempt, () => normalizeDoraPath(request.path));
    const existing = this.#mounts.find((m) => m.path === path);
    if (existing !== undefined) throw new DoraError('ALREADY_EXISTS', `${attempt}: "${path}" is already a mount point (of "${existing.uri}")`);
    const syncIntervalMs = parseSyncInterval(request.syncInterval, attempt);
    const replicas = parseReplicas(request.replicas, attempt);
    const mount: MountInfo = {
      path,
      uri: request.uri.trim(),
      readOnly: request.readOnly ?? false,
      writeType: parseWriteType(request.writeType, attempt),
      options: { ...(request.options ?? {}) },
      ...(request.credentials === undefined ? {} : { credentials: request.credentials }),
      ...(syncIntervalMs === undefined ? {} : { syncIntervalMs }),
      ...(replicas === undefined ? {} : { replicas }),
    };
    const parent = this.#mounts.find((m) => isUnder(path, m.path));
    if (parent !== undefined) await this.#checkParent(parent, path, attempt, options.signal);
    const ufs = await this.#openStore(mount, attempt);
    try {
      await this.#probe(ufs, attempt, options.signal);
    } catch (error) {
      await ufs.close();
      throw error;
    }
    const next = sortByDepth([...this.#mounts, mount]);
    await this.#store.save(next, { signal: options.signal });
    this.#mounts = next;
    this.#opened.set(path, Promise.resolve(ufs));
    return mount;
  }

  /** Removes a mount. Throws NOT_FOUND, and FAILED_PRECONDITION while mounts are nested below it. */
  remove(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#serially(() => this.#remove(path, options));
  }

  async #remove(path: string, options: { signal?: AbortSignal }): Promise<void> {
    const attempt = `Cannot unmount "${path}"`;
    const canonical = rethrowAs(attempt, () => normalizeDoraPath(path));
    const mount = this.#mounts.find((m) => m.path === canonical);
    if (mount === undefined) throw new DoraError('NOT_FOUND', `${attempt}: it is not a mount point`);
    const nested = this.#mounts.find((m) => m !== mount && isUnder(m.path, canonical));
    if (nested !== undefined) throw new DoraError('FAILED_PRECONDITION', `${attempt}: "${nested.path}" is mounted inside it; unmount that first`);
    const rest = this.#mounts.filter((m) => m !== mount);
    await this.#store.save(rest, { signal: options.signal });
    this.#mounts = rest;
    const opened = this.#opened.get(canonical);
    this.#opened.delete(canonical);
    await (await opened?.catch(() => undefined))?.close();
  }

  /** The mount holding `path` and the path inside its store. Throws INVALID_ARGUMENT, NOT_FOUND. */
  locate(path: string): { mount: MountInfo; path: string } {
    const canonical = normalizeDoraPath(path);
    const mount = this.#mounts.find((m) => isUnder(canonical, m.path));
    if (mount === undefined) throw new DoraError('NOT_FOUND', `Cannot resolve "${canonical}": no mount covers it`);
    return { mount, path: relativeTo(canonical, mount.path) };
  }

  /** `locate` plus the mount's opened store (opened once, then shared). */
  async resolve(path: string): Promise<Resolved> {
    const located = this.locate(path);
    let ufs = this.#opened.get(located.mount.path);
    if (ufs === undefined) {
      ufs = this.#openStore(located.mount, `Cannot open the store of mount "${located.mount.path}"`);
      this.#opened.set(located.mount.path, ufs);
      ufs.catch(() => this.#opened.delete(located.mount.path));
    }
    return { ...located, ufs: await ufs };
  }

  /**
   * Takes the table another process saved (a watch on a shared store fired): mounts removed or
   * changed have their stores closed; the rest stay open. Throws what the store's `load` throws.
   */
  reload(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#serially(() => this.#reload(options));
  }

  async #reload(options: { signal?: AbortSignal }): Promise<void> {
    const next = sortByDepth(await this.#store.load({ signal: options.signal }));
    const kept = new Map(next.map((m) => [m.path, JSON.stringify(m)]));
    for (const old of this.#mounts) {
      if (kept.get(old.path) === JSON.stringify(old)) continue;
      const opened = this.#opened.get(old.path);
      this.#opened.delete(old.path);
      void opened?.then((u) => u.close()).catch(() => undefined);
    }
    this.#mounts = next;
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const done = this.#changing.then(change, change);
    this.#changing = done.catch(() => undefined);
    return done;
  }

  /** Closes every opened store. */
  async close(): Promise<void> {
    const opened = [...this.#opened.values()];
    this.#opened.clear();
    await Promise.all(opened.map(async (u) => (await u.catch(() => undefined))?.close()));
  }

  async #openStore(mount: MountInfo, attempt: string): Promise<UnderFileSystem> {
    const credentials = mount.credentials === undefined ? {} : this.#credentials(mount.credentials, attempt);
    const raw = await rethrowAsAsync(attempt, () => this.#options.registry.create(mount.uri, { ...mount.options, ...credentials }));
    const decorated = this.#options.decorate?.(raw, mount) ?? raw;
    return mount.readOnly ? withReadOnly(decorated, `the mount "${mount.path}"`) : decorated;
  }

  #credentials(name: string, attempt: string): UfsOptions {
    const resolve = this.#options.resolveCredentials;
    if (resolve === undefined) throw new DoraError('FAILED_PRECONDITION', `${attempt}: credentials "${name}" cannot be resolved here`);
    return rethrowAs(attempt, () => resolve(name));
  }

  async #checkParent(parent: MountInfo, path: string, attempt: string, signal?: AbortSignal): Promise<void> {
    const { ufs } = await this.resolve(parent.path);
    try {
      const status = await ufs.stat(relativeTo(path, parent.path), { signal });
      if (status.kind === 'file') throw new DoraError('FAILED_PRECONDITION', `${attempt}: "${path}" is a file in "${parent.uri}"`);
    } catch (error) {
      if (isDoraError(error, 'NOT_FOUND')) return; // the mount point will appear as a directory
      if (isDoraError(error, 'FAILED_PRECONDITION')) throw error;
      throw new DoraError(isDoraError(error) ? error.code : 'INTERNAL', `${attempt}: cannot check the parent mount "${parent.path}": ${describeCause(error)}`, { cause: error });
    }
  }

  async #probe(ufs: UnderFileSystem, attempt: string, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.#options.probeTimeoutMs ?? 10_000);
    try {
      const status = await ufs.stat('', { signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) });
      if (status.kind !== 'directory') throw new DoraError('FAILED_PRECONDITION', 'the store root is not a directory');
    } catch (error) {
      const code = isDoraError(error) ? error.code : 'UNAVAILABLE';
      const what = code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED' ? 'the store cannot be reached' : 'the store refused it';
      throw new DoraError(code, `${attempt}: ${what}: ${describeCause(error)}`, { cause: error });
    }
  }
}

/** Deepest first, so the first match in a scan is the longest prefix. */
function sortByDepth(mounts: MountInfo[]): MountInfo[] {
  return [...mounts].sort((a, b) => b.path.length - a.path.length || a.path.localeCompare(b.path));
}

function rethrowAs<T>(attempt: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw prefixed(attempt, error);
  }
}

async function rethrowAsAsync<T>(attempt: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw prefixed(attempt, error);
  }
}

function prefixed(attempt: string, error: unknown): DoraError {
  return new DoraError(isDoraError(error) ? error.code : 'INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}
