import type { Command } from 'commander';
import { KIND_NAMES } from '../../core/models/kind-names.ts';
import type { Calibration, TrainOpts } from '../actions/train.ts';
import { choiceOption, intOption, jsonObjectOption, listOption } from '../options.ts';
import { NA_HELP, tableReadingOptions } from '../table-options.ts';

/** Declares `repayrisk train`; the model kinds (TensorFlow.js among them), DuckDB and the registry load only when it runs. */
export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('fit the willingness and ability models on a history (or one model on a feature table)')
    .option('--history <dir>', 'history folder (accounts, installments, contacts, outcomes [, truth])')
    .option(
      '--allow-above-oracle',
      'history mode, research only: when a model beats the true probabilities of a synthetic history (a leak), write the artifact with a warning instead of failing',
    )
    .option(
      '--response',
      'history mode: fit the treatment-response models (P(pay | x, t), P(cover | pay, x, t) from the logged treatments and propensities) instead of the scoring models; written as <name, default repayrisk-response>/<version> under --out',
    )
    .option(
      '--model <dir>',
      'with --response: the scoring model whose willingness and ability scores the per-treatment lifts are fitted on (default: the CHAMPION of repayrisk under --out); the responses then need that model',
    )
    .option(
      '--response-bags <n>',
      'with --response: independently seeded fits averaged per outcome',
      intOption('--response-bags', 1, 20),
      3,
    )
    .option(
      '--response-weighting <w>',
      'with --response: ipw (inverse propensity, capped) or none',
      choiceOption<'ipw' | 'none'>('--response-weighting', ['ipw', 'none']),
      'ipw',
    )
    .option('--table <file>', 'feature-table mode: one flat CSV/Parquet')
    .option('--target <col>', 'feature-table mode: the target column')
    .option('--positive <value>', 'feature-table mode: target value that counts as positive')
    .option('--id <col>', 'feature-table mode: id column (kept out of the features)')
    .option(
      '--categorical <a,b>',
      'feature-table mode: columns to treat as categorical',
      listOption('--categorical'),
    )
    .option(
      '--columns <a,b>',
      'feature-table mode: column names of a headerless CSV',
      listOption('--columns'),
    );
  tableReadingOptions(cmd, `feature-table mode: ${NA_HELP}`)
    .option(
      '--kind <kind>',
      `model kind: ${KIND_NAMES.join('|')}|auto (fit all, keep the best OOT log-loss)`,
      choiceOption('--kind', [...KIND_NAMES, 'auto']),
      'auto',
    )
    .option('--seed <n>', 'random seed (recorded in the manifest)', intOption('--seed', 0), 1)
    .option(
      '--oot-months <n>',
      'latest snapshot months held out as out-of-time',
      intOption('--oot-months', 1, 60),
      3,
    )
    .option(
      '--calibration <m>',
      'platt|isotonic|auto',
      choiceOption<Calibration>('--calibration', ['platt', 'isotonic', 'auto']),
      'auto',
    )
    .option(
      '--params <json>',
      'hyperparameters per kind, e.g. \'{"mlp":{"epochs":20}}\'',
      jsonObjectOption('--params'),
    )
    .option('--name <name>', 'model name (folder under --out)')
    .option('--out <dir>', 'models folder', 'models')
    .action(async (o: TrainOpts) => (await import('../actions/train.ts')).trainAction(o));
}
