/**
 * The difference of two AUCs measured on the same rows, with its standard error (DeLong, DeLong & Clarke-Pearson
 * 1988). Two scores of the same rows are correlated, so the error of their difference is far smaller than either
 * AUC's own: that is what lets a comparison of a model with the truth's probabilities be tight.
 */

/** Two AUCs of one labelled sample and the standard error of their difference. */
export interface PairedAuc {
  /** AUC of the first score (ties count one half). */
  aucA: number;
  /** AUC of the second score. */
  aucB: number;
  /** aucA − aucB. */
  difference: number;
  /** DeLong standard error of `difference`; NaN with fewer than 2 rows of a class. */
  se: number;
  positives: number;
  negatives: number;
}

/** 1-based ranks of `v`, ties sharing their mean rank. */
function midranks(v: Float64Array): Float64Array {
  const n = v.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => v[a]! - v[b]!);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && v[idx[j + 1]!] === v[idx[i]!]) j++;
    const mid = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]!] = mid;
    i = j + 1;
  }
  return r;
}

/**
 * DeLong's structural components of one score: per positive, the share of negatives it outranks (V10); per
 * negative, the share of positives that outrank it (V01); ties count one half. Their means are the AUC.
 */
function components(
  s: Float64Array,
  pos: Uint32Array,
  neg: Uint32Array,
): { v10: Float64Array; v01: Float64Array } {
  const m = pos.length;
  const n = neg.length;
  const all = midranks(s);
  const rp = midranks(Float64Array.from(pos, (i) => s[i]!));
  const rn = midranks(Float64Array.from(neg, (i) => s[i]!));
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  // A positive's rank among all minus its rank among positives = the negatives below it (ties half).
  for (let k = 0; k < m; k++) v10[k] = (all[pos[k]!]! - rp[k]!) / n;
  for (let k = 0; k < n; k++) v01[k] = 1 - (all[neg[k]!]! - rn[k]!) / m;
  return { v10, v01 };
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/** Sample variance of a − b. */
function varianceOfDifference(a: Float64Array, b: Float64Array): number {
  const k = a.length;
  if (k < 2) return Number.NaN;
  let s = 0;
  for (let i = 0; i < k; i++) s += a[i]! - b[i]!;
  const mu = s / k;
  let ss = 0;
  for (let i = 0; i < k; i++) {
    const d = a[i]! - b[i]! - mu;
    ss += d * d;
  }
  return ss / (k - 1);
}

/**
 * AUC of `a` and of `b` on the rows labelled by `y`, and the DeLong standard error of their difference:
 * Var(Â − B̂) = Var(V10ᵃ − V10ᵇ)/m + Var(V01ᵃ − V01ᵇ)/n over the m positives and n negatives.
 * O(N log N).
 *
 * @param a - scores, one per row (higher = more likely positive), finite
 * @param b - a second score of the same rows
 * @param y - labels, 0 or 1
 * @throws RangeError when lengths differ, a score is not finite, a label is not 0/1, or a class is absent
 */
export function pairedAucDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  y: ArrayLike<number>,
): PairedAuc {
  const n = y.length;
  if (a.length !== n || b.length !== n) {
    throw new RangeError(
      `pairedAucDifference: scores and labels must have one value per row, got ${a.length}, ${b.length} and ${n}`,
    );
  }
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) {
      throw new RangeError(`pairedAucDifference: scores must be finite, got ${a[i]} and ${b[i]} at row ${i}`);
    }
    if (y[i] === 1) pos.push(i);
    else if (y[i] === 0) neg.push(i);
    else throw new RangeError(`pairedAucDifference: labels must be 0 or 1, got ${y[i]} at row ${i}`);
  }
  if (pos.length === 0 || neg.length === 0) {
    throw new RangeError(
      `pairedAucDifference: both classes are needed, got ${pos.length} positives and ${neg.length} negatives`,
    );
  }
  const p = Uint32Array.from(pos);
  const q = Uint32Array.from(neg);
  const ca = components(Float64Array.from(a), p, q);
  const cb = components(Float64Array.from(b), p, q);
  const aucA = mean(ca.v10);
  const aucB = mean(cb.v10);
  const variance =
    varianceOfDifference(ca.v10, cb.v10) / p.length + varianceOfDifference(ca.v01, cb.v01) / q.length;
  return {
    aucA,
    aucB,
    difference: aucA - aucB,
    se: Math.sqrt(variance),
    positives: p.length,
    negatives: q.length,
  };
}
