/**
 * A fitted set of treatment-response models (a pooled model seen as one pair of models per treatment, optionally
 * averaged with a score lift over hold) and their support, applied to accounts. Pure: no I/O; the registry loads it
 * and the pipelines feed it features and scores.
 */
import { type Matrix, ModelError } from '../models/contract.ts';
import type { Scores } from '../policy/types.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import { type CalibratedModel, predictCalibrated } from '../training/fit-target.ts';
import { RESPONSE_CELLS, responseCellOf } from './overlap.ts';
import { lifted, liftOf } from './score-lift.ts';

/** The two outcome models of one treatment arm. */
export interface ArmModels {
  /** P(pays anything within 30 days | x, t). */
  pay: CalibratedModel;
  /** P(payments within 30 days cover the overdue | pays, x, t). */
  cover: CalibratedModel;
}

/**
 * Per-treatment logit lifts over the hold arm in the scores' bilinear basis (score-lift.ts), averaged with each
 * treatment's own arm. Fitted on the scores of one scoring model version, and only valid with that version's scores.
 */
export interface ScoreLift {
  /** Version of the scoring model whose willingness and ability scores the coefficients were fitted on. */
  scoringVersion: string;
  /** Weight of the lifted hold arm in the average with the treatment's own arm, in [0, 1]. */
  blend: number;
  /** β (LIFT_BASIS order) of P(pay) and of P(cover | pay), per treatment other than hold that has one. */
  coef: Partial<Record<Treatment, { pay: readonly number[]; cover: readonly number[] }>>;
}

/** Response models per treatment (absent = not fitted) and, per cell, the treatments they may be used for. */
export interface ResponseSet {
  arms: Partial<Record<Treatment, ArmModels>>;
  /** Per RESPONSE_CELLS entry, the supported treatments (always a subset of the fitted arms). */
  support: readonly (readonly Treatment[])[];
  /** The score lift averaged with the arms; absent = the arms alone (no scores needed). */
  lift?: ScoreLift;
}

/** The scores of the rows being predicted and the scoring model version that produced them. */
export interface ScoreInputs {
  /** Willingness score (probability) per row. */
  willingness: ArrayLike<number>;
  /** Ability score (probability) per row. */
  ability: ArrayLike<number>;
  version: string;
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
 * due, where a prediction lies inside the logged support. A set with a score lift needs the rows' scores from the
 * scoring model version it was fitted on.
 * @throws RangeError for mismatched lengths; ModelError when the set has a score lift and `scores` are missing or
 *   come from another scoring model version.
 */
export function predictResponses(
  set: ResponseSet,
  x: Matrix,
  dpd: ArrayLike<number>,
  scores?: ScoreInputs,
): PredictedResponses {
  if (dpd.length !== x.rows) throw new RangeError(`predictResponses: ${x.rows} rows but ${dpd.length} dpd`);
  const T = TREATMENTS.length;
  const pPay: Float64Array[] = [];
  const pCover: Float64Array[] = [];
  for (const t of TREATMENTS) {
    const arm = set.arms[t];
    pPay.push(arm ? predictCalibrated(arm.pay, x) : new Float64Array(x.rows).fill(Number.NaN));
    pCover.push(arm ? predictCalibrated(arm.cover, x) : new Float64Array(x.rows).fill(Number.NaN));
  }
  if (set.lift) applyLift(set.lift, pPay, pCover, x.rows, scores);
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

/** Averages each treatment's arm with the hold arm moved by the treatment's score lift, in place. */
function applyLift(
  lift: ScoreLift,
  pPay: Float64Array[],
  pCover: Float64Array[],
  rows: number,
  scores: ScoreInputs | undefined,
): void {
  if (!scores)
    throw new ModelError(
      `the response models average a score lift fitted on scoring model ${lift.scoringVersion}: predictResponses needs that model's willingness and ability scores`,
    );
  if (scores.version !== lift.scoringVersion)
    throw new ModelError(
      `the response models' score lift was fitted on scoring model ${lift.scoringVersion}, the scores come from ${scores.version}; refit the responses on this model (train --response --model DIR) or score with ${lift.scoringVersion}`,
    );
  if (scores.willingness.length !== rows || scores.ability.length !== rows)
    throw new RangeError(
      `predictResponses: ${rows} rows but ${scores.willingness.length} willingness and ${scores.ability.length} ability scores`,
    );
  const hold = TREATMENTS.indexOf('hold');
  const holdPay = Float64Array.from(pPay[hold]!);
  const holdCover = Float64Array.from(pCover[hold]!);
  const b = lift.blend;
  TREATMENTS.forEach((t, k) => {
    const c = lift.coef[t];
    if (!c || k === hold) return;
    const pay = pPay[k]!;
    const cover = pCover[k]!;
    for (let i = 0; i < rows; i++) {
      const w = scores.willingness[i]!;
      const a = scores.ability[i]!;
      pay[i] = (1 - b) * pay[i]! + b * lifted(holdPay[i]!, liftOf(c.pay, w, a));
      cover[i] = (1 - b) * cover[i]! + b * lifted(holdCover[i]!, liftOf(c.cover, w, a));
    }
  });
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
