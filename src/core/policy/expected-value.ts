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
  const given = scores.byTreatment?.[t];
  let pPay: number;
  let pCover: number;
  if (given) {
    pPay = given.pPay;
    pCover = given.pCover;
  } else {
    const lift = rules.response.lifts[segment][t];
    pPay = sigmoid(logit(scores.willingness) + lift.pay);
    pCover = sigmoid(logit(scores.ability) + lift.cover);
  }
  const recovery = overdue * pPay * (pCover + (1 - pCover) * rules.response.partial_recovery);
  return { recovery, cost, net: recovery - cost };
}
