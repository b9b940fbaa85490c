import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../client/dora-client.js';
import { startEmbedded, type Embedded } from '../server/embedded.js';
import { checkJobSpec } from './job-spec.js';
import { NO_PROGRESS, type CopySpec, type FreeSpec, type JobFailure, type JobProgress, type JobState } from './job-types.js';
import { runJob } from './run-job.js';

const KiB = 1024;

/** Every file below `dir`, by path relative to it, with the SHA-256 of its bytes. */
async function tree(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith('.dora')) continue; // sidecars of the local store
    const path = join(entry.parentPath, entry.name);
    found[relative(dir, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return found;
}

describe('copy, move and free jobs', () => {
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;
  let source: string;
  let sourceTree: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-copy-job-'));
    dora = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '64KiB' } });
    client = new DoraClient({ address: dora.coordinatorUrl });
    await mkdir(join(dir, 'other'));
    await client.mount({ path: '/other', uri: `file://${join(dir, 'other')}` });
    source = join(dir, 'data', 'root', 'src');
    for (const [name, size] of [
      ['a.bin', 0],
      ['b.bin', 1],
      ['d1/c.bin', 64 * KiB],
      ['d1/d2/e.bin', 300 * KiB + 7],
      ['d3/f.bin', 2 * 1024 * KiB],
    ] as const) {
      await mkdir(join(source, name, '..'), { recursive: true });
      await writeFile(join(source, name), randomBytes(size));
    }
    sourceTree = await tree(source);
  });
  after(async () => {
    await client?.close();
    await dora?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (spec: unknown): Promise<{ state: JobState; progress: JobProgress; failures: JobFailure[] }> => {
    let progress = NO_PROGRESS;
    const failures: JobFailure[] = [];
    const state = await runJob({
      client,
      spec: checkJobSpec(spec),
      from: NO_PROGRESS,
      signal: new AbortController().signal,
      retryDelayMs: 10,
      report: (_state, p, failure) => {
        progress = p;
        if (failure !== undefined) failures.push(failure);
      },
    });
    return { state, progress, failures };
  };

  it('copies a tree between two mounts byte for byte, counting every file', async () => {
    const copy = await run({ kind: 'copy', from: '/src', to: '/other/copy' } satisfies CopySpec);
    assert.equal(copy.state, 'succeeded', JSON.stringify(copy.failures));
    assert.deepEqual(await tree(join(dir, 'other', 'copy')), sourceTree);
    assert.deepEqual([copy.progress.filesDone, copy.progress.bytesDone], [5, 1 + 64 * KiB + 300 * KiB + 7 + 2 * 1024 * KiB]);
    assert.deepEqual(await tree(source), sourceTree, 'a copy leaves its source');
  });

  it('counts identical files already there as done; a different one is ALREADY_EXISTS unless --overwrite', async () => {
    const again = await run({ kind: 'copy', from: '/src', to: '/other/copy', checkContent: true });
    assert.equal(again.state, 'succeeded', JSON.stringify(again.failures));
    assert.equal(again.progress.filesDone, 5);
    await writeFile(join(dir, 'other', 'copy', 'b.bin'), 'x'); // same size, other bytes: only a content check tells
    const bySize = await run({ kind: 'copy', from: '/src', to: '/other/copy' });
    assert.equal(bySize.state, 'succeeded', 'the same size passes without --check-content');
    const byContent = await run({ kind: 'copy', from: '/src', to: '/other/copy', checkContent: true });
    assert.equal(byContent.state, 'failed');
    assert.deepEqual(
      byContent.failures.map((f) => [f.path, f.code]),
      [['/src/b.bin', 'ALREADY_EXISTS']],
    );
    const overwritten = await run({ kind: 'copy', from: '/src', to: '/other/copy', overwrite: true, checkContent: true });
    assert.equal(overwritten.state, 'succeeded', JSON.stringify(overwritten.failures));
    assert.deepEqual(await tree(join(dir, 'other', 'copy')), sourceTree);
  });

  it('copies one file onto a path, or into a directory', async () => {
    assert.equal((await run({ kind: 'copy', from: '/src/d1/c.bin', to: '/other/single.bin' })).state, 'succeeded');
    assert.equal((await run({ kind: 'copy', from: '/src/d1/c.bin', to: '/other/copy' })).state, 'succeeded');
    const expected = sourceTree['d1/c.bin'];
    const sha = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');
    assert.equal(await sha(join(dir, 'other', 'single.bin')), expected);
    assert.equal(await sha(join(dir, 'other', 'copy', 'c.bin')), expected);
  });

  it('moves a tree: the destination byte for byte, the source and its directories gone', async () => {
    const moved = await run({ kind: 'move', from: '/other/copy', to: '/moved' });
    assert.equal(moved.state, 'succeeded', JSON.stringify(moved.failures));
    assert.deepEqual(await tree(join(dir, 'data', 'root', 'moved')), { ...sourceTree, 'c.bin': sourceTree['d1/c.bin'] });
    await assert.rejects(readdir(join(dir, 'other', 'copy')), { code: 'ENOENT' });
  });

  it('a copy stopped mid-file leaves nothing at the destination, not even part of the file', async () => {
    await mkdir(join(source, '..', 'big'));
    await writeFile(join(source, '..', 'big', 'large.bin'), randomBytes(48 * 1024 * KiB));
    const destination = join(dir, 'other', 'partial');
    const stop = new AbortController();
    let state: Promise<JobState> | undefined;
    try {
      state = runJob({ client, spec: checkJobSpec({ kind: 'copy', from: '/big', to: '/other/partial' }), from: NO_PROGRESS, signal: stop.signal, report: () => undefined });
      const deadline = Date.now() + 10_000;
      const writing = async (): Promise<boolean> => (await readdir(destination).catch(() => [])).some((name) => name.startsWith('.dora-tmp-'));
      while (!(await writing())) {
        assert.ok(Date.now() < deadline, 'the copy never began writing');
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      stop.abort();
    }
    assert.equal(await state, 'stopped');
    // The worker notices the request went away and drops its temporary file; the file itself never appears.
    for (const deadline = Date.now() + 5000; (await readdir(destination)).length > 0 && Date.now() < deadline; ) {
      assert.ok(!(await readdir(destination)).includes('large.bin'), 'a partial large.bin appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await readdir(destination), []);
  });

  it('refuses specs that make no sense, and fails on a missing source', async () => {
    for (const spec of [
      { kind: 'copy', from: '/src', to: '/src/inside' },
      { kind: 'move', from: '/src/a', to: '/src' },
      { kind: 'copy', from: '/src' },
      { kind: 'copy', from: '/src', to: '/x', overwrite: 'yes' },
      { kind: 'copy', from: '/src/../..', to: '/x' },
      { kind: 'fly', path: '/src' },
    ]) {
      assert.throws(() => checkJobSpec(spec), { code: 'INVALID_ARGUMENT' }, JSON.stringify(spec));
    }
    const missing = await run({ kind: 'copy', from: '/nowhere', to: '/other/x' });
    assert.equal(missing.state, 'failed');
    assert.equal(missing.failures[0]?.code, 'NOT_FOUND');
  });

  it('frees the cached pages of a tree, counting files and bytes, and nothing else', async () => {
    await client.readFile('/src/d3/f.bin');
    await client.readFile('/src/d1/c.bin');
    await client.readFile('/moved/a.bin');
    await client.readFile('/moved/d1/d2/e.bin'); // outside the path: stays
    const before = dora.worker.cacheSummary();
    const freed = await run({ kind: 'free', path: '/src' } satisfies FreeSpec);
    assert.equal(freed.state, 'succeeded');
    assert.equal(freed.progress.filesDone, 4, 'every file of /src but the empty a.bin (the copies read them all through the cache)');
    const after = dora.worker.cacheSummary();
    const pagesHeld = (s: typeof before): number => s.tiers.reduce((n, t) => n + t.pages, 0);
    const bytesHeld = (s: typeof before): number => s.tiers.reduce((n, t) => n + t.bytes, 0);
    assert.equal(bytesHeld(before) - bytesHeld(after), freed.progress.bytesDone);
    assert.ok(freed.progress.bytesDone >= 2 * 1024 * KiB + 64 * KiB, `${freed.progress.bytesDone} bytes freed`);
    assert.ok(pagesHeld(after) > 0, 'the pages of /moved stay');
    const again = await run({ kind: 'free', path: '/src' });
    assert.deepEqual([again.state, again.progress.filesDone], ['succeeded', 0]);
  });
});
