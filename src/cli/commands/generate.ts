import type { Command } from 'commander';
import { type FileFormat, generateWorld } from '../../data/generate.ts';
import { choiceOption, intOption } from '../options.ts';
import { progress } from '../progress.ts';

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
    .action(
      async (o: {
        accounts: number;
        months: number;
        seed: number;
        start: string;
        out: string;
        format: FileFormat;
        payments?: boolean;
      }) => {
        const bar = progress('generate');
        const r = await generateWorld({ ...o, onProgress: (d, t) => bar.update(d, t, 'customers') });
        bar.done();
        for (const [t, f] of Object.entries(r.files)) {
          process.stdout.write(
            `${t.padEnd(13)} ${String(r.rows[t as keyof typeof r.rows]).padStart(10)} rows  ${f}\n`,
          );
        }
      },
    );
}
