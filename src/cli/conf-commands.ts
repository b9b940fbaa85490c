import { DoraError } from '../common/errors.js';
import { closestMatch } from '../conf/closest-match.js';
import { CONFIG_KEY_NAMES, describeConfig, type ConfigRow } from '../conf/index.js';
import type { CommandModule } from './cli-context.js';
import { table } from './output.js';

/** `dora conf get`: the configuration this process resolves, and where each value came from. */
export const confCommands: CommandModule = {
  register(program, context) {
    const conf = program.command('conf').description('show configuration');

    conf
      .command('get')
      .description('show configuration keys: value, source (default, file, env, flag) and meaning')
      .argument('[key]', 'one dotted key, e.g. ufs.retry.maxAttempts')
      .option('--json', 'rows as JSON')
      .action(async (key: string | undefined, options: { json?: boolean }) => {
        const rows = describeConfig(await context.config());
        const shown = key === undefined ? rows : [rowFor(rows, key)];
        if (options.json === true) return context.json(key === undefined ? shown : shown[0]);
        if (key !== undefined) return context.write(`${shown[0]?.value ?? ''}\n`);
        const lines = [['KEY', 'VALUE', 'SOURCE', 'DESCRIPTION'], ...shown.map((row) => [row.key, row.value, row.source, row.description])];
        await context.write(table(lines));
      });
  },
};

function rowFor(rows: readonly ConfigRow[], key: string): ConfigRow {
  const row = rows.find((r) => r.key === key);
  if (row !== undefined) return row;
  const suggestion = closestMatch(key, CONFIG_KEY_NAMES);
  throw new DoraError('INVALID_ARGUMENT', `Cannot show configuration key "${key}": no such key${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`);
}
