import { rename, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { credentialsFromEnv } from '../conf/credentials-from-env.js';
import { startEmbedded } from '../server/embedded.js';
import type { CommandModule } from './cli-context.js';

interface StartOptions {
  dataDir?: string;
  host?: string;
  webPort?: string;
  workerPort?: string;
  s3Port?: string;
  readyFile?: string;
  set?: string[];
}

/** Flags of `dora start` and the configuration keys they set. */
const FLAG_KEYS: ReadonlyArray<[keyof StartOptions, string]> = [
  ['dataDir', 'dataDir'],
  ['host', 'host'],
  ['webPort', 'web.port'],
  ['workerPort', 'worker.port'],
  ['s3Port', 's3.port'],
];

/** `dora start`: the embedded default, in the foreground until Ctrl-C or SIGTERM. */
export const startCommand: CommandModule = {
  register(program, context) {
    program
      .command('start')
      .description('run dora on one machine: a coordinator and a worker, with / mounted on <data-dir>/root')
      .option('--data-dir <dir>', 'where dora keeps its state, the root mount and the page cache (default ./dora-data)')
      .option('--host <address>', 'address to listen on (default 127.0.0.1)')
      .option('--web-port <port>', 'coordinator REST API port, 0 for a free one (default 19999)')
      .option('--worker-port <port>', 'worker API port, 0 for a free one (default 29999)')
      .option('--s3-port <port>', 'S3 API port, 0 for a free one (default 29998)')
      .option('--ready-file <file>', 'once serving, write {"web","worker","s3"} URLs as JSON to this file')
      .option('--set <key=value...>', 'set any configuration key, e.g. --set cache.memory.capacity=1GiB')
      .action(async (options: StartOptions) => {
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
        const config = await context.config(flags);
        const dora = await startEmbedded({ config, resolveCredentials: credentialsFromEnv(process.env) });
        const endpoints = { web: dora.coordinatorUrl, worker: dora.workerUrl, s3: dora.s3Url };
        if (options.readyFile !== undefined) {
          const temp = `${options.readyFile}.${process.pid}.tmp`;
          await writeFile(temp, `${JSON.stringify(endpoints)}\n`);
          await rename(temp, options.readyFile);
        }
        const address = dora.coordinatorUrl === 'http://127.0.0.1:19999' ? '' : ` --address ${dora.coordinatorUrl}`;
        const root = dora.mounts.list().find((m) => m.path === '/')?.uri ?? '';
        await context.write(
          [
            'dora is running',
            `  coordinator  ${dora.coordinatorUrl}   (REST API, /metrics)`,
            `  worker       ${dora.workerUrl}   (data API, /metrics)`,
            `  S3 API       ${dora.s3Url}   (path-style; buckets are top-level directories)`,
            `  /            ${root}`,
            '',
            'Try, in another terminal:',
            `  npx dora${address} fs cp file:./README.md /hello/README.md`,
            `  npx dora${address} fs ls /hello`,
            `  npx dora${address} fs cat /hello/README.md`,
            `  npx dora${address} info cache`,
            '',
            'Stop with Ctrl-C.',
            '',
          ].join('\n'),
        );
        await stopped(context.signal);
        await dora.stop();
      });
  },
};

/** Resolves on the interrupt signal or SIGTERM. */
async function stopped(signal: AbortSignal | undefined): Promise<void> {
  const terminate = new AbortController();
  const onTerm = (): void => terminate.abort();
  process.once('SIGTERM', onTerm);
  try {
    await once(signal === undefined ? terminate.signal : AbortSignal.any([signal, terminate.signal]), 'abort');
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
