import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DoraError, describeCause } from '../common/errors.js';
import { fromSystemError } from '../common/system-errors.js';
import type { MountInfo } from './mount-info.js';
import type { MountStore } from './mount-store.js';

const FORMAT = 1;

/**
 * The mount table as a JSON file, replaced atomically (written beside, synced, renamed). Kept
 * private to its owner (mode 0600): store options may hold credentials.
 */
export class FileMountStore implements MountStore {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  async load(options: { signal?: AbortSignal | undefined } = {}): Promise<MountInfo[]> {
    const attempt = `Cannot load the mount table "${this.#file}"`;
    let text: string;
    try {
      text = await readFile(this.#file, { encoding: 'utf8', signal: options.signal });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromSystemError(error, attempt);
    }
    try {
      const parsed = JSON.parse(text) as { format?: unknown; mounts?: unknown };
      if (parsed.format !== FORMAT || !Array.isArray(parsed.mounts)) throw new Error(`expected {"format": ${FORMAT}, "mounts": [...]}`);
      return parsed.mounts as MountInfo[];
    } catch (error) {
      throw new DoraError('INVALID_ARGUMENT', `${attempt}: ${describeCause(error)}`, { cause: error });
    }
  }

  async save(mounts: readonly MountInfo[], options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    const attempt = `Cannot save the mount table "${this.#file}"`;
    const temp = `${this.#file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.#file), { recursive: true });
      await writeFile(temp, `${JSON.stringify({ format: FORMAT, mounts }, null, 2)}\n`, { mode: 0o600, flush: true, signal: options.signal });
      await rename(temp, this.#file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw fromSystemError(error, attempt);
    }
  }
}
