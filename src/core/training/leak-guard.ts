/**
 * The leak guard: on a synthetic history the generator's true probabilities are known, and no model can rank
 * the out-of-time rows better than they do. A model whose out-of-time AUC is above this oracle by more than the
 * noise of the comparison has seen the future (a column rewritten after the snapshot date, an outcome copied
 * into a feature), so its quality figures are not to be believed.
 *
 * The margin. Ranking by the true P(y = 1 | state) maximises the expected AUC (Neyman–Pearson), so without a leak
 * E[model AUC − oracle AUC] ≤ 0 on rows the model never saw. On a finite sample the measured difference
 * fluctuates; model and truth score the same rows, so the DeLong standard error of their *paired* difference is
 * the right yardstick (much smaller than either AUC's own error, because the two scores are correlated). A model
 * is flagged when its excess over the oracle exceeds {@link ORACLE_MARGIN}.sigmas standard errors, and never
 * below {@link ORACLE_MARGIN}.floor: at 3 σ a model exactly as good as the truth (the worst honest case; real
 * models sit 0.005–0.02 below it) trips the guard with probability 0.13 % per comparison, and the floor keeps
 * a huge sample, whose standard error tends to 0, from flagging differences too small to matter.
 */

import { pairedAucDifference } from '../metrics/auc-difference.ts';
import { auc } from '../metrics/discrimination.ts';

/** How far above the oracle a model's AUC may be before it counts as a leak: max(floor, sigmas · SE). */
export const ORACLE_MARGIN = Object.freeze({ sigmas: 3, floor: 0.003 });

/** One model against the oracle on the same out-of-time rows. */
export interface OracleComparison {
  target: string;
  kind: string;
  /** Out-of-time rows with a known true probability (the rows both AUCs are measured on). */
  rows: number;
  /** AUC of the model's calibrated probabilities on those rows. */
  modelAuc: number;
  /** AUC of the true probabilities on those rows. */
  oracleAuc: number;
  /** modelAuc − oracleAuc. */
  excess: number;
  /** DeLong standard error of the paired difference. */
  se: number;
  /** The largest excess accepted as noise: max(floor, sigmas · se). */
  margin: number;
  /** excess > margin: the model beats the truth by more than noise. */
  above: boolean;
}

/**
 * Compares a model's probabilities with the true ones on the same labelled rows.
 *
 * @param model - the model's probability per row
 * @param truth - the true probability per row (the generator's), NaN where unknown
 * @param y - labels 0/1 per row
 * @returns the comparison, or null when fewer than one row of each class has a known truth
 */
export function compareWithOracle(
  target: string,
  kind: string,
  model: ArrayLike<number>,
  truth: ArrayLike<number>,
  y: ArrayLike<number>,
): OracleComparison | null {
  const m: number[] = [];
  const t: number[] = [];
  const l: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(truth[i]!)) continue;
    m.push(model[i]!);
    t.push(truth[i]!);
    l.push(y[i]!);
  }
  const pos = l.reduce((s, v) => s + v, 0);
  if (pos === 0 || pos === l.length) return null;
  const d = pairedAucDifference(m, t, l);
  const modelAuc = auc(m, l);
  const oracleAuc = auc(t, l);
  const excess = modelAuc - oracleAuc;
  const margin = Math.max(ORACLE_MARGIN.floor, ORACLE_MARGIN.sigmas * (Number.isNaN(d.se) ? 0 : d.se));
  return {
    target,
    kind,
    rows: l.length,
    modelAuc,
    oracleAuc,
    excess,
    se: d.se,
    margin,
    above: excess > margin,
  };
}

/** "willingness gbdt: out-of-time AUC 0.9526 vs oracle 0.9279 on 794 rows: +0.0247, margin 0.0150 (3 × SE 0.0050)" */
export function describeComparison(c: OracleComparison): string {
  const sign = c.excess >= 0 ? '+' : '';
  const why =
    c.margin > ORACLE_MARGIN.sigmas * c.se
      ? `the floor ${ORACLE_MARGIN.floor}`
      : `${ORACLE_MARGIN.sigmas} × SE ${c.se.toFixed(4)}`;
  return (
    `${c.target} ${c.kind}: out-of-time AUC ${c.modelAuc.toFixed(4)} vs oracle ${c.oracleAuc.toFixed(4)} ` +
    `on ${c.rows.toLocaleString('en-US')} rows: ${sign}${c.excess.toFixed(4)}, noise margin ${c.margin.toFixed(4)} (${why})`
  );
}
