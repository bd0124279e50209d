import type { Command } from 'commander';
import { scoreTable } from '../../pipeline/table.ts';
import { listOption } from '../options.ts';

export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      'score a feature table with a table-mode model: writes the id (or row) and probability as CSV',
    )
    .requiredOption('--model <dir>', 'model artifact folder')
    .requiredOption('--table <file>', "CSV or Parquet with the model's feature columns")
    .requiredOption('--out <file>', 'output CSV')
    .option(
      '--columns <a,b>',
      'column names of a headerless CSV (default: as at training)',
      listOption('--columns'),
    )
    .action(async (o: { model: string; table: string; out: string; columns?: string[] }) => {
      const n = await scoreTable(o);
      process.stdout.write(`scored ${n} rows -> ${o.out}\n`);
    });
}
