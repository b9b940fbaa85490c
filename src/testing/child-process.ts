import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process whose recent output is kept for error messages. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  /** The last few KiB of stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP_BYTES = 16 * 1024;
/** Sets PR_SET_PDEATHSIG before exec (util-linux), so a child dies with a killed test process. */
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = ((): boolean => {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();

/**
 * Starts a server for a test or benchmark. Where setpriv exists the child gets SIGKILL when this
 * process dies, even by SIGKILL, so no server outlives its test run.
 */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const [file, argv] = hasSetpriv ? [SETPRIV, ['--pdeathsig', 'KILL', command, ...args]] : [command, args];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-KEEP_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`\n${error.message}\n`)));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    child,
    output: () => tail,
    async stop(graceMs = 3000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = new AbortController();
        const timer = sleep(graceMs, undefined, { signal: kill.signal }).then(() => child.kill('SIGKILL'), () => undefined);
        await Promise.race([exited, timer]);
        kill.abort(); // exited in time: no SIGKILL timer left keeping the test process alive
      }
      await exited;
    },
  };
}

/**
 * Polls `probe` until it resolves true, the process exits, or `timeoutMs` passes; the error
 * then carries the process's output.
 */
export async function waitUntilReady(process: ManagedProcess, probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.child.exitCode !== null || process.child.signalCode !== null) {
      throw new Error(`Cannot start ${what}: it exited with ${process.child.exitCode ?? process.child.signalCode}:\n${process.output()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Cannot start ${what}: not ready after ${timeoutMs} ms:\n${process.output()}`);
    await sleep(100);
  }
}
