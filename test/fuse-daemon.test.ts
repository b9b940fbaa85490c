import assert from 'node:assert/strict';
import { scrape } from '../src/testing/prometheus-text.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { sha256 } from '../src/testing/assertions.js';
import { startProcess, waitUntilReady } from '../src/testing/child-process.js';
import { startPythonHttpServer } from '../src/testing/python-http-server.js';
import { startLocalCluster, type LocalCluster, type LocalWorker } from '../src/testing/local-cluster.js';
import { detachMounts, mountsAt } from '../src/fuse/mount-points.js';
import { until, within } from './cluster-helpers.js';
import { DORA_BIN, sha256sum, startFuseDaemon, startSlowReader, type FuseDaemon } from './fuse-helpers.js';

// `dora fuse mount` runs as a process of its own, so this process may use the mount directly. Dora
// itself runs in this process where it is embedded: bulk reads of the mount still go through child
// processes, so they never hold every libuv thread that the embedded worker needs to answer them.
const run = promisify(execFile);
const MiB = 1024 * 1024;

/** A temp directory and the FUSE daemons started under it; `cleanup` stops them, detaches every mount point, then removes it. */
class Scratch {
  dir = '';
  readonly #daemons: FuseDaemon[] = [];
  readonly #mountPoints = new Set<string>();

  async create(): Promise<string> {
    this.dir = await realpath(await mkdtemp(join(tmpdir(), 'dora-fuse-daemon-'))); // mountinfo lists real paths
    return this.dir;
  }

  /** Starts `dora fuse mount <dir>/<name>` against the coordinator at `address`, with `settings` (`fuse.*` keys). */
  async daemon(address: string, name: string, settings: Readonly<Record<string, string>> = {}): Promise<FuseDaemon> {
    const mountPoint = join(this.dir, name);
    this.track(mountPoint);
    const daemon = await startFuseDaemon(address, mountPoint, { settings });
    this.#daemons.push(daemon);
    return daemon;
  }

  /** Detached in cleanup even if what mounts there fails half-way. */
  track(mountPoint: string): void {
    this.#mountPoints.add(mountPoint);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#daemons.map((d) => d.process.stop(3000)));
    for (const mountPoint of this.#mountPoints) await detachMounts(mountPoint).catch(() => undefined);
    const left = (await Promise.all([...this.#mountPoints].map(async (m) => ((await mountsAt(m)) > 0 ? [m] : [])))).flat();
    // Never recurse into a mount: rm would delete the files it serves.
    if (left.length > 0) throw new Error(`Cannot remove ${this.dir}: still mounted at ${left.join(', ')}`);
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Random bytes written straight to the store at `path`; answers their sha256. */
async function storeFile(path: string, bytes: number): Promise<string> {
  const data = randomBytes(bytes);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
  return sha256(data);
}

describe('dora fuse mount as a process of its own', () => {
  const scratch = new Scratch();
  let dora: Embedded | undefined;
  /** sha256 by dora path: four files of 20–30 MiB, and one for four readers at once. */
  const hashes = new Map<string, string>();
  const parts = [0, 1, 2, 3].map((i) => `/data/part-${i}.bin`);

  before(async () => {
    const dir = await scratch.create();
    dora = await startEmbedded({ dataDir: join(dir, 'dora') });
    const root = join(dir, 'dora', 'root'); // the store of '/'
    await writeFile(join(root, 'hello.txt'), 'hello, daemon\n');
    for (const [i, path] of [...parts, '/data/shared.bin'].entries()) hashes.set(path, await storeFile(join(root, path), (20 + 2 * i) * MiB + 1000 * i + 7));
  });
  after(async () => {
    try {
      await scratch.cleanup();
    } finally {
      await dora?.stop();
    }
  });

  it('exits with status 0 on SIGTERM, unmounted, and the mount point is an ordinary directory again', async () => {
    const daemon = await scratch.daemon(dora!.coordinatorUrl, 'term');
    const mountPoint = daemon.mountPoint;
    assert.equal(await readFile(join(mountPoint, 'hello.txt'), 'utf8'), 'hello, daemon\n');
    assert.notEqual((await stat(mountPoint)).dev, (await stat(scratch.dir)).dev, 'a file system of its own while mounted');

    daemon.process.child.kill('SIGTERM');
    assert.equal(await within(daemon.exited, 10_000, 'the daemon exits after SIGTERM'), 0, daemon.process.output());
    assert.equal(await mountsAt(mountPoint), 0, 'gone from /proc/self/mountinfo');
    assert.equal((await stat(mountPoint)).dev, (await stat(scratch.dir)).dev);
    assert.deepEqual(await readdir(mountPoint), []);
    await writeFile(join(mountPoint, 'plain.txt'), 'plain');
    assert.deepEqual(await readdir(mountPoint), ['plain.txt']);
    assert.equal(await readFile(join(mountPoint, 'plain.txt'), 'utf8'), 'plain');
  });

  it('leaves ENOTCONN when SIGKILLed; a daemon started on the same mount point serves the files again', async () => {
    const first = await scratch.daemon(dora!.coordinatorUrl, 'crash');
    const mountPoint = first.mountPoint;
    assert.equal(await sha256sum(join(mountPoint, parts[1]!)), hashes.get(parts[1]!));

    first.process.child.kill('SIGKILL');
    assert.equal(await within(first.exited, 10_000, 'the daemon dies of SIGKILL'), null);
    await assert.rejects(stat(mountPoint), { code: 'ENOTCONN' });
    await assert.rejects(readFile(join(mountPoint, 'hello.txt')), { code: 'ENOTCONN' });
    await assert.rejects(run('cat', [join(mountPoint, 'hello.txt')]), /Transport endpoint is not connected/);
    assert.equal(await mountsAt(mountPoint), 1, 'the dead mount stays until someone unmounts it');

    const second = await scratch.daemon(dora!.coordinatorUrl, 'crash');
    assert.equal(await mountsAt(mountPoint), 1, 'the dead mount was replaced, not mounted over');
    assert.equal((await run('cat', [join(mountPoint, 'hello.txt')])).stdout, 'hello, daemon\n');
    assert.equal(await sha256sum(join(mountPoint, parts[1]!)), hashes.get(parts[1]!));
    assert.deepEqual((await readdir(join(mountPoint, 'data'))).sort(), ['part-0.bin', 'part-1.bin', 'part-2.bin', 'part-3.bin', 'shared.bin']);
    await second.process.stop();
  });

  it('refuses a mount point another daemon serves, and ends with status 0 once its mount was removed by dora fuse unmount', async () => {
    const daemon = await scratch.daemon(dora!.coordinatorUrl, 'shared-point');
    await assert.rejects(startFuseDaemon(dora!.coordinatorUrl, daemon.mountPoint, { timeoutMs: 10_000 }), /Mountpoint in use/);
    assert.equal(await mountsAt(daemon.mountPoint), 1);
    assert.equal(await readFile(join(daemon.mountPoint, 'hello.txt'), 'utf8'), 'hello, daemon\n', 'the first daemon still serves');

    await run(process.execPath, [DORA_BIN, 'fuse', 'unmount', daemon.mountPoint]);
    assert.equal(await mountsAt(daemon.mountPoint), 0);
    // The kernel transport sees its mount go and ends by itself; libfuse cannot tell, and waits for SIGTERM.
    const ended = await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(() => resolve('running'), 5000).unref())]);
    if (ended === 'running') daemon.process.child.kill('SIGTERM');
    assert.equal(await within(daemon.exited, 10_000, 'the daemon exits'), 0, daemon.process.output());
  });

  it('mounts beside the worker with dora start --fuse, and unmounts on SIGTERM', async () => {
    const mountPoint = join(scratch.dir, 'beside');
    scratch.track(mountPoint);
    const server = startProcess(process.execPath, [DORA_BIN, 'start', '--data-dir', join(scratch.dir, 'beside-data'), '--web-port', '0', '--worker-port', '0', '--s3-port', '0', '--fuse', mountPoint]);
    try {
      await waitUntilReady(server, async () => server.output().includes('FUSE') && (await mountsAt(mountPoint)) > 0, 'dora start --fuse');
      await writeFile(join(scratch.dir, 'beside-data', 'root', 'note.txt'), 'beside the worker\n');
      assert.equal((await run('cat', [join(mountPoint, 'note.txt')])).stdout, 'beside the worker\n');
      await storeFile(join(scratch.dir, 'beside-data', 'root', 'big.bin'), 12 * MiB + 5).then(async (hash) => assert.equal(await sha256sum(join(mountPoint, 'big.bin')), hash));
      server.child.kill('SIGTERM');
      assert.equal(await within(new Promise((resolve) => server.child.once('exit', resolve)), 15_000, 'dora start exits after SIGTERM'), 0, server.output());
      assert.equal(await mountsAt(mountPoint), 0);
    } finally {
      await server.stop();
    }
  });

  it('answers EIO when a store cannot be reached, and logs it as a JSON warn line naming the operation, path, code and a request id', async () => {
    const web = await startPythonHttpServer();
    await dora!.mounts.add({ path: '/unreachable', uri: `${web.url}/` });
    await web.stop(); // mounted while it answered; gone now
    try {
      const daemon = await scratch.daemon(dora!.coordinatorUrl, 'unreachable', { 'ufs.retry.maxAttempts': '1' });
      await assert.rejects(stat(join(daemon.mountPoint, 'unreachable', 'a.bin')), { code: 'EIO' });
      const failedLine = (): Record<string, unknown> | undefined =>
        daemon.process.output().split('\n').filter((l) => l.startsWith('{"')).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'fuse request failed');
      await until(async () => failedLine() !== undefined, 'the daemon logs the failed request', 10_000);
      const line = failedLine();
      assert.equal(line?.['level'], 'warn');
      assert.match(String(line?.['path']), /^\/unreachable(\/a\.bin)?$/, 'the kernel looks up /unreachable first (libfuse asks getattr of the whole path)');
      assert.equal(line?.['errno'], 'EIO');
      assert.equal(line?.['code'], 'UNAVAILABLE');
      assert.match(String(line?.['op']), /^(lookup|getattr)$/);
      assert.match(String(line?.['requestId']), /^[0-9A-F]{16}$/);
      assert.equal(await readFile(join(daemon.mountPoint, 'hello.txt'), 'utf8'), 'hello, daemon\n', 'the rest of the namespace is served');
      await daemon.process.stop();
    } finally {
      await dora!.mounts.remove('/unreachable');
    }
  });

  it('serves sha256sum of four files in parallel, and of one file to four readers at once', async () => {
    const daemon = await scratch.daemon(dora!.coordinatorUrl, 'parallel');
    const paths = [...parts, ...Array.from({ length: 4 }, () => '/data/shared.bin')];
    const digests = await Promise.all(paths.map((path) => sha256sum(join(daemon.mountPoint, path))));
    assert.deepEqual(digests, paths.map((path) => hashes.get(path)));
    await daemon.process.stop();
  });
});

describe('dora fuse mount over a cache smaller than the file', () => {
  const scratch = new Scratch();
  let dora: Embedded | undefined;
  let hash = '';
  const SIZE = 64 * MiB + 4321;
  const CACHE = { 'cache.pageSize': '1MiB', 'cache.memory.capacity': '8MiB', 'cache.disk.capacity': '16MiB' };

  before(async () => {
    const dir = await scratch.create();
    dora = await startEmbedded({ dataDir: join(dir, 'dora'), flags: CACHE });
    hash = await storeFile(join(dir, 'dora', 'root', 'big.bin'), SIZE);
  });
  after(async () => {
    try {
      await scratch.cleanup();
    } finally {
      await dora?.stop();
    }
  });

  it('reads a 64 MiB file right twice through an 8 MiB memory and 16 MiB disk cache', async () => {
    // Without the kernel's page cache across opens, the second read reaches the worker again.
    const daemon = await scratch.daemon(dora!.coordinatorUrl, 'mnt', { 'fuse.kernelCache': 'off', 'metrics.port': '0' });
    const served = (): number => dora!.worker.cacheSummary().bytesFromStore + dora!.worker.cacheSummary().bytesFromCache;
    for (const read of ['first', 'second']) {
      const before = served();
      assert.equal(await sha256sum(join(daemon.mountPoint, 'big.bin')), hash, `${read} read`);
      assert.ok(served() - before >= SIZE, `the worker served the ${read} read: ${served() - before} bytes`);
    }
    const cache = dora!.worker.cacheSummary();
    for (const tier of cache.tiers) assert.ok(tier.bytes <= tier.capacityBytes, `${tier.name} holds ${tier.bytes} of ${tier.capacityBytes} bytes`);
    assert.ok(cache.bytesFetched >= 2 * SIZE - 24 * MiB, `the file did not fit, so the second read went to the store too: ${JSON.stringify(cache)}`);
    // A write through the mount, by a process of its own (cp), so this event loop stays free to serve it.
    const written = join(scratch.dir, 'to-write.bin');
    await writeFile(written, randomBytes(3 * MiB + 11));
    await run('cp', [written, join(daemon.mountPoint, 'written.bin')]);
    // The daemon's own metrics: the kernel's reads and writes through the FUSE interface.
    const metricsUrl = /metrics at (http:\/\/\S+)\/metrics/.exec(daemon.process.output())?.[1];
    assert.ok(metricsUrl !== undefined, daemon.process.output());
    const fuse = await scrape(metricsUrl);
    assert.ok(fuse.value('dora_io_bytes_total', { interface: 'fuse', op: 'read' }) >= 2 * SIZE);
    assert.ok(fuse.value('dora_io_seconds_count', { interface: 'fuse', op: 'read' }) >= (2 * SIZE) / (1024 * 1024), 'one observation per kernel read (at most 1 MiB each)');
    assert.equal(fuse.value('dora_io_bytes_total', { interface: 'fuse', op: 'write' }), 3 * MiB + 11);
    assert.ok(fuse.value('dora_io_seconds_count', { interface: 'fuse', op: 'write' }) >= 3, 'one observation per kernel write (at most 1 MiB each)');
    assert.equal(fuse.value('dora_info', { role: 'fuse' }), 1);
    await daemon.process.stop();
  });
});

describe('dora fuse mount on a cluster losing a worker mid-read', () => {
  const scratch = new Scratch();
  let cluster: LocalCluster | undefined;
  let hash = '';
  const SIZE = 64 * MiB + 99;

  before(async () => {
    const dir = await scratch.create();
    cluster = await startLocalCluster({ workers: 3 });
    hash = await storeFile(join(dir, 'store', 'big.bin'), SIZE);
    await cluster.mount({ path: '/data', uri: `file://${join(dir, 'store')}` }); // one directory every worker reaches
    await until(() => cluster!.client().stat('/data/big.bin').then(() => true, () => false), 'the file\'s owner follows the new mount'); // workers follow the mount table asynchronously
  });
  after(async () => {
    try {
      await scratch.cleanup();
    } finally {
      await cluster?.stop();
    }
  });

  it('finishes a slow read with the right bytes when the worker serving it is SIGKILLed', async () => {
    const c = cluster!;
    const [ownerId, nextId] = (await c.client().owners('/data/big.bin', { replicas: 2 })).map((w) => w.id);
    const [owner, next] = [ownerId, nextId].map((id) => c.workers.find((w) => w.id === id) ?? assert.fail(`no worker ${id} in the preference list of /data/big.bin`));
    const daemon = await scratch.daemon(c.coordinatorUrl, 'mnt');
    const served = async (worker: LocalWorker): Promise<number> => {
      const cache = await worker.cache();
      return cache.bytesFromStore + cache.bytesFromCache;
    };

    const reader = startSlowReader(join(daemon.mountPoint, 'data', 'big.bin'), { chunkBytes: MiB, pauseMs: 20 });
    await within(reader.readAtLeast(8 * MiB), 20_000, 'the reader reads 8 MiB');
    if (reader.received() < 8 * MiB) await reader.finish().catch((e: unknown) => assert.fail(`${String(e)}\n${daemon.process.output()}`));
    assert.ok((await served(owner!)) >= 8 * MiB, `the owner serves the read: ${JSON.stringify(await Promise.all(c.workers.map(async (w) => [w.id === owner!.id, await served(w).catch(() => -1)])))}`);
    const nextBefore = await served(next!);
    await owner!.kill();
    const atKill = reader.received();
    assert.ok(atKill < SIZE / 2, `the read is still in progress when the owner dies (${atKill} of ${SIZE} bytes read)`);

    assert.equal(await within(reader.finish(), 30_000, 'the reader finishes'), hash);
    const byNext = (await served(next!)) - nextBefore;
    assert.ok(byNext >= (SIZE - atKill) / 2, `the next worker of the preference list served the rest: ${byNext} bytes`);
    assert.ok(daemon.process.child.exitCode === null, `the daemon still runs:\n${daemon.process.output()}`);
    await daemon.process.stop();
  });
});
