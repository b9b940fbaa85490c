import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startEtcdServer, type EtcdServer } from './etcd-server.js';

// Fails (rather than skips) when etcd is missing: the error names the apt-get command to run.
describe('startEtcdServer()', () => {
  let etcd: EtcdServer;

  before(async () => {
    etcd = await startEtcdServer();
  });
  after(() => etcd.stop());

  it('serves a healthy etcd that keeps its data across kill() and restart() on the same endpoint', async () => {
    const [endpoint] = etcd.endpoints;
    assert.match(endpoint ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    await post(`${endpoint}/v3/kv/put`, { key: b64('k'), value: b64('v') });
    await etcd.kill();
    await etcd.kill();
    await assert.rejects(post(`${endpoint}/v3/kv/range`, { key: b64('k') }), { code: 'ECONNREFUSED' });
    await etcd.restart();
    const { kvs } = (await post(`${endpoint}/v3/kv/range`, { key: b64('k') })) as { kvs: { value: string }[] };
    assert.equal(Buffer.from(kvs[0]?.value ?? '', 'base64').toString(), 'v');
  });

  it('fails with the install command when the binary is missing', async () => {
    await assert.rejects(startEtcdServer({ binary: '/nonexistent/etcd' }), /"\/nonexistent\/etcd" is not installed; run `apt-get install -y etcd-server`/);
  });

  it('stop() ends etcd for good', async () => {
    await etcd.stop();
    await etcd.stop();
    await assert.rejects(post(`${etcd.endpoints[0]}/health`, {}), { code: 'ECONNREFUSED' });
    await assert.rejects(etcd.restart(), /stopped/);
  });
});

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A call to etcd's JSON gateway (v3 API over HTTP), independent of the etcd3 client. */
function post(url: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
