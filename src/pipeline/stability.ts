/**
 * Score stability of a model artifact over a history's snapshot months (DESIGN §8): per month and target, how
 * well the model still ranks (AUC, KS on the month's labelled snapshots) and how far its score distribution
 * moved from the first month's (PSI, with the usual credit-risk bands).
 */

import type { StabilityRow } from '../core/backtest/types.ts';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import { auc, ks, psi, psiVerdict } from '../core/metrics/index.ts';
import { ModelError } from '../core/models/contract.ts';
import { isoOf } from '../core/time/dates.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { type Labelled, labelTarget, TARGETS, type Target } from '../core/training/labels.ts';
import { loadSnapshotDataset } from '../data/snapshot-dataset.ts';
import { loadArtifact } from '../registry/artifact.ts';

/**
 * A month needs at least this many labelled snapshots of each class (positive and negative) for its AUC and KS;
 * with fewer, one snapshot more or less swings them by several points, so they are reported as NaN
 * (`null` in JSON) rather than as a misleading figure. PSI is still computed: it needs no labels.
 */
export const MIN_ROWS_PER_CLASS = 10;

/** Scores and labels of a snapshot dataset, grouped by nothing yet: the input of {@link stabilityRows}. */
export interface MonthlyScores {
  /** Snapshot month 'YYYY-MM' of each dataset row. */
  month: readonly string[];
  /** Calibrated P(positive) of each dataset row, per target (same length as `month`). */
  scores: Record<Target, Float64Array>;
  /** The rows each target is labelled on, with their labels (from `labelTarget`). */
  labels: Record<Target, Labelled>;
}

/**
 * Stability rows from scored snapshots: one row per month (ascending) per target (in `TARGETS` order).
 *
 * - `snapshots`: every snapshot of the month (the scored population, labelled or not).
 * - `auc`, `ks`: on the month's labelled rows of the target; NaN when either class has fewer than `minPerClass`
 *   rows (see {@link MIN_ROWS_PER_CLASS}).
 * - `psi`: the month's scores (all its snapshots) against the first month's, 10 equal-count bins of the first
 *   month's scores; 0 for the first month. `verdict` from `psiVerdict`: < 0.1 stable, 0.1–0.25 watch, > 0.25 act.
 *
 * Pure and deterministic.
 * @throws RangeError when a score array's length differs from `month`'s.
 */
export function stabilityRows(m: MonthlyScores, minPerClass = MIN_ROWS_PER_CLASS): StabilityRow[] {
  const n = m.month.length;
  for (const t of TARGETS) {
    if (m.scores[t].length !== n) {
      throw new RangeError(`stabilityRows: ${n} months but ${m.scores[t].length} '${t}' scores`);
    }
  }
  const byMonth = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const key = m.month[i]!;
    const rows = byMonth.get(key);
    if (rows) rows.push(i);
    else byMonth.set(key, [i]);
  }
  const months = [...byMonth.keys()].sort();
  const out: StabilityRow[] = [];
  if (months.length === 0) return out;
  // Labelled positions per month and target, so AUC/KS read only the month's labelled rows.
  const labelled = new Map<string, Record<Target, { rows: number[]; y: number[] }>>();
  for (const key of months)
    labelled.set(key, { willingness: { rows: [], y: [] }, ability: { rows: [], y: [] } });
  for (const t of TARGETS) {
    const lab = m.labels[t];
    for (let j = 0; j < lab.rows.length; j++) {
      const row = lab.rows[j]!;
      const bucket = labelled.get(m.month[row]!)![t];
      bucket.rows.push(row);
      bucket.y.push(lab.y[j]!);
    }
  }
  const first = byMonth.get(months[0]!)!;
  for (const key of months) {
    const rows = byMonth.get(key)!;
    for (const t of TARGETS) {
      const s = m.scores[t];
      const reference = Float64Array.from(first, (i) => s[i]!);
      const actual = Float64Array.from(rows, (i) => s[i]!);
      const shift = key === months[0] ? 0 : psi(reference, actual);
      const lab = labelled.get(key)![t];
      const positives = lab.y.reduce((a, b) => a + b, 0);
      const enough = positives >= minPerClass && lab.y.length - positives >= minPerClass;
      const ls = Float64Array.from(lab.rows, (i) => s[i]!);
      out.push({
        month: key,
        snapshots: rows.length,
        target: t,
        auc: enough ? auc(ls, lab.y) : Number.NaN,
        ks: enough ? ks(ls, lab.y) : Number.NaN,
        psi: shift,
        verdict: psiVerdict(shift),
      });
    }
  }
  return out;
}

/**
 * Stability of a snapshot-mode model artifact over a history: loads the artifact (its feature schema must be the
 * snapshot features), builds the history's delinquent snapshots with the training feature builder, scores every
 * snapshot with each target's calibrated model and returns {@link stabilityRows} by snapshot month (UTC
 * as_of_date, 'YYYY-MM').
 * @param modelDir - an artifact folder (holding manifest.json).
 * @param history - a history folder (accounts, installments, contacts, outcomes).
 * @throws ModelError when the artifact is invalid, has another feature schema, or lacks a target's model.
 */
export async function modelStability(modelDir: string, history: string): Promise<StabilityRow[]> {
  const art = await loadArtifact(modelDir, SNAPSHOT_FEATURES);
  const ds = await loadSnapshotDataset(history);
  const month = Array.from(ds.asOf, (d) => isoOf(d).slice(0, 7));
  const scores = {} as Record<Target, Float64Array>;
  const labels = {} as Record<Target, Labelled>;
  for (const t of TARGETS) {
    const model = art.models[t];
    if (!model) throw new ModelError(`${modelDir} has no '${t}' model`);
    scores[t] = predictCalibrated(model, ds.x);
    labels[t] = labelTarget(t, ds.paid30, ds.overdue);
  }
  return stabilityRows({ month, scores, labels });
}
