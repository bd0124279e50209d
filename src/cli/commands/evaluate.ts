import type { Command } from 'commander';
import { RepayriskError } from '../../core/errors.ts';
import { SNAPSHOT_FEATURES } from '../../core/features/schema.ts';
import { KIND_NAMES } from '../../core/models/kinds.ts';
import { describeComparison } from '../../core/training/leak-guard.ts';
import { datasetFor, evaluateArtifact } from '../../pipeline/evaluate-artifact.ts';
import { crossValidateTable } from '../../pipeline/table.ts';
import { loadArtifact } from '../../registry/artifact.ts';
import { choiceOption, intOption, jsonObjectOption, listOption } from '../options.ts';
import { progress } from '../progress.ts';
import { tableReadingOptions } from '../table-options.ts';

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
    .action(async (o) => {
      if (o.table) {
        if (!o.target) throw new RepayriskError('invalid_argument', 'evaluate --table needs --target COL');
        const bar = progress('evaluate');
        const res = await crossValidateTable({
          ...o,
          folds: o.cv,
          calibration: 'platt',
          onProgress: (m: string) => bar.note(m),
        });
        bar.done();
        process.stdout.write(`${o.cv}-fold stratified cross-validation of ${o.table} (target ${o.target})\n`);
        for (const r of res) {
          process.stdout.write(
            `  ${r.kind.padEnd(10)} mean AUC ${r.mean.toFixed(4)} ± ${r.sd.toFixed(4)}  folds ${r.aucs.map((a) => a.toFixed(3)).join(' ')}\n`,
          );
        }
      } else if (o.model && o.history) {
        const art = await loadArtifact(o.model, SNAPSHOT_FEATURES);
        const ds = await datasetFor(o.history);
        const ev = evaluateArtifact(art, ds, { ootMonths: o.ootMonths ?? null, seed: art.manifest.seed });
        for (const [t, s] of Object.entries(ev.metrics)) {
          process.stdout.write(
            `${t.padEnd(12)} rows ${s.rows}  AUC ${s.auc.toFixed(4)}  KS ${s.ks.toFixed(3)}  Brier ${s.brier.toFixed(4)}  log-loss ${s.logLoss.toFixed(4)}  ECE ${s.ece.toFixed(4)}\n`,
          );
        }
        // A synthetic history carries the generator's truth: the best AUC any model could reach on these rows.
        for (const c of Object.values(ev.oracle)) {
          process.stdout.write(
            `${c.target.padEnd(12)} oracle AUC ${c.oracleAuc.toFixed(4)} (the generator's true probabilities): ${describeComparison(c)}\n`,
          );
          if (c.above)
            process.stderr.write(
              `repayrisk: WARNING: the ${c.target} model beats the truth by more than noise: a feature sees the future (docs/models.md, leak guard)\n`,
            );
        }
      } else
        throw new RepayriskError(
          'invalid_argument',
          'evaluate needs --table FILE --target COL, or --model DIR --history DIR',
        );
    });
}
