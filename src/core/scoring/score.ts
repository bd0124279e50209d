import { buildFeatures, FEATURE_COUNT } from '../features/builder.ts';
import { ARCHIVE_LOOKBACK } from '../features/definitions.ts';
import {
  type ContactLike,
  type InstallmentLike,
  isoDay,
  type PreparedHistory,
  prepareHistory,
} from '../features/history.ts';
import { applyPaymentsFrom, type PaymentLike, paymentColumns } from '../features/payments.ts';
import { type Matrix, matrix } from '../models/contract.ts';
import type { Scores } from '../policy/types.ts';
import type { AccountRow } from '../schema/tables.ts';
import { type CalibratedModel, predictCalibrated } from '../training/fit-target.ts';

/** An account as a caller sends it (DESIGN §7): the snapshot, its recent instalments and recent contacts. */
export interface AccountArchive {
  account: AccountRow;
  installments: readonly InstallmentLike[];
  contacts: readonly ContactLike[];
  /**
   * Payments made in the instalment window (older ones are ignored); when given, paid status comes from these,
   * oldest due first, over the window's instalments (`applyPaymentsFrom`).
   */
  payments?: readonly PaymentLike[];
  /**
   * The account's history already prepared from typed columns (the history store, batch scoring of a book): the
   * features read it instead of `installments`, `contacts` and `payments`, which need not be given then.
   */
  history?: PreparedHistory;
}

/** The two calibrated models of one artifact version, ready to score snapshot features. */
export interface ScoringModels {
  /** Artifact version (v + 12 hex), recorded on every decision. */
  version: string;
  willingness: CalibratedModel;
  ability: CalibratedModel;
}

/** How many features are named as the drivers of each score. */
export const DRIVER_COUNT = 3;

/**
 * The feature matrix of the archives, one row per archive in order, each built as of its account's `as_of_date`
 * by the same builder training uses: what scoreArchives scores, exposed so the parity test can compare it with
 * the batch path's features.
 */
export function archiveFeatures(archives: readonly AccountArchive[]): Matrix {
  const n = archives.length;
  const data = new Float64Array(n * FEATURE_COUNT);
  archives.forEach((a, i) => {
    if (a.history) {
      buildFeatures(a.account, a.history, data, i * FEATURE_COUNT);
      return;
    }
    const h = prepareHistory(a.installments, a.contacts);
    if (a.payments) {
      const p = paymentColumns(a.payments);
      applyPaymentsFrom(
        h,
        p.days,
        p.amounts,
        isoDay(a.account.as_of_date) - ARCHIVE_LOOKBACK.installmentsDays,
      );
    }
    buildFeatures(a.account, h, data, i * FEATURE_COUNT);
  });
  return matrix(data, n, FEATURE_COUNT);
}

/**
 * Scores accounts with the same point-in-time feature builder as training (features as of each account's
 * `as_of_date`), one matrix for the whole batch so a batch and single accounts give identical scores. Each score
 * carries its strongest drivers: the features with the largest contribution to its log-odds, signed
 * ("days_past_due (-0.84)").
 */
export function scoreArchives(archives: readonly AccountArchive[], models: ScoringModels): Scores[] {
  const n = archives.length;
  if (n === 0) return [];
  const x = archiveFeatures(archives);
  const w = predictCalibrated(models.willingness, x);
  const ab = predictCalibrated(models.ability, x);
  const out: Scores[] = [];
  const phi = new Float64Array(x.cols);
  for (let i = 0; i < n; i++)
    out.push({
      willingness: w[i]!,
      ability: ab[i]!,
      drivers: {
        willingness: drivers(models.willingness, x, i, phi),
        ability: drivers(models.ability, x, i, phi),
      },
    });
  return out;
}

/**
 * The DRIVER_COUNT features with the largest |contribution| to row `row`'s log-odds, as `explain` orders them
 * (largest first, ties in feature order). Kinds with `explainInto` write into the `phi` scratch instead of
 * building and sorting one object per feature: the drivers are computed on every decision.
 */
function drivers(m: CalibratedModel, x: Matrix, row: number, phi: Float64Array): string[] {
  const f = m.fitted;
  if (!f.explainInto)
    return f
      .explain(x, row)
      .slice(0, DRIVER_COUNT)
      .map((c) => driverText(c.feature, c.contribution));
  phi.fill(0);
  f.explainInto(x, row, phi);
  // Top DRIVER_COUNT by insertion, in feature order: a later feature displaces only a strictly larger one's
  // place, so ties keep feature order exactly as the stable sort in `explain` does.
  const top = new Int32Array(DRIVER_COUNT);
  const mag = new Float64Array(DRIVER_COUNT);
  let k = 0;
  for (let j = 0; j < phi.length; j++) {
    const a = Math.abs(phi[j]!);
    if (k === DRIVER_COUNT && !(a > mag[DRIVER_COUNT - 1]!)) continue;
    let q = k < DRIVER_COUNT ? k++ : DRIVER_COUNT - 1;
    while (q > 0 && a > mag[q - 1]!) {
      top[q] = top[q - 1]!;
      mag[q] = mag[q - 1]!;
      q--;
    }
    top[q] = j;
    mag[q] = a;
  }
  const names: string[] = [];
  for (let q = 0; q < k; q++) names.push(driverText(f.features[top[q]!]!.name, phi[top[q]!]!));
  return names;
}

/** "days_past_due (-0.84)": a driver and its signed contribution to the log-odds. */
function driverText(feature: string, contribution: number): string {
  return `${feature} (${contribution >= 0 ? '+' : ''}${contribution.toFixed(2)})`;
}
