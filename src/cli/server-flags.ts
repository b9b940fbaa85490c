import { once } from 'node:events';
import { rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';

/** The flags every server command takes (`dora start`, `dora worker`, `dora coordinator`). */
export interface ServerOptions {
  dataDir?: string;
  host?: string;
  webPort?: string;
  workerPort?: string;
  s3Port?: string;
  etcd?: string;
  readyFile?: string;
  set?: string[];
}

/** Flags and the configuration keys they set. */
const FLAG_KEYS: ReadonlyArray<[keyof ServerOptions, string]> = [
  ['dataDir', 'dataDir'],
  ['host', 'host'],
  ['webPort', 'web.port'],
  ['workerPort', 'worker.port'],
  ['s3Port', 's3.port'],
  ['etcd', 'etcd.endpoints'],
];

/** Adds the common server flags; `ports` names which of --web-port, --worker-port, --s3-port apply. */
export function serverFlags(command: Command, ports: ReadonlyArray<'web' | 'worker' | 's3'>, options: { etcd?: boolean } = {}): Command {
  command
    .option('--data-dir <dir>', 'where dora keeps its state (default ./dora-data)')
    .option('--host <address>', 'address to listen on and advertise (default 127.0.0.1)');
  if (ports.includes('web')) command.option('--web-port <port>', 'coordinator REST API port, 0 for a free one (default 19999)');
  if (ports.includes('worker')) command.option('--worker-port <port>', 'worker API port, 0 for a free one (default 29999)');
  if (ports.includes('s3')) command.option('--s3-port <port>', 'S3 API port, 0 for a free one (default 29998)');
  if (options.etcd === true) command.option('--etcd <urls>', 'etcd endpoints, comma-separated (else the static worker list of membership.workers)');
  return command
    .option('--ready-file <file>', `once serving, write {${ports.map((p) => `"${p}"`).join(',')}} URLs as JSON to this file`)
    .option('--set <key=value...>', 'set any configuration key, e.g. --set cache.memory.capacity=1GiB');
}

/** The configuration flags the options set. */
export function configFlags(options: ServerOptions): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const [option, key] of FLAG_KEYS) {
    const value = options[option];
    if (typeof value === 'string') flags[key] = value;
  }
  for (const pair of options.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--set takes key=value, not ${JSON.stringify(pair)}`);
    flags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return flags;
}

/** Writes the endpoints to the ready file atomically, so a reader never sees half of it. */
export async function writeReadyFile(file: string | undefined, endpoints: Readonly<Record<string, string>>): Promise<void> {
  if (file === undefined) return;
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(endpoints)}\n`);
  await rename(temp, file);
}

/** Resolves on the interrupt signal, SIGTERM, or `also`. */
export async function stopped(signal: AbortSignal | undefined, also?: Promise<void>): Promise<void> {
  const terminate = new AbortController();
  const onTerm = (): void => terminate.abort();
  process.once('SIGTERM', onTerm);
  void also?.then(onTerm);
  try {
    await once(signal === undefined ? terminate.signal : AbortSignal.any([signal, terminate.signal]), 'abort');
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
