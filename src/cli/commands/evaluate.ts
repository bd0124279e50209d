import type { Command } from 'commander';
import { KIND_NAMES } from '../../core/models/kind-names.ts';
import type { EvaluateOptions } from '../actions/evaluate.ts';
import { choiceOption, intOption, jsonObjectOption, listOption } from '../options.ts';
import { tableReadingOptions } from '../table-options.ts';

/** Declares `repayrisk evaluate`; the model kinds, DuckDB and the registry load only when it runs. */
export function registerEvaluate(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description(
      'cross-validate kinds on a feature table (--cv K), or evaluate a model artifact on a history',
    )
    .option('--table <file>', 'feature table to cross-validate on')
    .option('--target <col>', 'target column (with --table)')
    .option('--positive <value>', 'target value that counts as positive')
    .option('--id <col>', 'id column (kept out of the features)')
    .option('--categorical <a,b>', 'columns to treat as categorical', listOption('--categorical'))
    .option('--columns <a,b>', 'column names of a headerless CSV', listOption('--columns'));
  tableReadingOptions(cmd)
    .option('--cv <k>', 'number of stratified folds', intOption('--cv', 2, 50), 5)
    .option(
      '--kind <kind>',
      `${KIND_NAMES.join('|')}|auto (every kind)`,
      choiceOption('--kind', [...KIND_NAMES, 'auto']),
      'auto',
    )
    .option('--seed <n>', 'random seed', intOption('--seed', 0), 1)
    .option('--params <json>', 'hyperparameters per kind', jsonObjectOption('--params'))
    .option('--model <dir>', 'model artifact folder to evaluate (with --history)')
    .option('--history <dir>', 'history to evaluate the artifact on')
    .option(
      '--oot-months <n>',
      'evaluate on the latest N months only (default: all snapshots)',
      intOption('--oot-months', 1, 60),
    )
    .action(async (o: EvaluateOptions) => (await import('../actions/evaluate.ts')).evaluateAction(o));
}
