import type { Command } from 'commander';
import { RepayriskError } from '../../core/errors.ts';
import { promote } from '../../pipeline/promote.ts';
import { numberOption } from '../options.ts';

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
    .action(async (o: { model: string; history: string; maxAucDrop: number; maxEceRise: number }) => {
      const r = await promote(o.model.replace(/\/+$/, ''), o.history, {
        maxAucDrop: o.maxAucDrop,
        maxEceRise: o.maxEceRise,
      });
      for (const [t, c] of Object.entries(r.comparison)) {
        const h = c.champion
          ? `champion AUC ${c.champion.auc.toFixed(4)} ECE ${c.champion.ece.toFixed(4)}`
          : 'no champion';
        process.stdout.write(
          `${t.padEnd(12)} candidate AUC ${c.candidate.auc.toFixed(4)} ECE ${c.candidate.ece.toFixed(4)} | ${h}\n`,
        );
      }
      if (!r.promoted) {
        throw new RepayriskError(
          'refused',
          `not promoted: ${r.name}/${r.candidate} stays a candidate, ${r.champion} stays CHAMPION:\n  ${r.reasons.join('\n  ')}`,
        );
      }
      process.stdout.write(
        `CHAMPION of ${r.name} is now ${r.candidate}${r.champion && r.champion !== r.candidate ? ` (was ${r.champion})` : ''}\n`,
      );
    });
}
