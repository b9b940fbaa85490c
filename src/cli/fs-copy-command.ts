import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DoraClient } from '../client/dora-client.js';
import { DoraError } from '../common/errors.js';
import { fromSystemError } from '../common/system-errors.js';
import type { CliContext, CommandModule } from './cli-context.js';
import { copyProgress, counted } from './copy-progress.js';
import { COPY_PATH_RULE, parseCopyLocation, type CopyLocation } from './copy-location.js';
import { fsGroup, isDirectory } from './fs-commands.js';
import { baseName } from './output.js';

interface CopyOptions {
  progress: boolean;
  writeType?: string;
  json?: boolean;
}

/** `dora fs cp`: local → dora, dora → local, dora → dora, with a progress bar for large copies. */
export const fsCopyCommand: CommandModule = {
  register(program, context) {
    fsGroup(program)
      .command('cp')
      .description('copy a file between the local disk and dora, or within dora')
      .argument('<source>', 'a dora path or a local path (see below)')
      .argument('<destination>', 'a dora path or a local path; into it when it is a directory')
      .option('--no-progress', 'no progress bar (shown on a terminal for copies over 8 MiB)')
      .option('--write-type <type>', 'CACHE_THROUGH or THROUGH when writing to dora (default: the mount\'s)')
      .option('--json', 'print {source, destination, bytes} when done')
      .addHelpText('after', `\n${COPY_PATH_RULE}\n\nExamples:\n  dora fs cp ./data.csv /sales/data.csv\n  dora fs cp /sales/data.csv ./copy.csv\n  dora fs cp file:/tmp/data.csv /sales/\n  dora fs cp /sales/data.csv /archive/`)
      .action(async (source: string, destination: string, options: CopyOptions) => {
        const copied = await copy(context, parseCopyLocation(source), parseCopyLocation(destination), options);
        if (options.json === true) await context.json(copied);
      });
  },
};

async function copy(context: CliContext, from: CopyLocation, to: CopyLocation, options: CopyOptions): Promise<{ source: string; destination: string; bytes: number }> {
  const attempt = `Cannot copy "${from.text}" to "${to.text}"`;
  if (from.kind === 'local' && to.kind === 'local') {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: both are local paths (dora paths start with "/")`);
  }
  const client = await context.client();
  const signal = context.signal;
  const size = from.kind === 'dora' ? await doraFileSize(client, from, signal) : await localFileSize(from, attempt);
  const target = await targetPath(client, from, to, signal);
  const progress = copyProgress(context, size, { enabled: options.progress });
  try {
    const source = from.kind === 'dora' ? await client.read(from.path, { signal }) : createReadStream(from.path, signal === undefined ? {} : { signal });
    const bytes = counted(source, progress);
    if (to.kind === 'dora') {
      await client.write(target, bytes, { size, signal, ...(options.writeType === undefined ? {} : { writeType: options.writeType }) });
    } else {
      await writeLocalFile(target, bytes, attempt, signal);
    }
  } catch (error) {
    throw from.kind === 'local' ? fromSystemError(error, attempt) : error;
  } finally {
    progress.stop();
  }
  return { source: from.path, destination: target, bytes: size };
}

async function doraFileSize(client: DoraClient, from: CopyLocation, signal: AbortSignal | undefined): Promise<number> {
  const status = await client.stat(from.path, { signal });
  if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `Cannot copy "${from.text}": it is a directory (cp copies one file)`);
  return status.size;
}

async function localFileSize(from: CopyLocation, attempt: string): Promise<number> {
  try {
    const stats = await stat(from.path);
    if (stats.isDirectory()) throw new DoraError('IS_A_DIRECTORY', `Cannot copy "${from.text}": it is a directory (cp copies one file)`);
    return stats.size;
  } catch (error) {
    throw fromSystemError(error, attempt);
  }
}

/** The destination file: `to` itself, or the source's name inside `to` when that is a directory. */
async function targetPath(client: DoraClient, from: CopyLocation, to: CopyLocation, signal: AbortSignal | undefined): Promise<string> {
  const name = from.kind === 'dora' ? baseName(from.path.replace(/\/+$/, '')) : basename(from.path);
  if (to.kind === 'dora') {
    const into = to.path.endsWith('/') || (await isDirectory(client, to.path, signal));
    return into ? `${to.path.replace(/\/+$/, '')}/${name}` : to.path;
  }
  const into = /[/\\]$/.test(to.text) || (await stat(to.path).catch(() => undefined))?.isDirectory() === true;
  return into ? join(to.path, name) : to.path;
}

/** Writes a local file atomically: to a temporary name beside it, renamed once complete. */
async function writeLocalFile(path: string, source: AsyncIterable<Uint8Array>, attempt: string, signal: AbortSignal | undefined): Promise<void> {
  const temporary = `${path}.dora-${randomBytes(4).toString('hex')}.part`;
  try {
    await pipeline(Readable.from(source, { objectMode: false }), createWriteStream(temporary), signal === undefined ? {} : { signal });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw fromSystemError(error, attempt);
  }
}
