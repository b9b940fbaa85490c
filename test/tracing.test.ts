import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { DoraClient } from '../src/client/dora-client.js';
import { ConsistentHashSelector } from '../src/hash/consistent-hash-selector.js';
import { startTracing, stopTracing } from '../src/observe/tracing.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { refusingAddress } from '../src/testing/free-port.js';

const MiB = 1024 * 1024;

// Spans of one process (this one: client, worker and store calls all in it, the worker reached over
// HTTP), kept in memory. test/observability-process.test.ts follows a trace across processes.
describe('tracing a read', () => {
  const exporter = new InMemorySpanExporter();
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;

  before(async () => {
    startTracing('dora-test', { exporter: 'none', endpoint: '', samplePercent: 100 }, [new SimpleSpanProcessor(exporter)]);
    dir = await mkdtemp(join(tmpdir(), 'dora-trace-'));
    dora = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '1MiB' } });
    client = new DoraClient({ address: dora.coordinatorUrl });
    await mkdir(join(dir, 'data', 'root', 'data'), { recursive: true });
    await writeFile(join(dir, 'data', 'root', 'data', 'f.bin'), randomBytes(3 * MiB + 5)); // in the store, not cached
  });
  after(async () => {
    await client?.close();
    await dora?.stop();
    await stopTracing();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a cold read as client, worker and store spans, in order, in one trace', async () => {
    exporter.reset();
    assert.equal((await client.readFile('/data/f.bin')).length, 3 * MiB + 5);
    const spans = exporter.getFinishedSpans();
    const read = one(spans, (s) => s.name === 'dora.read');
    const served = spans.filter((s) => s.name.startsWith('worker GET /v1/read'));
    assert.equal(served.length, 1, names(spans));
    const worker = served[0]!;
    const store = spans.filter((s) => s.name === 'ufs.read');
    assert.ok(store.length >= 1, `store reads: ${names(spans)}`);

    // One trace, each a child of the one before.
    const trace = read.spanContext().traceId;
    for (const s of [worker, ...store]) assert.equal(s.spanContext().traceId, trace);
    assert.equal(worker.parentSpanContext?.spanId, read.spanContext().spanId, 'the worker continues the client span');
    for (const s of store) assert.equal(s.parentSpanContext?.spanId, worker.spanContext().spanId, 'store calls are children of the worker request');

    // In order: the client opens, the worker serves, the store reads; each ends within its parent.
    const t = (s: ReadableSpan, at: 'start' | 'end') => hr(at === 'start' ? s.startTime : s.endTime);
    assert.ok(t(read, 'start') <= t(worker, 'start') && t(worker, 'start') <= t(store[0]!, 'start'));
    assert.ok(store.every((s) => t(s, 'end') <= t(worker, 'end') + 1e6) && t(worker, 'end') <= t(read, 'end') + 1e6);

    // What the spans say: the path, mount, cache outcome and bytes.
    assert.equal(read.attributes['dora.path'], '/data/f.bin');
    assert.equal(read.attributes['dora.bytes'], 3 * MiB + 5);
    assert.equal(worker.attributes['dora.cache'], 'miss');
    assert.equal(worker.attributes['dora.mount'], '/');
    assert.equal(worker.attributes['dora.path'], '/data/f.bin');
    assert.equal(worker.attributes['dora.bytes'], 3 * MiB + 5);
    assert.equal(worker.attributes['http.response.status_code'], 200);
    assert.equal(store.reduce((n, s) => n + Number(s.attributes['dora.bytes']), 0), 3 * MiB + 5, 'the store sent the file once');
    assert.equal(store[0]!.attributes['dora.mount'], '/');
  });

  it('shows a warm read as a cache hit with no store read', async () => {
    await client.readFile('/data/f.bin');
    await dora.worker.cache.flush({ untilIdle: true });
    exporter.reset();
    await client.readFile('/data/f.bin');
    const spans = exporter.getFinishedSpans();
    const worker = one(spans, (s) => s.name.startsWith('worker GET /v1/read'));
    assert.equal(worker.attributes['dora.cache'], 'hit');
    assert.equal(worker.attributes['dora.cache.pages_hit'], 4);
    assert.deepEqual(spans.filter((s) => s.name === 'ufs.read'), [], names(spans));
  });

  it('records a failed read with its error code', async () => {
    exporter.reset();
    await assert.rejects(client.readFile('/data/missing.bin'), { code: 'NOT_FOUND' });
    const read = one(exporter.getFinishedSpans(), (s) => s.name === 'dora.read');
    assert.equal(read.status.code, 2); // ERROR
    assert.equal(read.attributes['dora.error.code'], 'NOT_FOUND');
  });

  it('continues the trace an S3 client sends in traceparent', async () => {
    exporter.reset();
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await fetch(`${dora.s3Url}/data/f.bin`, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, 3 * MiB + 5);
    const s3 = one(exporter.getFinishedSpans(), (s) => s.name === 's3 GetObject');
    assert.equal(s3.spanContext().traceId, traceId);
    assert.equal(s3.parentSpanContext?.spanId, parentId);
    assert.equal(s3.attributes['dora.request_id'], res.headers.get('x-amz-request-id'));
  });

  it("carries the trace on from the coordinator to the workers it asks (the cluster summary)", async () => {
    exporter.reset();
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${dora.coordinatorUrl}/api/v1/cluster`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const spans = exporter.getFinishedSpans();
    const coordinator = one(spans, (s) => s.name === 'coordinator GET /api/v1/cluster');
    const worker = one(spans, (s) => s.name === 'worker GET /v1/cache');
    assert.equal(coordinator.spanContext().traceId, traceId);
    assert.equal(worker.parentSpanContext?.spanId, coordinator.spanContext().spanId);
  });

  it('traces a read the store served when no worker could (fallback): the store spans are children of the client span', async () => {
    const nowhere = await refusingAddress();
    const stranded = new DoraClient({ address: dora.coordinatorUrl, selector: () => new ConsistentHashSelector([{ id: 'gone', address: nowhere, state: 'live' }]) });
    try {
      exporter.reset();
      assert.equal((await stranded.readFile('/data/f.bin')).length, 3 * MiB + 5);
      assert.ok(stranded.stats().fallbacks >= 1);
      const spans = exporter.getFinishedSpans();
      const read = one(spans, (s) => s.name === 'dora.read');
      const store = spans.filter((s) => s.name === 'ufs.read');
      assert.ok(store.length >= 1, names(spans));
      for (const s of store) assert.equal(s.parentSpanContext?.spanId, read.spanContext().spanId, 'the store read is a child of the client span');
      assert.equal(store[0]!.attributes['dora.mount'], '/');
      assert.equal(store.reduce((n, s) => n + Number(s.attributes['dora.bytes']), 0), 3 * MiB + 5);
    } finally {
      await stranded.close();
    }
  });

  it('writes are traced from client to store too', async () => {
    exporter.reset();
    await client.write('/data/new.bin', randomBytes(1000));
    const spans = exporter.getFinishedSpans();
    const write = one(spans, (s) => s.name === 'dora.write');
    const worker = one(spans, (s) => s.name.startsWith('worker PUT /v1/write'));
    const store = one(spans, (s) => s.name === 'ufs.write');
    assert.equal(worker.parentSpanContext?.spanId, write.spanContext().spanId);
    assert.equal(store.spanContext().traceId, write.spanContext().traceId);
    assert.equal(write.attributes['dora.bytes'], 1000);
    assert.deepEqual([worker.attributes['dora.path'], worker.attributes['dora.mount'], worker.attributes['dora.bytes']], ['/data/new.bin', '/', 1000]);
    assert.deepEqual([store.attributes['dora.mount'], store.attributes['dora.bytes']], ['/', 1000]);
  });
});

function one(spans: readonly ReadableSpan[], match: (s: ReadableSpan) => boolean): ReadableSpan {
  const found = spans.filter(match);
  assert.equal(found.length, 1, `one matching span among: ${names(spans)}`);
  return found[0]!;
}

function names(spans: readonly ReadableSpan[]): string {
  return spans.map((s) => s.name).join(', ');
}

/** An OpenTelemetry HrTime in nanoseconds. */
function hr([seconds, nanos]: [number, number]): number {
  return seconds * 1e9 + nanos;
}
