import { credentialsFromEnv } from '../conf/credentials-from-env.js';
import { startClusterCoordinator } from '../server/cluster-coordinator.js';
import { startClusterWorker } from '../server/cluster-worker.js';
import { log } from '../observe/log.js';
import { observeProcess } from '../observe/observe-process.js';
import type { CommandModule } from './cli-context.js';
import { configFlags, serverFlags, stopped, writeReadyFile, type ServerOptions } from './server-flags.js';

/** `dora worker`, `dora worker decommission <id>` and `dora coordinator`: the processes of a cluster. */
export const clusterCommands: CommandModule = {
  register(program, context) {
    const worker = program.command('worker').description('run a cluster worker: page cache, worker API and S3 API, registered in etcd');
    serverFlags(worker, ['worker', 's3'], { etcd: true }).action(async (options: ServerOptions) => {
      const config = await context.config(configFlags(options));
      const finish = observeProcess(config, 'worker');
      const node = await startClusterWorker(config, { resolveCredentials: credentialsFromEnv(process.env) });
      const done = stopped(context.signal, node.drained); // SIGTERM handled before anyone can see the ready file
      await writeReadyFile(options.readyFile, { worker: node.workerUrl, s3: node.s3Url, id: node.id });
      log.info({ id: node.id, worker: node.workerUrl, s3: node.s3Url }, 'worker serving');
      await context.write(`dora worker ${node.id} is serving: worker API ${node.workerUrl}, S3 API ${node.s3Url}\n`);
      await done;
      log.info({ id: node.id }, 'worker stopping');
      await node.stop();
      await finish();
    });
    worker
      .command('decommission')
      .description('take a worker off the ring for new reads, let its running reads finish, then let it stop')
      .argument('<id>', 'the worker id (see dora info nodes)')
      .action(async (id: string) => {
        await (await context.client()).decommission(id, { signal: context.signal });
        await context.write(`Worker ${id} is decommissioning: off the ring for new reads; it stops once its running reads finish.\n`);
      });

    const coordinator = program.command('coordinator').description('run a cluster coordinator: REST API over the shared mount table and workers');
    serverFlags(coordinator, ['web'], { etcd: true }).action(async (options: ServerOptions) => {
      const config = await context.config(configFlags(options));
      const finish = observeProcess(config, 'coordinator');
      const node = await startClusterCoordinator(config, { resolveCredentials: credentialsFromEnv(process.env) });
      const done = stopped(context.signal); // SIGTERM handled before anyone can see the ready file
      await writeReadyFile(options.readyFile, { web: node.url });
      log.info({ web: node.url }, 'coordinator serving');
      await context.write(`dora coordinator is serving ${node.url}\n`);
      await done;
      log.info('coordinator stopping');
      await node.stop();
      await finish();
    });
  },
};
