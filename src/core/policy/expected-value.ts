import { sigmoid } from '../models/contract.ts';
import type { Treatment } from '../schema/enums.ts';
import type { Rules, Segment } from './schema.ts';
import type { Expected, Scores } from './types.ts';

const EPS = 1e-9;
const logit = (p: number) => {
  const q = Math.min(Math.max(p, EPS), 1 - EPS);
  return Math.log(q / (1 - q));
};

/**
 * Expected recovery of treatment `t` within 30 days: overdue × P(pay | t) × (P(cover | pay, t) + (1 − P(cover)) ×
 * partial share). The response comes from the caller's treatment-conditional estimates when given, else from the
 * policy's lift tables applied to the scores on the logit scale. `cost` is what the treatment costs on its
 * channel (currency).
 */
export function expectedValue(
  t: Treatment,
  segment: Segment,
  scores: Scores,
  overdue: number,
  cost: number,
  rules: Rules,
): Expected {
  const { pPay, pCover } = responseOf(t, segment, scores, rules);
  const recovery = overdue * pPay * (pCover + (1 - pCover) * rules.response.partial_recovery);
  return { recovery, cost, net: recovery - cost };
}

/** P(pay | t) and P(cover | pay, t): the caller's estimates when given, else the lift tables over the scores. */
export function responseOf(
  t: Treatment,
  segment: Segment,
  scores: Scores,
  rules: Rules,
): { pPay: number; pCover: number } {
  const given = scores.byTreatment?.[t];
  if (given) return given;
  const lift = rules.response.lifts[segment][t];
  return {
    pPay: sigmoid(logit(scores.willingness) + lift.pay),
    pCover: sigmoid(logit(scores.ability) + lift.cover),
  };
}
