/**
 * Value of a policy's decisions on logged history: the doubly robust estimate (a response model's prediction for
 * the chosen treatment, corrected by the propensity-weighted residual where the logging policy happened to choose
 * the same), and what share of the oracle's gain over the logging policy a policy captures.
 */

/** A mean with a normal-approximation 95% interval (mean ± 1.96 standard errors). */
export interface MeanInterval {
  value: number;
  low: number;
  high: number;
  n: number;
}

/** Mean and 95% normal interval of the finite values of `v`. */
export function meanInterval(v: ArrayLike<number>): MeanInterval {
  let n = 0;
  let s = 0;
  let ss = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) continue;
    n++;
    s += x;
    ss += x * x;
  }
  const mean = n ? s / n : Number.NaN;
  const variance = n > 1 ? Math.max(0, (ss - n * mean * mean) / (n - 1)) : Number.NaN;
  const half = 1.96 * Math.sqrt(variance / n);
  return { value: mean, low: mean - half, high: mean + half, n };
}

/** What the doubly robust term of one snapshot needs. Money in currency units. */
export interface DrTerm {
  /** Modelled expected recovery of the policy's choice and of the logged treatment. */
  qChosen: number;
  qLogged: number;
  /** 1 when the policy chose the logged treatment, else 0. */
  same: 0 | 1;
  /** Probability the logging policy gave the logged treatment, in (0, 1]. */
  propensity: number;
  /** Recovered within 30 days: min(paid, overdue). */
  realised: number;
  /** Cost of the policy's choice. */
  cost: number;
}

/** Doubly robust net value of one snapshot: q̂(chosen) + 1[same]/π · (realised − q̂(logged)) − cost. */
export function drNet(t: DrTerm): number {
  return t.qChosen + (t.same ? (t.realised - t.qLogged) / t.propensity : 0) - t.cost;
}

/**
 * Share of the oracle's gain over the logging policy that `value` captures: (value − logging) / (oracle − logging).
 * NaN when the oracle gains nothing.
 */
export function shareOfOracleGain(value: number, logging: number, oracle: number): number {
  const gain = oracle - logging;
  return gain > 0 ? (value - logging) / gain : Number.NaN;
}
