/**
 * Rank-based discrimination metrics: AUC, Gini, ROC and KS. All of them only depend on the order of the
 * scores, so `scores` may be probabilities, log-odds or scorecard points (higher = more likely positive).
 *
 * Every function sorts once (O(n log n)) and then walks the distinct score values, so tied scores are
 * treated as one threshold: a tie between a positive and a negative counts as half a correctly ordered pair.
 */
import type { KsCurve, RocCurve } from './types.ts';

/** Curves handed to the report are thinned to at most this many points (exact metrics use every point). */
export const MAX_CURVE_POINTS = 200;

/**
 * Distinct scores ascending, with the (weighted) number of positives and negatives at each one.
 * @internal Shared by the metrics modules; not re-exported from the package index.
 */
export interface ScoreGroups {
  /** Distinct score values, strictly ascending; only the first `length` entries are used. */
  values: Float64Array;
  pos: Float64Array;
  neg: Float64Array;
  length: number;
  totalPos: number;
  totalNeg: number;
}

/**
 * Throws RangeError unless `a` and `b` have the same length.
 * @internal
 */
export function checkSameLength(fn: string, a: ArrayLike<number>, b: ArrayLike<number>, names: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${fn}: ${names} must have the same length, got ${a.length} and ${b.length}`);
  }
}

/**
 * Throws RangeError naming the row when a label is not 0 or 1.
 * @internal
 */
export function badLabel(fn: string, i: number, v: number | undefined): never {
  throw new RangeError(`${fn}: labels[${i}] must be 0 or 1, got ${v}`);
}

/**
 * Groups rows by distinct score. Unweighted input takes a fast path (positives' and negatives' scores are
 * sorted separately with the native numeric sort and merged); weighted input sorts one index array.
 * @throws RangeError on length mismatch, NaN scores, labels other than 0/1, or negative / non-finite weights.
 * @internal
 */
export function scoreGroups(
  fn: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights?: ArrayLike<number>,
): ScoreGroups {
  checkSameLength(fn, scores, labels, 'scores and labels');
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new RangeError(`${fn}: scores[${i}] is NaN`);
    const y = labels[i];
    if (y === 1) nPos++;
    else if (y !== 0) badLabel(fn, i, y);
  }
  if (weights !== undefined) return weightedGroups(fn, scores, labels, weights);

  const posS = new Float64Array(nPos);
  const negS = new Float64Array(n - nPos);
  for (let i = 0, ip = 0, ineg = 0; i < n; i++) {
    if (labels[i] === 1) posS[ip++] = scores[i]!;
    else negS[ineg++] = scores[i]!;
  }
  posS.sort();
  negS.sort();
  const nNeg = negS.length;
  const values = new Float64Array(n);
  const pos = new Float64Array(n);
  const neg = new Float64Array(n);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < nPos || j < nNeg) {
    const v = i < nPos && (j >= nNeg || posS[i]! <= negS[j]!) ? posS[i]! : negS[j]!;
    let cp = 0;
    while (i < nPos && posS[i] === v) {
      cp++;
      i++;
    }
    let cn = 0;
    while (j < nNeg && negS[j] === v) {
      cn++;
      j++;
    }
    values[k] = v;
    pos[k] = cp;
    neg[k] = cn;
    k++;
  }
  return { values, pos, neg, length: k, totalPos: nPos, totalNeg: nNeg };
}

function weightedGroups(
  fn: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
): ScoreGroups {
  checkSameLength(fn, scores, weights, 'scores and weights');
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!(w >= 0 && w < Number.POSITIVE_INFINITY)) {
      throw new RangeError(`${fn}: weights[${i}] must be a finite number >= 0, got ${w}`);
    }
  }
  const s = Float64Array.from(scores);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => s[a]! - s[b]! || a - b);
  const values = new Float64Array(n);
  const pos = new Float64Array(n);
  const neg = new Float64Array(n);
  let k = -1;
  let totalPos = 0;
  let totalNeg = 0;
  for (let r = 0; r < n; r++) {
    const i = idx[r]!;
    const v = s[i]!;
    if (k < 0 || values[k] !== v) values[++k] = v;
    const w = weights[i]!;
    if (labels[i] === 1) {
      pos[k]! += w;
      totalPos += w;
    } else {
      neg[k]! += w;
      totalNeg += w;
    }
  }
  return { values, pos, neg, length: k + 1, totalPos, totalNeg };
}

/**
 * AUC from grouped scores; NaN when either class has zero total weight.
 * @internal
 */
export function aucFromGroups(g: ScoreGroups): number {
  if (!(g.totalPos > 0 && g.totalNeg > 0)) return Number.NaN;
  let cumNeg = 0;
  let acc = 0;
  for (let k = 0; k < g.length; k++) {
    const nk = g.neg[k]!;
    acc += g.pos[k]! * (cumNeg + 0.5 * nk);
    cumNeg += nk;
  }
  return acc / (g.totalPos * g.totalNeg);
}

/**
 * KS statistic and where it is reached; `{ ks: NaN, at: NaN, index: -1 }` when a class is absent.
 * @internal
 */
export function ksFromGroups(g: ScoreGroups): { ks: number; at: number; index: number } {
  if (!(g.totalPos > 0 && g.totalNeg > 0)) return { ks: Number.NaN, at: Number.NaN, index: -1 };
  let cumPos = 0;
  let cumNeg = 0;
  let best = -1;
  let index = -1;
  for (let k = 0; k < g.length; k++) {
    cumPos += g.pos[k]!;
    cumNeg += g.neg[k]!;
    const gap = Math.abs(cumNeg / g.totalNeg - cumPos / g.totalPos);
    if (gap > best) {
      best = gap;
      index = k;
    }
  }
  return { ks: best, at: g.values[index]!, index };
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative, ties
 * counting one half. Exact (no binning), O(n log n).
 *
 * @param scores - one score per row, higher = more likely positive; any real values (not NaN).
 * @param labels - 1 = positive, 0 = negative, same length as `scores`.
 * @param weights - optional non-negative row weights (e.g. inverse propensities); a row with weight w counts
 *   as w copies of itself. Default 1 per row.
 * @returns AUC in [0, 1], or NaN when there are no positives or no negatives (zero total weight).
 * @throws RangeError on length mismatch, a NaN score, a label other than 0/1, or a negative / non-finite weight.
 */
export function auc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights?: ArrayLike<number>,
): number {
  return aucFromGroups(scoreGroups('auc', scores, labels, weights));
}

/**
 * Gini coefficient (accuracy ratio) = 2·AUC − 1, in [−1, 1]; NaN when a class is absent.
 * Arguments and errors as for {@link auc}.
 */
export function gini(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights?: ArrayLike<number>,
): number {
  return 2 * auc(scores, labels, weights) - 1;
}

/**
 * Kolmogorov–Smirnov statistic: max over thresholds t of |F_neg(t) − F_pos(t)|, where F is the share of the
 * class with score <= t. In [0, 1]; NaN when a class is absent.
 * @throws RangeError as for {@link auc}.
 */
export function ks(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return ksFromGroups(scoreGroups('ks', scores, labels)).ks;
}

/**
 * Picks at most `maxPoints` indices of a curve whose points carry a non-decreasing cumulative row count
 * `cum`, evenly by rows, always keeping `mustKeep`.
 */
function thinIndices(cum: Float64Array, maxPoints: number, mustKeep: readonly number[]): number[] {
  const m = cum.length;
  const out: number[] = [];
  if (m <= maxPoints) {
    for (let i = 0; i < m; i++) out.push(i);
    return out;
  }
  const keep = [...new Set(mustKeep)].sort((a, b) => a - b);
  const slots = maxPoints - keep.length;
  const total = cum[m - 1]!;
  let j = 1;
  let next = total / slots;
  let q = 0;
  for (let i = 0; i < m; i++) {
    let take = false;
    while (q < keep.length && keep[q]! <= i) {
      if (keep[q] === i) take = true;
      q++;
    }
    const c = cum[i]!;
    if (j <= slots && c >= next) {
      take = true;
      while (j <= slots && next <= c) next = (++j * total) / slots;
    }
    if (take) out.push(i);
  }
  return out;
}

/**
 * ROC curve: false- and true-positive rates when every row scoring >= t is flagged, for each distinct
 * score t from the highest down, starting at (0, 0) and ending at (1, 1). Tied scores form one point, so
 * the trapezoid area under the unthinned curve equals {@link auc}.
 *
 * Thinned, for plotting, to at most {@link MAX_CURVE_POINTS} points spread evenly by rows; (0, 0) and (1, 1)
 * are always kept. Empty arrays when there are no positives or no negatives.
 * @throws RangeError as for {@link auc}.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const g = scoreGroups('rocCurve', scores, labels);
  if (!(g.totalPos > 0 && g.totalNeg > 0)) return { fpr: [], tpr: [] };
  const m = g.length + 1;
  const fp = new Float64Array(m);
  const tp = new Float64Array(m);
  const cum = new Float64Array(m);
  for (let k = g.length - 1, i = 1; k >= 0; k--, i++) {
    fp[i] = fp[i - 1]! + g.neg[k]!;
    tp[i] = tp[i - 1]! + g.pos[k]!;
    cum[i] = fp[i]! + tp[i]!;
  }
  const fpr: number[] = [];
  const tpr: number[] = [];
  for (const i of thinIndices(cum, MAX_CURVE_POINTS, [0, m - 1])) {
    fpr.push(fp[i]! / g.totalNeg);
    tpr.push(tp[i]! / g.totalPos);
  }
  return { fpr, tpr };
}

/**
 * KS curve: for each distinct score threshold ascending, the cumulative share of positives and of negatives
 * with score <= threshold, plus the KS statistic and the threshold where it is reached (the lowest such
 * threshold on ties). `ks` is computed on every threshold; the arrays are thinned to at most
 * {@link MAX_CURVE_POINTS} points (evenly by rows), always keeping the first, last and maximum-gap points.
 *
 * When a class is absent: empty arrays, `ks` and `atThreshold` NaN.
 * @throws RangeError as for {@link auc}.
 */
export function ksCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): KsCurve {
  const g = scoreGroups('ksCurve', scores, labels);
  const best = ksFromGroups(g);
  if (best.index < 0) {
    return { threshold: [], cumPositives: [], cumNegatives: [], atThreshold: Number.NaN, ks: Number.NaN };
  }
  const m = g.length;
  const cp = new Float64Array(m);
  const cn = new Float64Array(m);
  const cum = new Float64Array(m);
  let sp = 0;
  let sn = 0;
  for (let k = 0; k < m; k++) {
    sp += g.pos[k]!;
    sn += g.neg[k]!;
    cp[k] = sp;
    cn[k] = sn;
    cum[k] = sp + sn;
  }
  const threshold: number[] = [];
  const cumPositives: number[] = [];
  const cumNegatives: number[] = [];
  for (const k of thinIndices(cum, MAX_CURVE_POINTS, [0, best.index, m - 1])) {
    threshold.push(g.values[k]!);
    cumPositives.push(cp[k]! / g.totalPos);
    cumNegatives.push(cn[k]! / g.totalNeg);
  }
  return { threshold, cumPositives, cumNegatives, atThreshold: best.at, ks: best.ks };
}
