import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { rejectsWith } from '../../testing/assertions.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../../testing/fault-proxy.js';
import { freePort } from '../../testing/free-port.js';
import { startKeystoneTestServer, type KeystoneTestServer } from '../../testing/keystone-test-server.js';
import { createSwiftContainer, swiftTempAuthOptions, swiftToken } from '../../testing/swift-fixture.js';
import { startSwiftS3Server } from '../../testing/swift-s3-server.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry, type UfsOptions } from '../ufs-registry.js';

// Real Swift behind a fault proxy (which passes everything on unless a test injects a fault),
// and the Keystone v3 test server whose catalog leads through that proxy.
const swift = await startSwiftS3Server();
const proxy: FaultProxy = await startFaultProxy(`http://127.0.0.1:${new URL(swift.authUrl).port}`);
const accountPath = new URL((await swiftToken(swift)).storageUrl).pathname; // /v1/AUTH_test
const registry = createDefaultUfsRegistry();
const opened: UnderFileSystem[] = [];
await createSwiftContainer(swift, 'auth');
after(async () => {
  await Promise.all(opened.map((u) => u.close()));
  await proxy.stop();
  await swift.stop();
});

async function open(options: UfsOptions): Promise<UnderFileSystem> {
  const ufs = await registry.create('swift://auth/', options);
  opened.push(ufs);
  return ufs;
}

const toStorage = (r: ProxiedRequest): boolean => r.path.startsWith(`${accountPath}/`);
const toTempAuth = (r: ProxiedRequest): boolean => r.path.startsWith('/auth/');

describe('swift:// through Keystone v3', () => {
  let keystone: KeystoneTestServer;
  const credentials = { user: 'dora', password: 'secret', project: 'analytics' };
  before(async () => {
    keystone = await startKeystoneTestServer({
      tempAuth: swiftTempAuthOptions(swift) as { authUrl: string; user: string; key: string },
      users: [{ name: 'dora', password: 'secret', project: 'analytics', domain: 'Users', projectDomain: 'Projects' }],
      endpoints: [
        { interface: 'public', region: 'RegionOne', url: `http://127.0.0.1:${await freePort()}${accountPath}` }, // nothing listens
        { interface: 'internal', region: 'RegionOne', url: `${proxy.url}${accountPath}` },
        { interface: 'public', region: 'RegionTwo', url: `${proxy.url}${accountPath}` },
      ],
    });
  });
  after(() => keystone.stop());
  const options = (extra: UfsOptions = {}): UfsOptions => ({ authUrl: keystone.authUrl, ...credentials, userDomain: 'Users', projectDomain: 'Projects', interface: 'internal', ...extra });

  it('logs in once for many calls at once, and uses the catalog endpoint of the wanted interface', async () => {
    const ufs = await open(options());
    const start = keystone.tokenRequests;
    await ufs.write('k/one', Buffer.from('one'));
    assert.equal(keystone.tokenRequests - start, 1);
    const ufs2 = await open(options());
    const statuses = await Promise.all(Array.from({ length: 10 }, () => ufs2.stat('k/one')));
    assert.ok(statuses.every((s) => s.size === 3));
    assert.equal(keystone.tokenRequests - start, 2, 'ten calls, one token');
  });

  it('picks the endpoint of the wanted region, and says which exist when none fits', async () => {
    const ufs = await open(options({ interface: 'public', region: 'RegionTwo' }));
    await ufs.write('k/region', Buffer.from('two'));
    const nowhere = await open(options({ region: 'RegionThree' }));
    await rejectsWith(nowhere.stat('k/region'), 'INVALID_ARGUMENT', 'interface "internal" in region "RegionThree"', 'internal in RegionOne');
  });

  it('renews a token the store refuses once, and gives up on a second refusal', async () => {
    const ufs = await open(options());
    await ufs.write('k/renew', Buffer.from('renew'));
    let logins = keystone.tokenRequests;
    proxy.failNext(1, { status: 401, code: 'Unauthorized', match: toStorage });
    assert.equal((await readAll((await ufs.read('k/renew')).stream)).toString(), 'renew');
    assert.equal(keystone.tokenRequests - logins, 1, 'one new token');
    logins = keystone.tokenRequests;
    proxy.failNext(2, { status: 401, code: 'Unauthorized', match: toStorage });
    const error = await rejectsWith(ufs.stat('k/renew'), 'PERMISSION_DENIED', 'refused the token');
    assert.equal(error.retryable, false);
    assert.equal(keystone.tokenRequests - logins, 1, 'renewed once, not again');
  });

  it('reports a wrong password or project as PERMISSION_DENIED naming Keystone and the user', async () => {
    const wrong = await open(options({ password: 'nope' }));
    const error = await rejectsWith(wrong.stat('x'), 'PERMISSION_DENIED', `Keystone at ${keystone.authUrl} for user "dora" refused the credentials`, 'HTTP 401');
    assert.equal(error.retryable, false);
    await rejectsWith((await open(options({ project: 'someone-elses' }))).stat('x'), 'PERMISSION_DENIED');
    await rejectsWith((await open(options({ userDomain: 'Default' }))).stat('x'), 'PERMISSION_DENIED');
  });
});

describe('swift:// through TempAuth and with a token', () => {
  it('renews a TempAuth token the store refuses, logging in once more', async () => {
    const ufs = await open({ ...swiftTempAuthOptions(swift), authUrl: `${proxy.url}/auth/v1.0` });
    await ufs.write('t/renew', Buffer.from('x'));
    const logins = proxy.log.filter(toTempAuth).length;
    proxy.failNext(1, { status: 401, code: 'Unauthorized', match: toStorage });
    assert.equal((await ufs.stat('t/renew')).size, 1);
    assert.equal(proxy.log.filter(toTempAuth).length - logins, 1);
  });

  it('does not send a refused stream again, and logs in afresh for the next call', async () => {
    const ufs = await open({ ...swiftTempAuthOptions(swift), authUrl: `${proxy.url}/auth/v1.0` });
    await ufs.stat('');
    const logins = proxy.log.filter(toTempAuth).length;
    proxy.failNext(1, { status: 401, code: 'Unauthorized', match: (r) => toStorage(r) && r.method === 'PUT' });
    async function* stream(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('streamed');
    }
    await rejectsWith(ufs.write('t/stream', stream(), { size: 8 }), 'PERMISSION_DENIED', 'refused the token');
    await ufs.write('t/stream', stream(), { size: 8 });
    assert.equal(proxy.log.filter(toTempAuth).length - logins, 1);
  });

  it('uses a token made elsewhere with its storage URL, and never renews it', async () => {
    const { token, storageUrl } = await swiftToken(swift);
    const ufs = await open({ token, storageUrl });
    await ufs.write('t/premade', Buffer.from('premade'));
    assert.equal((await ufs.stat('t/premade')).size, 7);
    const refused = await open({ token: 'AUTH_tk-not-a-token', storageUrl });
    await rejectsWith(refused.stat('t/premade'), 'PERMISSION_DENIED', 'refused the token');
    const nowhere = await open({ token, storageUrl: `http://127.0.0.1:${await freePort()}${accountPath}` });
    const error = await rejectsWith(nowhere.stat('t/premade'), 'UNAVAILABLE', 'cannot be reached');
    assert.equal(error.retryable, true);
  });

  it('reports 503 as UNAVAILABLE (retryable) and 507 as RESOURCE_EXHAUSTED', async () => {
    const ufs = await open({ ...swiftTempAuthOptions(swift), authUrl: `${proxy.url}/auth/v1.0` });
    await ufs.stat('');
    proxy.failNext(1, { status: 503, code: 'ServiceUnavailable', match: toStorage });
    const unavailable = await rejectsWith(ufs.stat('t/x'), 'UNAVAILABLE', 'HTTP 503');
    assert.equal(unavailable.retryable, true);
    proxy.failNext(1, { status: 507, code: 'InsufficientStorage', match: (r) => toStorage(r) && r.method === 'PUT' });
    const full = await rejectsWith(ufs.write('t/full', Buffer.from('x')), 'RESOURCE_EXHAUSTED', 'out of space');
    assert.equal(full.retryable, false);
    proxy.failNext(1, { status: 503, code: 'ServiceUnavailable', match: toTempAuth });
    const fresh = await open({ ...swiftTempAuthOptions(swift), authUrl: `${proxy.url}/auth/v1.0` });
    await rejectsWith(fresh.stat('t/x'), 'UNAVAILABLE', 'TempAuth at', 'failed (HTTP 503');
  });

  it('reports a missing container as NOT_FOUND', async () => {
    const ufs = await registry.create('swift://no-such-container/', swiftTempAuthOptions(swift));
    opened.push(ufs);
    await rejectsWith(ufs.stat(''), 'NOT_FOUND', 'no such container');
    await rejectsWith(ufs.write('x', Buffer.from('x')), 'NOT_FOUND');
  });
});
