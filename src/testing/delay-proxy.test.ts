import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';

/** Echoes every connection's bytes back, and ends when the client ends. */
async function startEcho(): Promise<Server> {
  const server = createServer((socket) => socket.pipe(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Sends `data`, ends, and resolves to everything received until the proxy ends the connection. */
async function roundTrip(port: number, data: Buffer): Promise<{ body: Buffer; ms: number }> {
  const started = performance.now();
  const socket: Socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.end(data);
  await once(socket, 'end');
  socket.destroy();
  return { body: Buffer.concat(chunks), ms: performance.now() - started };
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('DelayProxy', () => {
  let echo: Server;
  const proxies: DelayProxy[] = [];
  const start = async (options: Parameters<typeof startDelayProxy>[1]): Promise<DelayProxy> => {
    const proxy = await startDelayProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port }, options);
    proxies.push(proxy);
    return proxy;
  };

  before(async () => {
    echo = await startEcho();
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await new Promise((resolve) => echo.close(resolve));
  });

  it('passes bytes both ways unchanged and in order, then the end of each direction', async () => {
    const proxy = await start({ delayMs: 1, windowBytes: 256 * 1024 });
    const data = randomBytes(8 * 1024 * 1024);
    const { body } = await roundTrip(proxy.port, data);
    assert.equal(sha(body), sha(data));
    assert.equal(proxy.bytes, 2 * data.length);
  });

  it('delays each direction by delayMs, so a round trip takes at least twice that', async () => {
    const proxy = await start({ delayMs: 40 });
    const { body, ms } = await roundTrip(proxy.port, Buffer.from('ping'));
    assert.equal(body.toString(), 'ping');
    assert.ok(ms >= 80, `round trip took ${ms.toFixed(1)} ms`);
    assert.ok(ms < 1000, `round trip took ${ms.toFixed(1)} ms`);
  });

  it('caps the bandwidth of each direction at bytesPerSecond', async () => {
    const proxy = await start({ bytesPerSecond: 8 * 1024 * 1024 });
    const { body, ms } = await roundTrip(proxy.port, randomBytes(1024 * 1024));
    assert.equal(body.length, 1024 * 1024);
    // 1 MiB each way at 8 MiB/s: 125 ms each, overlapping but for the first and last chunks.
    assert.ok(ms >= 120, `1 MiB echoed in ${ms.toFixed(1)} ms`);
  });

  it('limits one connection to windowBytes per round trip', async () => {
    const proxy = await start({ delayMs: 25, windowBytes: 256 * 1024 });
    const { body, ms } = await roundTrip(proxy.port, randomBytes(1024 * 1024));
    assert.equal(body.length, 1024 * 1024);
    // 4 windows each way, each waiting one 50 ms round trip for its credit.
    assert.ok(ms >= 200, `1 MiB echoed in ${ms.toFixed(1)} ms`);
  });
});
