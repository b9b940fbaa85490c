/** `dora` as a real process (`node bin/dora.js …`) against the embedded server. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startEmbedded } from '../server/embedded.js';

type Embedded = Awaited<ReturnType<typeof startEmbedded>>;

const BIN = fileURLToPath(new URL('../../../bin/dora.js', import.meta.url));
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `dora args…` and collects its output; the environment names no config file or address but `env`'s. */
function dora(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Result> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DORA_')));
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...base, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('dora CLI against the embedded server', () => {
  let dataDir: string;
  let work: string;
  let embedded: Embedded;
  let env: Record<string, string>;
  const run = (...args: string[]): Promise<Result> => dora(args, { env, cwd: work });
  const ok = async (...args: string[]): Promise<Result> => {
    const result = await run(...args);
    assert.equal(result.code, 0, `dora ${args.join(' ')} failed: ${result.stderr}`);
    return result;
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dora-cli-'));
    work = await mkdtemp(join(tmpdir(), 'dora-cli-work-'));
    embedded = await startEmbedded({ dataDir });
    env = { DORA_ADDRESS: embedded.coordinatorUrl };
    await mkdir(join(dataDir, 'root', 'docs'), { recursive: true });
    await writeFile(join(dataDir, 'root', 'docs', 'hello.txt'), 'hello, dora\n');
    await writeFile(join(dataDir, 'root', 'docs', 'digits.txt'), '0123456789'.repeat(200));
  });

  after(async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('fs stat of an unknown path prints one NOT_FOUND line and exits 1', async () => {
    const result = await run('fs', 'stat', '/no/such/file');
    assert.equal(result.code, 1);
    assert.equal(result.stdout.length, 0);
    const lines = result.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^dora: .*"\/no\/such\/file"/);
  });

  it('fs ls lists like ls -l, and --json gives FileStatus objects', async () => {
    const human = (await ok('fs', 'ls', '/docs')).stdout.toString();
    const lines = human.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^-\s+2\.0 KiB\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+digits\.txt$/);
    assert.match(lines[1] ?? '', /^-\s+12 B\s+.*hello\.txt$/);
    assert.match((await ok('fs', 'ls', '/')).stdout.toString(), /^d\s+-\s+.*docs\/$/m);
    const entries = JSON.parse((await ok('fs', 'ls', '--json', '/docs')).stdout.toString()) as { path: string; size: number; kind: string }[];
    assert.deepEqual(entries.map((e) => [e.path, e.size, e.kind]), [['/docs/digits.txt', 2000, 'file'], ['/docs/hello.txt', 12, 'file']]);
  });

  it('fs stat --json prints the FileStatus', async () => {
    const status = JSON.parse((await ok('fs', 'stat', '--json', '/docs/hello.txt')).stdout.toString()) as { size: number; kind: string; mount: string };
    assert.deepEqual([status.size, status.kind, status.mount], [12, 'file', '/']);
    assert.match((await ok('fs', 'stat', '/docs/hello.txt')).stdout.toString(), /^size:\s+12 B \(12 bytes\)$/m);
  });

  it('fs cat, head -c and tail -c print contents and ranges', async () => {
    assert.equal((await ok('fs', 'cat', '/docs/hello.txt')).stdout.toString(), 'hello, dora\n');
    assert.equal((await ok('fs', 'head', '-c', '5', '/docs/digits.txt')).stdout.toString(), '01234');
    assert.equal((await ok('fs', 'tail', '-c', '3', '/docs/digits.txt')).stdout.toString(), '789');
    assert.equal((await ok('fs', 'head', '/docs/digits.txt')).stdout.length, 1024, 'head reads 1 KiB by default');
    assert.equal((await ok('fs', 'tail', '-c', '1KiB', '/docs/hello.txt')).stdout.toString(), 'hello, dora\n');
  });

  it('fs cp copies local → dora → local with identical bytes', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 5);
    await writeFile(join(work, 'big.bin'), data);
    const up = await ok('fs', 'cp', './big.bin', '/copies/big.bin');
    assert.equal(up.stdout.length, 0, 'no progress bar when stdout is not a terminal');
    const status = JSON.parse((await ok('fs', 'stat', '--json', '/copies/big.bin')).stdout.toString()) as { size: number };
    assert.equal(status.size, data.length);
    await ok('fs', 'cp', '/copies/big.bin', 'back.bin');
    assert.equal(sha256(await readFile(join(work, 'back.bin'))), sha256(data));
    await ok('fs', 'cp', '/copies/big.bin', `file:${join(work, 'absolute.bin')}`);
    assert.equal(sha256(await readFile(join(work, 'absolute.bin'))), sha256(data));
  });

  it('fs cp copies within dora and into directories', async () => {
    await ok('fs', 'mkdir', '/into');
    const copied = JSON.parse((await ok('fs', 'cp', '--json', '/docs/hello.txt', '/into')).stdout.toString()) as { destination: string; bytes: number };
    assert.deepEqual(copied, { source: '/docs/hello.txt', destination: '/into/hello.txt', bytes: 12 });
    assert.equal((await ok('fs', 'cat', '/into/hello.txt')).stdout.toString(), 'hello, dora\n');
    await mkdir(join(work, 'down'));
    await ok('fs', 'cp', '/into/hello.txt', './down/');
    assert.equal(await readFile(join(work, 'down', 'hello.txt'), 'utf8'), 'hello, dora\n');
  });

  it('fs cp refuses two local paths and reports a missing local file', async () => {
    const both = await run('fs', 'cp', './a', './b');
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^dora: Cannot copy "\.\/a" to "\.\/b": both are local paths/);
    const missing = await run('fs', 'cp', './missing.bin', '/x.bin');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^dora: Cannot copy "\.\/missing\.bin" to "\/x\.bin": .*no such file/);
  });

  it('fs mkdir, mv, du and rm -r change and measure the namespace', async () => {
    await ok('fs', 'mkdir', '/work/a', '/work/b');
    await ok('fs', 'cp', '/docs/digits.txt', '/work/a/d.txt');
    await ok('fs', 'mv', '/work/a/d.txt', '/work/b');
    assert.equal((await ok('fs', 'cat', '/work/b/d.txt')).stdout.length, 2000);
    const summary = JSON.parse((await ok('fs', 'du', '-s', '--json', '/work')).stdout.toString()) as { bytes: number; files: number };
    assert.deepEqual(summary, { path: '/work', bytes: 2000, files: 1 });
    assert.match((await ok('fs', 'du', '-s', '-h', '/work')).stdout.toString(), /^2\.0 KiB\s+\/work$/m);
    assert.match((await ok('fs', 'du', '/work')).stdout.toString(), /^2000\s+\/work\/b\/d\.txt$/m);
    const notEmpty = await run('fs', 'rm', '/work');
    assert.equal(notEmpty.code, 1);
    await ok('fs', 'rm', '-r', '/work');
    assert.equal((await run('fs', 'stat', '/work')).code, 1);
    assert.equal((await run('fs', 'rm', '/work')).code, 1, 'rm of a missing path fails');
    await ok('fs', 'rm', '-f', '/work');
  });

  it('mount add, list and remove manage the mount table', async () => {
    const extra = join(dataDir, 'extra');
    await mkdir(extra);
    await writeFile(join(extra, 'x.txt'), 'x');
    await ok('mount', 'add', '/extra', `file://${extra}`, '--read-only', '--sync-interval', '30s');
    const mounts = JSON.parse((await ok('mount', 'list', '--json')).stdout.toString()) as { path: string; readOnly: boolean }[];
    assert.ok(mounts.some((m) => m.path === '/extra' && m.readOnly));
    assert.match((await ok('mount', 'list')).stdout.toString(), /^\/extra\s+file:\/\/\S+\s+ro\s+CACHE_THROUGH/m);
    assert.equal((await ok('fs', 'cat', '/extra/x.txt')).stdout.toString(), 'x');
    await ok('mount', 'remove', '/extra');
    assert.equal((await run('mount', 'remove', '/extra')).code, 1);
  });

  it('info cache shows every worker, and --json the summary', async () => {
    const summary = JSON.parse((await ok('info', 'cache', '--json')).stdout.toString()) as { workers: { id: string; pageSize: number }[] };
    assert.equal(summary.workers.length, 1);
    assert.match((await ok('info', 'cache')).stdout.toString(), /^Worker \S+: pages of /m);
  });

  it('--address wins over DORA_ADDRESS', async () => {
    const result = await dora(['--address', embedded.coordinatorUrl, 'fs', 'cat', '/docs/hello.txt'], { env: { DORA_ADDRESS: 'http://127.0.0.1:1' }, cwd: work });
    assert.equal(result.code, 0, result.stderr);
    const wrong = await dora(['--address', 'http://127.0.0.1:1', 'fs', 'ls', '/'], { env, cwd: work });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr.trim().split('\n').length, 1);
  });

  it('finds the coordinator from the config file', async () => {
    const port = new URL(embedded.coordinatorUrl).port;
    const file = join(work, 'dora.yaml');
    await writeFile(file, `web:\n  port: ${port}\n`);
    const result = await dora(['--config', file, 'fs', 'cat', '/docs/hello.txt'], { cwd: work });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'hello, dora\n');
  });
});
