import type { Command } from 'commander';
import type { IngestOptions } from '../actions/ingest.ts';

/** Declares `repayrisk ingest`; DuckDB and the checks load only when it runs. */
export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'validate a history folder once (as validate does) and write its typed columnar copy, which score ' +
        '--history then reads instead of the files while they are unchanged (docs/history-store.md)',
    )
    .requiredOption('--history <dir>', 'history folder (accounts, installments, contacts; payments optional)')
    .option('--out <file>', 'where to write the copy (default: <dir>/history.rrstore, where score looks)')
    .action(async (o: IngestOptions) => (await import('../actions/ingest.ts')).ingestAction(o));
}
