// The command-line copies a dora load job is compared with: `aws s3 sync` and `rclone copy` of an
// S3 prefix to a local directory, each run with nothing but the test server's key (no user config),
// and the count of what they wrote.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { awsEnvironment, commandVersion, runCommand } from './bench-tools.js';

/** A command that copies `s3://<bucket>/<prefix>/` into a local directory. */
export interface CopyCommand {
  /** How the command line reads in a report, e.g. `aws s3 sync`. */
  readonly name: string;
  /** `aws --version`'s first line, for the report. */
  readonly version: string;
  /** Copies the prefix into `dir` (which exists and is empty); rejects on a non-zero exit. `signal` kills the command. */
  copy(prefix: string, dir: string, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Files and bytes under a directory, its subdirectories included. */
export async function countTree(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

async function run(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; signal?: AbortSignal | undefined }): Promise<void> {
  const { env, signal } = options;
  const result = await runCommand(command, args, { env, ...(signal === undefined ? {} : { signal }) });
  if (result.code !== 0) throw new Error(`Cannot run "${[command, ...args].join(' ')}": exited with ${result.code}:\n${result.stderr.slice(-4096)}`);
}

/**
 * `aws s3 sync s3://<bucket>/<prefix>/ <dir> --only-show-errors` (the CLI's defaults otherwise: 10
 * requests at once, 8 MiB ranged GETs for objects over 8 MiB). `--only-show-errors` keeps it from
 * printing a line per file, as rclone prints none by default.
 */
export async function awsSync(server: S3ServerHandle, options: { bucket: string; configDir: string }): Promise<CopyCommand> {
  const { bucket, configDir } = options;
  const env = await awsEnvironment(server, configDir);
  return {
    name: 'aws s3 sync',
    version: await commandVersion('aws', ['--version'], 'pip install awscli'),
    copy: (prefix, dir, options = {}) => run('aws', ['s3', 'sync', `s3://${bucket}/${prefix}/`, dir, '--only-show-errors', '--endpoint-url', server.endpoint], { env, signal: options.signal }),
  };
}

/**
 * `rclone copy bench:<bucket>/<prefix> <dir>` with the remote defined in the environment (rclone's
 * defaults otherwise: 4 transfers, 8 checkers, 4 ranged streams for files over 250 MiB) and an
 * empty config file.
 */
export async function rcloneCopy(server: S3ServerHandle, options: { bucket: string; configDir: string }): Promise<CopyCommand> {
  const { bucket, configDir } = options;
  const config = join(configDir, 'rclone.conf');
  await writeFile(config, '');
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RCLONE_') && !name.startsWith('AWS_')));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    RCLONE_CONFIG: config,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_BENCH_REGION: server.region,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: server.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
  return {
    name: 'rclone copy',
    version: await commandVersion('rclone', ['version'], 'apt-get install -y rclone'),
    copy: (prefix, dir, options = {}) => run('rclone', ['copy', `bench:${bucket}/${prefix}`, dir], { env, signal: options.signal }),
  };
}
