import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DoraError } from '../common/errors.js';
import { fromSystemError } from '../common/system-errors.js';
import type { Signalled } from './membership.js';

/** The file in a worker's data directory that holds its id. */
export const WORKER_ID_FILE = 'worker-id';

const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The worker id kept in `dataDir`, created on first use: a restarted worker gets the same id,
 * so the same place on the hash ring and the pages it cached before. Creation is atomic and
 * safe against a concurrent caller: the id is written whole to a temporary file which is then
 * hard-linked into place, which fails if another process got there first (its id then wins).
 * Throws INVALID_ARGUMENT when the file holds no valid id (it is never silently replaced: a new
 * id would move the worker on the ring), PERMISSION_DENIED, RESOURCE_EXHAUSTED, CANCELLED.
 */
export async function loadOrCreateWorkerId(dataDir: string, options: Signalled = {}): Promise<string> {
  const file = join(dataDir, WORKER_ID_FILE);
  const existing = await readId(file, options.signal);
  if (existing !== undefined) return existing;
  const attempt = `Cannot create the worker id file "${file}"`;
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const id = randomUUID();
  try {
    await mkdir(dataDir, { recursive: true });
    await writeFile(temp, `${id}\n`, { flag: 'wx', mode: 0o644, flush: true, signal: options.signal });
    await link(temp, file);
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(error, attempt);
    const winner = await readId(file, options.signal);
    if (winner === undefined) throw fromSystemError(error, attempt);
    return winner;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readId(file: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const attempt = `Cannot read the worker id file "${file}"`;
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromSystemError(error, attempt);
  }
  const id = text.trim();
  if (!ID_PATTERN.test(id)) throw new DoraError('INVALID_ARGUMENT', `${attempt}: ${JSON.stringify(text.slice(0, 40))} is not a worker id; restore the file or remove it to take a new id`);
  return id;
}
