import { DoraError } from '../common/errors.js';

/** Longest path dora accepts, in UTF-8 bytes (S3's key limit). */
export const MAX_PATH_BYTES = 1024;

/**
 * Checks that `path` is a canonical store-relative path ('/'-separated, no leading or trailing
 * slash, no empty, '.' or '..' segments, no NUL) and returns it. '' (the root) is accepted only
 * with `allowRoot`. Throws INVALID_ARGUMENT naming `uri` and the offending part.
 */
export function checkUfsPath(uri: string, path: string, options: { allowRoot?: boolean } = {}): string {
  const problem = pathProblem(path, options.allowRoot ?? true);
  if (problem !== undefined) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid path ${JSON.stringify(path)} in "${uri}": ${problem}`);
  }
  return path;
}

function pathProblem(path: string, allowRoot: boolean): string | undefined {
  if (path === '') return allowRoot ? undefined : 'the root is not allowed here';
  if (path.includes('\0')) return 'NUL characters are not allowed';
  if (path.startsWith('/')) return 'absolute paths are not allowed';
  if (path.endsWith('/')) return 'a trailing "/" is not allowed';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `longer than ${MAX_PATH_BYTES} bytes`;
  for (const segment of path.split('/')) {
    if (segment === '') return 'empty segments ("//") are not allowed';
    if (segment === '.' || segment === '..') return `"${segment}" segments are not allowed`;
  }
  return undefined;
}

/** Joins canonical paths ('' is the root). */
export function joinUfsPath(parent: string, child: string): string {
  if (parent === '') return child;
  if (child === '') return parent;
  return `${parent}/${child}`;
}


/** The last segment of a canonical path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Orders keys as S3 does: by their UTF-8 bytes (JavaScript's `<` compares UTF-16 code units,
 * which differs above U+D7FF). Listings of every backend come in this order.
 */
export function compareKeys(a: string, b: string): number {
  // Fast path: when both strings are below the surrogate range, code-unit order is byte order.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}


/**
 * Appended to a directory's path to get the key it sorts by in one-level listings: after every
 * key below it. A listing resumed with `startAfter: path + DIRECTORY_END` skips the directory.
 */
export const DIRECTORY_END = '/\u{10FFFF}';

/** Where an entry of a one-level listing sorts, and what `startAfter` is compared with. */
export function listingKey(entry: { path: string; kind: 'file' | 'directory' }): string {
  return entry.kind === 'directory' ? entry.path + DIRECTORY_END : entry.path;
}
