import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DoraError } from '../common/errors.js';

/** One side of `dora fs cp`. */
export type CopyLocation =
  | { readonly kind: 'dora'; readonly path: string; readonly text: string }
  | { readonly kind: 'local'; /** Absolute. */ readonly path: string; readonly text: string };

/** The rule `dora fs cp --help` states. */
export const COPY_PATH_RULE = `Paths:
  /dir/file            a dora path (starts with "/"; "dora:/dir/file" also works)
  ./file, ../file, f   a local file, relative to the current directory
  file:/abs/file       a local file by absolute path (also file:///abs/file)
A local absolute path needs "file:": a bare "/x" always means the dora path /x.`;

/**
 * Which side `text` names: a dora path when it starts with '/' or 'dora:', a local file when it
 * starts with 'file:' or is relative. Throws INVALID_ARGUMENT for an empty path.
 */
export function parseCopyLocation(text: string): CopyLocation {
  if (text === '') throw new DoraError('INVALID_ARGUMENT', 'Cannot copy: a path is empty');
  if (text.startsWith('dora:')) return { kind: 'dora', path: text.slice('dora:'.length).replace(/^\/+/, '/'), text };
  if (text.startsWith('file://')) {
    try {
      return { kind: 'local', path: fileURLToPath(text), text };
    } catch (error) {
      throw new DoraError('INVALID_ARGUMENT', `Cannot copy ${JSON.stringify(text)}: not a file URL (use file:///absolute/path)`, { cause: error });
    }
  }
  if (text.startsWith('file:')) return { kind: 'local', path: resolve(text.slice('file:'.length)), text };
  if (text.startsWith('/')) return { kind: 'dora', path: text, text };
  return { kind: 'local', path: resolve(text), text };
}
