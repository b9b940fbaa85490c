import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStoreUri } from '../../common/store-uri.js';
import { rejectsWith } from '../../testing/assertions.js';
import { createDefaultUfsRegistry, type UfsOptions } from '../ufs-registry.js';
import { encodeName, segmentPrefix, swiftLocation } from './swift-location.js';

const registry = createDefaultUfsRegistry();
const tempAuth = { authUrl: 'http://swift.example:8080/auth/v1.0', user: 'acct:user', key: 'secret' };
const keystone = { authUrl: 'https://keystone.example:5000/v3', user: 'dora', password: 'secret', project: 'analytics' };

/** Opens a store (nothing is contacted until a call) and closes it again. */
async function opens(uri: string, options: UfsOptions): Promise<string> {
  const ufs = await registry.create(uri, options);
  await ufs.close();
  return ufs.uri;
}

describe('createSwiftUfs() options', () => {
  it('opens swift://container/prefix with each way to authenticate', async () => {
    assert.equal(await opens('swift://data/some//prefix/', tempAuth), 'swift://data/some/prefix/');
    assert.equal(await opens('swift://data', keystone), 'swift://data/');
    assert.equal(await opens('swift://data', { ...keystone, userDomain: 'Users', projectDomain: 'Projects', region: 'RegionTwo', interface: 'internal' }), 'swift://data/');
    assert.equal(await opens('swift://data', { token: 'AUTH_tk123', storageUrl: 'https://swift.example/v1/AUTH_acct' }), 'swift://data/');
    assert.equal(await opens('swift://data', { ...tempAuth, storageUrl: 'http://10.0.0.1:8080/v1/AUTH_acct', segmentContainer: 'data-segs' }), 'swift://data/');
    const sizes = { multipartThreshold: '64MiB', partSize: '8MiB', uploadConcurrency: '8', maxManifestSegments: '2000' };
    assert.equal(await opens('swift://data', { ...tempAuth, ...sizes }), 'swift://data/');
  });

  it('refuses missing, mixed and misplaced credentials, saying what to give', async () => {
    await rejectsWith(registry.create('swift://data', {}), 'INVALID_ARGUMENT', 'no credentials: give authUrl, user and key (TempAuth)');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, password: 'x' }), 'INVALID_ARGUMENT', 'give one of key (TempAuth), password (Keystone v3) and token, not key and password');
    await rejectsWith(registry.create('swift://data', { user: 'u', key: 'k' }), 'INVALID_ARGUMENT', 'TempAuth needs authUrl');
    await rejectsWith(registry.create('swift://data', { authUrl: keystone.authUrl, password: 'p', project: 'p' }), 'INVALID_ARGUMENT', 'Keystone needs user');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, project: 'p' }), 'INVALID_ARGUMENT', 'option "project" is for Keystone (password), not TempAuth (key)');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, authUrl: keystone.authUrl }), 'INVALID_ARGUMENT', "is Keystone's: give password");
    await rejectsWith(registry.create('swift://data', { ...keystone, authUrl: 'https://keystone.example:5000/v2.0' }), 'INVALID_ARGUMENT', "Keystone's authUrl must end in /v3");
    const { project: _project, ...noProject } = keystone;
    await rejectsWith(registry.create('swift://data', noProject), 'INVALID_ARGUMENT', 'Keystone needs project');
    await rejectsWith(registry.create('swift://data', { ...keystone, interface: 'private' }), 'INVALID_ARGUMENT', 'must be one of public, internal, admin');
    await rejectsWith(registry.create('swift://data', { token: 't' }), 'INVALID_ARGUMENT', 'a token needs its storageUrl');
    await rejectsWith(registry.create('swift://data', { token: 't', storageUrl: 'https://s/v1/AUTH_a', user: 'u' }), 'INVALID_ARGUMENT', 'user cannot go with it');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, authUrl: 'ftp://swift.example/auth/v1.0' }), 'INVALID_ARGUMENT', 'authUrl "ftp://swift.example/auth/v1.0" is not an http(s) URL');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, storageUrl: 'not a url' }), 'INVALID_ARGUMENT', 'storageUrl "not a url"');
  });

  it('refuses bad sizes, counts and unknown options', async () => {
    await rejectsWith(registry.create('swift://data', { ...tempAuth, partSize: '512KiB' }), 'INVALID_ARGUMENT', 'partSize must be from 1MiB to 5GiB');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, partSize: 'lots' }), 'INVALID_ARGUMENT', 'option "partSize"');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, multipartThreshold: '-1' }), 'INVALID_ARGUMENT', 'option "multipartThreshold"');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, uploadConcurrency: '0' }), 'INVALID_ARGUMENT', 'option "uploadConcurrency" must be a whole number of at least 1');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, maxManifestSegments: '1' }), 'INVALID_ARGUMENT', 'at least 2');
    await rejectsWith(registry.create('swift://data', { ...tempAuth, endpoint: 'x' }), 'INVALID_ARGUMENT', 'unknown option "endpoint"');
  });

  it('refuses bad container names and paths', async () => {
    await rejectsWith(registry.create('swift:///prefix', tempAuth), 'INVALID_ARGUMENT', 'is not a valid container name');
    await rejectsWith(registry.create(`swift://${'c'.repeat(257)}/`, tempAuth), 'INVALID_ARGUMENT', 'is not a valid container name');
    await rejectsWith(registry.create('swift://c%zz/', tempAuth), 'INVALID_ARGUMENT', 'malformed percent-encoding');
    await rejectsWith(registry.create('swift://data/a/../b', tempAuth), 'INVALID_ARGUMENT', '"." and ".." segments are not allowed');
    await rejectsWith(registry.create('swift://data/', { ...tempAuth, segmentContainer: 'data' }), 'INVALID_ARGUMENT', 'segmentContainer must differ from the container');
  });
});

describe('swiftLocation()', () => {
  it('splits a URI into container, prefix and segment container', () => {
    assert.deepEqual(swiftLocation(parseStoreUri('swift://my%20data/a//b/')), { container: 'my data', prefix: 'a/b/', segmentContainer: 'my data_segments' });
    assert.deepEqual(swiftLocation(parseStoreUri('swift://data'), 'segs'), { container: 'data', prefix: '', segmentContainer: 'segs' });
  });

  it('puts the segments of long names under a hash, within Swift\'s 1024-byte names', () => {
    assert.equal(segmentPrefix('dir/file', 'u1'), 'dir/file/u1/');
    const long = segmentPrefix(`dir/${'x'.repeat(1010)}`, 'u1');
    assert.match(long, /^\.dora-long-names\/[0-9a-f]{64}\/u1\/$/);
  });

  it('percent-encodes names for URLs, keeping "/"', () => {
    assert.equal(encodeName("a b/c?d#e%f+g'(h)*ü"), "a%20b/c%3Fd%23e%25f%2Bg%27%28h%29%2A%C3%BC");
  });
});
