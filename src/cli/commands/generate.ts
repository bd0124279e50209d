import type { Command } from 'commander';
import type { FileFormat } from '../../data/generate.ts';
import type { GenerateOptions } from '../actions/generate.ts';
import { choiceOption, intOption } from '../options.ts';

/** Declares `repayrisk generate`; the generator (and DuckDB for Parquet) loads only when it runs. */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      'simulate a synthetic collections world (accounts, installments, contacts, treatments, outcomes, truth)',
    )
    .requiredOption(
      '--accounts <n>',
      'number of customers in the book',
      intOption('--accounts', 1, 50_000_000),
    )
    .option('--months <m>', 'number of monthly snapshots', intOption('--months', 1, 240), 12)
    .option('--seed <s>', 'random seed (recorded in world.json)', intOption('--seed', 0), 1)
    .option('--start <date>', 'first snapshot date, the first of a month', '2024-01-01')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .option(
      '--format <fmt>',
      'csv or parquet',
      choiceOption<FileFormat>('--format', ['csv', 'parquet']),
      'csv',
    )
    .option(
      '--payments',
      'also write a payments table (every payment as it happened; other tables unchanged)',
    )
    .action(async (o: GenerateOptions) => (await import('../actions/generate.ts')).generateAction(o));
}
