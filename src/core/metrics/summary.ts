import { aucFromGroups, ksFromGroups, scoreGroups } from './discrimination.ts';
import { brier, CALIBRATION_BINS, ece, logLoss } from './probability.ts';
import type { MetricSummary } from './types.ts';

/**
 * Headline metrics of predicted probabilities `p` against labels `y` on one split. The scores are sorted once
 * for AUC and KS together. AUC, KS and Gini are NaN when a class is absent; every metric is NaN for empty
 * input.
 * @param p - P(positive) per row, in [0, 1].
 * @param y - 1 = positive, 0 = negative, same length.
 * @throws RangeError on length mismatch, p outside [0, 1] (or NaN), or a label other than 0/1.
 */
export function summarise(p: ArrayLike<number>, y: ArrayLike<number>): MetricSummary {
  const b = brier(p, y); // validates p and y first, so errors name probabilities
  const g = scoreGroups('summarise', p, y);
  const a = aucFromGroups(g);
  return {
    rows: p.length,
    positives: g.totalPos,
    auc: a,
    ks: ksFromGroups(g).ks,
    gini: 2 * a - 1,
    brier: b,
    logLoss: logLoss(p, y),
    ece: ece(p, y, CALIBRATION_BINS),
  };
}
