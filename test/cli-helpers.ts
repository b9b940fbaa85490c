import { PassThrough } from 'node:stream';
import { runCli } from '../src/cli/main.js';

/** `dora <args>` in this process, against `address`: its exit code and what it printed. */
export async function dora(address: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  let [out, err] = ['', ''];
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(['--address', address, ...args], { stdout, stderr, env: {} });
  return { code, stdout: out, stderr: err };
}
