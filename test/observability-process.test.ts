import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { DoraClient } from '../src/client/dora-client.js';
import { until } from './cluster-helpers.js';

const DORA_BIN = fileURLToPath(new URL('../../bin/dora.js', import.meta.url));

/** A span as an OTLP/HTTP JSON export carries it (the fields checked here). */
interface OtlpSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
}

// A `dora start` process with tracing exported over OTLP to a receiver here and debug logs on
// stderr; this test process is the application: it registers its own OpenTelemetry tracer provider
// (spans in memory), as any instrumented service does, and sets nothing of dora's.
describe('a dora process observed from outside', () => {
  const appSpans = new InMemorySpanExporter();
  const appTracing = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appSpans)] });
  const received: OtlpSpan[] = [];
  let receiver: Server;
  let dir: string;
  let dora: ChildProcess;
  let stderr = '';
  let urls: { web: string; worker: string; s3: string };
  let client: DoraClient;

  before(async () => {
    appTracing.register();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(...otlpSpans(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
    dir = await mkdtemp(join(tmpdir(), 'dora-observed-'));
    const ready = join(dir, 'ready.json');
    dora = spawn(
      process.execPath,
      [DORA_BIN, 'start', '--data-dir', join(dir, 'data'), '--web-port', '0', '--worker-port', '0', '--s3-port', '0', '--ready-file', ready,
        '--set', 'trace.exporter=otlp', '--set', `trace.endpoint=${endpoint}`, '--set', 'log.level=debug'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    dora.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    await until(async () => (await readFile(ready, 'utf8').catch(() => '')).endsWith('\n'), `dora start serves (stderr: ${stderr})`, 30_000);
    urls = JSON.parse(await readFile(ready, 'utf8')) as typeof urls;
    client = new DoraClient({ address: urls.web });
    await mkdir(join(dir, 'data', 'root', 'logs'), { recursive: true });
    await writeFile(join(dir, 'data', 'root', 'logs', 'day1.bin'), randomBytes(300_000));
  });
  after(async () => {
    await client?.close();
    if (dora !== undefined && dora.exitCode === null) {
      dora.kill('SIGKILL');
      await new Promise((resolve) => dora.once('exit', resolve));
    }
    await appTracing.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("continues the application's trace in the dora process and exports it over OTLP", async () => {
    const appTracer = trace.getTracer('the-application');
    const bytes = await appTracer.startActiveSpan('handle request', async (span) => {
      try {
        return await client.readFile('/logs/day1.bin');
      } finally {
        span.end();
      }
    });
    assert.equal(bytes.length, 300_000);
    const read = appSpans.getFinishedSpans().find((s) => s.name === 'dora.read');
    const own = appSpans.getFinishedSpans().find((s) => s.name === 'handle request');
    assert.ok(read !== undefined && own !== undefined, 'the SDK recorded its span with the provider the application registered');
    assert.equal(read.parentSpanContext?.spanId, own.spanContext().spanId, "dora.read is a child of the application's span");
    assert.equal(read.attributes['dora.bytes'], 300_000);
    const traceId = read.spanContext().traceId;
    const ofTrace = () => received.filter((s) => s.traceId === traceId);
    // Spans are exported in batches (every 5 s): wait for the worker's and the store's.
    await until(async () => ofTrace().some((s) => s.name === 'ufs.read'), `the store span arrives (got ${JSON.stringify(ofTrace())})`, 20_000);
    const worker = ofTrace().find((s) => s.name === 'worker GET /v1/read');
    assert.ok(worker !== undefined, JSON.stringify(ofTrace()));
    assert.equal(worker.service, 'dora-embedded');
    assert.equal(worker.parentSpanId, read.spanContext().spanId, 'the worker span is a child of the application span');
    const store = ofTrace().find((s) => s.name === 'ufs.read')!;
    assert.equal(store.parentSpanId, worker.spanId, 'the store span is a child of the worker span');
  });

  it('writes JSON log lines with levels, and the request id on every line about a request', async () => {
    const res = await fetch(`${urls.worker}/v1/stat?path=${encodeURIComponent('/logs/day1.bin')}`, { headers: { 'x-request-id': 'observed-test-1' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'observed-test-1', 'the id the caller sent is kept');
    // Without one, an answer carries an id only when it is an error: the id its log line has.
    assert.equal((await fetch(`${urls.web}/api/v1/mounts`)).headers.get('x-request-id'), null);
    const failed = await fetch(`${urls.web}/api/v1/no-such-route`);
    assert.equal(failed.status, 404);
    const id = failed.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9A-F]{16}$/);
    const lines = () => stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    await until(async () => lines().some((l) => l['requestId'] === id && l['status'] === 404), 'the failed coordinator request is logged with that id');
    for (const line of lines()) {
      assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(String(line['level'])), JSON.stringify(line));
      assert.equal(typeof line['time'], 'string');
      assert.equal(typeof line['msg'], 'string');
      assert.equal(line['role'], 'embedded');
    }
    const stat = lines().find((l) => l['requestId'] === 'observed-test-1');
    assert.deepEqual({ level: stat?.['level'], msg: stat?.['msg'], server: stat?.['server'], status: stat?.['status'], route: stat?.['route'] }, { level: 'debug', msg: 'request', server: 'worker', status: 200, route: 'GET /v1/stat' });
    assert.equal(typeof stat?.['ms'], 'number');
    // A traced request's line carries its trace id too.
    const traced = lines().filter((l) => l['route'] === 'GET /v1/read' && typeof l['traceId'] === 'string');
    assert.ok(traced.length >= 1, 'the traced read is logged with its trace id');
    assert.ok(lines().some((l) => l['msg'] === 'dora serving' && l['level'] === 'info'));
  });

  it('stops cleanly on SIGTERM, sending its last spans', async () => {
    dora.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => dora.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr.slice(-2000));
    assert.match(stderr, /"msg":"dora stopping"/);
  });
});

/** The spans of an OTLP/HTTP JSON export request. */
function otlpSpans(body: string): OtlpSpan[] {
  type KeyValue = { key: string; value: { stringValue?: string } };
  const json = JSON.parse(body) as {
    resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, string>> }> }>;
  };
  return (json.resourceSpans ?? []).flatMap((rs) => {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({ service, traceId: s['traceId'] ?? '', spanId: s['spanId'] ?? '', parentSpanId: s['parentSpanId'] ?? '', name: s['name'] ?? '' })),
    );
  });
}
