import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runUfsConformance } from '../../testing/ufs-conformance.js';
import { LocalUfs } from './local-ufs.js';

const run = promisify(execFile);
const dirs: string[] = [];
const immutable: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-local-ufs-'));
  dirs.push(dir);
  return dir;
}

runUfsConformance('file://', {
  create: async () => new LocalUfs(await tempDir()),
  unreachable: async () => new LocalUfs(join(await tempDir(), 'not-mounted')),
  // Root ignores permission bits, but not the immutable attribute.
  denied: async () => {
    const dir = await tempDir();
    await run('chattr', ['+i', dir]);
    immutable.push(dir);
    return new LocalUfs(dir);
  },
  multipartThreshold: 5 * 1024 * 1024,
  teardown: async () => {
    for (const dir of immutable) await run('chattr', ['-i', dir]);
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  },
});
