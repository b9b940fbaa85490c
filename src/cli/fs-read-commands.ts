import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from 'commander';
import { parseSize } from '../conf/units.js';
import type { CliContext, CommandModule } from './cli-context.js';
import { fsGroup } from './fs-commands.js';

const DEFAULT_BYTES = '1KiB';

/** `dora fs cat|head|tail`: file contents to stdout, streamed; head and tail read only their range. */
export const fsReadCommands: CommandModule = {
  register(program, context) {
    const fs = fsGroup(program);

    fs.command('cat')
      .description('write files to stdout')
      .argument('<paths...>', 'dora paths')
      .action(async (paths: string[]) => {
        const client = await context.client();
        for (const path of paths) await copyToStdout(context, await client.read(path, { signal: context.signal }));
      });

    fs.command('head')
      .description('write the first bytes of a file to stdout')
      .argument('<path>', 'dora path')
      .option('-c, --bytes <size>', 'how many bytes (units allowed: 4096, 64KiB)', bytesOption, parseSize(DEFAULT_BYTES))
      .action(async (path: string, options: { bytes: number }) => {
        const client = await context.client();
        await copyToStdout(context, await client.read(path, { offset: 0, length: options.bytes, signal: context.signal }));
      });

    fs.command('tail')
      .description('write the last bytes of a file to stdout')
      .argument('<path>', 'dora path')
      .option('-c, --bytes <size>', 'how many bytes (units allowed: 4096, 64KiB)', bytesOption, parseSize(DEFAULT_BYTES))
      .action(async (path: string, options: { bytes: number }) => {
        const client = await context.client();
        const { size } = await client.stat(path, { signal: context.signal });
        const offset = Math.max(0, size - options.bytes);
        await copyToStdout(context, await client.read(path, { offset, length: size - offset, signal: context.signal }));
      });
  },
};

function bytesOption(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** Copies a stream to stdout with backpressure, leaving stdout open. */
async function copyToStdout(context: CliContext, source: NodeJS.ReadableStream): Promise<void> {
  await pipeline(source, context.io.stdout, { end: false });
}
