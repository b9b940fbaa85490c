import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { rejectsWith, sha256 } from '../../testing/assertions.js';
import { startGcsTestServer } from '../../testing/gcs-test-server.js';
import { parseStoreUri } from '../../common/store-uri.js';
import { DEFAULT_UFS_TUNING } from '../ufs-registry.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { GcsApi } from './gcs-api.js';
import { accessTokenAuth } from './gcs-auth.js';
import { fromGcsError } from './gcs-errors.js';
import { createGcsUfs } from './gcs-ufs-factory.js';

const KiB = 1024;
const server = await startGcsTestServer();
server.createBucket('uploads');
const key = server.serviceAccountKey('uploader@dora-test.iam.gserviceaccount.com');
const opened: UnderFileSystem[] = [];
after(async () => {
  await Promise.all(opened.map((u) => u.close()));
  await server.stop();
});
afterEach(() => {
  server.uploads.persistAtMost = undefined;
});

function open(options: Record<string, string> = {}): UnderFileSystem {
  const ufs = createGcsUfs(parseStoreUri('gs://uploads/r'), { endpoint: server.endpoint, credentials: key, multipartThreshold: '1MiB', partSize: '512KiB', ...options }, DEFAULT_UFS_TUNING);
  opened.push(ufs);
  return ufs;
}

async function* chunked(data: Uint8Array, size: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) {
    if (failAt !== undefined && i >= failAt) throw new Error('the source broke');
    yield data.subarray(i, i + size);
  }
}

describe('gs:// resumable uploads', () => {
  it('sends chunks of partSize, one session per object, and finalizes with the total', async () => {
    const ufs = open();
    const data = randomBytes(1536 * KiB + 7);
    const before = { chunks: server.uploads.chunkRequests };
    server.uploads.largestChunk = 0;
    const written = await ufs.write('big', chunked(data, 100_000), { size: data.length });
    assert.equal(server.uploads.chunkRequests - before.chunks, 4); // 3 × 512 KiB + 7 bytes
    assert.equal(server.uploads.largestChunk, 512 * KiB);
    assert.equal(server.uploads.open, 0);
    assert.equal(written.size, data.length);
    assert.equal(sha256(await readAll((await ufs.read('big')).stream)), sha256(data));
    assert.equal((await ufs.stat('big')).version, written.version);
  });

  it('resends what a 308 says the session did not keep, and the object is whole', async () => {
    const ufs = open();
    server.uploads.persistAtMost = 256 * KiB; // the session keeps half of each 512 KiB chunk
    const data = randomBytes(1300 * KiB + 1);
    const before = server.uploads.chunkRequests;
    await ufs.write('resumed', chunked(data, 64 * KiB)); // unsized
    assert.ok(server.uploads.chunkRequests - before >= 6, `${server.uploads.chunkRequests - before} chunk requests`);
    assert.equal(sha256(await readAll((await ufs.read('resumed')).stream)), sha256(data));
    assert.equal((await ufs.stat('resumed')).size, data.length);
  });

  it('writes an unsized stream that fits one chunk in a single request', async () => {
    const ufs = open();
    const before = server.uploads.chunkRequests;
    const data = randomBytes(300 * KiB);
    const written = await ufs.write('small', chunked(data, 10_000), { contentType: 'text/plain', metadata: { a: 'b' } });
    assert.equal(server.uploads.chunkRequests, before);
    assert.equal(written.size, data.length);
    assert.deepEqual((await ufs.stat('small')).attributes, { contentType: 'text/plain', metadata: { a: 'b' } });
  });

  it('keeps content type and metadata through a resumable session', async () => {
    const ufs = open();
    const data = randomBytes(2 * 1024 * KiB);
    await ufs.write('typed', data, { contentType: 'application/x-dora', metadata: { owner: 'ana' } });
    assert.deepEqual((await ufs.stat('typed')).attributes, { contentType: 'application/x-dora', metadata: { owner: 'ana' } });
  });

  it('cancels the session when the source fails, leaving no object', async () => {
    const ufs = open();
    const cancelled = server.uploads.cancelled;
    const data = randomBytes(2 * 1024 * KiB);
    await assert.rejects(ufs.write('broken', chunked(data, 64 * KiB, 1024 * KiB)), /the source broke/);
    assert.equal(server.uploads.cancelled, cancelled + 1);
    assert.equal(server.uploads.open, 0);
    await rejectsWith(ufs.stat('broken'), 'NOT_FOUND');
  });

  it('cancels the session when the caller aborts mid-upload, leaving the previous object', async () => {
    const ufs = open();
    await ufs.write('aborted', Buffer.from('previous'));
    const cancelled = server.uploads.cancelled;
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 40; i++) {
        if (i === 12) controller.abort();
        yield randomBytes(64 * KiB);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    await rejectsWith(ufs.write('aborted', slow(), { signal: controller.signal }), 'CANCELLED');
    assert.equal(server.uploads.cancelled, cancelled + 1);
    assert.equal(server.uploads.open, 0);
    assert.equal((await readAll((await ufs.read('aborted')).stream)).toString(), 'previous');
  });

  it('refuses partSize that is not a multiple of 256 KiB', () => {
    assert.throws(() => open({ partSize: '300KiB' }), /partSize must be a multiple of 256KiB/);
  });
});

describe('the test server\'s resumable protocol, through GcsApi', () => {
  const api = new GcsApi({ endpoint: server.endpoint, maxSockets: 2, auth: () => accessTokenAuth(server.oauth.issue({ email: 'api@dora-test', role: 'writer' })) });
  after(() => api.destroy());

  it('keeps only whole 256 KiB units of a chunk that does not finish, and resumes from there', async () => {
    const session = await api.startResumable('uploads', 'proto', {}, undefined);
    const data = randomBytes(300 * KiB);
    assert.deepEqual(await api.putChunk(session, data, { offset: 0 }, undefined), { persisted: 256 * KiB });
    const rest = data.subarray(256 * KiB);
    const done = await api.putChunk(session, rest, { offset: 256 * KiB, total: data.length }, undefined);
    assert.ok('object' in done);
    assert.equal(done.object.size, data.length);
  });

  it('refuses a chunk past what the session holds, and forgets a cancelled session', async () => {
    const session = await api.startResumable('uploads', 'proto2', {}, undefined);
    const gap = await api.putChunk(session, randomBytes(256 * KiB), { offset: 256 * KiB }, undefined).catch((e: unknown) => fromGcsError(e, 'chunk'));
    assert.ok(!('persisted' in gap) && !('object' in gap));
    assert.equal(gap.code, 'INVALID_ARGUMENT');
    assert.match(gap.message, /exceeds already uploaded size of 0/);
    await api.cancelResumable(session, undefined);
    await api.cancelResumable(session, undefined); // already gone: fine
    const late = await api.putChunk(session, randomBytes(10), { offset: 0, total: 10 }, undefined).catch((e: unknown) => fromGcsError(e, 'chunk'));
    assert.ok(!('persisted' in late) && !('object' in late));
    assert.equal(late.code, 'NOT_FOUND');
  });
});
