import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../src/client/dora-client.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { inProcessWorkerApi } from '../src/worker/in-process-worker-api.js';

const MiB = 1024 * 1024;

// Loading a file caches it on its owner without sending its bytes anywhere: a load job's unit of work.
for (const via of ['http', 'in-process'] as const) {
  describe(`loading a file into the cache (${via})`, () => {
    let dir: string;
    let dora: Embedded;
    let client: DoraClient;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dora-load-'));
      dora = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '1MiB' } });
      client = new DoraClient({ address: dora.coordinatorUrl, ...(via === 'in-process' ? { inProcess: inProcessWorkerApi(dora.worker) } : {}) });
      await mkdir(join(dir, 'data', 'root', 'd'), { recursive: true });
      await writeFile(join(dir, 'data', 'root', 'd', 'f.bin'), randomBytes(5 * MiB + 17)); // in the store, not cached
    });
    after(async () => {
      await client?.close();
      await dora?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('fetches every page once, then none; a read afterwards is all hits', async () => {
      const before = dora.worker.cacheSummary();
      const [first] = await client.load('/d/f.bin');
      assert.deepEqual({ pages: first?.pages, fetched: first?.pagesFetched, bytes: first?.bytesFetched, size: first?.size }, { pages: 6, fetched: 6, bytes: 5 * MiB + 17, size: 5 * MiB + 17 });
      assert.equal(dora.worker.cacheSummary().bytesFetched - before.bytesFetched, 5 * MiB + 17);
      const [again] = await client.load('/d/f.bin');
      assert.equal(again?.pagesFetched, 0);
      const missesBefore = dora.worker.cacheSummary().misses;
      await client.readFile('/d/f.bin');
      assert.equal(dora.worker.cacheSummary().misses, missesBefore, 'the read found every page cached');
    });

    it('refuses a directory and a missing file, and loads only metadata when asked', async () => {
      await assert.rejects(client.load('/d'), /directory/);
      await assert.rejects(client.load('/d/missing'), /no such file/i);
      await writeFile(join(dir, 'data', 'root', 'd', 'meta.bin'), randomBytes(3 * MiB));
      const [loaded] = await client.load('/d/meta.bin', { metadataOnly: true });
      assert.deepEqual({ pages: loaded?.pages, fetched: loaded?.pagesFetched }, { pages: 3, fetched: 0 });
    });

    it('loads a batch of files on one worker, each answered on its own', async () => {
      await writeFile(join(dir, 'data', 'root', 'd', 'batch.bin'), randomBytes(MiB + 1));
      const [worker] = await client.workers();
      const fromStore = dora.worker.cacheSummary().bytesFetched;
      const answers = await client.loadOn(worker!, ['/d/batch.bin', '/d/missing', '/d', '/d/batch.bin']);
      assert.deepEqual(
        answers.map((a) => [a.path, a.loaded?.pages ?? a.error?.code]),
        [
          ['/d/batch.bin', 2],
          ['/d/missing', 'NOT_FOUND'],
          ['/d', 'IS_A_DIRECTORY'],
          ['/d/batch.bin', 2],
        ],
      );
      assert.equal(dora.worker.cacheSummary().bytesFetched - fromStore, MiB + 1, 'the same file twice is fetched once');
      await assert.rejects(client.loadOn(worker!, Array.from({ length: 1001 }, (_, i) => `/d/${i}`)), { code: 'INVALID_ARGUMENT' });
    });
  });
}
