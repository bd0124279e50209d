/**
 * A fitted set of treatment-response models (a T-learner: one pair of models per treatment) and their support,
 * applied to accounts. Pure: no I/O; the registry loads it and the pipelines feed it features.
 */
import type { Matrix } from '../models/contract.ts';
import type { Scores } from '../policy/types.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import { type CalibratedModel, predictCalibrated } from '../training/fit-target.ts';
import { RESPONSE_CELLS, responseCellOf } from './overlap.ts';

/** The two outcome models of one treatment arm. */
export interface ArmModels {
  /** P(pays anything within 30 days | x, t). */
  pay: CalibratedModel;
  /** P(payments within 30 days cover the overdue | pays, x, t). */
  cover: CalibratedModel;
}

/** Response models per treatment (absent = not fitted) and, per cell, the treatments they may be used for. */
export interface ResponseSet {
  arms: Partial<Record<Treatment, ArmModels>>;
  /** Per RESPONSE_CELLS entry, the supported treatments (always a subset of the fitted arms). */
  support: readonly (readonly Treatment[])[];
}

/** Per-treatment predictions for a batch of accounts (TREATMENTS order; NaN where no arm was fitted). */
export interface PredictedResponses {
  rows: number;
  pPay: Float64Array[];
  pCover: Float64Array[];
  /** 1 where treatment k's response may be used for row i (`supported[i * TREATMENTS.length + k]`). */
  supported: Uint8Array;
}

/**
 * Predicts every fitted arm for every row of `x` (the snapshot features) and marks, from each row's days past
 * due, where a prediction lies inside the logged support.
 */
export function predictResponses(set: ResponseSet, x: Matrix, dpd: ArrayLike<number>): PredictedResponses {
  if (dpd.length !== x.rows) throw new RangeError(`predictResponses: ${x.rows} rows but ${dpd.length} dpd`);
  const T = TREATMENTS.length;
  const pPay: Float64Array[] = [];
  const pCover: Float64Array[] = [];
  for (const t of TREATMENTS) {
    const arm = set.arms[t];
    pPay.push(arm ? predictCalibrated(arm.pay, x) : new Float64Array(x.rows).fill(Number.NaN));
    pCover.push(arm ? predictCalibrated(arm.cover, x) : new Float64Array(x.rows).fill(Number.NaN));
  }
  const cellSupport = RESPONSE_CELLS.map((_, c) =>
    TREATMENTS.map((t) => (set.arms[t] && (set.support[c] ?? []).includes(t) ? 1 : 0)),
  );
  const supported = new Uint8Array(x.rows * T);
  for (let i = 0; i < x.rows; i++) {
    const s = cellSupport[responseCellOf(dpd[i]!)]!;
    for (let k = 0; k < T; k++) supported[i * T + k] = s[k]!;
  }
  return { rows: x.rows, pPay, pCover, supported };
}

/**
 * The response part of one row's Scores: the fitted P(pay | t) and P(cover | pay, t) of each treatment inside the
 * logged support, and the treatments left outside it (for which expected value falls back to the policy's lift
 * tables and the decision says so).
 */
export function responseScores(
  p: PredictedResponses,
  i: number,
): Pick<Scores, 'byTreatment' | 'responseOutsideSupport'> {
  const T = TREATMENTS.length;
  const byTreatment: NonNullable<Scores['byTreatment']> = {};
  const outside: Treatment[] = [];
  for (let k = 0; k < T; k++) {
    const t = TREATMENTS[k]!;
    if (p.supported[i * T + k]) byTreatment[t] = { pPay: p.pPay[k]![i]!, pCover: p.pCover[k]![i]! };
    else outside.push(t);
  }
  return { byTreatment, responseOutsideSupport: outside };
}
