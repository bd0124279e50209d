import { RepayriskError } from '../../core/errors.ts';
import { SNAPSHOT_FEATURES } from '../../core/features/schema.ts';
import { describeComparison } from '../../core/training/leak-guard.ts';
import { datasetFor, evaluateArtifact } from '../../pipeline/evaluate-artifact.ts';
import { crossValidateTable } from '../../pipeline/table.ts';
import { loadArtifact } from '../../registry/artifact.ts';
import { progress } from '../progress.ts';
import type { TableOptionValues } from '../table-options.ts';

/** What `repayrisk evaluate` was given, parsed by commander. */
export interface EvaluateOptions extends TableOptionValues {
  cv: number;
  kind: string;
  seed: number;
  params?: Record<string, unknown>;
  model?: string;
  history?: string;
  ootMonths?: number;
}

/**
 * `repayrisk evaluate`: cross-validates kinds on a feature table, or scores an artifact on a history beside the
 * generator's oracle when the history carries one.
 * @throws RepayriskError `invalid_argument` for a wrong combination of options.
 */
export async function evaluateAction(o: EvaluateOptions): Promise<void> {
  if (o.table) {
    if (!o.target) throw new RepayriskError('invalid_argument', 'evaluate --table needs --target COL');
    const bar = progress('evaluate');
    const res = await crossValidateTable({
      ...o,
      table: o.table,
      target: o.target,
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
}
