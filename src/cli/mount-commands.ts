import { InvalidArgumentError } from 'commander';
import type { MountInfo, MountRequest } from '../mount/mount-info.js';
import type { CommandModule } from './cli-context.js';
import { table } from './output.js';

interface AddOptions {
  readOnly?: boolean;
  writeType?: string;
  option: Record<string, string>;
  credentials?: string;
  syncInterval?: string;
  replicas?: string;
  json?: boolean;
}

/** `dora mount add|list|remove`: the namespace's mount table, kept by the coordinator. */
export const mountCommands: CommandModule = {
  register(program, context) {
    const mount = program.command('mount').description('bind stores into the dora namespace');

    mount
      .command('add')
      .description('mount a store at a dora path')
      .argument('<path>', 'dora path of the mount point, e.g. /sales')
      .argument('<uri>', 'store URI, e.g. s3://bucket/sales/ or file:///srv/data')
      .option('--read-only', 'refuse writes through this mount')
      .option('--write-type <type>', 'CACHE_THROUGH (default) or THROUGH')
      .option('--option <key=value>', 'a store option (endpoint, region, pathStyle, …); repeatable', collectOption, {})
      .option('--credentials <name>', 'credentials kept outside the mount table, by name (DORA_CREDENTIALS_<NAME>_ACCESS_KEY_ID / _SECRET_ACCESS_KEY, _ACCOUNT_KEY, _KEY, … where dora runs)')
      .option('--sync-interval <duration>', 'how long cached metadata is trusted: 30s, -1 (never re-check), 0 (always)')
      .option('--replicas <n>', 'how many workers keep each file (default 1)')
      .option('--json', 'print the new mount as JSON')
      .action(async (path: string, uri: string, options: AddOptions) => {
        const request: MountRequest = {
          path,
          uri,
          readOnly: options.readOnly === true,
          writeType: options.writeType,
          options: options.option,
          credentials: options.credentials,
          syncInterval: options.syncInterval,
          replicas: options.replicas,
        };
        const added = await (await context.client()).mount(request, { signal: context.signal });
        if (options.json === true) return context.json(added);
        await context.write(`Mounted "${added.uri}" at "${added.path}"\n`);
      });

    mount
      .command('list')
      .description('show the mount table (store secrets show as ***)')
      .option('--json', 'a JSON array of mounts')
      .action(async (options: { json?: boolean }) => {
        const mounts = await (await context.client()).mounts({ signal: context.signal });
        if (options.json === true) return context.json(mounts);
        const rows = [['PATH', 'URI', 'MODE', 'WRITE TYPE', 'OPTIONS'], ...mounts.map(mountRow)];
        await context.write(table(rows));
      });

    mount
      .command('remove')
      .description('unmount the store at a dora path')
      .argument('<path>', 'dora path of the mount point')
      .action(async (path: string) => {
        await (await context.client()).unmount(path, { signal: context.signal });
      });
  },
};

function mountRow(mount: MountInfo): string[] {
  const options = Object.entries(mount.options).map(([key, value]) => `${key}=${value}`);
  if (mount.credentials !== undefined) options.push(`credentials=${mount.credentials}`);
  if (mount.syncIntervalMs !== undefined) options.push(`syncInterval=${mount.syncIntervalMs}ms`);
  if (mount.replicas !== undefined) options.push(`replicas=${mount.replicas}`);
  return [mount.path, mount.uri, mount.readOnly ? 'ro' : 'rw', mount.writeType, options.join(',') || '-'];
}

function collectOption(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}
