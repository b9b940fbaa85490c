import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStoreUri } from '../../common/store-uri.js';
import { rejectsWith } from '../../testing/assertions.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { azureLocation, defaultEndpoint } from './azure-location.js';

const KEY = Buffer.alloc(64, 1).toString('base64');

describe('azureLocation()', () => {
  it('takes a container, an account and a prefix apart', () => {
    const at = azureLocation(parseStoreUri('wasbs://logs@myaccount/2024/raw'));
    assert.deepEqual(at, { account: 'myaccount', host: undefined, container: 'logs', prefix: '2024/raw/', uri: 'wasbs://logs@myaccount/2024/raw/' });
    assert.equal(defaultEndpoint(at), 'https://myaccount.blob.core.windows.net');
    assert.equal(azureLocation(parseStoreUri('wasb://logs@myaccount')).prefix, '');
  });

  it('maps the .dfs. host of abfss:// onto the blob endpoint of the same account', () => {
    const at = azureLocation(parseStoreUri('abfss://lake@myaccount.dfs.core.windows.net/a/b/'));
    assert.equal(at.account, 'myaccount');
    assert.equal(at.prefix, 'a/b/');
    assert.equal(at.uri, 'abfss://lake@myaccount.dfs.core.windows.net/a/b/');
    assert.equal(defaultEndpoint(at), 'https://myaccount.blob.core.windows.net');
    const china = azureLocation(parseStoreUri('abfs://lake@acct.dfs.core.chinacloudapi.cn/'));
    assert.equal(defaultEndpoint(china), 'https://acct.blob.core.chinacloudapi.cn');
    assert.equal(defaultEndpoint(azureLocation(parseStoreUri('wasbs://c00@acct.blob.core.usgovcloudapi.net/'))), 'https://acct.blob.core.usgovcloudapi.net');
  });

  it('refuses URIs without a container, or with invalid names or dot segments', () => {
    for (const [uri, fragment] of [
      ['wasbs://myaccount/x', 'expected wasbs://container@account/prefix'],
      ['wasbs://Logs@myaccount/', 'not a valid container name'],
      ['wasbs://a--b@myaccount/', 'not a valid container name'],
      ['wasbs://ab@myaccount/', 'not a valid container name'],
      ['wasbs://logs@my_account/', 'not a valid storage account name'],
      ['wasbs://logs@ab/', 'not a valid storage account name'],
      ['wasbs://logs@myaccount/a/../b', '"." and ".." segments'],
    ] as const) {
      assert.throws(() => azureLocation(parseStoreUri(uri)), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes(fragment), uri);
    }
  });
});

describe('createAzureUfs()', () => {
  const registry = createDefaultUfsRegistry();

  it('is registered for wasb, wasbs, abfs and abfss', async () => {
    for (const scheme of ['wasb', 'wasbs', 'abfs', 'abfss']) {
      const ufs = await registry.create(`${scheme}://data@myaccount/x`, { accountKey: KEY });
      assert.equal(ufs.uri, `${scheme}://data@myaccount/x/`);
      assert.deepEqual(ufs.capabilities, { rename: false, multipart: false, tagging: false });
      await ufs.close();
    }
  });

  it('accepts each way to authenticate', async () => {
    for (const options of [
      { accountKey: KEY },
      { sasToken: '?sv=2024-08-04&ss=b&sp=rl&sig=abc%3D' },
      { connectionString: `DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=${KEY};EndpointSuffix=core.windows.net` },
      { anonymous: 'true' },
      { connectionString: 'UseDevelopmentStorage=true' },
      { accountKey: KEY, endpoint: 'http://127.0.0.1:10000/myaccount', partSize: '8MiB', multipartThreshold: '64MiB' },
    ]) {
      await (await registry.create('wasbs://data@myaccount/', options)).close();
    }
  });

  it('refuses missing, doubled or malformed credentials with a clear message', async () => {
    const uri = 'wasbs://data@myaccount/';
    await rejectsWith(registry.create(uri, {}), 'INVALID_ARGUMENT', 'no credentials', 'accountKey, sasToken or connectionString');
    await rejectsWith(registry.create(uri, { accountKey: KEY, sasToken: 'sig=x' }), 'INVALID_ARGUMENT', 'not accountKey and sasToken');
    await rejectsWith(registry.create(uri, { sasToken: 'sig=x', anonymous: 'true' }), 'INVALID_ARGUMENT', 'not sasToken and anonymous=true');
    await rejectsWith(registry.create(uri, { accountKey: 'not a key!' }), 'INVALID_ARGUMENT', 'accountKey is not base64');
    await rejectsWith(registry.create(uri, { sasToken: 'sv=2024-08-04&sp=r' }), 'INVALID_ARGUMENT', 'sasToken has no signature');
    await rejectsWith(registry.create(uri, { connectionString: 'this is no connection string' }), 'INVALID_ARGUMENT', uri);
    await rejectsWith(registry.create(uri, { connectionString: `AccountName=other;AccountKey=${KEY}` }), 'INVALID_ARGUMENT', 'for account "other", not "myaccount"');
    await rejectsWith(registry.create(uri, { anonymous: 'yes' }), 'INVALID_ARGUMENT', 'must be true or false');
  });

  it('refuses unknown options, bad endpoints and sizes Azure does not allow', async () => {
    const uri = 'wasbs://data@myaccount/';
    await rejectsWith(registry.create(uri, { accountKey: KEY, region: 'x' }), 'INVALID_ARGUMENT', 'unknown option "region"');
    await rejectsWith(registry.create(uri, { accountKey: KEY, endpoint: 'ftp://host' }), 'INVALID_ARGUMENT', 'is not an http(s) URL');
    await rejectsWith(registry.create(uri, { connectionString: `AccountName=myaccount;AccountKey=${KEY}`, endpoint: 'http://h' }), 'INVALID_ARGUMENT', 'not both');
    await rejectsWith(registry.create(uri, { accountKey: KEY, partSize: '5000MiB' }), 'INVALID_ARGUMENT', 'partSize must be between 1B and 4000MiB');
    await rejectsWith(registry.create(uri, { accountKey: KEY, multipartThreshold: '6GiB' }), 'INVALID_ARGUMENT', 'multipartThreshold must be between 1B and 5000MiB');
    await rejectsWith(registry.create(uri, { accountKey: KEY, partSize: 'lots' }), 'INVALID_ARGUMENT', 'partSize:');
  });
});
