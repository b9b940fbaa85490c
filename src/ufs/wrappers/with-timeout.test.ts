import assert from 'node:assert/strict';
import { rejectsWith, sha256 } from '../../testing/assertions.js';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../../testing/fault-proxy.js';
import { startMotoServer } from '../../testing/moto-server.js';
import { createBucket, s3Options } from '../../testing/s3-fixture.js';
import type { S3ServerHandle } from '../../testing/s3-server-handle.js';
import type { UfsReadOptions, UfsReadResult, UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { ForwardingUfs } from './forwarding-ufs.js';
import { withTimeout, type TimeoutPolicy } from './with-timeout.js';

const KiB = 1024;
const BUCKET = 'timeout';
const POLICY: TimeoutPolicy = { callMs: 200, idleMs: 200 };

const isGet = (r: ProxiedRequest): boolean => r.method === 'GET' && !r.path.includes('list-type=2');
const isListing = (r: ProxiedRequest): boolean => r.method === 'GET' && r.path.includes('list-type=2');
const sha = sha256;


/** How long `work` took to settle, in ms, and how. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: Promise<T> }> {
  const started = performance.now();
  const result = work();
  await result.catch(() => undefined);
  return { ms: performance.now() - started, result };
}

/** Records the signal each read is given, to check what is left listening on it. */
class ReadSignals extends ForwardingUfs {
  readonly seen: (AbortSignal | undefined)[] = [];

  override read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    this.seen.push(options.signal);
    return super.read(path, options);
  }
}

describe('withTimeout over s3:// behind a fault proxy', () => {
  let moto: S3ServerHandle;
  let proxy: FaultProxy;
  const registry = createDefaultUfsRegistry();
  const opened: UnderFileSystem[] = [];
  let n = 0;

  /** A fresh prefix of the bucket, through the proxy. */
  const store = async (): Promise<UnderFileSystem> => {
    const ufs = await registry.create(`s3://${BUCKET}/t${n++}/`, { ...s3Options(moto), endpoint: proxy.url });
    opened.push(ufs);
    return ufs;
  };

  before(async () => {
    moto = await startMotoServer();
    await createBucket(moto, BUCKET);
    proxy = await startFaultProxy(moto.endpoint);
  });
  afterEach(() => {
    proxy.reset();
    proxy.setDelay(0);
  });
  after(async () => {
    await Promise.all(opened.map((u) => u.close()));
    await proxy.stop();
    await moto.stop();
  });

  it('stat() fails with a retryable DEADLINE_EXCEEDED when the store never answers', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const ufs = withTimeout(inner, POLICY);
    proxy.stallNext(1);
    const { ms, result } = await timed(() => ufs.stat('f'));
    const error = await rejectsWith(result, 'DEADLINE_EXCEEDED');
    assert.equal(error.retryable, true);
    assert.match(error.message, /Cannot stat "s3:\/\/timeout\/t\d+\/f".*200 ms/);
    assert.ok(ms >= POLICY.callMs - 10 && ms < 2000, `failed after ${ms} ms`);
  });

  it('read() fails with DEADLINE_EXCEEDED when the first byte never comes', async () => {
    const inner = await store();
    await inner.write('f', randomBytes(64 * KiB));
    const ufs = withTimeout(inner, POLICY);
    proxy.stallNext(1, { match: isGet });
    const { ms, result } = await timed(() => ufs.read('f'));
    assert.equal((await rejectsWith(result, 'DEADLINE_EXCEEDED')).retryable, true);
    assert.ok(ms >= POLICY.callMs - 10 && ms < 2000, `failed after ${ms} ms`);
  });

  it('read() fails with DEADLINE_EXCEEDED when the body stops for idleMs mid-way', async () => {
    const inner = await store();
    await inner.write('f', randomBytes(1024 * KiB));
    const ufs = withTimeout(inner, { callMs: 5000, idleMs: 300 });
    proxy.stallResponseAfter(100 * KiB, { match: isGet });
    const { stream } = await ufs.read('f');
    let received = 0;
    const { ms, result } = await timed(async () => {
      for await (const chunk of stream as AsyncIterable<Buffer>) received += chunk.length;
    });
    const error = await rejectsWith(result, 'DEADLINE_EXCEEDED');
    assert.equal(error.retryable, true);
    assert.match(error.message, /sent nothing for 300 ms/);
    assert.equal(received, 100 * KiB);
    assert.ok(ms >= 290 && ms < 2000, `failed after ${ms} ms`);
  });

  it('read() does not fail a consumer slower than idleMs: idleness counts only while waiting for the store', async () => {
    const inner = await store();
    const data = randomBytes(256 * KiB);
    await inner.write('f', data);
    const ufs = withTimeout(inner, { callMs: 1000, idleMs: 100 });
    const { stream } = await ufs.read('f');
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      if (chunks.length <= 3) await sleep(250);
    }
    assert.equal(sha(Buffer.concat(chunks)), sha(data));
  });

  it('list() fails with DEADLINE_EXCEEDED when a page never comes', async () => {
    const inner = await store();
    await inner.write('a', Buffer.from('a'));
    const ufs = withTimeout(inner, POLICY);
    proxy.stallNext(1, { match: isListing });
    const { ms, result } = await timed(async () => {
      for await (const entry of ufs.list('')) assert.fail(`listed ${entry.path}`);
    });
    assert.equal((await rejectsWith(result, 'DEADLINE_EXCEEDED')).retryable, true);
    assert.ok(ms >= POLICY.callMs - 10 && ms < 2000, `failed after ${ms} ms`);
  });

  it('write() is not bounded by callMs while the store keeps taking the bytes', async () => {
    const ufs = withTimeout(await store(), { callMs: 150, idleMs: 150 });
    const data = randomBytes(96 * KiB);
    proxy.setDelay(100);
    async function* trickle(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < data.length; i += 16 * KiB) {
        await sleep(50);
        yield data.subarray(i, i + 16 * KiB);
      }
    }
    const { ms, result } = await timed(() => ufs.write('slow', trickle(), { size: data.length }));
    assert.equal((await result).size, data.length);
    assert.ok(ms > 150, `the write took ${ms} ms, longer than callMs`);
    proxy.setDelay(0);
    assert.equal(sha(await readAll((await ufs.read('slow')).stream)), sha(data));
  });

  it('write() fails with DEADLINE_EXCEEDED when the store takes the bytes but never answers', async () => {
    const inner = await store();
    const ufs = withTimeout(inner, { callMs: 5000, idleMs: 300 });
    proxy.stallNext(1, { match: (r) => r.method === 'PUT' });
    const { ms, result } = await timed(() => ufs.write('stalled', randomBytes(64 * KiB)));
    const error = await rejectsWith(result, 'DEADLINE_EXCEEDED');
    assert.equal(error.retryable, true);
    assert.ok(ms >= 290 && ms < 3000, `failed after ${ms} ms`);
    await rejectsWith(inner.stat('stalled'), 'NOT_FOUND');
  });

  it('a call aborted by the caller fails with CANCELLED', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const ufs = withTimeout(inner, { callMs: 5000, idleMs: 5000 });
    proxy.stallNext(1);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { ms, result } = await timed(() => ufs.stat('f', { signal: controller.signal }));
    await rejectsWith(result, 'CANCELLED');
    assert.ok(ms < 2000, `failed after ${ms} ms`);
  });

  it('leaves no abort listeners behind on the caller\'s signal or the store\'s', async () => {
    const inner = new ReadSignals(await store());
    await inner.write('f', randomBytes(1024 * KiB));
    const ufs = withTimeout(inner, POLICY);
    const caller = new AbortController();
    for (let i = 0; i < 20; i++) await ufs.stat('f', { signal: caller.signal });
    assert.equal((await readAll((await ufs.read('f', { signal: caller.signal })).stream)).length, 1024 * KiB);
    const storeSignal = inner.seen[0];
    assert.ok(storeSignal !== undefined);
    assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
    assert.equal(getEventListeners(storeSignal, 'abort').length, 0);
  });
});
