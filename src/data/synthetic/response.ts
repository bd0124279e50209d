import type { Treatment } from '../../core/schema/enums.ts';
import { TREATMENTS } from '../../core/schema/enums.ts';
import { KNOBS } from './knobs.ts';

/** Logistic function. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Delinquency bucket index 0..4 for days past due (1-30, 31-60, 61-90, 91-180, 181+). */
export function bucketOf(dpd: number): number {
  if (dpd <= 30) return 0;
  if (dpd <= 60) return 1;
  if (dpd <= 90) return 2;
  if (dpd <= 180) return 3;
  return 4;
}

/** What the true response of a delinquent account depends on, beyond its latents. */
export interface ResponseState {
  /** Latent willingness (standard-normal scale). */
  w: number;
  /** Latent ability (log capacity over the amount needed, centred). */
  a: number;
  dpd: number;
  deceased: boolean;
  bankrupt: boolean;
  disputeOpen: boolean;
}

/**
 * The treatments the synthetic logging policy takes (the first five of TREATMENTS): the truth table has columns for
 * these only. The staged flow's treatments are never logged; their truth comes from `trueResponse` too
 * (staged-truth.ts), so backtests can price them.
 */
export const LOGGED_TREATMENT_COUNT = 5;

/** The true P(pay anything in 30 days) and P(cover the overdue | pay), per treatment (indexed as TREATMENTS). */
export interface TrueResponse {
  pPay: Float64Array;
  pCover: Float64Array;
}

/**
 * How treatments work in a world (the treatment-response knob of `WorldConfig.response`):
 * - `standard` (default): a nudge lifts the able and willing, a plan offer lifts the willing but unable (and the
 *   payments it brings are smaller, so they cover the overdue less often), a call lifts the able but reluctant,
 *   legal recovers some from the able.
 * - `inverted`: a book whose customers respond the other way round: a call lifts the willing but unable (a
 *   conversation finds the money), a plan offer lifts the able but reluctant, a nudge lifts the willing whatever
 *   their ability, legal works less. The best treatment for the same scores changes, so a strategy tuned on one
 *   book loses on the other.
 */
export const RESPONSE_PROFILES = ['standard', 'inverted'] as const;
export type ResponseProfile = (typeof RESPONSE_PROFILES)[number];

/**
 * Treatment response in the synthetic world, on the logit scale. It is heterogeneous on purpose
 * (DESIGN §6); `profile` says how (see RESPONSE_PROFILES).
 */
export function trueResponse(s: ResponseState, profile: ResponseProfile = 'standard'): TrueResponse {
  const b = bucketOf(s.dpd);
  let basePay = (KNOBS.payIntercept[b] ?? 0) + KNOBS.pay.bW * s.w + KNOBS.pay.bA * s.a;
  const baseCover = (KNOBS.coverIntercept[b] ?? 0) + KNOBS.cover.bW * s.w + KNOBS.cover.bA * s.a;
  if (s.deceased) basePay -= 3.5;
  if (s.bankrupt) basePay -= 3.0;
  if (s.disputeOpen) basePay -= 1.0;
  const hw = sigmoid(1.5 * s.w);
  const ha = sigmoid(1.5 * s.a);
  const pPay = new Float64Array(TREATMENTS.length);
  const pCover = new Float64Array(TREATMENTS.length);
  for (let t = 0; t < TREATMENTS.length; t++) {
    const [dPay, dCover] =
      profile === 'inverted' ? invertedLift(TREATMENTS[t]!, hw, ha) : lift(TREATMENTS[t]!, hw, ha);
    pPay[t] = sigmoid(basePay + dPay);
    pCover[t] = sigmoid(baseCover + dCover);
  }
  return { pPay, pCover };
}

/** Logit lifts (pay, cover) of a treatment for willingness share hw and ability share ha, both in (0, 1). */
function lift(t: Treatment, hw: number, ha: number): [number, number] {
  switch (t) {
    case 'hold':
      return [0, 0];
    case 'gentle_nudge':
      return [1.1 * hw * ha, 0];
    case 'plan_offer':
      return [0.2 + 1.5 * hw * (1 - ha), -0.8];
    case 'human_call':
      return [0.25 + 1.3 * ha * (1 - hw), 0.2];
    case 'legal':
      return [-0.3 + 1.1 * ha, 0.7 * ha - 0.2];
    // A visit finds the able but reluctant at home (more than a call does) and brings larger payments; an agency
    // recovers from the able, less than legal action does, and barely moves the willing but unable.
    case 'field_visit':
      return [0.35 + 1.6 * ha * (1 - hw), 0.35];
    case 'agency_placement':
      return [-0.2 + 0.9 * ha * (1 - 0.5 * hw), 0.5 * ha - 0.1];
  }
}

/** Logit lifts of the `inverted` profile (see RESPONSE_PROFILES). */
function invertedLift(t: Treatment, hw: number, ha: number): [number, number] {
  switch (t) {
    case 'hold':
      return [0, 0];
    case 'gentle_nudge':
      return [0.1 + 0.7 * hw, 0];
    case 'plan_offer':
      return [0.2 + 1.5 * ha * (1 - hw), -0.5];
    case 'human_call':
      return [0.25 + 1.4 * hw * (1 - ha), 0.3];
    case 'legal':
      return [-0.6 + 0.7 * ha, 0.5 * ha - 0.2];
    case 'field_visit':
      return [0.3 + 1.3 * hw * (1 - ha), 0.3];
    case 'agency_placement':
      return [-0.5 + 0.6 * ha, 0.4 * ha - 0.2];
  }
}

/** E[min(paid in 30 days, overdue)] for overdue O (currency) given P(pay) and P(cover | pay). */
export function expectedRecovery(overdue: number, pPay: number, pCover: number): number {
  return overdue * pPay * (pCover + (1 - pCover) * KNOBS.partialMean);
}
