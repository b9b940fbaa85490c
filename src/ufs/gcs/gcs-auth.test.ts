import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { readAll } from '../../common/streams.js';
import { parseStoreUri } from '../../common/store-uri.js';
import { rejectsWith } from '../../testing/assertions.js';
import { freePort } from '../../testing/free-port.js';
import { startGcsTestServer } from '../../testing/gcs-test-server.js';
import { DEFAULT_UFS_TUNING } from '../ufs-registry.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { ServiceAccountAuth, parseServiceAccountKey } from './gcs-auth.js';
import { createGcsUfs } from './gcs-ufs-factory.js';

const server = await startGcsTestServer();
server.createBucket('private');
server.createBucket('public', { publicRead: true });
const agent = new Agent();
const opened: UnderFileSystem[] = [];
after(async () => {
  await Promise.all(opened.map((u) => u.close()));
  await agent.close();
  await server.stop();
});

function open(uri: string, options: Record<string, string>): UnderFileSystem {
  const ufs = createGcsUfs(parseStoreUri(uri), { endpoint: server.endpoint, ...options }, DEFAULT_UFS_TUNING);
  opened.push(ufs);
  return ufs;
}

describe('gs:// service account tokens', () => {
  it('exchanges one RS256-signed JWT for a token and shares it between concurrent calls', async () => {
    const key = parseServiceAccountKey(server.serviceAccountKey('shared@dora-test.iam.gserviceaccount.com'), 'test key');
    const auth = new ServiceAccountAuth(key, { dispatcher: agent });
    const before = server.oauth.tokenRequests;
    const headers = await Promise.all(Array.from({ length: 8 }, () => auth.authorization()));
    assert.equal(server.oauth.tokenRequests - before, 1);
    assert.equal(new Set(headers).size, 1);
    assert.match(headers[0] ?? '', /^Bearer ya29\./);
    assert.equal(await auth.authorization(), headers[0], 'cached');
    assert.equal(server.oauth.tokenRequests - before, 1);
  });

  it('keeps a token until shortly before it expires, then fetches one new token for all callers', async () => {
    server.oauth.tokenLifetimeS = 20; // renewed 2 s (a tenth of its life) before it ends
    try {
      let skew = 0;
      const key = parseServiceAccountKey(server.serviceAccountKey('clock@dora-test.iam.gserviceaccount.com'), 'test key');
      const auth = new ServiceAccountAuth(key, { dispatcher: agent, now: () => Date.now() + skew });
      const before = server.oauth.tokenRequests;
      const first = await auth.authorization();
      skew = 17_000;
      assert.equal(await auth.authorization(), first);
      assert.equal(server.oauth.tokenRequests - before, 1);
      skew = 18_500;
      const renewed = await Promise.all([auth.authorization(), auth.authorization(), auth.authorization()]);
      assert.equal(server.oauth.tokenRequests - before, 2);
      assert.notEqual(renewed[0], first);
      assert.equal(new Set(renewed).size, 1);
    } finally {
      server.oauth.tokenLifetimeS = 3600;
    }
  });

  it('renews a token the store refuses with 401 once, and goes on', async () => {
    const ufs = open('gs://private/renew', { credentials: server.serviceAccountKey('renew@dora-test.iam.gserviceaccount.com') });
    await ufs.write('f', Buffer.from('before'));
    const before = server.oauth.tokenRequests;
    server.oauth.revokeAll(); // every token the store gave out is now refused
    assert.equal((await ufs.stat('f')).size, 6);
    assert.equal(server.oauth.tokenRequests - before, 1);
    await ufs.write('f', Buffer.from('after!!'));
    assert.equal((await readAll((await ufs.read('f')).stream)).toString(), 'after!!');
    assert.equal(server.oauth.tokenRequests - before, 1);
  });

  it('refuses a key the token endpoint does not know, or signed by another key, as PERMISSION_DENIED', async () => {
    const unknown = open('gs://private/', { credentials: server.serviceAccountKey('ghost@dora-test.iam.gserviceaccount.com', { register: false }) });
    const error = await rejectsWith(unknown.stat('x'), 'PERMISSION_DENIED', 'Cannot stat "gs://private/x"', 'the token endpoint refused service account "ghost@dora-test.iam.gserviceaccount.com"', 'account not found');
    assert.equal(error.retryable, false);
    const stale = server.serviceAccountKey('rotated@dora-test.iam.gserviceaccount.com');
    server.serviceAccountKey('rotated@dora-test.iam.gserviceaccount.com'); // the account's key was replaced
    await rejectsWith(open('gs://private/', { credentials: stale }).write('x', Buffer.from('x')), 'PERMISSION_DENIED', 'Invalid JWT Signature');
  });

  it('reports a token endpoint that cannot be reached as UNAVAILABLE, retryable', async () => {
    const key = JSON.parse(server.serviceAccountKey('far@dora-test.iam.gserviceaccount.com')) as Record<string, string>;
    key['token_uri'] = `http://127.0.0.1:${await freePort()}/token`;
    const error = await rejectsWith(open('gs://private/', { credentials: JSON.stringify(key) }).stat('x'), 'UNAVAILABLE');
    assert.equal(error.retryable, true);
  });
});

describe('gs:// access tokens and anonymous access', () => {
  it('uses a given access token, and reports it refused as PERMISSION_DENIED once it is no longer valid', async () => {
    const token = server.oauth.issue({ email: 'cli@dora-test', role: 'writer' });
    const ufs = open('gs://private/token', { accessToken: token });
    await ufs.write('f', Buffer.from('x'));
    assert.equal((await ufs.stat('f')).size, 1);
    server.oauth.revokeAll();
    await rejectsWith(ufs.stat('f'), 'PERMISSION_DENIED', 'the credentials were refused', 'Invalid Credentials');
  });

  it('reads a public bucket anonymously and is refused writes and private buckets', async () => {
    const writer = open('gs://public/', { accessToken: server.oauth.issue({ email: 'owner@dora-test', role: 'writer' }) });
    await writer.write('open/data', Buffer.from('for everyone'));
    const anonymous = open('gs://public/', { anonymous: 'true' });
    assert.equal((await readAll((await anonymous.read('open/data')).stream)).toString(), 'for everyone');
    assert.deepEqual((await asArray(anonymous.list('open'))).map((e) => e.path), ['open/data']);
    await rejectsWith(anonymous.write('open/mine', Buffer.from('x')), 'PERMISSION_DENIED', 'Anonymous caller does not have storage.objects.create access');
    await rejectsWith(open('gs://private/', { anonymous: 'true' }).stat('x'), 'PERMISSION_DENIED');
  });
});

async function asArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
