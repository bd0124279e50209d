import { type Command, InvalidArgumentError } from 'commander';
import { isIsoDate } from '../../core/schema/iso-text.ts';
import type { ScoreOptions } from '../actions/score.ts';
import { instantOption, intOption, listOption } from '../options.ts';
import { naOption } from '../table-options.ts';

function dateOption(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError(`--as-of must be a date YYYY-MM-DD, got '${value}'`);
  return value;
}

/** Declares `repayrisk score`; the models, the policy and DuckDB load only when it runs. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      'score a whole book with the champion and decide each account with the policy (--history or --accounts), ' +
        'or score a feature table with a table-mode model (--table)',
    )
    .option('--history <dir>', 'history folder: score every account with a snapshot on the as-of date')
    .option(
      '--store <file>',
      "with --history: the folder's typed copy to read (repayrisk ingest; default: <dir>/history.rrstore when it exists); refused when stale",
    )
    .option('--no-store', 'with --history: read the files even when a copy exists')
    .option(
      '--accounts <file>',
      'JSON lines, one account archive per line ({"account", "installments", "contacts"})',
    )
    .option('--table <file>', "feature table (CSV or Parquet) with a table-mode model's feature columns")
    .requiredOption('--out <file>', 'output: .csv or .parquet for a book; CSV (id, probability) for --table')
    .option('--model <dir>', 'model artifact folder (book default: models/repayrisk/<CHAMPION>)')
    .option('--policy <file>', 'policy file, YAML or JSON (default: policies/default.yaml)')
    .option(
      '--now <iso-time>',
      'decision time, ISO 8601 with offset (default: the as-of date at 12:00 UTC with --history, the current time with --accounts)',
      instantOption,
    )
    .option(
      '--as-of <date>',
      'snapshot date to score with --history (default: the latest in the accounts file)',
      dateOption,
    )
    .option(
      '--call-slots <n>',
      "human-call slots for the day, shared by the whole book (default: the policy's capacity)",
      intOption('--call-slots', 0),
    )
    .option(
      '--columns <a,b>',
      'with --table: column names of a headerless CSV (default: as at training)',
      listOption('--columns'),
    )
    .option(
      '--na <a,b>',
      "with --table: cell texts read as missing besides empty cells (default: the model's, recorded at training); '' for empty cells only",
      naOption,
    )
    .action(async (o: ScoreOptions) => (await import('../actions/score.ts')).scoreAction(o));
}
