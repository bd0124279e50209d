import type { Command } from 'commander';
import { DEFAULT_POLICY_PATH } from '../../registry/policy-path.ts';
import type { BacktestCliOptions } from '../actions/backtest.ts';
import { intOption } from '../options.ts';

/** Declares `repayrisk backtest`; the models, DuckDB and the report renderer (vega) load only when it runs. */
export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description(
      'replay a policy (and a challenger) over the delinquent snapshots of a history: recovery, cost, net, cure rate by estimator',
    )
    .requiredOption(
      '--history <dir>',
      'history folder (accounts, installments, contacts; treatments, outcomes, truth when there)',
    )
    .option('--policy <file>', 'policy file', DEFAULT_POLICY_PATH)
    .option('--challenger <file>', 'a second policy, compared with paired bootstrap intervals')
    .option('--model <dir>', 'model artifact (default: the champion under models/)')
    .requiredOption('--out <dir>', 'folder for backtest.json and backtest.html')
    .option('--seed <n>', 'seed of the bootstrap', intOption('--seed', 0), 1)
    .option('--bootstrap <n>', 'bootstrap resamples', intOption('--bootstrap', 10, 10_000), 200)
    .option(
      '--response <dir>',
      'synthetic histories: evaluate a response artifact (train --response) on its held-out months instead: the learned expected-value policy, --policy (matrix), the logging policy and the oracle, valued by the truth and by doubly robust estimates',
    )
    .option(
      '--learned-policy <file>',
      'with --response: the expected-value policy that reads the fitted responses',
      'policies/learned-ev.yaml',
    )
    .option(
      '--call-slots <n>',
      "with --response: human-call slots per snapshot date (default: the logging policy's mean calls per date)",
      intOption('--call-slots', 0),
    )
    .action(async (o: BacktestCliOptions) => (await import('../actions/backtest.ts')).backtestAction(o));
}
