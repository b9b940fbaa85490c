import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DoraClient } from '../src/client/dora-client.js';
import { ConsistentHashSelector } from '../src/hash/consistent-hash-selector.js';
import { ClientMetrics } from '../src/metrics/client-metrics.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { refusingAddress } from '../src/testing/free-port.js';
import { parsePrometheusText, scrape, type Scrape } from '../src/testing/prometheus-text.js';
import { until } from './cluster-helpers.js';

const MiB = 1024 * 1024;
const SIZE = 3 * MiB + 5; // four pages of 1 MiB
const DORA_BIN = fileURLToPath(new URL('../../bin/dora.js', import.meta.url));

// Metric values after known operations: every count is asserted exactly where the operation fixes
// it (a warm read), and as an exact total where timing splits it (a cold read's pages are a miss,
// or joined to, or found after, the read-ahead's fetch).
describe('metrics after known operations', () => {
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;
  const sdk = new ClientMetrics(new MetricsRegistry({ role: 'sdk', processMetrics: false }), 'sdk');
  const sdkValues = async () => parsePrometheusText((await sdk.registry.text()).body);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-metrics-'));
    dora = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '1MiB', 'web.historyInterval': '200ms' } });
    client = new DoraClient({ address: dora.coordinatorUrl, observe: sdk.observe, observeIo: sdk.observeIo });
    await mkdir(join(dir, 'data', 'root', 'sales'), { recursive: true });
    await writeFile(join(dir, 'data', 'root', 'sales', 'q1.bin'), randomBytes(SIZE)); // in the store, not cached
  });
  after(async () => {
    await client?.close();
    await dora?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const pageRequests = (s: Scrape, result?: string) => s.value('dora_cache_page_requests_total', { mount: '/', ...(result === undefined ? {} : { result }) });
  const served = (s: Scrape, source: 'cache' | 'store') => s.value('dora_cache_served_bytes_total', { mount: '/', source });

  it('a read twice: the first fetches every byte once, the second is all hits and bytes from cache', async () => {
    const before = await scrape(dora.workerUrl);
    assert.equal((await client.readFile('/sales/q1.bin')).length, SIZE);
    await dora.worker.cache.flush({ untilIdle: true });
    const cold = await scrape(dora.workerUrl);
    const delta = (name: string, labels: Record<string, string>) => cold.value(name, labels) - before.value(name, labels);
    assert.equal(pageRequests(cold) - pageRequests(before), 4, 'one request per page');
    assert.equal(served(cold, 'cache') + served(cold, 'store') - served(before, 'cache') - served(before, 'store'), SIZE);
    assert.ok(served(cold, 'store') - served(before, 'store') >= MiB, 'at least the first page came from the store');
    assert.equal(delta('dora_cache_fetched_bytes_total', { mount: '/' }), SIZE, 'every byte fetched once (by the reader or read-ahead)');
    assert.equal(delta('dora_ufs_read_bytes_total', { mount: '/' }), SIZE);
    assert.ok(delta('dora_ufs_requests_total', { mount: '/', op: 'read', outcome: 'ok' }) >= 1);
    assert.equal(cold.value('dora_cache_tier_pages', { tier: 'memory' }), 4);
    assert.equal(cold.value('dora_cache_tier_bytes', { tier: 'memory' }), SIZE);

    assert.equal((await client.readFile('/sales/q1.bin')).length, SIZE);
    const warm = await scrape(dora.workerUrl);
    assert.deepEqual(
      { hits: pageRequests(warm, 'hit') - pageRequests(cold, 'hit'), misses: pageRequests(warm, 'miss') - pageRequests(cold, 'miss'), joined: pageRequests(warm, 'joined') - pageRequests(cold, 'joined') },
      { hits: 4, misses: 0, joined: 0 },
    );
    assert.equal(served(warm, 'cache') - served(cold, 'cache'), SIZE);
    assert.equal(served(warm, 'store'), served(cold, 'store'));
    assert.equal(warm.value('dora_ufs_read_bytes_total', { mount: '/' }), cold.value('dora_ufs_read_bytes_total', { mount: '/' }), 'nothing more read from the store');
    assert.equal(warm.value('dora_cache_hit_ratio', { mount: '/' }), pageRequests(warm, 'hit') / pageRequests(warm));
    const tier = (s: Scrape, name: 'hits' | 'misses') => s.value(`dora_cache_tier_${name}_total`, { tier: 'memory' });
    assert.deepEqual({ hits: tier(warm, 'hits') - tier(cold, 'hits'), misses: tier(warm, 'misses') - tier(cold, 'misses') }, { hits: 4, misses: 0 }, 'the memory tier answered every page');

    // The summary the coordinator and CLI show counts the same.
    const summary = dora.worker.cacheSummary();
    assert.deepEqual(
      { hits: summary.hits, misses: summary.misses, joined: summary.joined, fromCache: summary.bytesFromCache, fromStore: summary.bytesFromStore },
      { hits: pageRequests(warm, 'hit'), misses: pageRequests(warm, 'miss') + pageRequests(warm, 'joined'), joined: pageRequests(warm, 'joined'), fromCache: served(warm, 'cache'), fromStore: served(warm, 'store') },
    );

    // The application's side: two whole reads through the SDK.
    const app = await sdkValues();
    assert.equal(app.value('dora_io_seconds_count', { interface: 'sdk', op: 'read' }), 2);
    assert.equal(app.value('dora_io_bytes_total', { interface: 'sdk', op: 'read' }), 2 * SIZE);
  });

  it('a ranged read counts the bytes sent, not whole pages', async () => {
    const before = await scrape(dora.workerUrl);
    const bytes = await new Promise<number>((resolve, reject) => {
      let n = 0;
      void client.read('/sales/q1.bin', { offset: MiB - 10, length: 20 }).then((stream) => stream.on('data', (c: Buffer) => (n += c.length)).on('end', () => resolve(n)).on('error', reject), reject);
    });
    assert.equal(bytes, 20);
    const now = await scrape(dora.workerUrl);
    assert.equal(pageRequests(now, 'hit') - pageRequests(before, 'hit'), 2, 'two pages touched');
    assert.equal(served(now, 'cache') - served(before, 'cache'), 20);
  });

  it('counts store failures by mount, operation and error code', async () => {
    const before = await scrape(dora.workerUrl);
    await assert.rejects(client.readFile('/sales/missing.bin'), { code: 'NOT_FOUND' });
    const now = await scrape(dora.workerUrl);
    assert.ok(now.value('dora_ufs_requests_total', { mount: '/', op: 'stat', outcome: 'NOT_FOUND' }) > before.value('dora_ufs_requests_total', { mount: '/', op: 'stat', outcome: 'NOT_FOUND' }));
    assert.ok(now.value('dora_ufs_request_seconds_count', { mount: '/', op: 'stat' }) > before.value('dora_ufs_request_seconds_count', { mount: '/', op: 'stat' }));
    assert.equal((await sdkValues()).value('dora_io_seconds_count', { interface: 'sdk', op: 'read' }), 4, 'a failed read is timed too');
  });

  it('counts SDK writes by bytes and latency, and the worker the bytes it wrote to the store', async () => {
    const before = await sdkValues();
    const worker = await scrape(dora.workerUrl);
    const summary = dora.worker.cacheSummary();
    await client.write('/sales/sdk.bin', randomBytes(4321));
    await client.write('/sales/sdk-empty.bin', Buffer.alloc(0));
    const now = await sdkValues();
    const d = (name: string) => now.value(name, { interface: 'sdk', op: 'write' }) - before.value(name, { interface: 'sdk', op: 'write' });
    assert.equal(d('dora_io_bytes_total'), 4321);
    assert.equal(d('dora_io_seconds_count'), 2);
    const written = (await scrape(dora.workerUrl)).value('dora_worker_written_bytes_total', { mount: '/' }) - worker.value('dora_worker_written_bytes_total', { mount: '/' });
    assert.equal(written, 4321);
    assert.equal(dora.worker.cacheSummary().bytesWritten - summary.bytesWritten, 4321);
  });

  it('counts a read the store served when no worker could (fallback)', async () => {
    const metrics = new ClientMetrics(new MetricsRegistry({ role: 'sdk', processMetrics: false }), 'sdk');
    const nowhere = await refusingAddress();
    const stranded = new DoraClient({
      address: dora.coordinatorUrl,
      observe: metrics.observe,
      observeIo: metrics.observeIo,
      selector: () => new ConsistentHashSelector([{ id: 'gone', address: nowhere, state: 'live' }]),
    });
    try {
      assert.equal((await stranded.readFile('/sales/q1.bin')).length, SIZE);
      const values = parsePrometheusText((await metrics.registry.text()).body);
      assert.equal(values.value('dora_routing_events_total', { event: 'fallback' }), stranded.stats().fallbacks);
      assert.ok(values.value('dora_routing_events_total', { event: 'fallback' }) >= 1);
      assert.equal(values.value('dora_io_bytes_total', { interface: 'sdk', op: 'read' }), SIZE);
    } finally {
      await stranded.close();
    }
  });

  it('shows the progress of each running job, and drops it once the job ends', async () => {
    await mkdir(join(dir, 'data', 'root', 'slow'), { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(join(dir, 'data', 'root', 'slow', `f${i}.bin`), randomBytes(512 * 1024));
    const job = await client.jobs.submit({ kind: 'load', path: '/slow', bandwidth: 512 * 1024 }); // 2 MiB at 512 KiB/s: about 4 s
    try {
      await until(async () => (await client.jobs.status(job.id)).progress.bytesDone > 0, 'the job moves its first bytes', 10_000);
      const seen = (await client.jobs.status(job.id)).progress;
      const running = await scrape(dora.coordinatorUrl);
      const files = (count: string) => running.value('dora_job_files', { id: job.id, kind: 'load', count });
      assert.equal((await client.jobs.status(job.id)).state, 'running', 'still running after the scrape');
      assert.ok(files('done') >= seen.filesDone && files('done') < 4, `done ${files('done')} of 4`);
      assert.ok(files('total') >= 1 && files('total') >= files('done'), `listed ${files('total')}: the gauge is there`);
      assert.equal(files('failed'), 0);
      assert.ok(running.value('dora_job_bytes', { id: job.id, kind: 'load' }) >= seen.bytesDone);
    } finally {
      await client.jobs.stop(job.id);
    }
    await until(async () => (await client.jobs.status(job.id)).state === 'stopped', 'the job stops');
    const ended = await scrape(dora.coordinatorUrl);
    assert.equal(ended.samples.some((x) => x.labels['id'] === job.id), false, 'an ended job leaves the progress gauges');
    assert.equal(ended.value('dora_jobs', { kind: 'load', state: 'stopped' }), 1);
  });

  it('counts S3 requests by operation and status, and S3 reads and writes by bytes', async () => {
    const before = await scrape(dora.workerUrl);
    const get = await fetch(`${dora.s3Url}/sales/q1.bin`);
    assert.equal((await get.arrayBuffer()).byteLength, SIZE);
    const put = await fetch(`${dora.s3Url}/sales/new.txt`, { method: 'PUT', body: 'x'.repeat(1234) });
    assert.equal(put.status, 200);
    assert.equal((await fetch(`${dora.s3Url}/sales/absent.txt`, { method: 'HEAD' })).status, 404);
    const now = await scrape(dora.workerUrl);
    const d = (name: string, labels: Record<string, string>) => now.value(name, labels) - before.value(name, labels);
    assert.equal(d('dora_s3_requests_total', { operation: 'GetObject', status: '200' }), 1);
    assert.equal(d('dora_s3_requests_total', { operation: 'PutObject', status: '200' }), 1);
    assert.equal(d('dora_s3_requests_total', { operation: 'HeadObject', status: '404' }), 1);
    assert.equal(d('dora_io_bytes_total', { interface: 's3', op: 'read' }), SIZE);
    assert.equal(d('dora_io_bytes_total', { interface: 's3', op: 'write' }), 1234);
    assert.equal(d('dora_io_seconds_count', { interface: 's3', op: 'read' }), 1);
  });

  it('the coordinator counts workers, mounts, jobs and its own requests, and summarizes every worker', async () => {
    const job = await client.jobs.submit({ kind: 'load', path: '/sales' });
    await until(async () => (await client.jobs.status(job.id)).state === 'succeeded', 'the load job succeeds');
    const coordinator = await scrape(dora.coordinatorUrl);
    assert.equal(coordinator.value('dora_workers', { state: 'live' }), 1);
    assert.equal(coordinator.value('dora_mounts'), 1);
    assert.equal(coordinator.value('dora_jobs', { kind: 'load', state: 'succeeded' }), 1);
    assert.equal(coordinator.value('dora_coordinator_leader'), 1);

    const summary = await client.cluster.summary();
    const cache = dora.worker.cacheSummary();
    assert.deepEqual(summary.totals, {
      workers: 1,
      live: 1,
      capacityBytes: cache.capacityBytes,
      usedBytes: cache.bytes,
      pages: cache.pages,
      hits: cache.hits,
      misses: cache.misses,
      hitRatio: cache.hits / (cache.hits + cache.misses),
      bytesFromCache: cache.bytesFromCache,
      bytesFromStore: cache.bytesFromStore,
      bytesWritten: cache.bytesWritten,
    });
    assert.equal(summary.workers[0]?.id, 'worker-0');
    assert.equal(summary.jobs?.succeeded, 1);
    const after = await scrape(dora.coordinatorUrl);
    assert.equal(after.value('dora_http_request_seconds_count', { route: 'GET /api/v1/cluster', status: '200' }), coordinator.value('dora_http_request_seconds_count', { route: 'GET /api/v1/cluster', status: '200' }) + 1);

    // The CLI shows the same figures.
    const { stdout } = await promisify(execFile)(process.execPath, [DORA_BIN, '--address', dora.coordinatorUrl, 'info', 'cluster', '--json']);
    const shown = JSON.parse(stdout) as typeof summary;
    assert.deepEqual(shown.totals, (await client.cluster.summary()).totals);
    const { stdout: text } = await promisify(execFile)(process.execPath, [DORA_BIN, '--address', dora.coordinatorUrl, 'info', 'cluster']);
    assert.match(text, /1 of 1 workers live, 1 mounts; jobs: 0 running, 1 succeeded/);
    assert.match(text, /; written: [\d.]+ [KMG]?i?B to stores\n/);
    assert.match(text, /worker-0 +live/);
  });

  it('keeps a history of hit ratio and throughput, one point per interval', async () => {
    const start = Date.now();
    await client.readFile('/sales/q1.bin');
    await until(async () => (await client.cluster.history()).points.some((p) => p.time > start && p.cacheBytesPerSecond > 0), 'a point shows the read');
    const { intervalMs, points } = await client.cluster.history();
    assert.equal(intervalMs, 200);
    const read = points.find((p) => p.time > start && p.cacheBytesPerSecond > 0)!;
    assert.equal(read.hitRatio, 1, 'the read was all hits');
    assert.equal(read.storeBytesPerSecond, 0);
    assert.ok(points.every((p, i) => i === 0 || p.time > points[i - 1]!.time), 'oldest first');
    const wrote = Date.now();
    await client.write('/sales/history.bin', randomBytes(100_000));
    await until(async () => (await client.cluster.history()).points.some((p) => p.time > wrote && p.writeBytesPerSecond > 0), 'a point shows the write');
  });
});

describe('evictions', () => {
  it('are counted by tier when the cache is smaller than what is read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dora-evict-'));
    const dora = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '1MiB', 'cache.memory.capacity': '2MiB', 'cache.disk.capacity': '0' } });
    const client = new DoraClient({ address: dora.coordinatorUrl });
    try {
      await writeFile(join(dir, 'data', 'root', 'big.bin'), randomBytes(6 * MiB));
      await client.readFile('/big.bin');
      await dora.worker.cache.flush({ untilIdle: true });
      const s = await scrape(dora.workerUrl);
      assert.ok(s.value('dora_cache_tier_pages', { tier: 'memory' }) <= 2);
      assert.equal(s.value('dora_cache_tier_capacity_bytes', { tier: 'memory' }), 2 * MiB);
      assert.ok(s.value('dora_cache_tier_evictions_total', { tier: 'memory' }) >= 4, 'six pages through a two-page tier');
      assert.equal(s.types.get('dora_cache_tier_evictions_total'), 'counter');
    } finally {
      await client.close();
      await dora.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
