import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { LocalUfs } from './local/local-ufs.js';
import { UfsRegistry, createDefaultUfsRegistry, type UfsFactory } from './ufs-registry.js';

describe('UfsRegistry', () => {
  it('loads a backend only when a URI of its scheme is first opened, and once', async () => {
    let loads = 0;
    const factory: UfsFactory = (uri) => new LocalUfs(`/${uri.path}`);
    const registry = new UfsRegistry().register('mem', async () => {
      loads += 1;
      return factory;
    });
    assert.equal(loads, 0);
    await registry.create('mem:///tmp/a');
    await registry.create('MEM:///tmp/b');
    assert.equal(loads, 1);
  });

  it('names the known schemes when the scheme is unknown', async () => {
    // Every built-in scheme is named, sorted; backends are added often, so the list is checked by its parts.
    await assert.rejects(createDefaultUfsRegistry().create('nosuch://c@acct/x'), (e: unknown) =>
      isDoraError(e, 'INVALID_ARGUMENT') && /unknown scheme "nosuch" \(known: (?:[a-z0-9]+, )*file, (?:[a-z0-9]+, )*s3, s3a\b/.test(e.message));
  });

  it('rejects malformed URIs and bad options before opening anything', async () => {
    const registry = createDefaultUfsRegistry();
    for (const [uri, options, fragment] of [
      ['no-scheme/path', {}, 'expected scheme://'],
      ['s3://bucket/%E0%A4%A', {}, 'percent-encoding'],
      ['s3://ab/', {}, 'not a valid bucket name'],
      ['s3://bucket/', { endpoint: 'ftp://x' }, 'not an http(s) URL'],
      ['s3://bucket/', { accessKeyId: 'a' }, 'go together'],
      ['s3://bucket/', { pathStyle: 'yes' }, 'must be true or false'],
      ['s3://bucket/', { partSize: '1MiB' }, 'at least 5MiB'],
      ['file:///tmp', { endpoint: 'http://x' }, 'it takes no options'],
    ] as const) {
      await assert.rejects(registry.create(uri, options), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT') && e.message.includes(fragment), uri);
    }
  });

  it('maps s3:// URIs to a bucket and a prefix', async () => {
    const registry = createDefaultUfsRegistry();
    const ufs = await registry.create('s3a://bucket//sales/2024/', { endpoint: 'http://127.0.0.1:1' });
    assert.equal(ufs.uri, 's3://bucket/sales/2024/');
    assert.deepEqual(ufs.capabilities, { rename: false, multipart: true, tagging: true });
    await ufs.close();
  });
});
