/** The CLI in-process, for what needs no cluster: parsing, usage errors, configuration. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { CommandModule } from './cli-context.js';
import { COMMAND_MODULES, runCli } from './main.js';

async function run(args: string[], env: Record<string, string> = {}, modules?: readonly CommandModule[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(args, { stdout, stderr, env }, modules);
  return { code, stdout: out, stderr: err };
}

describe('runCli()', () => {
  it('prints a usage error as one line and exits non-zero', async () => {
    const result = await run(['fs', 'frobnicate']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /^dora: unknown command 'frobnicate'\n$/);
  });

  it('prints help and exits 0', async () => {
    const result = await run(['fs', '--help']);
    assert.equal(result.code, 0);
    for (const command of ['ls', 'stat', 'cat', 'head', 'tail', 'cp', 'mv', 'rm', 'mkdir', 'du']) assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  });

  it('conf get shows every key with its source, and one key by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dora-cli-conf-'));
    try {
      const file = join(dir, 'dora.yaml');
      await writeFile(file, 'ufs:\n  retry:\n    maxAttempts: 7\n');
      const all = await run(['--config', file, 'conf', 'get', '--json'], { DORA_WEB_PORT: '12345' });
      assert.equal(all.code, 0, all.stderr);
      const rows = JSON.parse(all.stdout) as { key: string; value: string; source: string }[];
      const attempts = rows.find((r) => r.key === 'ufs.retry.maxAttempts');
      assert.equal(attempts?.value, '7');
      assert.equal(attempts.source, 'file');
      assert.equal(rows.find((r) => r.key === 'web.port')?.source, 'env');
      const one = await run(['conf', 'get', 'web.port'], { DORA_CONFIG: file });
      assert.equal(one.stdout, '19999\n');
      const table = await run(['conf', 'get']);
      assert.match(table.stdout, /^KEY\s+VALUE\s+SOURCE\s+DESCRIPTION\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('conf get suggests the closest key for a typo', async () => {
    const result = await run(['conf', 'get', 'web.prot']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'dora: Cannot show configuration key "web.prot": no such key (did you mean "web.port"?)\n');
  });

  it('builds the program from command modules, so another module can add a command', async () => {
    const seen: string[] = [];
    const extra: CommandModule = {
      register(program, context) {
        program.command('hello').action(async () => {
          seen.push('hello');
          await context.write('hi\n');
        });
      },
    };
    const result = await run(['hello'], {}, [...COMMAND_MODULES, extra]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'hi\n');
    assert.deepEqual(seen, ['hello']);
  });

  it('reports an unreachable coordinator as one line naming it', async () => {
    const result = await run(['--address', 'http://127.0.0.1:1', 'fs', 'stat', '/x']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^dora: .*coordinator http:\/\/127\.0\.0\.1:1 cannot be reached.*\n$/);
  });
});
