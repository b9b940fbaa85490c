// A closed-loop HTTP load generator on undici, run as a process of its own (never inside the
// process it measures), for what wrk cannot do: wrk 4.1 never completes a HEAD whose answer
// carries a Content-Length, because its parser then waits for a body that does not come.
// `connections` keep-alive connections each keep one request in flight (no pipelining, as wrk;
// HEADs too, which undici would otherwise follow by closing the connection),
// asking for random keys among the small objects of wrk-small-objects.ts, and every answer's
// status and length is checked. Prints one line: `LOAD_RESULT {json}`.
//
//   node dist/bench/undici-load.js --url http://127.0.0.1:PORT --method GET|HEAD --prefix /bench/obj-
//        --count N --size BYTES [--connections 32] [--seconds 5]
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { positiveInt, runCommand } from './bench-tools.js';
import type { SmallObjectResult, SmallObjectTarget } from './wrk-small-objects.js';
import { smallObjectPath } from './wrk-small-objects.js';

const SCRIPT = fileURLToPath(import.meta.url);

/** Runs this file as a child node process against `target`; resolves to what it measured. */
export async function runUndiciLoad(target: SmallObjectTarget, options: { connections: number; seconds: number }): Promise<SmallObjectResult> {
  const args = [
    SCRIPT,
    '--url', target.baseUrl,
    '--method', target.method,
    '--prefix', target.prefix,
    '--count', String(target.count),
    '--size', String(target.size),
    '--connections', String(options.connections),
    '--seconds', String(options.seconds),
  ];
  const { code, stdout, stderr } = await runCommand(process.execPath, args);
  const line = /^LOAD_RESULT (.*)$/m.exec(stdout)?.[1];
  if (code !== 0 || line === undefined) throw new Error(`Cannot run "node ${args.join(' ')}": exited with ${code}:\n${stdout}\n${stderr}`);
  return JSON.parse(line) as SmallObjectResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      url: { type: 'string' },
      method: { type: 'string', default: 'GET' },
      prefix: { type: 'string' },
      count: { type: 'string' },
      size: { type: 'string' },
      connections: { type: 'string', default: '32' },
      seconds: { type: 'string', default: '5' },
    },
  });
  if (values.url === undefined || values.prefix === undefined || values.count === undefined || values.size === undefined) throw new Error('Cannot run the load: --url, --prefix, --count and --size are required');
  const method = values.method === 'HEAD' ? 'HEAD' : 'GET';
  const count = positiveInt('count', values.count);
  const size = positiveInt('size', values.size);
  const connections = positiveInt('connections', values.connections);
  const paths = Array.from({ length: count }, (_, i) => smallObjectPath(values.prefix ?? '', i));
  const pool = new Pool(values.url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  let requests = 0;
  let bad = 0;
  let statusErrors = 0;
  let socketErrors = 0;
  const deadline = performance.now() + positiveInt('seconds', values.seconds) * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        // reset: false, or undici closes the connection after every HEAD (for servers that send a body anyway).
        const { statusCode, headers, body } = await pool.request({ path: paths[Math.floor(Math.random() * count)]!, method, reset: false });
        const length = method === 'HEAD' ? Number(headers['content-length']) : (await body.arrayBuffer()).byteLength;
        if (method === 'HEAD') await body.dump();
        if (statusCode >= 400) statusErrors++;
        if (statusCode !== 200 || length !== size) bad++;
      } catch {
        socketErrors++;
      }
      requests++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  const result: SmallObjectResult = { requests, seconds, opsPerSecond: requests / seconds, bad, statusErrors, socketErrors };
  console.log(`LOAD_RESULT ${JSON.stringify(result)}`);
}

if (process.argv[1] === SCRIPT) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  });
}
