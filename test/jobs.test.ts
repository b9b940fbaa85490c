import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../src/client/dora-client.js';
import type { JobRecord } from '../src/job/job-types.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { until } from './cluster-helpers.js';
import { dora } from './cli-helpers.js';

const KiB = 1024;

describe('jobs on dora start (REST, SDK and CLI)', () => {
  let dir: string;
  let dora0: Embedded | undefined;
  let client: DoraClient;
  const files = 300;
  const dataDir = (): string => join(dir, 'data');
  const ended = async (id: string, timeoutMs = 20_000): Promise<JobRecord> => {
    let job = await client.jobs.status(id);
    await until(async () => !['running', 'verifying'].includes((job = await client.jobs.status(id)).state), `job ${id} ends`, timeoutMs);
    return job;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-jobs-'));
    for (let i = 0; i < files; i++) {
      const sub = join(dataDir(), 'root', 'train', `part-${i % 5}`);
      await mkdir(sub, { recursive: true });
      await writeFile(join(sub, `sample-${String(i).padStart(4, '0')}.bin`), Buffer.alloc(8 * KiB + i, i % 251));
    }
    dora0 = await startEmbedded({ dataDir: dataDir(), flags: { 'cache.pageSize': '64KiB' } });
    client = new DoraClient({ address: dora0.coordinatorUrl });
  });
  after(async () => {
    await client?.close();
    await dora0?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a directory through the SDK: every file cached, progress counted; the same job submitted twice is one', async () => {
    const job = await client.jobs.submit({ kind: 'load', path: '/train/part-0' });
    assert.equal((await client.jobs.submit({ kind: 'load', path: '/train/part-0/' })).id, job.id, 'the running job is answered');
    const done = await ended(job.id);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual([done.progress.filesDone, done.progress.filesListed, done.progress.listed], [files / 5, files / 5, true]);
    assert.equal((await client.load('/train/part-0/sample-0000.bin'))[0]?.pagesFetched, 0, 'cached by the job');
    assert.ok((await client.jobs.list()).some((j) => j.id === job.id));
  });

  it('dora job load --wait follows a job to its end; status, list and stop answer for it', async () => {
    const address = dora0!.coordinatorUrl;
    const loaded = await dora(address, ['job', 'load', '/train/part-1', '--wait', '--verify']);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /succeeded {2}load \/train\/part-1 {2}60\/60 files/);
    const id = loaded.stdout.trim().split('\n').at(-1)?.split(' ')[0] ?? '';
    assert.equal(JSON.parse((await dora(address, ['job', 'status', id, '--format', 'json'])).stdout).state, 'succeeded');
    assert.match((await dora(address, ['job', 'list'])).stdout, new RegExp(`${id} +succeeded`));
    const slow = await dora(address, ['job', 'load', '/train/part-2', '--bandwidth', '20KiB/s', '--format', 'json']);
    const slowId = (JSON.parse(slow.stdout) as JobRecord).id;
    const stopped = await dora(address, ['job', 'stop', slowId]);
    assert.match(stopped.stdout, new RegExp(`${slowId} {2}stopped`));
    const missing = await dora(address, ['job', 'load', '/nowhere', '--wait']);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout + missing.stderr, /failed/);
    assert.match((await dora(address, ['job', 'status', 'no-such-job'])).stderr, /No job "no-such-job"/);
  });

  it('dora job copy, move and free run to their end with --wait', async () => {
    const address = dora0!.coordinatorUrl;
    const copied = await dora(address, ['job', 'copy', '/train/part-4', '/copies/part-4', '--check-content', '--wait', '--format', 'json']);
    assert.equal(copied.code, 0, copied.stderr);
    const copy = JSON.parse(copied.stdout) as JobRecord;
    assert.deepEqual([copy.state, copy.spec, copy.progress.filesDone], ['succeeded', { kind: 'copy', from: '/train/part-4', to: '/copies/part-4', checkContent: true }, files / 5]);
    const moved = await dora(address, ['job', 'move', '/copies/part-4', '/moved', '--wait']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /succeeded {2}move \/copies\/part-4 to \/moved {2}60\/60 files/);
    assert.deepEqual(await client.readFile('/moved/sample-0004.bin'), await client.readFile('/train/part-4/sample-0004.bin'));
    await assert.rejects(client.stat('/copies/part-4'), { code: 'NOT_FOUND' });
    const clash = await dora(address, ['job', 'copy', '/train/part-4', '/moved', '--wait']);
    assert.equal(clash.code, 0, 'identical files already there are done');
    const freed = await dora(address, ['job', 'free', '/moved', '--wait', '--format', 'json']);
    assert.equal(freed.code, 0, freed.stderr);
    assert.equal((JSON.parse(freed.stdout) as JobRecord).state, 'succeeded');
    const refused = await dora(address, ['job', 'copy', '/train', '/train/inside']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /one lies inside the other/);
  });

  it('keeps the newest 200 ended jobs, in memory and in the data directory', async () => {
    for (let i = 0; i < 210; i++) await ended((await client.jobs.submit({ kind: 'free', path: `/nothing-${i}` })).id);
    let jobs = await client.jobs.list();
    await until(async () => (jobs = await client.jobs.list()).length === 200, 'the oldest ended jobs are forgotten once the last one is saved');
    assert.deepEqual(jobs.at(-1)?.spec, { kind: 'free', path: '/nothing-209' });
    await until(async () => (await readdir(join(dataDir(), 'jobs'))).length === 200, 'and deleted from the data directory');
  });

  it('resumes a running job from its checkpoint when dora starts again', async () => {
    const job = await client.jobs.submit({ kind: 'load', path: '/train/part-3', bandwidth: 100 * KiB }); // ~0.5 MB: ~5 s
    await until(async () => (await client.jobs.status(job.id)).progress.filesDone >= 10, 'the job is under way', 10_000);
    await client.close();
    await dora0!.stop(); // the job is saved as running
    dora0 = await startEmbedded({ dataDir: dataDir(), flags: { 'cache.pageSize': '64KiB' } });
    client = new DoraClient({ address: dora0.coordinatorUrl });
    const resumed = await client.jobs.status(job.id);
    assert.ok(resumed.progress.filesDone >= 10, `it kept its progress: ${resumed.progress.filesDone}`);
    const done = await ended(job.id);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual([done.progress.filesDone, done.progress.filesListed], [files / 5, files / 5], 'counted on from its checkpoint, each file once');
  });
});
