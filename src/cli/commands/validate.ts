import type { Command } from 'commander';
import { RepayriskError } from '../../core/errors.ts';
import { TABLES, type TableName } from '../../core/schema/tables.ts';
import { findHistoryFiles } from '../../data/history.ts';
import { validateTable } from '../../data/reader.ts';
import { choiceOption } from '../options.ts';

const NAMES = Object.keys(TABLES) as TableName[];

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check data files against the data contract (docs/data-contract.md), streaming any size')
    .option('--history <dir>', 'check every table file found in a history folder')
    .option('--file <path>', 'check one CSV or Parquet file (with --table)')
    .option('--table <name>', `table the file holds: ${NAMES.join('|')}`, choiceOption('--table', NAMES))
    .action(async (o: { history?: string; file?: string; table?: TableName }) => {
      let jobs: [TableName, string][];
      if (o.history) {
        const files = findHistoryFiles(o.history, ['accounts']);
        jobs = NAMES.filter((t) => files[t]).map((t) => [t, files[t]!]);
      } else if (o.file && o.table) jobs = [[o.table, o.file]];
      else
        throw new RepayriskError(
          'invalid_argument',
          'validate needs --history DIR, or --file PATH with --table NAME',
        );
      for (const [t, f] of jobs) {
        const n = await validateTable(f, TABLES[t]);
        process.stdout.write(`ok  ${t.padEnd(13)} ${String(n).padStart(10)} rows  ${f}\n`);
      }
    });
}
