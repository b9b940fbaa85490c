// Process, HTTP and file helpers shared by the cache benchmarks: clean-up that survives Ctrl-C,
// readers in separate processes (curl), Prometheus scraping, RSS sampling and test files.
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';

/** Clean-up steps run once, last added first, however the benchmark ends. */
export class Cleanup {
  readonly #steps: Array<() => Promise<unknown>> = [];
  #running: Promise<void> | undefined;

  /** Adds a step; returns `value` so it reads `const x = cleanup.add(await start(), () => x.stop())`. */
  add<T>(value: T, step: (value: T) => Promise<unknown>): T {
    this.#steps.push(() => step(value));
    return value;
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
        await step().catch((error: unknown) => console.error(`clean-up step failed: ${String(error)}`));
      }
    })();
    return this.#running;
  }
}

/**
 * Runs a benchmark's main function with a Cleanup that runs when it returns, throws, or the
 * process gets SIGINT / SIGTERM (then exits 130). Failures print their stack and exit 1.
 */
export function runBench(main: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    console.error(`\n${signal}: stopping servers and removing temp files`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  main(cleanup)
    .catch((error: unknown) => {
      if (interrupted) return; // the failure is the servers going away under us
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    })
    .finally(() => cleanup.run())
    .finally(() => process.off('SIGINT', onSignal).off('SIGTERM', onSignal))
    .catch(() => undefined);
}

/** `text` as a positive integer, or an error naming the option. */
export function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(text)}: not a positive integer`);
  return n;
}

/** `"1,4"` → `[1, 4]`: a list of positive integers. */
export function positiveInts(name: string, text: string): number[] {
  return text.split(',').map((part) => positiveInt(name, part.trim()));
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, keeping its output (the last 64 KiB of each stream). `signal` kills it (SIGTERM) and rejects. */
export function runCommand(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, ...(options.signal === undefined ? {} : { signal: options.signal }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-65536)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-65536)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The first line a command prints about its version (stdout or stderr). Rejects with `install`
 * in the message when the command is missing.
 */
export async function commandVersion(command: string, args: readonly string[], install: string): Promise<string> {
  try {
    const { stdout, stderr } = await runCommand(command, args);
    return (stdout.trim() || stderr.trim()).split('\n')[0] ?? '';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(`Cannot run the benchmark: "${command}" is not installed${install === '' ? '' : `; run \`${install}\``}`);
  }
}

/** The status of a GET, or undefined when nothing answers. */
export function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('error', () => resolve(undefined));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

/** The body of a GET as text; rejects on a status other than 200. */
export function httpText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`Cannot GET ${url}: ${res.statusCode}: ${body.slice(0, 500)}`));
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** The value of one Prometheus series, e.g. `metric(text, 'dora_cache_page_requests_total', { result: 'miss' })`; 0 when absent. */
export function metric(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const have = (match[2] ?? '').split(',');
    if (wanted.every((label) => have.includes(label))) return Number(match[3]);
  }
  return 0;
}

export interface CurlResult {
  readonly bytes: number;
  /** curl's own time_total, seconds. */
  readonly seconds: number;
  readonly status: number;
}

export const CURL_INSTALL = 'apt-get install -y curl';

/**
 * GETs `url` with curl (a separate process, writing the body to /dev/null). Rejects when curl
 * fails or is missing; a status of 400 or more is returned, not thrown, so callers check it.
 */
export async function curlGet(url: string, headers: readonly string[] = []): Promise<CurlResult> {
  let result: CommandResult;
  try {
    result = await runCommand('curl', ['-s', '-S', '-o', '/dev/null', '-w', '%{size_download} %{time_total} %{http_code}', ...headers.flatMap((h) => ['-H', h]), url]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`Cannot run the benchmark: "curl" is not installed; run \`${CURL_INSTALL}\``);
    throw error;
  }
  if (result.code !== 0) throw new Error(`Cannot GET ${url} with curl: exited with ${result.code}: ${result.stderr.trim()}`);
  const [bytes, seconds, status] = result.stdout.trim().split(' ').map(Number);
  return { bytes: bytes ?? 0, seconds: seconds ?? 0, status: status ?? 0 };
}

/** Memory of a process from /proc/<pid>/status: resident now and its peak (VmHWM), in bytes. */
export async function processMemory(pid: number): Promise<{ rss: number; peakRss: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peakRss: kib('VmHWM') };
}

/** Writes `size` random bytes to `path` (8 MiB at a time). */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  const handle = await open(path, 'w');
  try {
    for (let left = size; left > 0; left -= chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, left));
      randomFillSync(piece);
      await handle.write(piece);
    }
  } finally {
    await handle.close();
  }
}

/**
 * `2 vCPUs (AMD EPYC), 24 GiB RAM, Node v20.20.2, load 0.52`: the machine, for the report's first
 * line. The load average (1 minute, as the report is printed) shows whether anything else ran.
 */
export function machineLine(): string {
  const cpu = cpus();
  return `${cpu.length} vCPUs (${cpu[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`;
}

/** `n` bytes as MiB or GiB, e.g. `"512 MiB"`. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toPrecision(3)} GiB`;
  return `${(n / 2 ** 20).toPrecision(3)} MiB`;
}

/** The aws CLI's environment for a test server: its key, empty config and credentials files, no inherited AWS_* settings. */
export async function awsEnvironment(server: { accessKeyId: string; secretAccessKey: string; region: string }, dir: string): Promise<NodeJS.ProcessEnv> {
  const config = join(dir, 'aws-config');
  const credentials = join(dir, 'aws-credentials');
  await writeFile(config, '');
  await writeFile(credentials, '');
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return {
    ...env,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** `count` curl processes GET `url` at once; resolves to the wall time until all are done. Throws unless each got 200 and `expected` bytes. */
export async function curlAtOnce(url: string, count: number, expected: number): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: count }, () => curlGet(url)));
  const ms = performance.now() - started;
  for (const r of results) {
    if (r.status !== 200 || r.bytes !== expected) throw new Error(`Cannot trust a GET of ${url}: status ${r.status}, ${r.bytes} of ${expected} bytes`);
  }
  return ms;
}
