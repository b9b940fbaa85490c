import { resolve } from 'node:path';
import { DoraFuse } from '../fuse/dora-fuse.js';
import { forceUnmount } from '../fuse/fuse-binding.js';
import type { CommandModule } from './cli-context.js';
import { stopped } from './server-flags.js';

/** `dora fuse mount|unmount`: the namespace as a local file system. */
export const fuseCommands: CommandModule = {
  register(program, context) {
    const fuse = program.command('fuse').description('mount the dora namespace as a local file system');
    fuse
      .command('mount')
      .description('mount dora (or a sub-path of it) at a local directory, in the foreground until Ctrl-C or SIGTERM')
      .argument('<mountpoint>', 'local directory (created if missing; a stale dora mount there is replaced)')
      .option('--path <dora-path>', 'the dora path to show at the mount point', '/')
      .option('--cache-seconds <n>', 'how long the kernel trusts attributes and names', '1')
      .action(async (mountPoint: string, options: { path: string; cacheSeconds: string }) => {
        const mounted = await DoraFuse.mount({ client: await context.client(), mountPoint: resolve(mountPoint), root: options.path, cacheSeconds: Number(options.cacheSeconds) });
        const done = stopped(context.signal);
        await context.write(`dora ${options.path} is mounted at ${mounted.mountPoint}; stop with Ctrl-C\n`);
        await done;
        await mounted.unmount();
      });
    fuse
      .command('unmount')
      .description('unmount a dora mount point (also one left by a daemon that crashed)')
      .argument('<mountpoint>', 'local directory')
      .action(async (mountPoint: string) => {
        await forceUnmount(resolve(mountPoint));
      });
  },
};
