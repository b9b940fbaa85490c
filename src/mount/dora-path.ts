import { DoraError } from '../common/errors.js';
import { MAX_PATH_BYTES } from '../ufs/ufs-path.js';

/**
 * Canonicalises a path in the dora namespace: absolute, single slashes, no trailing slash
 * (except the root '/'). Refuses '.' and '..' segments rather than resolving them, so no
 * request can climb out of where it points. Throws INVALID_ARGUMENT.
 */
export function normalizeDoraPath(path: string): string {
  const fail = (why: string): never => {
    throw new DoraError('INVALID_ARGUMENT', `Invalid path ${JSON.stringify(path)}: ${why}`);
  };
  if (typeof path !== 'string' || path === '') fail('a path is required');
  if (!path.startsWith('/')) fail('dora paths are absolute (start with "/")');
  if (path.includes('\0')) fail('NUL characters are not allowed');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) fail(`longer than ${MAX_PATH_BYTES} bytes`);
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) fail('"." and ".." segments are not allowed');
  return `/${segments.join('/')}`;
}

/** Whether `path` is `root` or lies below it (both canonical). */
export function isUnder(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** The part of `path` below `root`, as a store-relative path ('' for `root` itself). */
export function relativeTo(path: string, root: string): string {
  return root === '/' ? path.slice(1) : path.slice(root.length + 1);
}

/** The mount whose path is the longest prefix of `path` (canonical), or undefined when none covers it. */
export function coveringMount<M extends { readonly path: string }>(mounts: readonly M[], path: string): M | undefined {
  let found: M | undefined;
  for (const mount of mounts) {
    if (isUnder(path, mount.path) && (found === undefined || mount.path.length > found.path.length)) found = mount;
  }
  return found;
}

/**
 * A file's identity (DESIGN.md section 2): its full store URI, the mount's root plus the path
 * below it. What the hash ring places; when no mount covers the path, the dora path itself.
 */
export function storeIdentity(mounts: ReadonlyArray<{ readonly path: string; readonly uri: string }>, path: string): string {
  const mount = coveringMount(mounts, path);
  if (mount === undefined) return path;
  const root = mount.uri.endsWith('/') ? mount.uri : `${mount.uri}/`;
  return root + relativeTo(path, mount.path);
}
