import type { Command } from 'commander';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { isDoraError } from '../common/errors.js';
import type { CliContext, CommandModule } from './cli-context.js';
import { baseName, humanSize, listingLine, table } from './output.js';

/** The `dora fs` group, found or created: every fs command module adds to the same group. */
export function fsGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'fs') ??
    program.command('fs').description('work with files in the dora namespace (dora paths are absolute: /dir/file)')
  );
}

/** `dora fs ls|stat|mkdir|rm|mv|du`: namespace listing and changes. */
export const fsCommands: CommandModule = {
  register(program, context) {
    const fs = fsGroup(program);

    fs.command('ls')
      .description('list a directory like `ls -l`: kind, size, modification time, name')
      .argument('[path]', 'dora path', '/')
      .option('-R, --recursive', 'every file below the directory')
      .option('--json', 'a JSON array of FileStatus objects')
      .action(async (path: string, options: { recursive?: boolean; json?: boolean }) => {
        const client = await context.client();
        const prefix = path.endsWith('/') ? path : `${path}/`;
        const name = (entry: FileStatus): string => (options.recursive === true && entry.path.startsWith(prefix) ? entry.path.slice(prefix.length) : entry.name || baseName(entry.path));
        await streamEntries(context, entriesOf(client, path, { recursive: options.recursive === true, signal: context.signal }), options.json === true, (e) => listingLine(e, name(e)));
      });

    fs.command('stat')
      .description('show the status of a file or directory')
      .argument('<path>', 'dora path')
      .option('--json', 'the FileStatus as JSON')
      .action(async (path: string, options: { json?: boolean }) => {
        const status = await (await context.client()).stat(path, { signal: context.signal });
        if (options.json === true) return context.json(status);
        const lines = [
          ['path', status.path],
          ['kind', status.kind],
          ['size', `${humanSize(status.size)} (${status.size} bytes)`],
          ['modified', status.mtimeMs > 0 ? new Date(status.mtimeMs).toISOString() : '-'],
          ['version', status.version || '-'],
          ['mount', status.mount],
        ];
        await context.write(lines.map(([key, value]) => `${`${key}:`.padEnd(10)}${value}\n`).join(''));
      });

    fs.command('mkdir')
      .description('create directories and their missing parents')
      .argument('<paths...>', 'dora paths')
      .option('-p, --parents', 'accepted for familiarity: parents are always created')
      .action(async (paths: string[]) => {
        const client = await context.client();
        for (const path of paths) await client.mkdir(path, { signal: context.signal });
      });

    fs.command('rm')
      .description('delete files, or directories with -r')
      .argument('<paths...>', 'dora paths')
      .option('-r, --recursive', 'delete directories and everything below them')
      .option('-f, --force', 'ignore paths that do not exist')
      .action(async (paths: string[], options: { recursive?: boolean; force?: boolean }) => {
        const client = await context.client();
        for (const path of paths) {
          if (options.force !== true) await client.stat(path, { signal: context.signal }); // NOT_FOUND, as rm says
          await client.delete(path, { recursive: options.recursive === true, signal: context.signal });
        }
      });

    fs.command('mv')
      .description('rename a file or directory (into <to> when it is a directory)')
      .argument('<from>', 'dora path')
      .argument('<to>', 'dora path')
      .action(async (from: string, to: string) => {
        const client = await context.client();
        const target = (await isDirectory(client, to, context.signal)) ? `${to.replace(/\/+$/, '')}/${baseName(from.replace(/\/+$/, ''))}` : to;
        await client.rename(from, target, { signal: context.signal });
      });

    fs.command('du')
      .description('show the bytes used by files below a path')
      .argument('[path]', 'dora path', '/')
      .option('-s, --summarize', 'only the total of the path')
      .option('-h, --human-readable', 'sizes as 1.5 KiB, 34 MiB')
      .option('--json', 'JSON: {path, bytes, files} with -s, else [{path, bytes}]')
      .action(async (path: string, options: { summarize?: boolean; humanReadable?: boolean; json?: boolean }) => {
        const client = await context.client();
        const size = (bytes: number): string => (options.humanReadable === true ? humanSize(bytes) : String(bytes));
        const files = entriesOf(client, path, { recursive: true, signal: context.signal });
        if (options.summarize !== true) {
          const line = (e: FileStatus): string => `${size(e.size).padEnd(12)}  ${e.path}\n`;
          const summary = async function* (): AsyncGenerator<{ path: string; bytes: number }> {
            for await (const e of files) if (e.kind === 'file') yield { path: e.path, bytes: e.size };
          };
          if (options.json === true) return streamEntries(context, summary(), true, () => '');
          for await (const e of files) if (e.kind === 'file') await context.write(line(e));
          return;
        }
        let bytes = 0;
        let count = 0;
        for await (const e of files) {
          if (e.kind !== 'file') continue;
          bytes += e.size;
          count++;
        }
        if (options.json === true) return context.json({ path, bytes, files: count });
        await context.write(`${size(bytes).padEnd(12)}  ${path}\n`);
      });

    fs.command('location')
      .description("show the workers that own a file on the hash ring: its owner, then its replicas")
      .argument('<path>', 'dora path')
      .option('--replicas <n>', "how many workers to show (default the mount's replica count)")
      .option('--json', 'a JSON array of {id, address, state, role}')
      .action(async (path: string, options: { replicas?: string; json?: boolean }) => {
        const replicas = options.replicas === undefined ? undefined : Number(options.replicas);
        const owners = await (await context.client()).owners(path, { signal: context.signal, replicas });
        const located = owners.map((w, i) => ({ id: w.id, address: w.address, state: w.state, role: i === 0 ? 'owner' : 'replica' }));
        if (options.json === true) return context.json(located);
        await context.write(table([['ROLE', 'ID', 'ADDRESS', 'STATE'], ...located.map((w) => [w.role, w.id, w.address, w.state])]));
      });
  },
};

/** The entries of a directory, or the path itself when it is a file (as `ls` shows a file). */
export async function* entriesOf(client: DoraClient, path: string, options: { recursive: boolean; signal: AbortSignal | undefined }): AsyncGenerator<FileStatus> {
  try {
    yield* client.list(path, options);
  } catch (error) {
    if (!isDoraError(error, 'NOT_A_DIRECTORY')) throw error;
    yield await client.stat(path, { signal: options.signal });
  }
}

/** Whether a directory is at `path` (false when nothing is). */
export async function isDirectory(client: DoraClient, path: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    return (await client.stat(path, { signal })).kind === 'directory';
  } catch (error) {
    if (isDoraError(error, 'NOT_FOUND')) return false;
    throw error;
  }
}

/** Writes entries as they arrive: lines, or one JSON array that is never held whole in memory. */
async function streamEntries<T>(context: CliContext, entries: AsyncIterable<T>, json: boolean, line: (entry: T) => string): Promise<void> {
  if (!json) {
    for await (const entry of entries) await context.write(line(entry));
    return;
  }
  let first = true;
  for await (const entry of entries) {
    await context.write(`${first ? '[\n' : ',\n'}  ${JSON.stringify(entry)}`);
    first = false;
  }
  await context.write(first ? '[]\n' : '\n]\n');
}
