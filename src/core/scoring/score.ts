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
import { PreparedBuffer } from '../features/prepared-buffer.ts';
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
 * The history of the account whose features are being built: reused account after account (scoring is
 * synchronous), made on first use.
 */
let scratchHistory: PreparedBuffer | undefined;

/**
 * The feature matrix of the archives, one row per archive in order, each built as of its account's `as_of_date`
 * by the same builder training uses: what scoreArchives scores, exposed so the parity test can compare it with
 * the batch path's features.
 */
export function archiveFeatures(archives: readonly AccountArchive[]): Matrix {
  return featuresInto(archives, new Float64Array(archives.length * FEATURE_COUNT));
}

/**
 * The last feature matrix scoreArchives built, kept for a next call of the same size (the score API's, one row):
 * 46 doubles are too many for V8's heap, and allocating them outside it cost ~400 ns a call plus the collector's
 * tracking. Safe because scoring is synchronous and the matrix never leaves scoreArchives.
 */
let scratchFeatures = new Float64Array(0);

/** `archiveFeatures` written into `data` (every cell of it: buildFeatures writes each feature of each row). */
function featuresInto(archives: readonly AccountArchive[], data: Float64Array): Matrix {
  scratchHistory ??= new PreparedBuffer();
  const n = archives.length;
  archives.forEach((a, i) => {
    if (a.history) {
      buildFeatures(a.account, a.history, data, i * FEATURE_COUNT);
      return;
    }
    const h = prepareHistory(a.installments, a.contacts, scratchHistory);
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
  if (scratchFeatures.length !== n * FEATURE_COUNT) scratchFeatures = new Float64Array(n * FEATURE_COUNT);
  const x = featuresInto(archives, scratchFeatures);
  const w = predictCalibrated(models.willingness, x);
  const ab = predictCalibrated(models.ability, x);
  const block = Math.min(n, EXPLAIN_BLOCK);
  const phiW = explainScratch(0, block * x.cols);
  const phiA = explainScratch(1, block * x.cols);
  const out: Scores[] = new Array(n);
  for (let from = 0; from < n; from += block) {
    const to = Math.min(n, from + block);
    explainRows(models.willingness, x, from, to, phiW);
    explainRows(models.ability, x, from, to, phiA);
    for (let i = from; i < to; i++)
      out[i] = {
        willingness: w[i]!,
        ability: ab[i]!,
        drivers: {
          willingness: drivers(models.willingness, x, i, phiW, (i - from) * x.cols),
          ability: drivers(models.ability, x, i, phiA, (i - from) * x.cols),
        },
      };
  }
  return out;
}

/**
 * Rows explained per pass (kinds with `explainRowsInto` go tree by tree over the block's rows, so a tree's tables
 * stay in cache): enough to amortise a tree, few enough that the block's contributions stay in cache too.
 */
const EXPLAIN_BLOCK = 256;

/** The two models' contribution blocks, kept between calls (scoring is synchronous) and grown as needed. */
const phiScratch: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** Scratch block `k` (0 willingness, 1 ability) of at least `length` entries; contents are left as they were. */
function explainScratch(k: 0 | 1, length: number): Float64Array {
  if (phiScratch[k]!.length < length) phiScratch[k] = new Float64Array(length);
  return phiScratch[k]!;
}

/** Contributions of rows `from .. to` into `phi` (row-major), for kinds that explain a block at once. */
function explainRows(m: CalibratedModel, x: Matrix, from: number, to: number, phi: Float64Array): void {
  const f = m.fitted;
  if (!f.explainRowsInto) return;
  phi.fill(0, 0, (to - from) * x.cols);
  f.explainRowsInto(x, from, to, phi);
}

/** Scratch of `drivers`' top-DRIVER_COUNT selection (the scoring path is synchronous: one user at a time). */
const top = new Int32Array(DRIVER_COUNT);
const mag = new Float64Array(DRIVER_COUNT);

/**
 * The DRIVER_COUNT features with the largest |contribution| to row `row`'s log-odds, as `explain` orders them
 * (largest first, ties in feature order). Kinds with `explainRowsInto` have written the row's contributions at
 * `phi[at ..]` (explainRows); kinds with only `explainInto` write them into `phi[0 ..]` here: either way no object
 * is built and sorted per feature, as the drivers are computed on every decision.
 */
function drivers(m: CalibratedModel, x: Matrix, row: number, phi: Float64Array, at: number): string[] {
  const f = m.fitted;
  if (!f.explainRowsInto) {
    if (!f.explainInto)
      return f
        .explain(x, row)
        .slice(0, DRIVER_COUNT)
        .map((c) => driverText(c.feature, c.contribution));
    at = 0;
    phi.fill(0, 0, x.cols);
    f.explainInto(x, row, phi.length === x.cols ? phi : phi.subarray(0, x.cols));
  }
  // Top DRIVER_COUNT by insertion, in feature order: a later feature displaces only a strictly larger one's
  // place, so ties keep feature order exactly as the stable sort in `explain` does.
  let k = 0;
  const cols = x.cols;
  for (let j = 0; j < cols; j++) {
    const a = Math.abs(phi[at + j]!);
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
  const names: string[] = new Array(k);
  for (let q = 0; q < k; q++) names[q] = driverText(f.features[top[q]!]!.name, phi[at + top[q]!]!);
  return names;
}

/** "days_past_due (-0.84)": a driver and its signed contribution to the log-odds. */
function driverText(feature: string, contribution: number): string {
  return `${feature} (${contribution >= 0 ? '+' : ''}${contribution.toFixed(2)})`;
}
