import { resolve } from 'node:path';
import { DoraFuse } from '../fuse/dora-fuse.js';
import { detachMounts } from '../fuse/mount-points.js';
import { ClientMetrics } from '../metrics/client-metrics.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { startMetricsServer } from '../metrics/metrics-routes.js';
import { log } from '../observe/log.js';
import { observeProcess } from '../observe/observe-process.js';
import type { CommandModule } from './cli-context.js';
import { configFlags, stopped } from './server-flags.js';

interface MountOptions {
  path: string;
  attrTimeout?: string;
  kernelCache?: string;
  readAhead?: string;
  allowOther?: boolean;
  set?: string[];
}

/** The configuration the mount flags set (`--set` pairs last). */
function fuseFlags(options: MountOptions): Record<string, string> {
  const flags: Record<string, string> = {};
  if (options.attrTimeout !== undefined) flags['fuse.attrTimeout'] = options.attrTimeout;
  if (options.kernelCache !== undefined) flags['fuse.kernelCache'] = options.kernelCache;
  if (options.readAhead !== undefined) flags['fuse.readAhead'] = options.readAhead;
  if (options.allowOther === true) flags['fuse.allowOther'] = 'true';
  return { ...flags, ...configFlags(options.set === undefined ? {} : { set: options.set }) };
}

/** `dora fuse mount|unmount`: the namespace as a local file system. */
export const fuseCommands: CommandModule = {
  register(program, context) {
    const fuse = program.command('fuse').description('mount the dora namespace as a local file system');
    fuse
      .command('mount')
      .description('mount dora (or a sub-path of it) at a local directory, in the foreground until Ctrl-C or SIGTERM')
      .argument('<mountpoint>', 'local directory (created if missing; a stale dora mount there is replaced)')
      .option('--path <dora-path>', 'the dora path to show at the mount point', '/')
      .option('--attr-timeout <duration>', 'how long the kernel trusts attributes and names (fuse.attrTimeout, default 1s)')
      .option('--kernel-cache <mode>', 'auto, keep or off: the page cache of a file across opens (fuse.kernelCache, default auto)')
      .option('--read-ahead <size>', 'bytes read ahead of a sequential reader, 0 for none (fuse.readAhead, default 8MiB)')
      .option('--allow-other', 'let other users use the mount, with the modes shown enforced (fuse.allowOther)')
      .option('--set <key=value...>', 'set any configuration key, e.g. --set fuse.maxStagedFile=4GiB')
      .action(async (mountPoint: string, options: MountOptions) => {
        const config = await context.config(fuseFlags(options));
        const finish = observeProcess(config, 'fuse');
        const metrics = new ClientMetrics(new MetricsRegistry({ role: 'fuse' }), 'fuse');
        const server = config.metrics.port < 0 ? undefined : await startMetricsServer(metrics.registry, config.metrics.port, config.host);
        context.onExit(async () => {
          await server?.close();
          await finish();
        });
        const done = stopped(context.signal); // from now on: a SIGTERM during the mount unmounts once it is up
        const client = await context.client({ observe: metrics.observe });
        const mounted = await DoraFuse.mount({ client, mountPoint: resolve(mountPoint), root: options.path, settings: config.fuse, observeIo: metrics.observeIo });
        log.info({ mountPoint: mounted.mountPoint, path: options.path, transport: mounted.transport, metrics: server?.url }, 'mounted');
        const metricsAt = server === undefined ? '' : `, metrics at ${server.url}/metrics`;
        await context.write(`dora ${options.path} is mounted at ${mounted.mountPoint} (${mounted.transport}${metricsAt}); stop with Ctrl-C\n`);
        await Promise.race([done, mounted.closed]); // stopped, or unmounted by someone else
        await mounted.unmount();
      });
    fuse
      .command('unmount')
      .description('unmount a dora mount point (also one left by a daemon that crashed)')
      .argument('<mountpoint>', 'local directory')
      .action(async (mountPoint: string) => {
        await detachMounts(resolve(mountPoint));
      });
  },
};
