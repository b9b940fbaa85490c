import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DoraError } from '../common/errors.js';

const run = promisify(execFile);

/** The /proc/self/mountinfo lines of the mounts at `path` (absolute, without symbolic links), split in fields. */
async function mountLines(path: string): Promise<string[][]> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((line) => line.split(' '));
  // Field 5 is the mount point, with space, tab, newline and backslash escaped as \ooo.
  const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return lines.filter((fields) => unescape(fields[4] ?? '') === path);
}

/** How many mounts the kernel lists at `path`. */
export async function mountsAt(path: string): Promise<number> {
  return (await mountLines(path)).length;
}

/** The device (`major:minor`) of the topmost mount at `path`, if any. */
export async function mountDevice(path: string): Promise<string | undefined> {
  return (await mountLines(path)).at(-1)?.[2];
}

/**
 * Detaches every mount at `path` (lazily: a busy or dead one too) with `fusermount -uz`, else
 * `fusermount3 -uz`, else `umount -l`, never through a shell. Nothing mounted there is success.
 */
export async function detachMounts(path: string): Promise<void> {
  const commands: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['fusermount', ['-uz', path]],
    ['fusermount3', ['-uz', path]],
    ['umount', ['-l', path]],
  ];
  let failure = '';
  for (let attempt = 0; attempt < 5 && (await mountsAt(path)) > 0; attempt++) {
    for (const [command, args] of commands) {
      const failed = await run(command, args).then(
        () => undefined,
        (error: Error & { stderr?: string }) => `${command}: ${(error.stderr ?? error.message).trim()}`,
      );
      if (failed === undefined) break;
      failure = failed;
    }
  }
  if ((await mountsAt(path)) > 0) throw new DoraError('UNAVAILABLE', `Cannot unmount "${path}": ${failure}`);
}
