// The readers of the FUSE benchmark, each a process of its own: fio for sequential and random
// reads, `ls -l` for listings, `head -c 1` for a first byte. Each result comes with the command
// line that made it, so the report prints exactly what ran.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** A command run to its end: wall clock from spawn to exit, and what it printed. */
export interface TimedRun {
  readonly command: string;
  readonly ms: number;
  readonly code: number | null;
  /** Bytes and newlines on stdout. */
  readonly bytes: number;
  readonly lines: number;
  /** The first 64 bytes of stdout. */
  readonly first: Buffer;
  /** Stdout as text, when asked to keep it (up to 16 MiB). */
  readonly stdout: string;
  /** The last 8 KiB of stderr. */
  readonly stderr: string;
}

const KEEP_MAX = 16 * 1024 * 1024;

/** Runs `command` (stdout counted, kept only with `keep`) and times it with the monotonic clock. */
export function timedRun(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; keep?: boolean } = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let bytes = 0;
    let lines = 0;
    const first: Buffer[] = [];
    let firstBytes = 0;
    const kept: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (firstBytes < 64) {
        first.push(chunk.subarray(0, 64 - firstBytes));
        firstBytes += Math.min(chunk.length, 64 - firstBytes);
      }
      if (options.keep === true && bytes < KEEP_MAX) kept.push(chunk);
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error(`Cannot run the benchmark: "${command}" is not installed`, { cause: error }) : error);
    });
    child.once('close', (code) =>
      resolve({
        command: commandLine(command, args),
        ms: performance.now() - started,
        code,
        bytes,
        lines,
        first: Buffer.concat(first),
        stdout: Buffer.concat(kept).toString('utf8'),
        stderr,
      }),
    );
  });
}

/** `command` and `args` as a shell would read them: arguments with anything unusual single-quoted. */
export function commandLine(command: string, args: readonly string[]): string {
  const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
  return [command, ...args].map(quote).join(' ');
}

export interface FioJob {
  readonly rw: 'read' | 'randread';
  /** Block size, e.g. `1M`, `4k`. */
  readonly bs: string;
  /** fio processes, each reading the same file. */
  readonly jobs: number;
  /** The file's size in bytes: a sequential job reads it whole. */
  readonly size: number;
  /** Time-based: reads for this long instead of once through the file. */
  readonly seconds?: number;
  /** fio's `--invalidate` (drop the file's pages from the kernel's cache before each job). */
  readonly invalidate: boolean;
  /** O_DIRECT: every read goes to the file system, none is served from (or fills) the kernel's page cache. */
  readonly direct?: boolean;
}

export interface FioResult {
  readonly command: string;
  /** Bytes read by all jobs, and fio's own run time of the group (open and close excluded). */
  readonly bytes: number;
  readonly ios: number;
  readonly runtimeMs: number;
  /** Wall clock of the fio process, startup included. */
  readonly wallMs: number;
}

/** fio's arguments for `job` on `file`: psync, queue depth 1, results as one JSON group. */
export function fioArgs(file: string, job: FioJob): string[] {
  return [
    `--name=${job.rw}`,
    `--filename=${file}`,
    `--size=${job.size}`,
    '--readonly',
    `--rw=${job.rw}`,
    `--bs=${job.bs}`,
    '--ioengine=psync',
    '--iodepth=1',
    `--numjobs=${job.jobs}`,
    `--invalidate=${job.invalidate ? 1 : 0}`,
    ...(job.direct === true ? ['--direct=1'] : []),
    ...(job.seconds === undefined ? [] : ['--time_based', `--runtime=${job.seconds}`]),
    '--group_reporting',
    '--output-format=json',
  ];
}

interface FioJson {
  readonly jobs?: ReadonlyArray<{ readonly error: number; readonly read: { readonly io_bytes: number; readonly total_ios: number; readonly runtime: number } }>;
}

/** Runs fio once; rejects when it fails or, for a job that is not time-based, reads other than jobs × size bytes. */
export async function runFio(file: string, job: FioJob): Promise<FioResult> {
  const run = await timedRun('fio', fioArgs(file, job), { keep: true });
  const failed = (why: string): Error => new Error(`Cannot trust "${run.command}": ${why}\n${run.stderr.trim()}`);
  if (run.code !== 0) throw failed(`exited with ${run.code}`);
  let parsed: FioJson;
  try {
    parsed = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as FioJson; // fio may print notes before the JSON
  } catch (error) {
    throw failed(`its output is not JSON (${(error as Error).message})`);
  }
  const group = parsed.jobs?.[0];
  if (group === undefined) throw failed('no job in its output');
  if (group.error !== 0) throw failed(`the job failed with error ${group.error}`);
  const { io_bytes: bytes, total_ios: ios, runtime } = group.read;
  if (job.seconds === undefined && bytes !== job.size * job.jobs) throw failed(`read ${bytes} bytes, expected ${job.size * job.jobs}`);
  if (!(runtime > 0) || ios === 0) throw failed(`${ios} reads in ${runtime} ms`);
  return { command: run.command, bytes, ios, runtimeMs: runtime, wallMs: run.ms };
}
