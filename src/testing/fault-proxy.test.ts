import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

/** What the client saw: the answer so far, and the error that ended it early, if any. */
interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly error?: Error;
}

/**
 * The target: `/bytes/N` answers N bytes; anything else echoes the request (method, URL and
 * Host in headers, the body streamed back).
 */
function startTarget(): Promise<Server> {
  const server = createServer((req, res) => {
    const size = /^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1];
    if (size !== undefined) {
      res.writeHead(200, { 'content-length': size });
      res.end(Buffer.alloc(Number(size), 7));
      return;
    }
    res.writeHead(200, { 'x-method': req.method ?? '', 'x-url': req.url ?? '', 'x-host': req.headers.host ?? '', 'x-custom': req.headers['x-custom'] ?? '' });
    req.pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const reply = (error?: Error): void =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ...(error === undefined ? {} : { error }) });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => reply());
      res.on('error', (error) => reply(error));
    });
    req.on('error', reject);
    if (options.timeoutMs !== undefined) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.end(options.body);
  });
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('FaultProxy', () => {
  let target: Server;
  let proxy: FaultProxy;

  before(async () => {
    target = await startTarget();
    proxy = await startFaultProxy(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
  });
  after(async () => {
    await proxy.stop();
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
  });

  it('forwards method, path, headers and the client\'s Host, streaming a large body both ways', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const reply = await send(`${proxy.url}/some/key?list-type=2&prefix=a%2Fb`, { method: 'PUT', body, headers: { 'x-custom': 'kept' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-method'], 'PUT');
    assert.equal(reply.headers['x-url'], '/some/key?list-type=2&prefix=a%2Fb');
    assert.equal(reply.headers['x-host'], new URL(proxy.url).host);
    assert.equal(reply.headers['x-custom'], 'kept');
    assert.equal(sha(reply.body), sha(body));
  });

  it('failNext() answers the next n requests with an S3 XML error, then forwards again', async () => {
    proxy.failNext(2);
    for (let i = 0; i < 2; i++) {
      const reply = await send(`${proxy.url}/bytes/10`);
      assert.equal(reply.status, 503);
      assert.match(reply.body.toString(), /<Error><Code>SlowDown<\/Code><Message>[^<]+<\/Message>/);
    }
    proxy.failNext(1, 500, 'InternalError');
    assert.match((await send(`${proxy.url}/bytes/10`)).body.toString(), /<Code>InternalError<\/Code>/);
    assert.equal((await send(`${proxy.url}/bytes/10`)).status, 200);
  });

  it('failNext() with a match predicate fails only the requests it accepts', async () => {
    proxy.failNext(1, { status: 403, code: 'AccessDenied', match: (r) => r.method === 'PUT' });
    assert.equal((await send(`${proxy.url}/echo`)).status, 200);
    const put = await send(`${proxy.url}/echo`, { method: 'PUT', body: Buffer.from('x') });
    assert.equal(put.status, 403);
    assert.match(put.body.toString(), /<Code>AccessDenied<\/Code>/);
    assert.equal((await send(`${proxy.url}/echo`, { method: 'PUT', body: Buffer.from('x') })).status, 200);
  });

  it('stallNext() accepts a request and never answers it', async () => {
    proxy.stallNext(1);
    await assert.rejects(send(`${proxy.url}/bytes/10`, { timeoutMs: 200 }), /client timeout/);
    assert.equal((await send(`${proxy.url}/bytes/10`, { timeoutMs: 2000 })).status, 200);
  });

  it('cutNextResponse() closes the connection after exactly that many body bytes', async () => {
    proxy.cutNextResponse(100_000);
    const reply = await send(`${proxy.url}/bytes/1000000`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '1000000');
    assert.equal(reply.body.byteLength, 100_000);
    assert.ok(reply.error !== undefined, 'the client sees the response end early');
    assert.equal((await send(`${proxy.url}/bytes/1000000`)).body.byteLength, 1_000_000);
  });

  it('stallResponseAfter() sends that many body bytes, then nothing while the connection stays open', async () => {
    proxy.stallResponseAfter(5000);
    const received = await new Promise<{ bytes: number; closed: boolean }>((resolve, reject) => {
      const req = request(`${proxy.url}/bytes/1000000`, { agent: false }, (res) => {
        let bytes = 0;
        let closed = false;
        res.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
        res.on('close', () => (closed = true));
        setTimeout(() => {
          resolve({ bytes, closed });
          req.destroy();
        }, 300);
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(received, { bytes: 5000, closed: false });
  });

  it('resetNext() resets the connection of the next n requests', async () => {
    proxy.resetNext(1);
    await assert.rejects(send(`${proxy.url}/bytes/10`), { code: 'ECONNRESET' });
    assert.equal((await send(`${proxy.url}/bytes/10`)).status, 200);
  });

  it('setDelay() adds latency before each request', async () => {
    proxy.setDelay(150);
    try {
      const started = performance.now();
      assert.equal((await send(`${proxy.url}/bytes/10`)).status, 200);
      assert.ok(performance.now() - started >= 140, 'the request waited for the delay');
    } finally {
      proxy.setDelay(0);
    }
  });

  it('counts every request, and reset() drops pending faults', async () => {
    const before = proxy.requests;
    proxy.failNext(5);
    proxy.stallNext(5);
    proxy.reset();
    assert.equal((await send(`${proxy.url}/bytes/10`)).status, 200);
    await send(`${proxy.url}/echo`, { method: 'POST', body: Buffer.from('abc') });
    assert.equal(proxy.requests, before + 2);
  });

  it('stop() releases stalled requests', async () => {
    const other = await startFaultProxy(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
    other.stallNext(1);
    const pending = send(`${other.url}/bytes/10`);
    await sleep(50);
    await other.stop();
    await assert.rejects(pending, { code: 'ECONNRESET' });
  });

  it('streams a response body without waiting for its end', async () => {
    const slow = createServer((_req, res) => {
      res.writeHead(200);
      res.write('first');
      setTimeout(() => res.end('second'), 300);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const other = await startFaultProxy(`http://127.0.0.1:${(slow.address() as AddressInfo).port}`);
    try {
      const started = performance.now();
      const first = await new Promise<string>((resolve, reject) => {
        const req = request(`${other.url}/`, { agent: false }, (res) => {
          res.once('data', (chunk: Buffer) => resolve(chunk.toString()));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(first, 'first');
      assert.ok(performance.now() - started < 250, 'the first bytes arrived before the target finished');
    } finally {
      await other.stop();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});
