import assert from 'node:assert/strict';
import { rejectsWith, sha256 } from '../../testing/assertions.js';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { DoraError, isDoraError, type ErrorCode } from '../../common/errors.js';
import { SYSTEM_CLOCK, type RetryClock, type RetryPolicy } from '../../common/retry.js';
import { readAll } from '../../common/streams.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../../testing/fault-proxy.js';
import { startMotoServer } from '../../testing/moto-server.js';
import { createBucket, s3Options } from '../../testing/s3-fixture.js';
import type { S3ServerHandle } from '../../testing/s3-server-handle.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { withRetry } from './with-retry.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'retry';
const LISTED = 2500;

/** A clock whose sleeps return at once (after `onSleep`), advancing `now()` by the time slept. */
class FakeClock implements RetryClock {
  readonly sleeps: number[] = [];
  onSleep: (() => Promise<void>) | undefined;
  #now = 0;

  constructor(readonly random: () => number = () => 0.75) {}

  now(): number {
    return this.#now;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.#now += ms;
    await this.onSleep?.();
  }
}

interface Retried {
  readonly op: string;
  readonly path: string;
  readonly code: ErrorCode | undefined;
  readonly attempt: number;
}

const POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, maxElapsedMs: 60_000 };

const isGet = (r: ProxiedRequest): boolean => r.method === 'GET';
const isPut = (r: ProxiedRequest): boolean => r.method === 'PUT';
const isListing = (r: ProxiedRequest): boolean => r.method === 'GET' && r.path.includes('list-type=2');
const sha = sha256;


async function paths(listing: AsyncIterable<{ path: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of listing) out.push(entry.path);
  return out;
}

describe('withRetry over s3:// behind a fault proxy', () => {
  let moto: S3ServerHandle;
  let proxy: FaultProxy;
  const registry = createDefaultUfsRegistry();
  const opened: UnderFileSystem[] = [];
  let n = 0;

  /** A fresh prefix of the bucket, reached through the proxy (or directly, for setup). */
  const store = async (options: { prefix?: string; direct?: boolean } = {}): Promise<UnderFileSystem> => {
    const endpoint = options.direct === true ? moto.endpoint : proxy.url;
    const ufs = await registry.create(`s3://${BUCKET}/${options.prefix ?? `t${n++}`}/`, { ...s3Options(moto), endpoint });
    opened.push(ufs);
    return ufs;
  };

  /** `inner` with retries on a fake clock, recording each retry. */
  const retrying = (inner: UnderFileSystem, policy: RetryPolicy = POLICY, clock: RetryClock = new FakeClock()): { ufs: UnderFileSystem; retries: Retried[] } => {
    const retries: Retried[] = [];
    const ufs = withRetry(inner, policy, {
      clock,
      onRetry: (call, error, attempt) => retries.push({ op: call.op, path: call.path, code: isDoraError(error) ? error.code : undefined, attempt }),
    });
    return { ufs, retries };
  };

  before(async () => {
    moto = await startMotoServer();
    await createBucket(moto, BUCKET);
    proxy = await startFaultProxy(moto.endpoint);
    // The listing fixture: 2,500 keys, three pages of ListObjectsV2.
    const listed = await store({ prefix: 'listed', direct: true });
    const keys = Array.from({ length: LISTED }, (_, i) => `k${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => listed.write(k, Buffer.from(k))));
  });
  afterEach(() => proxy.reset());
  after(async () => {
    await Promise.all(opened.map((u) => u.close()));
    await proxy.stop();
    await moto.stop();
  });

  it('stat() succeeds after two throttling errors, backing off within the growing jitter ceiling', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('hello'));
    const clock = new FakeClock(() => 0.75);
    const { ufs, retries } = retrying(inner, POLICY, clock);
    proxy.failNext(2);
    const before = proxy.requests;
    assert.equal((await ufs.stat('f')).size, 5);
    assert.equal(proxy.requests - before, 3);
    assert.deepEqual(retries, [
      { op: 'stat', path: 'f', code: 'UNAVAILABLE', attempt: 1 },
      { op: 'stat', path: 'f', code: 'UNAVAILABLE', attempt: 2 },
    ]);
    clock.sleeps.forEach((delay, i) => {
      const ceiling = Math.min(POLICY.maxDelayMs, POLICY.baseDelayMs * 2 ** i);
      assert.ok(delay >= 0 && delay <= ceiling, `retry ${i + 1} waited ${delay} ms, above its ceiling ${ceiling} ms`);
    });
    assert.deepEqual(clock.sleeps, [75, 150]);
  });

  it('gives up after maxAttempts calls with the last UNAVAILABLE error', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const { ufs, retries } = retrying(inner);
    proxy.failNext(10);
    const before = proxy.requests;
    const error = await rejectsWith(ufs.stat('f'), 'UNAVAILABLE');
    assert.equal(error.retryable, true);
    assert.equal(proxy.requests - before, POLICY.maxAttempts);
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2, 3]);
  });

  it('gives up when the next backoff would pass maxElapsedMs', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const clock = new FakeClock(() => 0.75);
    const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 300 };
    const { ufs } = retrying(inner, policy, clock);
    proxy.failNext(10);
    const before = proxy.requests;
    await rejectsWith(ufs.stat('f'), 'UNAVAILABLE');
    // Backoffs of 75 and 150 ms fit in 300 ms; the third (300 ms, at 225 ms) would not.
    assert.deepEqual(clock.sleeps, [75, 150]);
    assert.equal(proxy.requests - before, 3);
  });

  it('does not retry NOT_FOUND or PERMISSION_DENIED', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const { ufs, retries } = retrying(inner);
    let before = proxy.requests;
    await rejectsWith(ufs.read('missing'), 'NOT_FOUND');
    assert.equal(proxy.requests - before, 2, 'one GET, one listing to tell a directory from nothing');
    proxy.failNext(1, { status: 403, code: 'AccessDenied' });
    before = proxy.requests;
    await rejectsWith(ufs.read('f'), 'PERMISSION_DENIED');
    assert.equal(proxy.requests - before, 1);
    assert.equal(retries.length, 0);
  });

  it('does not retry a write whose source is a stream, but retries a Buffer write', async () => {
    const { ufs, retries } = retrying(await store());
    const data = randomBytes(10 * KiB);
    proxy.failNext(1, { match: isPut });
    let before = proxy.requests;
    await rejectsWith(ufs.write('streamed', Readable.from([data]), { size: data.length }), 'UNAVAILABLE');
    assert.equal(proxy.requests - before, 1);
    assert.equal(retries.length, 0);

    proxy.failNext(1, { match: isPut });
    before = proxy.requests;
    assert.equal((await ufs.write('buffered', data)).size, data.length);
    assert.equal(proxy.requests - before, 2);
    assert.deepEqual(retries.map((r) => [r.op, r.path]), [['write', 'buffered']]);
    assert.equal(sha(await readAll((await ufs.read('buffered')).stream)), sha(data));
  });

  it('read() resumes a broken stream from the byte it reached', async () => {
    const inner = await store();
    const data = randomBytes(3 * MiB);
    await inner.write('big', data);
    const { ufs, retries } = retrying(inner);
    proxy.cutNextResponse(MiB + 12_345, { match: isGet });
    const before = proxy.requests;
    const got = await readAll((await ufs.read('big')).stream);
    assert.equal(got.length, data.length);
    assert.equal(sha(got), sha(data));
    assert.equal(proxy.requests - before, 2, 'one GET, one resumed ranged GET');
    assert.deepEqual(retries.map((r) => [r.op, r.path, r.code]), [['read', 'big', 'UNAVAILABLE']]);
  });

  it('read() resumes a broken ranged read within its range', async () => {
    const inner = await store();
    const data = randomBytes(MiB);
    await inner.write('ranged', data);
    const { ufs } = retrying(inner);
    proxy.cutNextResponse(100_000, { match: isGet });
    const got = await readAll((await ufs.read('ranged', { offset: 1000, length: 500_000 })).stream);
    assert.equal(sha(got), sha(data.subarray(1000, 501_000)));
  });

  it('read() fails with FAILED_PRECONDITION instead of resuming from an object that changed', async () => {
    const inner = await store();
    const first = randomBytes(MiB);
    await inner.write('changing', first);
    const clock = new FakeClock();
    const { ufs } = retrying(inner, POLICY, clock);
    // The overwrite lands during the backoff: after the stream broke, before it resumes.
    clock.onSleep = async () => {
      await inner.write('changing', randomBytes(MiB));
    };
    proxy.cutNextResponse(64 * KiB, { match: isGet });
    const { stream } = await ufs.read('changing');
    const received: Buffer[] = [];
    const error = await rejectsWith(
      (async () => {
        for await (const chunk of stream as AsyncIterable<Buffer>) received.push(chunk);
      })(),
      'FAILED_PRECONDITION',
    );
    assert.match(error.message, /changing/);
    const got = Buffer.concat(received);
    assert.ok(got.length <= 64 * KiB, `only bytes of the first version were delivered (got ${got.length})`);
    assert.deepEqual(got, first.subarray(0, got.length));
    assert.equal(clock.sleeps.length, 1);
  });

  it('read() does not resume when the reader itself destroys the stream, even with a retryable error', async () => {
    const inner = await store();
    await inner.write('f', randomBytes(MiB));
    const { ufs, retries } = retrying(inner);
    const before = proxy.requests;
    const { stream } = await ufs.read('f');
    stream.on('error', () => undefined);
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy(new DoraError('UNAVAILABLE', 'Cannot copy to "elsewhere": the target is down'));
    await new Promise((resolve) => stream.once('close', resolve));
    await sleep(100); // time for a resumed request to reach the proxy
    assert.equal(retries.length, 0);
    assert.equal(proxy.requests - before, 1);
  });

  it('list() resumes a recursive listing whose second page fails, yielding each key once, in order', async () => {
    const { ufs, retries } = retrying(await store({ prefix: 'listed' }));
    proxy.failNext(1, { match: (r) => isListing(r) && r.path.includes('continuation-token=') });
    const listed = await paths(ufs.list('', { recursive: true }));
    assert.equal(listed.length, LISTED);
    assert.deepEqual(listed, Array.from({ length: LISTED }, (_, i) => `k${String(i).padStart(5, '0')}`));
    assert.deepEqual(retries.map((r) => [r.op, r.code]), [['list', 'UNAVAILABLE']]);
  });

  it('list() gives up after maxAttempts consecutive failures', async () => {
    const inner = await store();
    await inner.write('a', Buffer.from('a'));
    const { ufs, retries } = retrying(inner);
    proxy.failNext(10, { match: isListing });
    await rejectsWith(paths(ufs.list('')), 'UNAVAILABLE');
    assert.equal(retries.length, POLICY.maxAttempts - 1);
  });

  it('stops with CANCELLED soon after the signal is aborted during a backoff', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const controller = new AbortController();
    // The real clock, with a backoff of 30 s: only the abort can end it.
    const clock: RetryClock = { ...SYSTEM_CLOCK, random: () => 0.5 };
    const ufs = withRetry(inner, { ...POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { clock, onRetry: () => setTimeout(() => controller.abort(), 20) });
    proxy.failNext(10);
    const before = proxy.requests;
    const started = performance.now();
    await rejectsWith(ufs.stat('f', { signal: controller.signal }), 'CANCELLED');
    assert.ok(performance.now() - started < 1000, 'the backoff ended at the abort');
    assert.equal(proxy.requests - before, 1);
  });

  it('a resuming read stops with CANCELLED when its signal is aborted during the backoff', async () => {
    const inner = await store();
    await inner.write('f', randomBytes(MiB));
    const controller = new AbortController();
    const clock: RetryClock = { ...SYSTEM_CLOCK, random: () => 0.5 };
    const ufs = withRetry(inner, { ...POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { clock, onRetry: () => setTimeout(() => controller.abort(), 20) });
    proxy.cutNextResponse(64 * KiB, { match: isGet });
    const { stream } = await ufs.read('f', { signal: controller.signal });
    const started = performance.now();
    await rejectsWith(readAll(stream), 'CANCELLED');
    assert.ok(performance.now() - started < 1000, 'the backoff ended at the abort');
  });

  it('a resuming listing stops with CANCELLED when its signal is aborted during the backoff', async () => {
    const inner = await store();
    await inner.write('a', Buffer.from('a'));
    const controller = new AbortController();
    const clock: RetryClock = { ...SYSTEM_CLOCK, random: () => 0.5 };
    const ufs = withRetry(inner, { ...POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { clock, onRetry: () => setTimeout(() => controller.abort(), 20) });
    proxy.failNext(1, { match: isListing });
    const started = performance.now();
    await rejectsWith(paths(ufs.list('', { signal: controller.signal })), 'CANCELLED');
    assert.ok(performance.now() - started < 1000, 'the backoff ended at the abort');
  });

  it('fails with DEADLINE_EXCEEDED when a timeout signal fires during a backoff', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('x'));
    const clock: RetryClock = { ...SYSTEM_CLOCK, random: () => 0.5 };
    const ufs = withRetry(inner, { ...POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { clock });
    proxy.failNext(10);
    const started = performance.now();
    await rejectsWith(ufs.stat('f', { signal: AbortSignal.timeout(100) }), 'DEADLINE_EXCEEDED');
    assert.ok(performance.now() - started < 1000, 'the backoff ended at the timeout');
  });

  it('retries a request whose connection was reset', async () => {
    const inner = await store();
    await inner.write('f', Buffer.from('abc'));
    const { ufs, retries } = retrying(inner);
    proxy.resetNext(1);
    const before = proxy.requests;
    assert.equal((await readAll((await ufs.read('f')).stream)).toString(), 'abc');
    assert.equal(proxy.requests - before, 2);
    assert.deepEqual(retries.map((r) => [r.op, r.path]), [['read', 'f']]);
  });
});
