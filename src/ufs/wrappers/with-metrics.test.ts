import assert from 'node:assert/strict';
import { rejectsWith } from '../../testing/assertions.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { startFaultProxy, type FaultProxy } from '../../testing/fault-proxy.js';
import { startMotoServer } from '../../testing/moto-server.js';
import { createBucket, s3Options } from '../../testing/s3-fixture.js';
import type { S3ServerHandle } from '../../testing/s3-server-handle.js';
import { LocalUfs } from '../local/local-ufs.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { withMetrics, type UfsCallEvent } from './with-metrics.js';

const KiB = 1024;


/** A store that records its events; `next(op)` resolves with the first event of `op` from now on. */
function metered(inner: UnderFileSystem): { ufs: UnderFileSystem; events: UfsCallEvent[]; next(op: UfsCallEvent['op']): Promise<UfsCallEvent> } {
  const events: UfsCallEvent[] = [];
  const waiting: { op: UfsCallEvent['op']; resolve: (event: UfsCallEvent) => void }[] = [];
  const ufs = withMetrics(inner, (event) => {
    events.push(event);
    const i = waiting.findIndex((w) => w.op === event.op);
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(event);
  });
  return { ufs, events, next: (op) => new Promise((resolve) => waiting.push({ op, resolve })) };
}

/** Events without their timing, to compare whole lists. */
function untimed(events: readonly UfsCallEvent[]): Omit<UfsCallEvent, 'durationMs'>[] {
  return events.map(({ durationMs: _, ...rest }) => rest);
}

describe('withMetrics over file://', () => {
  const dirs: string[] = [];
  const local = async (): Promise<LocalUfs> => {
    const dir = await mkdtemp(join(tmpdir(), 'dora-metrics-'));
    dirs.push(dir);
    return new LocalUfs(dir);
  };
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('reports each call with its op, the store, its outcome and a positive duration', async () => {
    const { ufs, events } = metered(await local());
    await ufs.write('a', Buffer.from('abc'));
    await ufs.stat('a');
    await rejectsWith(ufs.stat('missing'), 'NOT_FOUND');
    await ufs.mkdir('d');
    await rejectsWith(ufs.mkdir('a'), 'ALREADY_EXISTS');
    await ufs.rename?.('a', 'd/b');
    await ufs.delete('d/b');
    assert.deepEqual(untimed(events), [
      { op: 'write', uri: ufs.uri, outcome: 'ok' },
      { op: 'stat', uri: ufs.uri, outcome: 'ok' },
      { op: 'stat', uri: ufs.uri, outcome: 'NOT_FOUND' },
      { op: 'mkdir', uri: ufs.uri, outcome: 'ok' },
      { op: 'mkdir', uri: ufs.uri, outcome: 'ALREADY_EXISTS' },
      { op: 'rename', uri: ufs.uri, outcome: 'ok' },
      { op: 'delete', uri: ufs.uri, outcome: 'ok' },
    ]);
    for (const event of events) assert.ok(event.durationMs > 0, `${event.op} took ${event.durationMs} ms`);
  });

  it('reports a fully read stream as read.stream with its exact bytes', async () => {
    const { ufs, events, next } = metered(await local());
    const data = randomBytes(300 * KiB + 7);
    await ufs.write('f', data);
    const streamed = next('read.stream');
    const got = await readAll((await ufs.read('f', { offset: 7 })).stream);
    assert.equal(got.length, 300 * KiB);
    const event = await streamed;
    assert.deepEqual({ op: event.op, outcome: event.outcome, bytes: event.bytes }, { op: 'read.stream', outcome: 'ok', bytes: 300 * KiB });
    assert.ok(event.durationMs > 0);
    assert.deepEqual(events.map((e) => e.op), ['write', 'read', 'read.stream']);
  });

  it('reports read.stream as CANCELLED with the bytes delivered when the reader stops early', async () => {
    const { ufs, next } = metered(await local());
    const size = 4096 * KiB;
    await ufs.write('f', randomBytes(size));
    const stops: [string, (stream: Readable) => void][] = [
      ['destroy()', (s) => s.destroy()],
      ['destroy(error)', (s) => s.destroy(new Error('the reader failed'))],
    ];
    for (const [how, stop] of stops) {
      const streamed = next('read.stream');
      const { stream } = await ufs.read('f');
      stream.on('error', () => undefined);
      const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
      stop(stream);
      const event = await streamed;
      assert.equal(event.outcome, 'CANCELLED', how);
      assert.ok(event.bytes !== undefined && event.bytes >= first.length && event.bytes < size, `${how}: counted ${event.bytes} bytes of ${size}`);
    }
    // A `break` out of for-await destroys the stream too.
    const streamed = next('read.stream');
    for await (const _ of (await ufs.read('f')).stream) break;
    assert.equal((await streamed).outcome, 'CANCELLED', 'break');
  });

  it('reports a read that fails to open as read with its code, and no read.stream', async () => {
    const { ufs, events } = metered(await local());
    await ufs.mkdir('dir');
    await rejectsWith(ufs.read('missing'), 'NOT_FOUND');
    await rejectsWith(ufs.read('dir'), 'IS_A_DIRECTORY');
    assert.deepEqual(untimed(events).slice(1), [
      { op: 'read', uri: ufs.uri, outcome: 'NOT_FOUND' },
      { op: 'read', uri: ufs.uri, outcome: 'IS_A_DIRECTORY' },
    ]);
  });
});

describe('withMetrics over s3:// behind a fault proxy', () => {
  let moto: S3ServerHandle;
  let proxy: FaultProxy;
  let ufs: UnderFileSystem;
  let recorder: ReturnType<typeof metered>;

  before(async () => {
    moto = await startMotoServer();
    await createBucket(moto, 'metrics');
    proxy = await startFaultProxy(moto.endpoint);
    recorder = metered(await createDefaultUfsRegistry().create('s3://metrics/', { ...s3Options(moto), endpoint: proxy.url }));
    ufs = recorder.ufs;
  });
  after(async () => {
    await ufs.close();
    await proxy.stop();
    await moto.stop();
  });

  it('reports a stream the store breaks with its error code and the bytes delivered', async () => {
    await ufs.write('f', randomBytes(512 * KiB));
    proxy.cutNextResponse(100 * KiB, { match: (r) => r.method === 'GET' });
    const streamed = recorder.next('read.stream');
    await rejectsWith(readAll((await ufs.read('f')).stream), 'UNAVAILABLE');
    const event = await streamed;
    assert.deepEqual({ outcome: event.outcome, bytes: event.bytes }, { outcome: 'UNAVAILABLE', bytes: 100 * KiB });
  });

  it('reports throttled calls as UNAVAILABLE and multipart calls by their op', async () => {
    proxy.failNext(1);
    await rejectsWith(ufs.stat('f'), 'UNAVAILABLE');
    const multipart = ufs.multipart;
    assert.ok(multipart !== undefined);
    const id = await multipart.create('mp');
    await multipart.abort('mp', id);
    assert.deepEqual(untimed(recorder.events.slice(-3)), [
      { op: 'stat', uri: 's3://metrics/', outcome: 'UNAVAILABLE' },
      { op: 'multipart.create', uri: 's3://metrics/', outcome: 'ok' },
      { op: 'multipart.abort', uri: 's3://metrics/', outcome: 'ok' },
    ]);
  });
});
