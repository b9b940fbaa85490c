import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rejectsWith } from '../testing/assertions.js';
import { WORKER_ID_FILE, loadOrCreateWorkerId } from './worker-identity.js';

describe('loadOrCreateWorkerId()', () => {
  let base: string;
  let dirs = 0;
  const freshDir = (): string => join(base, `data-${++dirs}`);

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'dora-worker-id-'));
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('creates an id once, in the data directory (created if missing), and returns it on every later call', async () => {
    const dir = freshDir();
    const id = await loadOrCreateWorkerId(dir);
    assert.match(id, /^[A-Za-z0-9._-]{1,128}$/);
    assert.equal(await loadOrCreateWorkerId(dir), id);
    assert.equal((await readFile(join(dir, WORKER_ID_FILE), 'utf8')).trim(), id);
    assert.deepEqual(await readdir(dir), [WORKER_ID_FILE], 'no temporary file left behind');
    assert.notEqual(await loadOrCreateWorkerId(freshDir()), id, 'another data directory, another id');
  });

  it('gives every concurrent caller the same id', async () => {
    const dir = freshDir();
    const ids = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateWorkerId(dir)));
    assert.equal(new Set(ids).size, 1);
    assert.deepEqual(await readdir(dir), [WORKER_ID_FILE]);
  });

  it('keeps an id written by an operator, and refuses a file that holds no id rather than replacing it', async () => {
    const dir = freshDir();
    await loadOrCreateWorkerId(dir);
    await writeFile(join(dir, WORKER_ID_FILE), 'worker-7\n');
    assert.equal(await loadOrCreateWorkerId(dir), 'worker-7');
    await writeFile(join(dir, WORKER_ID_FILE), 'not an id/\n');
    await rejectsWith(loadOrCreateWorkerId(dir), 'INVALID_ARGUMENT', WORKER_ID_FILE, 'is not a worker id');
    assert.equal(await readFile(join(dir, WORKER_ID_FILE), 'utf8'), 'not an id/\n');
  });

  it('fails with CANCELLED for an aborted signal', async () => {
    await rejectsWith(loadOrCreateWorkerId(freshDir(), { signal: AbortSignal.abort() }), 'CANCELLED');
  });
});
