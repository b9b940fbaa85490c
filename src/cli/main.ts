import { Command, CommanderError } from 'commander';
import { describeCause, isDoraError } from '../common/errors.js';
import { createCliContext, type CliIo, type CommandModule, type GlobalOptions } from './cli-context.js';
import { clusterCommands } from './cluster-commands.js';
import { confCommands } from './conf-commands.js';
import { fsCommands } from './fs-commands.js';
import { fsCopyCommand } from './fs-copy-command.js';
import { fsReadCommands } from './fs-read-commands.js';
import { fuseCommands } from './fuse-commands.js';
import { jobCommands } from './job-commands.js';
import { infoCommands } from './info-commands.js';
import { mountCommands } from './mount-commands.js';
import { startCommand } from './start-command.js';

/**
 * Every command group of `dora`, in help order. Each module adds its commands in `register`;
 * to add a command group, write its module and list it here.
 */
export const COMMAND_MODULES: readonly CommandModule[] = [startCommand, clusterCommands, fsCommands, fsReadCommands, fsCopyCommand, mountCommands, infoCommands, fuseCommands, jobCommands, confCommands];

/** Exit status of a command that failed (a usage error included). */
export const EXIT_FAILURE = 1;
/** Exit status after an interrupt (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * Runs `dora` with `args` (argv without node and the script) and answers the exit status. A
 * failure prints one line, `dora: <message>`, on stderr.
 */
export async function runCli(args: readonly string[], io: CliIo, modules: readonly CommandModule[] = COMMAND_MODULES): Promise<number> {
  const program = new Command('dora');
  const context = createCliContext(io, () => program.opts<GlobalOptions>());
  program
    .description('dora: one namespace over many stores, with a distributed page cache')
    .option('--address <url>', 'coordinator URL (default: DORA_ADDRESS, the config file, or http://127.0.0.1:19999)')
    .option('--config <file>', 'YAML configuration file (default: DORA_CONFIG)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`dora: ${text.replace(/^error: /, '')}`),
    });
  for (const module of modules) module.register(program, context);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const interrupted = io.signal?.aborted === true;
    io.stderr.write(`dora: ${oneLine(interrupted ? 'interrupted' : isDoraError(error) ? error.message : describeCause(error))}\n`);
    return interrupted ? EXIT_INTERRUPTED : EXIT_FAILURE;
  } finally {
    await context.close().catch(() => undefined);
  }
}

/** The `dora` executable: reads argv and the environment, and sets the exit status. */
export async function main(): Promise<void> {
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  // A closed pipe (`dora fs cat f | head`) ends the output quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal });
  process.off('SIGINT', interrupt);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
