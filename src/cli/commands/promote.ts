import type { Command } from 'commander';
import type { PromoteOptions } from '../actions/promote.ts';
import { numberOption } from '../options.ts';

/** Declares `repayrisk promote`; the evaluation and registry load only when it runs. */
export function registerPromote(program: Command): void {
  program
    .command('promote')
    .description('make a model artifact the CHAMPION if it passes the gates against the current champion')
    .requiredOption('--model <dir>', 'candidate artifact folder (models/<name>/<version>)')
    .requiredOption('--history <dir>', 'history whose out-of-time months both models are scored on')
    .option(
      '--max-auc-drop <x>',
      'largest allowed drop in out-of-time AUC per target',
      numberOption('--max-auc-drop', 0, 1),
      0.005,
    )
    .option(
      '--max-ece-rise <x>',
      'largest allowed rise in expected calibration error',
      numberOption('--max-ece-rise', 0, 1),
      0.01,
    )
    .action(async (o: PromoteOptions) => (await import('../actions/promote.ts')).promoteAction(o));
}
