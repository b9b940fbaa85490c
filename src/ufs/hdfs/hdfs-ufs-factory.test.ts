import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStoreUri } from '../../common/store-uri.js';
import { rejectsWith } from '../../testing/assertions.js';
import { createDefaultUfsRegistry, DEFAULT_UFS_TUNING } from '../ufs-registry.js';
import { hdfsLocation } from './hdfs-location.js';
import { createHdfsUfs } from './hdfs-ufs-factory.js';

const location = (uri: string, endpoint?: string) => hdfsLocation(parseStoreUri(uri), endpoint);
const open = (uri: string, options: Record<string, string>) => createHdfsUfs(parseStoreUri(uri), options, DEFAULT_UFS_TUNING);

describe('createHdfsUfs', () => {
  it('reaches webhdfs:// and hdfs:// over HTTP on port 9870 and swebhdfs:// over HTTPS on 9871 by default', () => {
    assert.deepEqual(location('webhdfs://nn.example.com/user/ana/data/'), { base: 'http://nn.example.com:9870', root: '/user/ana/data', uri: 'webhdfs://nn.example.com/user/ana/data/' });
    assert.deepEqual(location('hdfs://nn:50070/'), { base: 'http://nn:50070', root: '', uri: 'hdfs://nn:50070/' });
    assert.equal(location('swebhdfs://nn').base, 'https://nn:9871');
    assert.equal(location('webhdfs://[::1]:1234/x').base, 'http://[::1]:1234');
    assert.equal(location('webhdfs://nn:80/x').base, 'http://nn:80');
  });

  it('takes an endpoint (HttpFS, a gateway path) instead of the URI’s address', () => {
    assert.equal(location('hdfs://cluster/data', 'https://knox.example.com:8443/gateway/default/webhdfs/v1/').base, 'https://knox.example.com:8443/gateway/default');
    assert.equal(location('hdfs://cluster:8020/data', 'http://httpfs:14000').base, 'http://httpfs:14000');
  });

  it('refuses malformed URIs, the RPC port and unknown options with INVALID_ARGUMENT', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['hdfs:///data', { user: 'a' }, 'name the namenode'],
      ['webhdfs://ana@nn/data', { user: 'a' }, '"user" option'],
      ['webhdfs://nn:99999/data', { user: 'a' }, 'out of range'],
      ['webhdfs://nn/a/../b', { user: 'a' }, '".." segments'],
      ['hdfs://nn:8020/data', { user: 'a' }, "namenode's RPC port"],
      ['webhdfs://nn/data', { user: 'a', endpoint: 'ftp://nn' }, 'not an http(s) URL'],
      ['webhdfs://nn/data', { user: 'a', region: 'x' }, 'unknown option "region"'],
      ['webhdfs://nn/data', { user: 'a', xattrs: 'maybe' }, 'must be true or false'],
    ];
    for (const [uri, options, fragment] of cases) await rejectsWith(Promise.resolve().then(() => open(uri, options)), 'INVALID_ARGUMENT', fragment);
  });

  it('needs a user or a delegation token, and guesses neither', async () => {
    await rejectsWith(Promise.resolve().then(() => open('webhdfs://nn/data', {})), 'INVALID_ARGUMENT', 'give the user option', 'delegationToken');
    await open('webhdfs://nn/data', { delegationToken: 'HAAEZGF0YQ' }).close();
  });

  it('is registered for hdfs://, webhdfs:// and swebhdfs://', async () => {
    const registry = createDefaultUfsRegistry();
    for (const scheme of ['hdfs', 'webhdfs', 'swebhdfs']) {
      const ufs = await registry.create(`${scheme}://namenode:50070/data`, { user: 'ana' });
      assert.equal(ufs.uri, `${scheme}://namenode:50070/data/`);
      assert.deepEqual(ufs.capabilities, { rename: true, multipart: false, tagging: false });
      await ufs.close();
    }
  });
});
