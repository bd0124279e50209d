/**
 * Score stability of a model artifact over a history's snapshot months (DESIGN §8): per month and target, how
 * well the model still ranks (AUC, KS on the month's labelled snapshots) and how far its score distribution
 * moved from the model's training scores (PSI, with the usual credit-risk bands).
 *
 * The reference is the training population, never the history's first month: a history that starts without
 * delinquency has only early-stage arrears in its first delinquent month, and measured against those every later
 * month read 'act'.
 */

import type { StabilityReference, StabilityRow } from '../core/backtest/types.ts';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import { auc, ks, psi, psiVerdict } from '../core/metrics/index.ts';
import { ModelError } from '../core/models/contract.ts';
import { dayOf, isoOf } from '../core/time/dates.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { type Labelled, labelTarget, TARGETS, type Target } from '../core/training/labels.ts';
import { outOfTimeSplit, TRAIN } from '../core/training/split.ts';
import { loadSnapshotDataset, type SnapshotDataset } from '../data/snapshot-dataset.ts';
import { loadArtifact } from '../registry/artifact.ts';
import type { Manifest } from '../registry/manifest.ts';
import { fingerprint } from './fingerprint.ts';

/**
 * A month needs at least this many labelled snapshots of each class (positive and negative) for its AUC and KS;
 * with fewer, one snapshot more or less swings them by several points, so they are reported as NaN
 * (`null` in JSON) rather than as a misleading figure. PSI is still computed: it needs no labels.
 */
export const MIN_ROWS_PER_CLASS = 10;

/**
 * Fewest reference snapshots PSI is measured against: its 10 equal-count bins then hold at least 10 each. A
 * history with fewer snapshots in the model's training months has no reference (PSI n/a), rather than a noisy one.
 */
export const MIN_REFERENCE_ROWS = 100;

/** The dataset rows whose scores stand for the model's training scores, and what they are. */
export interface ReferenceRows {
  basis: StabilityReference;
  /** Row indices into the scored dataset; empty when `basis` is 'none'. */
  rows: readonly number[];
}

/** Scores and labels of a snapshot dataset, grouped by nothing yet: the input of {@link stabilityRows}. */
export interface MonthlyScores {
  /** Snapshot month 'YYYY-MM' of each dataset row. */
  month: readonly string[];
  /** Calibrated P(positive) of each dataset row, per target (same length as `month`). */
  scores: Record<Target, Float64Array>;
  /** The rows each target is labelled on, with their labels (from `labelTarget`). */
  labels: Record<Target, Labelled>;
  /** The rows every month's PSI is measured against (from {@link trainingReference}). */
  reference: ReferenceRows;
}

/**
 * Stability rows from scored snapshots: one row per month (ascending) per target (in `TARGETS` order).
 *
 * - `snapshots`: every snapshot of the month (the scored population, labelled or not).
 * - `auc`, `ks`: on the month's labelled rows of the target; NaN when either class has fewer than `minPerClass`
 *   rows (see {@link MIN_ROWS_PER_CLASS}).
 * - `psi`: the month's scores (all its snapshots) against the reference rows' scores, 10 equal-count bins of the
 *   reference; NaN when the reference is 'none'. `verdict` from `psiVerdict` (< 0.1 stable, 0.1–0.25 watch,
 *   > 0.25 act), 'n/a' without a reference. `reference` names the basis.
 *
 * Pure and deterministic.
 * @throws RangeError when a score array's length differs from `month`'s, or a reference row is out of range.
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
  for (const i of m.reference.rows) {
    if (!(Number.isInteger(i) && i >= 0 && i < n))
      throw new RangeError(`stabilityRows: reference row ${i} is not a row of the ${n} scored`);
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
  const basis = m.reference.rows.length ? m.reference.basis : 'none';
  const reference = {} as Record<Target, Float64Array>;
  for (const t of TARGETS) reference[t] = Float64Array.from(m.reference.rows, (i) => m.scores[t][i]!);
  for (const key of months) {
    const rows = byMonth.get(key)!;
    for (const t of TARGETS) {
      const s = m.scores[t];
      const actual = Float64Array.from(rows, (i) => s[i]!);
      const shift = basis === 'none' ? Number.NaN : psi(reference[t], actual);
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
        verdict: basis === 'none' ? 'n/a' : psiVerdict(shift),
        reference: basis,
      });
    }
  }
  return out;
}

/**
 * The rows of a history's snapshot dataset that stand for a model's training scores, most faithful first:
 *
 * 1. `training`: the history is the model's training data (the dataset's fingerprint is the manifest's) and the
 *    recorded split (out-of-time months, validation share, seed) rebuilds the same out-of-time start: the rows
 *    the model was fitted on (role TRAIN), exactly the population of the report's train → out-of-time PSI.
 * 2. `training-months`: otherwise, the history's snapshots dated from the training data's first date up to the
 *    model's out-of-time start, at least {@link MIN_REFERENCE_ROWS} of them: the same period, read from this
 *    history (a longer or re-exported copy of the training history, typically).
 * 3. `none`: neither; the artifact records no score distribution of its own to fall back on.
 */
export function trainingReference(
  manifest: Pick<Manifest, 'data' | 'split' | 'seed'>,
  ds: Pick<SnapshotDataset, 'x' | 'asOf' | 'accountIds' | 'paid30' | 'overdue'>,
): ReferenceRows {
  const { data, split } = manifest;
  if (
    split.ootMonths !== null &&
    split.outOfTimeFrom !== null &&
    ds.x.rows > 0 &&
    fingerprint(ds.x.data, ds.asOf, ds.paid30, ds.overdue) === data.sha256
  ) {
    const s = outOfTimeSplit(ds.asOf, ds.accountIds, {
      ootMonths: split.ootMonths,
      validationShare: split.validationShare,
      seed: manifest.seed,
    });
    // The same data with another split rule (a newer repayrisk) would give other rows: then fall through.
    if (isoOf(s.ootStartDay) === split.outOfTimeFrom) {
      const rows: number[] = [];
      for (let i = 0; i < s.roles.length; i++) if (s.roles[i] === TRAIN) rows.push(i);
      if (rows.length) return { basis: 'training', rows };
    }
  }
  if (data.from !== null && split.outOfTimeFrom !== null) {
    const from = dayOf(data.from);
    const until = dayOf(split.outOfTimeFrom);
    const rows: number[] = [];
    for (let i = 0; i < ds.asOf.length; i++) if (ds.asOf[i]! >= from && ds.asOf[i]! < until) rows.push(i);
    if (rows.length >= MIN_REFERENCE_ROWS) return { basis: 'training-months', rows };
  }
  return { basis: 'none', rows: [] };
}

/**
 * Stability of a snapshot-mode model artifact over a history: loads the artifact (its feature schema must be the
 * snapshot features), builds the history's delinquent snapshots with the training feature builder, scores every
 * snapshot with each target's calibrated model and returns {@link stabilityRows} by snapshot month (UTC
 * as_of_date, 'YYYY-MM'), each month's PSI against the model's training scores ({@link trainingReference}).
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
  return stabilityRows({ month, scores, labels, reference: trainingReference(art.manifest, ds) });
}
