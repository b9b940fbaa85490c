import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { isDoraError } from '../../common/errors.js';
import { rejectsWith } from '../../testing/assertions.js';
import { startGcsTestServer } from '../../testing/gcs-test-server.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import type { UnderFileSystem } from '../under-file-system.js';

const server = await startGcsTestServer();
server.createBucket('opts');
const key = server.serviceAccountKey('opts@dora-test.iam.gserviceaccount.com');
const dir = await mkdtemp(join(tmpdir(), 'dora-gcs-'));
const registry = createDefaultUfsRegistry();
const opened: UnderFileSystem[] = [];
after(async () => {
  await Promise.all(opened.map((u) => u.close()));
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function open(uri: string, options: Record<string, string>): Promise<UnderFileSystem> {
  const ufs = await registry.create(uri, options);
  opened.push(ufs);
  return ufs;
}

describe('gs:// mount options', () => {
  const base = { endpoint: server.endpoint, credentials: key };

  it('refuses bad URIs and options with INVALID_ARGUMENT naming the problem', async () => {
    await rejectsWith(open('gs://Bad_Bucket/x', base), 'INVALID_ARGUMENT', '"Bad_Bucket" is not a valid bucket name');
    await rejectsWith(open('gs://ab/x', base), 'INVALID_ARGUMENT', 'not a valid bucket name');
    await rejectsWith(open('gs://opts/a/../b', base), 'INVALID_ARGUMENT', '"." and ".." segments');
    await rejectsWith(open('gs://opts/', { ...base, region: 'us' }), 'INVALID_ARGUMENT', 'unknown option "region"');
    await rejectsWith(open('gs://opts/', { ...base, endpoint: 'storage.googleapis.com' }), 'INVALID_ARGUMENT', 'endpoint "storage.googleapis.com" is not an http(s) URL');
    await rejectsWith(open('gs://opts/', { ...base, partSize: '1MB' }), 'INVALID_ARGUMENT', 'partSize must be a multiple of 256KiB');
    await rejectsWith(open('gs://opts/', { ...base, partSize: 'lots' }), 'INVALID_ARGUMENT', 'option "partSize"');
    await rejectsWith(open('gs://opts/', { ...base, multipartThreshold: '-1' }), 'INVALID_ARGUMENT', 'option "multipartThreshold"');
  });

  it('asks for exactly one way to authenticate', async () => {
    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint }), 'INVALID_ARGUMENT', 'Cannot open store "gs://opts/": no credentials: give keyFile or credentials');
    await rejectsWith(open('gs://opts/', { ...base, accessToken: 'ya29.x' }), 'INVALID_ARGUMENT', 'give one of keyFile, credentials, accessToken and anonymous, not credentials and accessToken');
    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint, anonymous: 'yes' }), 'INVALID_ARGUMENT', 'option "anonymous" must be true or false');
    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint, anonymous: 'false' }), 'INVALID_ARGUMENT', 'no credentials');
  });

  it('reads a service account key from keyFile, and explains a key it cannot use', async () => {
    const file = join(dir, 'key.json');
    await writeFile(file, key);
    const ufs = await open('gs://opts/from-file', { endpoint: server.endpoint, keyFile: file });
    await ufs.write('x', Buffer.from('keyed'));
    assert.equal((await readAll((await ufs.read('x')).stream)).toString(), 'keyed');

    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint, keyFile: join(dir, 'missing.json') }), 'INVALID_ARGUMENT', 'cannot read keyFile', 'missing.json');
    await writeFile(join(dir, 'bad.json'), 'not json');
    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint, keyFile: join(dir, 'bad.json') }), 'INVALID_ARGUMENT', 'bad.json', 'not JSON');
    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint, credentials: '{"type":"authorized_user"}' }), 'INVALID_ARGUMENT', 'credentials: not a service account key');
    const noKey = { ...(JSON.parse(key) as Record<string, string>), private_key: 'nope' };
    await rejectsWith(open('gs://opts/', { endpoint: server.endpoint, credentials: JSON.stringify(noKey) }), 'INVALID_ARGUMENT', '"private_key" is not a PEM private key');
  });

  it('mounts a bucket root and a prefix as separate trees', async () => {
    const root = await open('gs://opts', base);
    const sub = await open('gs://opts/deep/sub/', base);
    assert.equal(root.uri, 'gs://opts/');
    assert.equal(sub.uri, 'gs://opts/deep/sub/');
    await sub.write('file', Buffer.from('in sub'));
    assert.equal((await root.stat('deep/sub/file')).size, 6);
    assert.equal((await root.stat('deep')).kind, 'directory');
  });
});

describe('gs:// errors', () => {
  it('reports a store answering 503 as UNAVAILABLE, retryable, with the store\'s message', async () => {
    const ufs = await open('gs://opts/outage', { endpoint: server.endpoint, accessToken: server.oauth.issue({ email: 'o@dora-test', role: 'writer' }) });
    await ufs.write('f', Buffer.from('x'));
    server.setOutage(503);
    try {
      const error = await rejectsWith(ufs.stat('f'), 'UNAVAILABLE', 'Cannot stat "gs://opts/outage/f"', 'the store answered HTTP 503', 'test server outage');
      assert.equal(error.retryable, true);
      await rejectsWith(ufs.read('f'), 'UNAVAILABLE');
      await rejectsWith(ufs.write('g', Buffer.from('y')), 'UNAVAILABLE');
      await assert.rejects(async () => {
        for await (const entry of ufs.list('')) void entry;
      }, (e: unknown) => isDoraError(e, 'UNAVAILABLE'));
      server.setOutage(429);
      assert.equal((await rejectsWith(ufs.stat('f'), 'UNAVAILABLE', 'slow down')).retryable, true);
    } finally {
      server.setOutage(undefined);
    }
    assert.equal((await ufs.stat('f')).size, 1);
  });

  it('says why a write was refused, and that a missing bucket is missing', async () => {
    const reader = server.serviceAccountKey('ro@dora-test.iam.gserviceaccount.com', { role: 'reader' });
    const ufs = await open('gs://opts/', { endpoint: server.endpoint, credentials: reader });
    await rejectsWith(ufs.write('x', Buffer.from('x')), 'PERMISSION_DENIED', 'Cannot write "gs://opts/x": access denied', 'does not have storage.objects.create access');
    const none = await open('gs://no-such-bucket/', { endpoint: server.endpoint, credentials: key });
    await rejectsWith(none.stat(''), 'NOT_FOUND', 'The specified bucket does not exist');
    // buckets.get on the test server, as the JSON API answers it.
    const authorization = `Bearer ${server.oauth.issue({ email: 'b@dora-test', role: 'reader' })}`;
    const bucket = await fetch(`${server.endpoint}/storage/v1/b/opts`, { headers: { authorization } });
    assert.equal(bucket.status, 200);
    assert.equal(((await bucket.json()) as { name?: string }).name, 'opts');
    assert.equal((await fetch(`${server.endpoint}/storage/v1/b/no-such-bucket`, { headers: { authorization } })).status, 404);
    assert.equal((await fetch(`${server.endpoint}/storage/v1/b/opts`)).status, 401);
  });

  it('pins reads to a generation: another generation, or a version that is none, is FAILED_PRECONDITION', async () => {
    const ufs = await open('gs://opts/gen', { endpoint: server.endpoint, credentials: key });
    const first = await ufs.write('f', Buffer.from('one'));
    const second = await ufs.write('f', Buffer.from('two'));
    assert.match(first.version, /^\d+$/);
    assert.ok(BigInt(second.version) > BigInt(first.version), 'generations increase');
    await rejectsWith(ufs.read('f', { expectVersion: first.version }), 'FAILED_PRECONDITION', 'the object changed');
    await rejectsWith(ufs.read('f', { expectVersion: '"etag-from-elsewhere"' }), 'FAILED_PRECONDITION', 'is not a generation');
    const { stream, status } = await ufs.read('f', { expectVersion: second.version, offset: 1, length: 1 });
    assert.equal((await readAll(stream)).toString(), 'w');
    assert.equal(status.size, 3);
  });
});
