import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../client/dora-client.js';
import { startEmbedded, type Embedded } from '../server/embedded.js';
import { sha256 } from '../testing/assertions.js';
import { inProcessWorkerApi } from './in-process-worker-api.js';

describe('a client calling the worker in its own process', () => {
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-in-process-'));
    dora = await startEmbedded({ dataDir: join(dir, 'data') });
    client = new DoraClient({ address: dora.coordinatorUrl, inProcess: inProcessWorkerApi(dora.worker) });
  });
  after(async () => {
    await client?.close();
    await dora?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes (one chunk larger than the CACHE_THROUGH spool buffer), reads, lists, renames and deletes like one over HTTP', async () => {
    const big = randomBytes(9 * 1024 * 1024 + 7); // once hung: the spool drained while the store took the chunk, and waited for a drain that never came
    await client.write('/d/big.bin', big);
    assert.equal(sha256(await client.readFile('/d/big.bin')), sha256(big));
    const middle = [];
    for await (const chunk of await client.read('/d/big.bin', { offset: 1000, length: 10 })) middle.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(middle), big.subarray(1000, 1010));
    await client.rename('/d/big.bin', '/d/moved.bin');
    assert.deepEqual((await client.listPage('/d')).entries.map((e) => e.name), ['moved.bin']);
    await client.delete('/d/moved.bin');
    await assert.rejects(client.stat('/d/moved.bin'), /no such file/i);
    const served = dora.worker.cacheSummary();
    assert.ok(served.bytesFromCache + served.bytesFromStore >= big.length, 'the reads reached the worker');
  });
});
