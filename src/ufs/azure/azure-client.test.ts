import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ContainerClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { readAll } from '../../common/streams.js';
import { rejectsWith } from '../../testing/assertions.js';
import { startAzurite, type AzuriteServer } from '../../testing/azurite-server.js';
import { startFaultProxy, type FaultProxy } from '../../testing/fault-proxy.js';
import type { UfsStatus } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { AzureApi } from './azure-api.js';

const KiB = 1024;
let azurite: AzuriteServer;
let proxy: FaultProxy;
let n = 0;
// Small blocks and thresholds, so staged uploads run on small files.
const registry = createDefaultUfsRegistry({ multipartThreshold: 64 * KiB, partSize: 16 * KiB, uploadConcurrency: 2 });

before(async () => {
  azurite = await startAzurite();
  proxy = await startFaultProxy(new URL(azurite.endpoint).origin);
});
after(async () => {
  await proxy.stop();
  await azurite.stop();
});

/** A new container, and a store on it (through the fault proxy unless `direct`). */
async function freshStore(options: Record<string, string> = {}, direct = false): Promise<{ container: string; ufs: Awaited<ReturnType<typeof registry.create>> }> {
  const container = `client-${Date.now().toString(36)}-${n++}`;
  const api = new AzureApi({ endpoint: azurite.endpoint, container, credentials: { kind: 'sharedKey', account: azurite.account, accountKey: azurite.accountKey }, maxSockets: 2 });
  await api.createContainer();
  api.close();
  const endpoint = direct ? azurite.endpoint : `${proxy.url}/${azurite.account}`;
  const ufs = await registry.create(`wasbs://${container}@${azurite.account}/`, { endpoint, accountKey: azurite.accountKey, ...options });
  return { container, ufs };
}

async function paths(listing: AsyncIterable<UfsStatus>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of listing) out.push(entry.path);
  return out;
}

describe('wasbs:// on azurite', () => {
  it('authenticates with a SAS token and with a connection string', async () => {
    const { container, ufs } = await freshStore({}, true);
    await ufs.write('shared', Buffer.from('by key'));
    await ufs.close();
    const sas = generateBlobSASQueryParameters(
      { containerName: container, permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 3_600_000) },
      new StorageSharedKeyCredential(azurite.account, azurite.accountKey),
    ).toString();
    const bySas = await registry.create(`wasbs://${container}@${azurite.account}/`, { endpoint: azurite.endpoint, sasToken: `?${sas}` });
    assert.equal((await readAll((await bySas.read('shared')).stream)).toString(), 'by key');
    await bySas.write('by-sas', Buffer.from('sas'));
    await bySas.close();
    const byString = await registry.create(`wasbs://${container}@${azurite.account}/`, { connectionString: azurite.connectionString });
    assert.equal((await readAll((await byString.read('by-sas')).stream)).toString(), 'sas');
    assert.deepEqual(await paths(byString.list('')), ['by-sas', 'shared']);
    await byString.close();
  });

  it('keeps metadata under names Azure accepts and reads them back as written', async () => {
    const { container, ufs } = await freshStore({}, true);
    await ufs.write('m', Buffer.from('x'), { metadata: { 'x-note': 'hi there', owner: 'ana', '2nd': 'two' } });
    assert.deepEqual((await ufs.stat('m')).attributes?.metadata, { 'x-note': 'hi there', owner: 'ana', '2nd': 'two' });
    const raw = new ContainerClient(azurite.connectionString.replace(/BlobEndpoint=[^;]*/, `BlobEndpoint=${azurite.endpoint}`), container);
    const stored = (await raw.getBlobClient('m').getProperties()).metadata ?? {};
    assert.deepEqual(Object.keys(stored).sort(), ['dora_2nd', 'dora_x_2dnote', 'owner']);
    await ufs.close();
  });

  it('reports a store answering 503 as UNAVAILABLE, retryable, and a body cut off as UNAVAILABLE', async () => {
    const { ufs } = await freshStore();
    await ufs.write('f', randomBytes(200 * KiB));
    proxy.failNext(1, 503, 'ServerBusy');
    const busy = await rejectsWith(ufs.stat('f'), 'UNAVAILABLE', 'Cannot stat "wasbs://');
    assert.equal(busy.retryable, true);
    proxy.cutNextResponse(50 * KiB);
    const { stream } = await ufs.read('f');
    const cut = await rejectsWith(readAll(stream), 'UNAVAILABLE', 'Cannot read');
    assert.equal(cut.retryable, true);
    await ufs.close();
  });

  it('leaves the previous content when a staged block fails, and commits all blocks otherwise', async () => {
    const { ufs } = await freshStore();
    const old = randomBytes(100 * KiB);
    await ufs.write('big', old);
    const before = proxy.log.length;
    proxy.failNext(1, { status: 500, code: 'InternalError', match: (r) => r.method === 'PUT' && r.path.includes('comp=block&') });
    await rejectsWith(ufs.write('big', randomBytes(300 * KiB)), 'UNAVAILABLE');
    assert.ok((await readAll((await ufs.read('big')).stream)).equals(old));
    assert.ok(proxy.log.slice(before).some((r) => r.path.includes('comp=block&')), 'the write staged blocks');
    const fresh = randomBytes(300 * KiB + 5);
    const written = await ufs.write('big', fresh);
    assert.equal((await ufs.stat('big')).etag, written.etag, 'a staged blob keeps the MD5 computed on the way');
    assert.ok((await readAll((await ufs.read('big')).stream)).equals(fresh));
    await ufs.close();
  });

  it('resumes a recursive listing without listing the directories before the resume point', async () => {
    const { ufs } = await freshStore({}, false);
    const early = Array.from({ length: 300 }, (_, i) => `tree/a/early/f${String(i).padStart(3, '0')}`);
    const rest = ['tree/a/late', 'tree/b', 'tree/b-x/y', 'tree/c/d/e', 'tree/c/d/f', 'tree/c/g', 'tree/z'];
    await Promise.all([...early, ...rest].map((p) => ufs.write(p, Buffer.from(p))));
    const all = await paths(ufs.list('tree', { recursive: true }));
    assert.equal(all.length, early.length + rest.length);
    for (const from of [...rest, 'tree/a/early/f299', 'tree/a/early/f150', 'tree/c/d/', 'tree/0', 'tree/zz', 'tree/c/d/e/deeper']) {
      const expected = all.filter((p) => p > from);
      assert.deepEqual(await paths(ufs.list('tree', { recursive: true, startAfter: from })), expected, `after ${from}`);
    }
    const before = proxy.log.length;
    assert.deepEqual(await paths(ufs.list('tree', { recursive: true, startAfter: 'tree/b' })), rest.slice(2));
    // One level of tree/ (tree/a rolled up into one entry), then the later directories whole.
    const listings = proxy.log
      .slice(before)
      .map((r) => decodeURIComponent(r.path))
      .filter((p) => p.includes('comp=list'))
      .map((p) => `${/prefix=([^&]*)/.exec(p)?.[1]}${p.includes('delimiter=') ? ' (one level)' : ''}`);
    assert.deepEqual(listings, ['tree/ (one level)', 'tree/b-x/', 'tree/c/']);
    await ufs.close();
  });

  it('translates the store\'s answers: a missing container, a stale version, a range past the end', async () => {
    const missing = await registry.create(`wasbs://no-such-container@${azurite.account}/`, { endpoint: azurite.endpoint, accountKey: azurite.accountKey });
    await rejectsWith(missing.stat('x'), 'NOT_FOUND', 'the container does not exist');
    await rejectsWith(missing.write('x', Buffer.from('x')), 'NOT_FOUND', 'the container does not exist');
    await missing.close();
    const { ufs } = await freshStore({}, true);
    const first = await ufs.write('v', Buffer.from('one'));
    await ufs.write('v', Buffer.from('two'));
    await rejectsWith(ufs.read('v', { expectVersion: first.version }), 'FAILED_PRECONDITION');
    await rejectsWith(ufs.read('v', { offset: 4 }), 'OUT_OF_RANGE');
    assert.equal((await readAll((await ufs.read('v', { offset: 3 })).stream)).length, 0);
    await ufs.close();
  });
});
