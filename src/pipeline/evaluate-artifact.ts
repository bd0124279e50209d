import { summarise } from '../core/metrics/index.ts';
import type { MetricSummary } from '../core/metrics/types.ts';
import { takeRows, takeValues } from '../core/models/rows.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { labelTarget, TARGETS, type Target } from '../core/training/labels.ts';
import { compareWithOracle, type OracleComparison } from '../core/training/leak-guard.ts';
import { OUT_OF_TIME, outOfTimeSplit } from '../core/training/split.ts';
import { loadSnapshotDataset, type SnapshotDataset } from '../data/snapshot-dataset.ts';
import type { LoadedArtifact } from '../registry/artifact.ts';
import { trueProbabilities } from './oracle.ts';

/** An artifact's metrics on a dataset and, on a synthetic history, each model against the oracle. */
export interface ArtifactEvaluation {
  metrics: Record<Target, MetricSummary>;
  /** Per target, the model against the truth's probabilities on the same rows (synthetic histories only). */
  oracle: Partial<Record<Target, OracleComparison>>;
}

/**
 * Metrics of a snapshot-mode artifact's targets on the out-of-time months (or all rows) of a dataset, and when
 * the history carries the generator's truth, each model compared with the oracle on those rows.
 */
export function evaluateArtifact(
  art: LoadedArtifact,
  ds: SnapshotDataset,
  o: { ootMonths: number | null; seed: number },
): ArtifactEvaluation {
  const roles =
    o.ootMonths === null
      ? null
      : outOfTimeSplit(ds.asOf, ds.accountIds, { ootMonths: o.ootMonths, validationShare: 0, seed: o.seed })
          .roles;
  const metrics = {} as Record<Target, MetricSummary>;
  const oracle: Partial<Record<Target, OracleComparison>> = {};
  for (const t of TARGETS) {
    const lab = labelTarget(t, ds.paid30, ds.overdue);
    const keep: number[] = [];
    const idx: number[] = [];
    for (let i = 0; i < lab.rows.length; i++) {
      if (roles === null || roles[lab.rows[i]!] === OUT_OF_TIME) {
        keep.push(i);
        idx.push(lab.rows[i]!);
      }
    }
    const model = art.models[t];
    if (!model) throw new Error(`${art.dir} has no '${t}' model`);
    const p = predictCalibrated(model, takeRows(ds.x, idx));
    const y = takeValues(lab.y, keep);
    metrics[t] = summarise(p, y);
    const truth = trueProbabilities(ds, t);
    if (truth) {
      const c = compareWithOracle(t, model.fitted.kind, p, takeValues(truth, idx), y);
      if (c) oracle[t] = c;
    }
  }
  return { metrics, oracle };
}

/** Metrics of a snapshot-mode artifact's targets on the out-of-time months (or all rows) of a dataset. */
export function evaluateOnDataset(
  art: LoadedArtifact,
  ds: SnapshotDataset,
  o: { ootMonths: number | null; seed: number },
): Record<Target, MetricSummary> {
  return evaluateArtifact(art, ds, o).metrics;
}

/** Loads a history's snapshot dataset for evaluation (the same builder as training). */
export async function datasetFor(history: string): Promise<SnapshotDataset> {
  return loadSnapshotDataset(history);
}
