import type { Command } from 'commander';
import { TABLE_NAMES } from '../../core/schema/table-names.ts';
import type { TableName } from '../../core/schema/tables.ts';
import type { ValidateOptions } from '../actions/validate.ts';
import { choiceOption } from '../options.ts';

/** Declares `repayrisk validate`; its implementation (DuckDB, the file checks) loads only when it runs. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check data files against the data contract (docs/data-contract.md): every cell (in SQL, any size; CSV ' +
        'structure errors named by line), then the cross-column rules (errors exit 2, warnings are printed)',
    )
    .option('--history <dir>', 'check every table file found in a history folder')
    .option('--file <path>', 'check one CSV or Parquet file (with --table)')
    .option(
      '--table <name>',
      `table the file holds: ${TABLE_NAMES.join('|')}`,
      choiceOption<TableName>('--table', TABLE_NAMES),
    )
    .action(async (o: ValidateOptions) => (await import('../actions/validate.ts')).validateAction(o));
}
