import { summarise } from '../core/metrics/index.ts';
import type { MetricSummary } from '../core/metrics/types.ts';
import { takeRows, takeValues } from '../core/models/rows.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { labelTarget, TARGETS, type Target } from '../core/training/labels.ts';
import { OUT_OF_TIME, outOfTimeSplit } from '../core/training/split.ts';
import { loadSnapshotDataset, type SnapshotDataset } from '../data/snapshot-dataset.ts';
import type { LoadedArtifact } from '../registry/artifact.ts';

/** Metrics of a snapshot-mode artifact's targets on the out-of-time months (or all rows) of a dataset. */
export function evaluateOnDataset(
  art: LoadedArtifact,
  ds: SnapshotDataset,
  o: { ootMonths: number | null; seed: number },
): Record<Target, MetricSummary> {
  const roles =
    o.ootMonths === null
      ? null
      : outOfTimeSplit(ds.asOf, ds.accountIds, { ootMonths: o.ootMonths, validationShare: 0, seed: o.seed })
          .roles;
  const out = {} as Record<Target, MetricSummary>;
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
    out[t] = summarise(p, takeValues(lab.y, keep));
  }
  return out;
}

/** Loads a history's snapshot dataset for evaluation (the same builder as training). */
export async function datasetFor(history: string): Promise<SnapshotDataset> {
  return loadSnapshotDataset(history);
}
