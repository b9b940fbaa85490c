import { resolve } from 'node:path';
import { mountBesideWorker } from '../server/fuse-beside-worker.js';
import { credentialsFromEnv } from '../conf/credentials-from-env.js';
import { startEmbedded } from '../server/embedded.js';
import { log } from '../observe/log.js';
import { observeProcess } from '../observe/observe-process.js';
import type { CommandModule } from './cli-context.js';
import { configFlags, serverFlags, stopped, writeReadyFile, type ServerOptions } from './server-flags.js';

/** `dora start`: the embedded default, in the foreground until Ctrl-C or SIGTERM. */
export const startCommand: CommandModule = {
  register(program, context) {
    const start = program.command('start').description('run dora on one machine: a coordinator and a worker, with / mounted on <data-dir>/root');
    serverFlags(start, ['web', 'worker', 's3'])
      .option('--fuse <mountpoint>', 'also mount the namespace there with FUSE, in this process (reads of cached files skip the network)')
      .action(async (options: ServerOptions & { fuse?: string }) => {
        const config = await context.config(configFlags(options));
        const finish = observeProcess(config, 'embedded');
        const dora = await startEmbedded({ config, resolveCredentials: credentialsFromEnv(process.env) });
        const done = stopped(context.signal); // SIGTERM handled before anyone can see the ready file
        const fuse = options.fuse === undefined ? undefined : await mountBesideWorker(dora.worker, dora.coordinatorUrl, resolve(options.fuse), config).catch(async (error: unknown) => {
          await dora.stop();
          throw error;
        });
        await writeReadyFile(options.readyFile, { web: dora.coordinatorUrl, worker: dora.workerUrl, s3: dora.s3Url });
        log.info({ web: dora.coordinatorUrl, worker: dora.workerUrl, s3: dora.s3Url }, 'dora serving');
        const address = dora.coordinatorUrl === 'http://127.0.0.1:19999' ? '' : ` --address ${dora.coordinatorUrl}`;
        const root = dora.mounts.list().find((m) => m.path === '/')?.uri ?? '';
        await context.write(
          [
            'dora is running',
            `  coordinator  ${dora.coordinatorUrl}   (web UI, REST API, /metrics)`,
            `  worker       ${dora.workerUrl}   (data API, /metrics)`,
            `  S3 API       ${dora.s3Url}   (path-style; buckets are top-level directories)`,
            `  /            ${root}`,
            ...(fuse === undefined ? [] : [`  FUSE         ${fuse.fuse.mountPoint}   (${fuse.fuse.transport})`]),
            '',
            'Try, in another terminal:',
            `  npx dora${address} fs cp file:./README.md /hello/README.md`,
            `  npx dora${address} fs ls /hello`,
            `  npx dora${address} fs cat /hello/README.md`,
            `  npx dora${address} info cluster`,
            '',
            'Stop with Ctrl-C.',
            '',
          ].join('\n'),
        );
        await done;
        log.info('dora stopping');
        await fuse?.stop();
        await dora.stop();
        await finish();
      });
  },
};
