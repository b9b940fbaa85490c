// `dora start` (a coordinator and a worker) as a child process, for benchmarks that measure the
// worker apart from its clients: its RSS, its CPU profile.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { MountRequest } from '../src/mount/mount-info.js';
import { commandVersion } from './bench-tools.js';

export interface DoraWorkerProcessOptions {
  readonly dataDir: string;
  /** Configuration keys for `--set`, e.g. `{ 'cache.memory.capacity': '1200MiB' }`. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Mounts added through the coordinator's REST API once it serves. */
  readonly mounts?: readonly MountRequest[];
  /** More arguments of `dora start`, e.g. `['--fuse', mountPoint]`. */
  readonly args?: readonly string[];
  /** Options for node itself, e.g. `['--cpu-prof', '--cpu-prof-dir', dir]`. */
  readonly nodeArgs?: readonly string[];
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export interface DoraWorkerProcess {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly workerUrl: string;
  readonly coordinatorUrl: string;
  /** The S3-compatible API, e.g. `http://127.0.0.1:41235`. */
  readonly s3Url: string;
  /** The node process serving all three. */
  readonly pid: number;
  /** SIGTERM (dora stops cleanly, writing a CPU profile if asked), SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

const DORA = fileURLToPath(new URL('../../bin/dora.js', import.meta.url));

/**
 * Runs `node bin/dora.js start` on free ports with a ready file in `dataDir`, and waits until it
 * serves. On Linux it is started through `setpriv --pdeathsig SIGTERM`, so it stops if this
 * process dies, however it dies. Rejects with the child's output if it exits or is not ready in time.
 */
export async function startDoraWorkerProcess(options: DoraWorkerProcessOptions): Promise<DoraWorkerProcess> {
  const readyFile = join(options.dataDir, 'bench-ready.json');
  await mkdir(options.dataDir, { recursive: true });
  await rm(readyFile, { force: true }); // a previous run's would look ready at once
  const sets = Object.entries(options.flags ?? {}).map(([key, value]) => `${key}=${value}`);
  const command = [
    process.execPath,
    ...(options.nodeArgs ?? []),
    DORA,
    'start',
    '--data-dir',
    options.dataDir,
    '--web-port',
    '0',
    '--worker-port',
    '0',
    '--s3-port',
    '0',
    '--ready-file',
    readyFile,
    ...(options.args ?? []),
    ...(sets.length > 0 ? ['--set', ...sets] : []),
  ];
  const wrapped = (await hasSetpriv()) ? ['setpriv', '--pdeathsig', 'SIGTERM', '--', ...command] : command;
  const child = spawn(wrapped[0]!, wrapped.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let ready: { web: string; worker: string; s3: string } | undefined;
    while (ready === undefined) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Cannot start dora: it exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`Cannot start dora: not ready after ${options.timeoutMs ?? 30_000} ms:\n${output}`);
      ready = await readFile(readyFile, 'utf8').then((text) => JSON.parse(text) as { web: string; worker: string; s3: string }, () => undefined);
      if (ready === undefined) await sleep(50);
    }
    for (const mount of options.mounts ?? []) await postJson(`${ready.web}/api/v1/mounts`, mount);
    return { workerUrl: ready.worker, coordinatorUrl: ready.web, s3Url: ready.s3, pid: child.pid ?? 0, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

let setpriv: Promise<boolean> | undefined;
function hasSetpriv(): Promise<boolean> {
  setpriv ??= commandVersion('setpriv', ['--version'], '').then(
    () => true,
    () => false,
  );
  return setpriv;
}

function postJson(url: string, body: unknown): Promise<void> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let answer = '';
      res.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      res.once('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`Cannot POST ${url}: ${res.statusCode}: ${answer}`))));
    });
    req.once('error', reject);
    req.end(text);
  });
}
