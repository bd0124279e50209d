/**
 * The oracle of a synthetic history: the generator's true probabilities scored on the same out-of-time rows as a
 * model, for the leak guard (core/training/leak-guard.ts) of `train`, `evaluate` and the training bench.
 */

import { takeRows, takeValues } from '../core/models/rows.ts';
import type { CalibratedModel } from '../core/training/fit-target.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import type { Labelled, Target } from '../core/training/labels.ts';
import { compareWithOracle, type OracleComparison } from '../core/training/leak-guard.ts';
import { OUT_OF_TIME } from '../core/training/split.ts';
import type { SnapshotDataset } from '../data/snapshot-dataset.ts';

/**
 * The generator's true probability of a target's positive per snapshot of a synthetic history (NaN where the
 * truth table has no row); null when the history has no truth table.
 */
export function trueProbabilities(ds: SnapshotDataset, target: Target): Float64Array | null {
  if (!ds.hasTruth) return null;
  return target === 'willingness' ? ds.truePay : ds.trueCover;
}

/**
 * Each model against the oracle on the out-of-time rows of one target; empty when the history has no truth.
 *
 * @param lab - the target's labelled rows
 * @param roles - TRAIN / VALIDATION / OUT_OF_TIME per labelled row (not per dataset row)
 */
export function againstOracle(
  ds: SnapshotDataset,
  target: Target,
  lab: Labelled,
  roles: Uint8Array,
  models: readonly (CalibratedModel & { kind: string })[],
): OracleComparison[] {
  const truth = trueProbabilities(ds, target);
  if (!truth) return [];
  const rows: number[] = [];
  const labelled: number[] = [];
  for (let i = 0; i < lab.rows.length; i++) {
    if (roles[i] === OUT_OF_TIME) {
      rows.push(lab.rows[i]!);
      labelled.push(i);
    }
  }
  const x = takeRows(ds.x, rows);
  const y = takeValues(lab.y, labelled);
  const t = takeValues(truth, rows);
  return models
    .map((m) => compareWithOracle(target, m.kind, predictCalibrated(m, x), t, y))
    .filter((c): c is OracleComparison => c !== null);
}
