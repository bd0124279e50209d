import type { Command } from 'commander';

/** Declares `repayrisk summary`; the history reader (DuckDB) loads only when it runs. */
export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description('summarise a history folder: delinquency, roll and cure rates, treatment mix, pay rates')
    .requiredOption('--history <dir>', 'folder with accounts.csv|parquet and optional other tables')
    .option('--json', 'print JSON instead of text')
    .action(async (o: { history: string; json?: boolean }) =>
      (await import('../actions/summary.ts')).summaryAction(o),
    );
}
