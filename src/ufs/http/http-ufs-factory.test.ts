import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { rejectsWith } from '../../testing/assertions.js';
import { startNginxServer, type NginxServer } from '../../testing/nginx-server.js';
import type { UfsOptions } from '../ufs-registry.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';

const registry = createDefaultUfsRegistry();

describe('createHttpUfs', () => {
  it('registers http and https, and names the root with a trailing slash', async () => {
    assert.ok(registry.schemes().includes('http') && registry.schemes().includes('https'));
    const ufs = await registry.create('http://127.0.0.1:1/pub/with%20space');
    assert.equal(ufs.uri, 'http://127.0.0.1:1/pub/with space/');
    assert.deepEqual(ufs.capabilities, { rename: false, multipart: false, tagging: false });
    await ufs.close();
  });

  it('refuses bad URIs and options with INVALID_ARGUMENT', async () => {
    const cases: [string, UfsOptions, string][] = [
      ['http://ana:pw@example.org/', {}, 'use the option basicAuth'],
      ['http:///path', {}, 'expected http://host[:port]/path'],
      ['http://example.org/a/../b', {}, '".." segments'],
      ['http://example.org:99999/', {}, 'not a valid URL'],
      ['https://example.org/', { region: 'x' }, 'unknown option "region" (accepted: basicAuth, insecure, header.<Name>)'],
      ['https://example.org/', { 'header.Bad Name': 'x' }, 'does not name an HTTP header'],
      ['https://example.org/', { 'header.Range': 'bytes=0-1' }, 'dora sets the Range header itself'],
      ['https://example.org/', { 'header.X-A': 'a\r\nInjected: b' }, 'line breaks'],
      ['https://example.org/', { basicAuth: 'no-colon' }, 'user:password'],
      ['https://example.org/', { basicAuth: 'a:b', 'header.Authorization': 'Bearer x' }, 'cannot go together'],
      ['https://example.org/', { insecure: 'yes' }, 'must be true or false'],
    ];
    for (const [uri, options, fragment] of cases) await rejectsWith(registry.create(uri, options), 'INVALID_ARGUMENT', fragment);
  });
});

describe('HttpUfs credentials and TLS on nginx', () => {
  let nginx: NginxServer;
  before(async () => {
    nginx = await startNginxServer({
      tls: true,
      serverConfig: [
        '    location /private/ { auth_basic "dora"; auth_basic_user_file htpasswd; }',
        '    location /token/ { if ($http_x_dora_token != "s3cret") { return 403; } }',
      ].join('\n'),
    });
    await writeFile(join(nginx.dir, 'htpasswd'), 'ana:{PLAIN}s3cret\n');
    for (const dir of ['private', 'token', 'tls']) {
      await mkdir(join(nginx.root, dir));
      await writeFile(join(nginx.root, dir, 'file'), `${dir} content`);
    }
  });
  after(() => nginx.stop());

  const readFile = async (uri: string, options: UfsOptions = {}): Promise<string> => {
    const ufs = await registry.create(uri, options);
    try {
      return (await readAll((await ufs.read('file')).stream)).toString();
    } finally {
      await ufs.close();
    }
  };

  it('sends basicAuth, and reports missing or wrong credentials as PERMISSION_DENIED', async () => {
    assert.equal(await readFile(`${nginx.url}/private/`, { basicAuth: 'ana:s3cret' }), 'private content');
    await rejectsWith(readFile(`${nginx.url}/private/`), 'PERMISSION_DENIED', 'wants credentials');
    const wrong = await rejectsWith(readFile(`${nginx.url}/private/`, { basicAuth: 'ana:wrong' }), 'PERMISSION_DENIED');
    assert.equal(wrong.retryable, false);
    const ufs = await registry.create(`${nginx.url}/private/`, { basicAuth: 'ana:s3cret' });
    const listed: string[] = [];
    for await (const entry of ufs.list('')) listed.push(entry.path);
    assert.deepEqual(listed, ['file']);
    await ufs.close();
  });

  it('sends header.<Name> options with every request', async () => {
    assert.equal(await readFile(`${nginx.url}/token/`, { 'header.X-Dora-Token': 's3cret' }), 'token content');
    await rejectsWith(readFile(`${nginx.url}/token/`), 'PERMISSION_DENIED', 'access denied');
  });

  it('refuses a self-signed certificate unless insecure=true', async () => {
    const httpsUrl = nginx.httpsUrl ?? assert.fail('nginx has no TLS port');
    const refused = await rejectsWith(readFile(`${httpsUrl}/tls/`), 'FAILED_PRECONDITION', 'certificate', 'insecure=true');
    assert.equal(refused.retryable, false);
    assert.equal(await readFile(`${httpsUrl}/tls/`, { insecure: 'true' }), 'tls content');
    const ufs = await registry.create(`${httpsUrl}/tls/`, { insecure: 'true' });
    assert.equal((await ufs.stat('')).kind, 'directory');
    assert.equal((await ufs.stat('file')).size, 11);
    await ufs.close();
  });
});
