import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { WorkerInfo } from '../src/client/client-types.js';
import type { DoraClient } from '../src/client/dora-client.js';
import { isActive, type JobCounts, type JobRecord, type JobSpec } from '../src/job/job-types.js';
import { sha256 } from '../src/testing/assertions.js';
import type { LocalCoordinator, LocalWorker } from '../src/testing/local-cluster.js';
import { isInternalName } from '../src/ufs/local/local-sidecar.js';
import { s3ClusterFixture, until, within } from './cluster-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Puts to moto at once while seeding. */
const SEED_PARALLEL = 64;

/** A file put in the bucket: its dora path (under /data), its key in the bucket and its bytes. */
interface Seeded {
  readonly path: string;
  readonly key: string;
  readonly data: Buffer;
}

const total = (files: readonly Seeded[]): number => files.reduce((sum, f) => sum + f.data.length, 0);

/** `count` sizes from `min` to `max` bytes, spread evenly but not in order. */
function sizes(count: number, min: number, max: number): number[] {
  return Array.from({ length: count }, (_, i) => min + ((i * 7919) % (max - min + 1)));
}

/** `fn` over `items`, `parallel` at a time. */
async function eachParallel<T>(items: readonly T[], parallel: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
    }),
  );
}

/** Every file under a host directory (dora's own sidecars and temporary files left out), by relative path. */
async function hostFiles(dir: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    if (!entry.isFile() || isInternalName(entry.name)) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(full.slice(dir.length + 1), await readFile(full));
  }
  return files;
}

// One cluster for the file: two coordinators (one leads and runs the jobs), three workers, moto at /data.
// Each test seeds its own files; the worker it kills is restarted, and the coordinator killed last stays dead.
describe('jobs in a cluster of two coordinators and three workers', () => {
  const env = s3ClusterFixture('jobs', { coordinators: 2 });
  const live = env.live;
  let localDir = '';

  before(async () => {
    localDir = await mkdtemp(join(tmpdir(), 'dora-jobs-local-'));
    await env.cluster.mount({ path: '/local', uri: `file://${localDir}` });
  });
  after(async () => {
    if (localDir !== '') await rm(localDir, { recursive: true, force: true });
  });

  /** Puts one file of each size (random bytes) under `prefix` in the bucket. */
  const seed = async (prefix: string, fileSizes: readonly number[], name = (i: number) => `file-${String(i).padStart(4, '0')}.bin`): Promise<Seeded[]> => {
    const files = fileSizes.map((size, i) => {
      const key = `${prefix}/${name(i)}`;
      return { key, path: `/data/${key}`, data: randomBytes(size) };
    });
    await within(
      eachParallel(files, SEED_PARALLEL, (f) => env.bucket.write(f.key, f.data).then(() => undefined)),
      90_000,
      `putting ${files.length} files under ${prefix}`,
    );
    return files;
  };
  /** The sha256 of an object read straight from the bucket. */
  const bucketSha = async (key: string): Promise<string> => {
    const hash = createHash('sha256');
    for await (const chunk of (await env.bucket.read(key)).stream as AsyncIterable<Buffer>) hash.update(chunk);
    return hash.digest('hex');
  };
  /** The job once it ended (polled), or a failure naming its last state after `timeoutMs`. */
  const ended = async (sdk: DoraClient, id: string, timeoutMs = 30_000): Promise<JobRecord> => {
    let job = await sdk.jobs.status(id);
    await until(async () => !isActive((job = await sdk.jobs.status(id)).state), `job ${id} ends`, timeoutMs).catch((error: unknown) =>
      assert.fail(`${error instanceof Error ? error.message : String(error)}; last: ${job.state} ${JSON.stringify(job.progress)}`),
    );
    return job;
  };
  const run = async (sdk: DoraClient, spec: JobSpec, timeoutMs = 30_000): Promise<JobRecord> => ended(sdk, (await sdk.jobs.submit(spec)).id, timeoutMs);
  /** Pages summed over every live worker's tiers. */
  const pagesCached = async (): Promise<number> => (await Promise.all(live().map((w) => w.cache()))).reduce((sum, c) => sum + c.pages, 0);
  /** Asserts that each file's owner holds all of it: loading it there (in batches, per owner) fetches nothing. */
  const assertCachedOnOwners = async (sdk: DoraClient, files: readonly Seeded[]): Promise<void> => {
    const byOwner = new Map<string, { owner: WorkerInfo; files: Seeded[] }>();
    for (const f of files) {
      const [owner] = await sdk.owners(f.path);
      if (owner === undefined) assert.fail(`no owner for ${f.path}`);
      if (!byOwner.has(owner.id)) byOwner.set(owner.id, { owner, files: [] });
      byOwner.get(owner.id)!.files.push(f);
    }
    const uncached: string[] = [];
    for (const { owner, files: owned } of byOwner.values()) {
      for (let i = 0; i < owned.length; i += 500) {
        const batch = owned.slice(i, i + 500);
        const answers = await sdk.loadOn(owner, batch.map((f) => f.path));
        batch.forEach((f, k) => {
          const loaded = answers[k]?.loaded;
          if (loaded?.pagesFetched !== 0 || loaded.size !== f.data.length) uncached.push(`${f.path} on ${owner.id}: ${JSON.stringify(answers[k])}`);
        });
      }
    }
    assert.deepEqual(uncached.slice(0, 10), [], `${uncached.length} of ${files.length} files were not cached on their owner`);
  };
  const leaderOf = async (coordinator: LocalCoordinator): Promise<{ self: string; leader: string | null; isLeader: boolean }> => {
    const res = await fetch(`${coordinator.url}/api/v1/leader`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    return (await res.json()) as { self: string; leader: string | null; isLeader: boolean };
  };

  it('loads 2,000 small files over three workers: counted to the byte, each file cached on its owner', async () => {
    const files = await seed('many', sizes(2000, 2 * KiB, 8 * KiB));
    const sdk = env.cluster.client();
    const job = await run(sdk, { kind: 'load', path: '/data/many' }, 120_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.failures.slice(0, 3)));
    const { progress } = job;
    assert.deepEqual(
      [progress.filesListed, progress.bytesListed, progress.listed, progress.filesDone, progress.bytesDone, progress.filesSkipped, progress.filesFailed],
      [2000, total(files), true, 2000, total(files), 0, 0],
    );
    assert.deepEqual(job.failures, []);
    const owners = new Set(await Promise.all(files.map(async (f) => (await sdk.owners(f.path))[0]!.id)));
    assert.equal(owners.size, 3, 'the files are spread over the three workers');
    await assertCachedOnOwners(sdk, files);
  });

  it('free drops every page of the files loaded, on every worker, and counts the files dropped', async () => {
    const files = await seed('to-free', sizes(100, 4 * KiB, 12 * KiB));
    const sdk = env.cluster.client();
    // Earlier tests' pages may still be on their way to disk: start from a count that holds still.
    let pagesBefore = -1;
    await until(async () => pagesBefore === (pagesBefore = await pagesCached()), 'the page count holds still', 10_000);
    const loaded = await run(sdk, { kind: 'load', path: '/data/to-free' });
    assert.equal(loaded.state, 'succeeded');
    assert.ok((await pagesCached()) >= pagesBefore + files.length, 'the load cached a page of each file');

    const freed = await run(sdk, { kind: 'free', path: '/data/to-free' });
    assert.equal(freed.state, 'succeeded', JSON.stringify(freed.failures));
    assert.deepEqual([freed.progress.filesDone, freed.progress.filesFailed], [files.length, 0], 'each file dropped once, by its owner');
    assert.ok(freed.progress.bytesDone >= total(files), `the bytes dropped: ${freed.progress.bytesDone}`);
    assert.equal(await pagesCached(), pagesBefore, 'the pages cached are those from before the load');
    // And from each owner's side: a load must fetch every page again.
    await eachParallel(files, 32, async (f) => assert.equal((await sdk.load(f.path))[0]?.pagesFetched, 1, `${f.path} is no longer cached`));
  });

  it('keeps a load within its bandwidth (1 MiB/s over 5 MiB: within 10%)', async (t) => {
    const files = await seed('paced', new Array<number>(20).fill(256 * KiB));
    const sdk = env.cluster.client();
    const bandwidth = MiB;
    const started = Date.now();
    const job = await run(sdk, { kind: 'load', path: '/data/paced', bandwidth });
    assert.equal(job.state, 'succeeded');
    assert.equal(job.progress.bytesDone, total(files));
    const seconds = ((job.endedAt ?? assert.fail('an ended job has endedAt')) - started) / 1000;
    const rate = job.progress.bytesDone / seconds;
    t.diagnostic(`${(rate / MiB).toFixed(3)} MiB/s over ${seconds.toFixed(2)} s`);
    assert.ok(rate >= 0.8 * bandwidth && rate <= 1.1 * bandwidth, `${(rate / MiB).toFixed(3)} MiB/s over ${seconds.toFixed(2)} s, for a limit of 1 MiB/s`);
  });

  it('stops a running load through the SDK: it ends stopped part way and stays stopped', async () => {
    const files = await seed('stopped', sizes(100, 3 * KiB, 6 * KiB));
    const sdk = env.cluster.client();
    const { id } = await sdk.jobs.submit({ kind: 'load', path: '/data/stopped', bandwidth: 50 * KiB }); // ~9 s
    await until(async () => (await sdk.jobs.status(id)).progress.filesDone >= 10, 'the load is under way', 15_000);
    const stopped = await within(sdk.jobs.stop(id), 15_000, `stopping job ${id}`);
    assert.equal(stopped.state, 'stopped');
    const done = stopped.progress.filesDone;
    assert.ok(done >= 10 && done < files.length, `${done} of ${files.length} files done`);
    await sleep(1000);
    const later = await sdk.jobs.status(id);
    assert.deepEqual([later.state, later.progress.filesDone], ['stopped', done], 'nothing ran after the stop');
    assert.equal((await sdk.jobs.list()).find((j) => j.id === id)?.state, 'stopped');
  });

  it('copies S3 to a local directory and back byte for byte, skips identical files, refuses a differing one, and moves local to S3', async () => {
    const small = await seed('tree', sizes(12, 0, 40 * KiB), (i) => ['', 'a/', 'a/b/', 'a/b/c/'][i % 4] + `f-${i}.bin`);
    const large = await seed('tree/big', [3 * MiB + 7, 20 * MiB + 13]);
    const files = [...small, ...large];
    const rel = (f: Seeded): string => f.key.slice('tree/'.length);
    const expected = new Map(files.map((f) => [rel(f), sha256(f.data)]));
    const sdk = env.cluster.client();
    const hostShas = async (dir: string): Promise<Map<string, string>> => new Map([...(await hostFiles(dir))].map(([path, data]) => [path, sha256(data)]));

    const toLocal = await run(sdk, { kind: 'copy', from: '/data/tree', to: '/local/tree' }, 60_000);
    assert.equal(toLocal.state, 'succeeded', JSON.stringify(toLocal.failures));
    assert.deepEqual([toLocal.progress.filesDone, toLocal.progress.bytesDone], [files.length, total(files)]);
    assert.deepEqual(await hostShas(join(localDir, 'tree')), expected, 'every file on disk, byte for byte');

    const toS3 = await run(sdk, { kind: 'copy', from: '/local/tree', to: '/data/back' }, 60_000);
    assert.equal(toS3.state, 'succeeded', JSON.stringify(toS3.failures));
    assert.equal(toS3.progress.filesDone, files.length);
    for (const f of files) assert.equal(await bucketSha(`back/${rel(f)}`), sha256(f.data), `back/${rel(f)} in the bucket`);

    const again = await run(sdk, { kind: 'copy', from: '/data/tree', to: '/local/tree' }, 60_000);
    assert.equal(again.state, 'succeeded', JSON.stringify(again.failures));
    assert.deepEqual([again.progress.filesDone, again.progress.filesFailed], [files.length, 0], 'identical files already there count as done');

    const changed = small.find((f) => f.data.length > 0)!;
    const changedOnDisk = join(localDir, 'tree', rel(changed));
    const other = randomBytes(changed.data.length + 1);
    await writeFile(changedOnDisk, other);
    const clash = await run(sdk, { kind: 'copy', from: '/data/tree', to: '/local/tree' }, 60_000);
    assert.equal(clash.state, 'failed');
    assert.deepEqual([clash.progress.filesDone, clash.progress.filesFailed], [files.length - 1, 1]);
    assert.deepEqual(
      clash.failures.map((f) => [f.path, f.code]),
      [[changed.path, 'ALREADY_EXISTS']],
    );
    assert.equal(sha256(await readFile(changedOnDisk)), sha256(other), 'the differing file is left as it was');

    const moving = await hostShas(join(localDir, 'tree'));
    const moved = await run(sdk, { kind: 'move', from: '/local/tree', to: '/data/moved' }, 60_000);
    assert.equal(moved.state, 'succeeded', JSON.stringify(moved.failures));
    assert.equal(moved.progress.filesDone, files.length);
    assert.deepEqual([...(await hostFiles(join(localDir, 'tree'))).keys()], [], 'no source file is left');
    await assert.rejects(sdk.stat('/local/tree'), { code: 'NOT_FOUND' }, 'the emptied source directory is gone');
    for (const [path, sha] of moving) assert.equal(await bucketSha(`moved/${path}`), sha, `moved/${path} in the bucket`);
  });

  it('finishes a load when a worker is SIGKILLed during it; a load submitted once the worker is back caches each file on its owner', async (t) => {
    const files = await seed('worker-dies', sizes(300, 3 * KiB, 5 * KiB));
    const later = await seed('worker-back', sizes(60, 3 * KiB, 5 * KiB));
    const sdk = env.cluster.client();
    const { id } = await sdk.jobs.submit({ kind: 'load', path: '/data/worker-dies', bandwidth: 120 * KiB }); // ~10 s
    await until(async () => (await sdk.jobs.status(id)).progress.filesDone >= 30, 'the load is under way', 15_000);
    const victim: LocalWorker = live()[0]!;
    await victim.kill();
    const atKill = await sdk.jobs.status(id);
    assert.ok(atKill.state === 'running' && atKill.progress.filesDone < files.length, `the job still runs when the worker dies: ${atKill.progress.filesDone} done`);

    // Back while the load still runs: it meets a join too. Once every coordinator lists the worker
    // (and a little more), a new load must place files on it.
    await env.cluster.waitForNodes((workers) => !workers.some((w) => w.id === victim.id), 10_000);
    await within(victim.restart(), 30_000, `restarting worker ${victim.id}`);
    assert.equal(live().length, 3);
    t.diagnostic(`worker ${victim.id} killed and back`);
    await sleep(600);
    const loadAfter = await sdk.jobs.submit({ kind: 'load', path: '/data/worker-back' });

    const job = await ended(sdk, id, 60_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.failures.slice(0, 3)));
    assert.deepEqual([job.progress.filesDone, job.progress.bytesDone, job.progress.filesFailed], [files.length, total(files), 0]);

    const back = await ended(sdk, loadAfter.id);
    assert.equal(back.state, 'succeeded');
    const owners = await Promise.all(later.map(async (f) => (await sdk.owners(f.path))[0]!.id));
    assert.ok(owners.includes(victim.id), 'the worker back owns some of the files');
    await assertCachedOnOwners(sdk, later);
  });

  it('resumes a load from its checkpoint on the other coordinator when the leading one is SIGKILLed', async (t) => {
    const files = await seed('leader-dies', sizes(200, 4 * KiB, 6 * KiB));
    const coordinators = env.cluster.coordinators;
    assert.equal(coordinators.length, 2);
    let leader: LocalCoordinator | undefined;
    await until(async () => (leader = (await Promise.all(coordinators.map(async (c) => ((await leaderOf(c)).isLeader ? c : undefined)))).find((c) => c !== undefined)) !== undefined, 'a coordinator leads');
    const survivor = coordinators.find((c) => c !== leader)!;
    const sdk = env.cluster.client({ address: survivor.url }); // it passes job requests on to the leader
    const { id } = await sdk.jobs.submit({ kind: 'load', path: '/data/leader-dies', bandwidth: 200 * KiB }); // ~5 s

    let checkpointed: JobCounts | undefined;
    await until(async () => ((checkpointed = (await sdk.jobs.status(id)).progress.atCheckpoint)?.filesDone ?? 0) >= 30, 'the load is under way, past a checkpoint', 15_000);
    await sleep(1200); // the leader saves progress every 500 ms: this checkpoint is in etcd now
    const atKill = await sdk.jobs.status(id);
    assert.ok(atKill.state === 'running' && atKill.progress.filesDone < files.length, `the job still runs when the leader dies: ${atKill.progress.filesDone} done`);
    await leader!.kill();

    // Every answer from the kill on: none while no coordinator leads, then the new leader's.
    const seen: number[] = [];
    let job: JobRecord | undefined;
    await until(
      async () => {
        const answer = await sdk.jobs.status(id, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        if (answer !== undefined) seen.push((job = answer).progress.filesDone);
        return job !== undefined && !isActive(job.state);
      },
      `job ${id} ends on the new leader`,
      60_000,
    );
    assert.deepEqual(await leaderOf(survivor), { self: survivor.url, leader: survivor.url, isLeader: true }, 'the other coordinator leads');
    assert.equal(job!.state, 'succeeded', JSON.stringify(job!.failures.slice(0, 3)));
    const below = seen.filter((n) => n < checkpointed!.filesDone);
    assert.deepEqual(below, [], `filesDone never fell below the ${checkpointed!.filesDone} files at the checkpoint seen before the kill`);
    t.diagnostic(`checkpoint before the kill: ${checkpointed!.filesDone} files; ${atKill.progress.filesDone} done at the kill; lowest after: ${Math.min(...seen)}`);
    assert.deepEqual([job!.progress.filesDone, job!.progress.filesListed, job!.progress.bytesDone, job!.progress.filesFailed], [files.length, files.length, total(files), 0], 'each file counted once');
    await assertCachedOnOwners(sdk, files);
  });
});
