import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { envVarName } from '../src/conf/read-config-env.js';
import { mountsAt } from '../src/fuse/mount-points.js';
import { startProcess, waitUntilReady, type ManagedProcess } from '../src/testing/child-process.js';

const run = promisify(execFile);
/** bin/dora.js of this checkout: this module runs compiled, from dist/test/. */
export const DORA_BIN = fileURLToPath(new URL('../../bin/dora.js', import.meta.url));

/** A `dora fuse mount` process. */
export interface FuseDaemon {
  readonly mountPoint: string;
  readonly process: ManagedProcess;
  /** Resolves with its exit status (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/**
 * Runs `dora --address <address> fuse mount <mountPoint>` and resolves once it said it is mounted
 * and the kernel lists the mount. `settings` are configuration keys (`fuse.kernelCache`…), passed
 * as DORA_* variables. The caller stops it, and `detach`es the mount point in any case.
 */
export async function startFuseDaemon(address: string, mountPoint: string, options: { settings?: Readonly<Record<string, string>>; timeoutMs?: number } = {}): Promise<FuseDaemon> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('DORA_')) delete env[name];
  for (const [key, value] of Object.entries(options.settings ?? {})) env[envVarName(key)] = value;
  const proc = startProcess(process.execPath, [DORA_BIN, '--address', address, 'fuse', 'mount', mountPoint], { env });
  const exited = new Promise<number | null>((resolve) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) resolve(proc.child.exitCode);
    else proc.child.once('exit', (code) => resolve(code));
  });
  // The line follows the mount and SIGTERM's handler: from then on SIGTERM unmounts.
  try {
    await waitUntilReady(proc, async () => proc.output().includes('is mounted at') && (await mountsAt(mountPoint)) > 0, `the FUSE daemon at ${mountPoint}`, options.timeoutMs);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { mountPoint, process: proc, exited };
}

/** The sha256 in hex of a file, read by `sha256sum` (a process of its own, not this event loop). */
export async function sha256sum(path: string): Promise<string> {
  return (await run('sha256sum', [path], { maxBuffer: 1024 })).stdout.split(' ')[0] ?? '';
}

/** A child process reading a file in `chunkBytes` reads with a pause after each, hashing what it read. */
export interface SlowReader {
  /** Bytes read so far. */
  received(): number;
  /** Resolves once at least `bytes` were read (or the reader ended). */
  readAtLeast(bytes: number): Promise<void>;
  /** Resolves with the sha256 of the whole file once the reader is done; throws with its output if it failed. */
  finish(): Promise<string>;
}

// Pipes are written synchronously on Linux: every count is out before the next read.
const SLOW_READER = `
const fs = require('node:fs');
const hash = require('node:crypto').createHash('sha256');
const [path, chunk, pause] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const fd = fs.openSync(path, 'r');
const buffer = Buffer.alloc(chunk);
for (let n, total = 0; (n = fs.readSync(fd, buffer, 0, chunk, null)) > 0; ) {
  hash.update(buffer.subarray(0, n));
  total += n;
  process.stdout.write('read ' + total + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
}
process.stdout.write('sha256 ' + hash.digest('hex') + '\\n');
`;

/** Starts a SlowReader of `path` (a node child: the mount is read outside this event loop). */
export function startSlowReader(path: string, options: { chunkBytes: number; pauseMs: number }): SlowReader {
  const proc = startProcess(process.execPath, ['-e', SLOW_READER, path, String(options.chunkBytes), String(options.pauseMs)]);
  let received = 0;
  let digest: string | undefined;
  const waiters: (() => void)[] = [];
  let pending = '';
  proc.child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [word, value] = line.split(' ');
      if (word === 'read') received = Number(value);
      if (word === 'sha256') digest = value;
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => proc.child.once('close', (code) => resolve(code))); // after the last output
  void exited.then(() => waiters.splice(0).forEach((wake) => wake()));
  return {
    received: () => received,
    async readAtLeast(bytes) {
      while (received < bytes && proc.child.exitCode === null && proc.child.signalCode === null) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async finish() {
      const code = await exited;
      if (code !== 0 || digest === undefined) throw new Error(`The reader of ${path} failed (exit ${code}) after ${received} bytes:\n${proc.output()}`);
      return digest;
    },
  };
}
