import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { DEFAULT_ADDRESS, type DoraClientOptions } from '../client/client-options.js';
import { DoraClient } from '../client/dora-client.js';
import { describeConfig, resolveConfig, type DoraConfig } from '../conf/index.js';

/** Where the CLI reads and writes: the process's own streams, or a test's. */
export interface CliIo {
  readonly stdout: Writable & { readonly isTTY?: boolean; readonly columns?: number };
  readonly stderr: Writable;
  /** The environment (`process.env`): DORA_ADDRESS, DORA_CONFIG and configuration variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted when the user interrupts (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** What every command gets: output, the interrupt signal, and lazily the client and configuration. */
export interface CliContext {
  readonly io: CliIo;
  readonly signal: AbortSignal | undefined;
  /** Whether stdout is a terminal (progress bars are drawn only then). */
  readonly interactive: boolean;
  /**
   * The client of the coordinator named by `--address`, else DORA_ADDRESS, else the configuration
   * (`host` and `web.port` when the file or environment sets them), else http://127.0.0.1:19999.
   * Created on first use and closed when the command ends.
   */
  client(options?: Pick<DoraClientOptions, 'observe'>): Promise<DoraClient>;
  /** The configuration from `--config FILE` (or DORA_CONFIG), DORA_* variables, then `flags`. */
  config(flags?: Readonly<Record<string, string>>): Promise<DoraConfig>;
  /** Writes text to stdout, waiting while the stream is full. */
  write(text: string): Promise<void>;
  /** Writes a value as JSON (one document, ending in a newline). */
  json(value: unknown): Promise<void>;
  /** Registers cleanup to run when the command ends (after success or failure). */
  onExit(cleanup: () => Promise<void> | void): void;
}

/** A group of commands: `register` adds them to the program. `src/cli/main.ts` lists the modules. */
export interface CommandModule {
  register(program: Command, context: CliContext): void;
}

/** The program's own options, shared by every command. */
export interface GlobalOptions {
  address?: string;
  config?: string;
}

/** A context over `io` whose global options are read (once parsed) through `globals`. */
export function createCliContext(io: CliIo, globals: () => GlobalOptions): CliContext & { close(): Promise<void> } {
  let client: Promise<DoraClient> | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  const config = (flags: Readonly<Record<string, string>> = {}): Promise<DoraConfig> =>
    resolveConfig({ file: globals().config ?? emptyToUndefined(io.env.DORA_CONFIG), env: io.env, flags }, { signal: io.signal });
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      io.stdout.write(text, (error) => (error === null || error === undefined ? resolve() : reject(error)));
    });
  return {
    io,
    signal: io.signal,
    interactive: io.stdout.isTTY === true,
    client: (options = {}) => {
      client ??= (async () => {
        const resolved = await config();
        return new DoraClient({
          ...options,
          address: await coordinatorAddress(globals(), io.env, config),
          virtualNodes: resolved.cluster.virtualNodes,
          connectTimeoutMs: resolved.client.connectTimeout,
          idleTimeoutMs: resolved.client.idleTimeout,
        });
      })();
      return client;
    },
    config,
    write,
    json: (value) => write(`${JSON.stringify(value, null, 2)}\n`),
    onExit: (cleanup) => cleanups.push(cleanup),
    close: async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      const opened = client;
      client = undefined;
      await (await opened?.catch(() => undefined))?.close();
    },
  };
}

async function coordinatorAddress(globals: GlobalOptions, env: CliIo['env'], config: () => Promise<DoraConfig>): Promise<string> {
  const explicit = globals.address ?? emptyToUndefined(env.DORA_ADDRESS);
  if (explicit !== undefined) return explicit;
  const resolved = await config();
  const rows = new Map(describeConfig(resolved).map((row) => [row.key, row]));
  const configured = rows.get('host')?.source !== 'default' || rows.get('web.port')?.source !== 'default';
  if (!configured || resolved.web.port === 0) return DEFAULT_ADDRESS;
  const host = resolved.host === '0.0.0.0' || resolved.host === '::' ? '127.0.0.1' : resolved.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${resolved.web.port}`;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
