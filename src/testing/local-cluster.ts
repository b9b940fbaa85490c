import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DoraClientOptions } from '../client/client-options.js';
import type { CacheSummary, WorkerInfo } from '../client/client-types.js';
import { DoraClient } from '../client/dora-client.js';
import { envVarName } from '../conf/read-config-env.js';
import type { MountRequest } from '../mount/mount-info.js';
import { startProcess, type ManagedProcess } from './child-process.js';
import { startEtcdServer, type EtcdServer } from './etcd-server.js';

/** bin/dora.js of this checkout: this module runs compiled, from dist/src/testing/. */
const DORA_BIN = fileURLToPath(new URL('../../../bin/dora.js', import.meta.url));
/** Every process of a local cluster: a short lease, so a killed worker leaves the ring in about a second. */
const DEFAULT_SET: Readonly<Record<string, string>> = { 'membership.leaseTtl': '1s' };
const POLL_MS = 50;

export interface LocalClusterOptions {
  /** Workers to start; default 3. */
  workers?: number;
  /** Coordinators to start; default 1. */
  coordinators?: 1 | 2;
  /** Configuration for every process (`--set key=value`), over `membership.leaseTtl=1s`. */
  set?: Readonly<Record<string, string>>;
  /** Mounts added through the first coordinator once every process serves (see `mount`). */
  mounts?: readonly MountRequest[];
  /** How long one process may take to serve. Default 30 s. */
  timeoutMs?: number;
}

/** A `dora worker` process; the fields follow its current run (they change on restart). */
export interface LocalWorker {
  /** Kept in the data directory: the same across restarts. */
  readonly id: string;
  readonly workerUrl: string;
  readonly s3Url: string;
  readonly dataDir: string;
  readonly running: boolean;
  /** Resolves with the exit status of the current run (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** SIGKILL: its registration stays until its lease ends. Resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s): it leaves the membership at once. Resolves with the exit status. */
  stop(): Promise<number | null>;
  /** Stops it if it runs, starts it on the same data directory (new ports), waits until the coordinators list it. */
  restart(): Promise<void>;
  /** Its page cache now (`GET /v1/cache`). */
  cache(): Promise<LocalWorkerCache>;
  /** The last few KiB of its output. */
  output(): string;
}

/** A worker's `GET /v1/cache`: its counters, and pages and bytes summed over its tiers. */
export type LocalWorkerCache = CacheSummary;

/** A `dora coordinator` process. */
export interface LocalCoordinator {
  readonly url: string;
  readonly running: boolean;
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
  stop(): Promise<number | null>;
  output(): string;
}

/** What `cli()` answers. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A real cluster on this machine for multi-process tests: an etcd, coordinators and workers,
 * each a `node bin/dora.js` process on free ports with its own temp data directory. `stop()`
 * kills every process and removes every directory; processes are also killed if the test
 * process exits first (and, through setpriv, if it is killed).
 */
export class LocalCluster {
  readonly etcd: EtcdServer;
  readonly coordinators: LocalCoordinator[] = [];
  /** Every worker started, in start order, running or not. */
  readonly workers: LocalWorker[] = [];
  readonly #root: string;
  readonly #set: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;
  readonly #processes = new Set<DoraProcess>();
  readonly #clients = new Set<DoraClient>();
  readonly #killOnExit = (): void => {
    for (const p of this.#processes) p.killNow();
  };
  /** Resolves once the first coordinators serve: workers are awaited in their lists only then. */
  #coordinatorsStarted: Promise<unknown> = Promise.resolve();
  #workerNames = 0;
  #stopping: Promise<void> | undefined;

  private constructor(etcd: EtcdServer, root: string, options: LocalClusterOptions) {
    this.etcd = etcd;
    this.#root = root;
    this.#set = { ...DEFAULT_SET, ...options.set };
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    process.on('exit', this.#killOnExit);
  }

  /** Starts etcd, then the coordinators and workers side by side; cleans up everything if one fails. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const root = await mkdtemp(join(tmpdir(), 'dora-cluster-'));
    let etcd: EtcdServer;
    try {
      etcd = await startEtcdServer();
    } catch (error) {
      await rm(root, { recursive: true, force: true });
      throw error;
    }
    const cluster = new LocalCluster(etcd, root, options);
    try {
      const coordinators = Promise.all(Array.from({ length: options.coordinators ?? 1 }, () => cluster.#startCoordinator()));
      cluster.#coordinatorsStarted = coordinators.catch(() => undefined);
      await Promise.all([coordinators, ...Array.from({ length: options.workers ?? 3 }, () => cluster.addWorker())]);
      for (const mount of options.mounts ?? []) await cluster.mount(mount);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** The first coordinator still running. */
  get coordinatorUrl(): string {
    const coordinator = this.coordinators.find((c) => c.running) ?? this.coordinators[0];
    if (coordinator === undefined) throw new Error('Cannot name a coordinator: the cluster has none');
    return coordinator.url;
  }

  /** Starts one more worker in a new data directory; resolves once the coordinators list it. */
  async addWorker(): Promise<LocalWorker> {
    const worker = this.#process('worker', `worker-${this.#workerNames++}`, ['--worker-port', '0', '--s3-port', '0'], (w) => this.#awaitListed(w));
    this.workers.push(worker);
    await worker.start();
    return worker;
  }

  /** A client of the first running coordinator, closed by `stop()`. */
  client(options: DoraClientOptions = {}): DoraClient {
    const virtualNodes = this.#set['cluster.virtualNodes'];
    const client = new DoraClient({ address: this.coordinatorUrl, ...(virtualNodes === undefined ? {} : { virtualNodes: Number(virtualNodes) }), ...options });
    this.#clients.add(client);
    return client;
  }

  /** The workers the coordinator (default the first running) lists now. */
  async nodes(coordinatorUrl = this.coordinatorUrl): Promise<WorkerInfo[]> {
    const res = await fetch(`${coordinatorUrl}/api/v1/nodes`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`Cannot list the workers at ${coordinatorUrl}: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { workers: WorkerInfo[] }).workers;
  }

  /** Polls the coordinator's worker list until `predicate` holds; throws with the last list after `timeoutMs`. */
  async waitForNodes(predicate: (workers: readonly WorkerInfo[]) => boolean, timeoutMs = 10_000, coordinatorUrl?: string): Promise<WorkerInfo[]> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const workers = await this.nodes(coordinatorUrl);
        if (predicate(workers)) return workers;
        last = workers;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) throw new Error(`The workers were not as expected after ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
      await sleep(POLL_MS);
    }
  }

  /** Adds a mount through the first running coordinator, then waits until every running worker serves it. */
  async mount(request: MountRequest): Promise<void> {
    const res = await fetch(`${this.coordinatorUrl}/api/v1/mounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    if (res.status !== 201) throw new Error(`Cannot mount ${request.uri} at ${request.path}: HTTP ${res.status} ${await res.text()}`);
    const deadline = Date.now() + this.#timeoutMs;
    for (const worker of this.workers.filter((w) => w.running)) {
      const stat = `${worker.workerUrl}/v1/stat?${new URLSearchParams({ path: request.path })}`;
      while ((await fetch(stat).then((r) => r.status, () => 0)) !== 200) {
        if (Date.now() > deadline) throw new Error(`Worker ${worker.id} does not serve the mount ${request.path} after ${this.#timeoutMs} ms`);
        await sleep(POLL_MS);
      }
    }
  }

  /** Runs `dora --address <coordinator> ...args` to its end (killed after `timeoutMs`, default 30 s). */
  cli(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
    const env = childEnv();
    for (const [key, value] of Object.entries(this.#set)) env[envVarName(key)] = value; // the client agrees on the ring
    const child = spawn(process.execPath, [DORA_BIN, '--address', this.coordinatorUrl, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Closes the clients, kills every process (etcd included) and removes the temp directories. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.allSettled([...this.#clients].map((c) => c.close()));
      await Promise.allSettled([...this.#processes].map((p) => p.kill()));
      await this.etcd.stop().catch(() => undefined);
      process.off('exit', this.#killOnExit);
      await rm(this.#root, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this.#stopping;
  }

  async #startCoordinator(): Promise<LocalCoordinator> {
    const coordinator = this.#process('coordinator', `coordinator-${this.coordinators.length}`, ['--web-port', '0'], async () => undefined);
    this.coordinators.push(coordinator);
    await coordinator.start();
    return coordinator;
  }

  #process(role: 'worker' | 'coordinator', name: string, ports: readonly string[], started: (self: DoraProcess) => Promise<void>): DoraProcess {
    const dataDir = join(this.#root, name);
    const sets = Object.entries(this.#set).map(([key, value]) => `${key}=${value}`);
    const proc = new DoraProcess(dataDir, [role, '--etcd', this.etcd.endpoints.join(','), '--data-dir', dataDir, ...ports], { sets, timeoutMs: this.#timeoutMs, started });
    this.#processes.add(proc);
    return proc;
  }

  /** Resolves once every running coordinator lists `worker` live at its current address. */
  async #awaitListed(worker: LocalWorker): Promise<void> {
    await this.#coordinatorsStarted;
    const listed = (workers: readonly WorkerInfo[]): boolean => workers.some((w) => w.id === worker.id && w.address === worker.workerUrl && w.state === 'live');
    await Promise.all(this.coordinators.filter((c) => c.running).map((c) => this.waitForNodes(listed, this.#timeoutMs, c.url)));
  }
}

/** Starts a local cluster; see LocalCluster. */
export function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  return LocalCluster.start(options);
}

/** The first of `${prefix}-0`, `${prefix}-1`, … that the ring places on worker `workerId` (owner first). */
export async function pathOwnedBy(client: DoraClient, workerId: string, prefix: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const path = `${prefix}-${i}`;
    if ((await client.owners(path))[0]?.id === workerId) return path;
  }
  throw new Error(`No path ${prefix}-<n> is owned by worker ${workerId}`);
}

/**
 * One dora server process across its runs: the same arguments and data directory, a fresh ready
 * file each run. It is the handle of a worker and of a coordinator alike.
 */
class DoraProcess implements LocalWorker, LocalCoordinator {
  readonly dataDir: string;
  readonly #args: readonly string[];
  readonly #sets: readonly string[];
  readonly #timeoutMs: number;
  /** Runs after each start: a worker waits until the coordinators list it. */
  readonly #started: (self: DoraProcess) => Promise<void>;
  #runs = 0;
  #proc: ManagedProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  /** The current run's ready file: `{worker, s3, id}` or `{web}`. */
  #endpoints: Readonly<Record<string, string>> = {};

  /** `args`: the command and its flags; `sets`: `key=value` pairs for --set. */
  constructor(dataDir: string, args: readonly string[], options: { sets: readonly string[]; timeoutMs: number; started: (self: DoraProcess) => Promise<void> }) {
    this.dataDir = dataDir;
    this.#args = args;
    this.#sets = options.sets;
    this.#timeoutMs = options.timeoutMs;
    this.#started = options.started;
  }

  get id(): string {
    return this.#endpoints['id'] ?? '';
  }
  get workerUrl(): string {
    return this.#endpoints['worker'] ?? '';
  }
  get s3Url(): string {
    return this.#endpoints['s3'] ?? '';
  }
  get url(): string {
    return this.#endpoints['web'] ?? '';
  }
  get exited(): Promise<number | null> {
    return this.#exited;
  }
  get running(): boolean {
    const child = this.#proc?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  output(): string {
    return this.#proc?.output() ?? '';
  }

  async cache(): Promise<LocalWorkerCache> {
    const res = await fetch(`${this.workerUrl}/v1/cache`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`Cannot read the cache of worker ${this.id}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as LocalWorkerCache;
  }

  /** Starts a run and resolves once it serves (its ready file written, SIGTERM handled). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`Cannot start ${this.#args[0]} in ${this.dataDir}: it is running`);
    await mkdir(this.dataDir, { recursive: true });
    const readyFile = join(this.dataDir, `ready-${this.#runs++}.json`);
    // --set is variadic: it and its values go last.
    const command = [process.execPath, DORA_BIN, ...this.#args, '--ready-file', readyFile, '--set', ...this.#sets];
    const proc = startProcess(command[0]!, command.slice(1), { env: childEnv() });
    this.#proc = proc;
    this.#exited = new Promise((resolve) => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) resolve(proc.child.exitCode);
      else proc.child.once('exit', (code) => resolve(code));
    });
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`Cannot start ${this.#args[0]} in ${this.dataDir}: it exited with ${proc.child.exitCode ?? proc.child.signalCode}:\n${proc.output()}`);
      const ready = await readFile(readyFile, 'utf8').then((text) => JSON.parse(text) as Record<string, string>, () => undefined);
      // The line on stdout follows the ready file; once it is out, SIGTERM stops the process cleanly.
      if (ready !== undefined && proc.output().includes('is serving')) {
        this.#endpoints = ready;
        break;
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`Cannot start ${this.#args[0]} in ${this.dataDir}: not ready after ${this.#timeoutMs} ms:\n${proc.output()}`);
      }
      await sleep(POLL_MS);
    }
    await this.#started(this);
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start();
  }

  async kill(): Promise<void> {
    this.killNow();
    await this.#exited;
  }

  /** SIGKILL without waiting: for the test process's exit hook. */
  killNow(): void {
    if (this.running) this.#proc?.child.kill('SIGKILL');
  }

  async stop(): Promise<number | null> {
    await this.#proc?.stop(10_000);
    return this.#exited;
  }
}

/** The test process's environment without DORA_* settings, which would leak into the cluster's configuration. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const name of Object.keys(env)) if (name.startsWith('DORA_')) delete env[name];
  return env;
}
