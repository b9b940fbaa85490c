import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../client/dora-client.js';
import { startEmbedded, type Embedded } from '../server/embedded.js';
import { NO_PROGRESS, type JobFailure, type JobProgress, type JobState } from './job-types.js';
import { runJob } from './run-job.js';

const KiB = 1024;

describe('a load job', () => {
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;
  const files = 120;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-load-job-'));
    dora = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '64KiB' } });
    client = new DoraClient({ address: dora.coordinatorUrl });
    for (let i = 0; i < files; i++) {
      const sub = join(dir, 'data', 'root', 'set', `d${i % 4}`);
      await mkdir(sub, { recursive: true });
      await writeFile(join(sub, `f${String(i).padStart(3, '0')}.bin`), Buffer.alloc(10 * KiB + i, i));
    }
  });
  after(async () => {
    await client?.close();
    await dora?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (path: string, extra: { signal?: AbortSignal; from?: JobProgress; bandwidth?: number; verify?: boolean } = {}) => {
    const reports: { state: JobState; progress: JobProgress; failure?: JobFailure | undefined }[] = [];
    const done = runJob({
      client,
      spec: { kind: 'load', path, bandwidth: extra.bandwidth, verify: extra.verify },
      from: extra.from ?? NO_PROGRESS,
      signal: extra.signal ?? new AbortController().signal,
      parallel: 4,
      retryDelayMs: 10,
      report: (state, progress, failure) => reports.push({ state, progress, failure }),
    });
    return { done, reports, last: () => reports.at(-1) };
  };

  it('caches every file under the path (each loads nothing more afterwards), counting files and bytes', async () => {
    const job = run('/set', { verify: true });
    assert.equal(await job.done, 'succeeded');
    const progress = job.last()?.progress;
    const bytes = Array.from({ length: files }, (_, i) => 10 * KiB + i).reduce((a, b) => a + b, 0);
    const counts = { filesListed: files, bytesListed: bytes, filesDone: files, bytesDone: bytes, filesSkipped: 0, filesFailed: 0 };
    assert.deepEqual({ ...progress, checkpoint: undefined, atCheckpoint: undefined }, { ...counts, listed: true, checkpoint: undefined, atCheckpoint: undefined });
    assert.equal(progress?.checkpoint, '/set/d3/f119.bin', 'the last file in listing order');
    assert.deepEqual(progress?.atCheckpoint, counts, 'every file is at or before the checkpoint');
    assert.ok(job.reports.some((r) => r.state === 'verifying'));
    for (const name of ['/set/d0/f000.bin', '/set/d3/f119.bin']) assert.equal((await client.load(name))[0]?.pagesFetched, 0, `${name} is cached`);
  });

  it('stops when asked, and resumed from its checkpoint lists on from there', async () => {
    await client.free('/set');
    const stop = new AbortController();
    const first = run('/set', { signal: stop.signal, bandwidth: 200 * KiB }); // ~6 s in all: stopped after 1 s
    setTimeout(() => stop.abort(), 1000);
    assert.equal(await first.done, 'stopped');
    const reached = first.last()?.progress ?? NO_PROGRESS;
    assert.ok(reached.filesDone > 0 && reached.filesDone < files, `stopped part-way: ${reached.filesDone} files`);
    const second = run('/set', { from: reached });
    assert.equal(await second.done, 'succeeded');
    const end = second.last()?.progress;
    assert.deepEqual([end?.filesDone, end?.filesListed], [files, files], 'the resumed job counts on from its checkpoint, each file once');
  });

  it('holds its bandwidth within 10%', async () => {
    await client.free('/set');
    const limit = 400 * KiB;
    const started = performance.now();
    const job = run('/set', { bandwidth: limit }); // ~1.2 MB: ~3 s
    assert.equal(await job.done, 'succeeded');
    const rate = (job.last()?.progress.bytesDone ?? 0) / ((performance.now() - started) / 1000);
    assert.ok(rate <= limit * 1.1 && rate >= limit * 0.8, `${Math.round(rate)} B/s against ${limit}`);
  });

  it('fails on a path that does not exist, and skips files deleted meanwhile', async () => {
    const missing = run('/nowhere');
    assert.equal(await missing.done, 'failed');
    assert.equal(missing.last()?.failure?.code, 'NOT_FOUND');
    await writeFile(join(dir, 'data', 'root', 'single.bin'), Buffer.alloc(5000));
    const single = run('/single.bin');
    assert.equal(await single.done, 'succeeded');
    assert.equal(single.last()?.progress.filesDone, 1);
  });
});
