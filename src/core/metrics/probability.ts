/**
 * Metrics that read the scores as probabilities: Brier score, log-loss and calibration (reliability table,
 * expected calibration error). `p` is P(positive) in [0, 1]; `y` is 1 = positive, 0 = negative.
 */
import { badLabel, checkSameLength } from './discrimination.ts';
import type { CalibrationBin } from './types.ts';

/** Number of equal-count bins used for the calibration table and ECE in model reports. */
export const CALIBRATION_BINS = 10;

/** Log-loss clips probabilities to [LOG_LOSS_EPS, 1 − LOG_LOSS_EPS] so a confident mistake costs ~34.5, not ∞. */
export const LOG_LOSS_EPS = 1e-15;

/**
 * Throws RangeError unless p and y have the same length, every p is in [0, 1] and every y is 0 or 1.
 * @internal
 */
export function checkProbabilities(fn: string, p: ArrayLike<number>, y: ArrayLike<number>): void {
  checkSameLength(fn, p, y, 'p and y');
  for (let i = 0; i < p.length; i++) {
    const q = p[i]!;
    if (!(q >= 0 && q <= 1)) throw new RangeError(`${fn}: p[${i}] must be a probability in [0, 1], got ${q}`);
    const v = y[i];
    if (v !== 0 && v !== 1) badLabel(fn, i, v);
  }
}

/**
 * Edges of up to `bins` equal-count bins over `sorted` (ascending, no NaN): the value found at ranks
 * ⌊b·n/bins⌋, b = 1..bins−1, deduplicated. A value v falls into bin {@link binOf}(edges, v) = number of edges
 * <= v, so all copies of a tied value share one bin and every bin holds at least one value of `sorted`;
 * discrete data therefore yields fewer, unequal bins rather than empty ones.
 * @internal
 */
export function equalCountEdges(sorted: Float64Array, bins: number): Float64Array {
  const n = sorted.length;
  const edges: number[] = [];
  if (n === 0) return new Float64Array(0);
  let last = sorted[0]!;
  for (let b = 1; b < bins; b++) {
    const e = sorted[Math.floor((b * n) / bins)]!;
    if (e > last) {
      edges.push(e);
      last = e;
    }
  }
  return Float64Array.from(edges);
}

/**
 * Bin index of `v` for edges from {@link equalCountEdges}: the number of edges <= v (binary search).
 * @internal
 */
export function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Throws RangeError unless `bins` is a positive integer.
 * @internal
 */
export function checkBins(fn: string, bins: number): void {
  if (!(Number.isInteger(bins) && bins >= 1)) {
    throw new RangeError(`${fn}: bins must be a positive integer, got ${bins}`);
  }
}

/**
 * Brier score: mean of (p − y)², in [0, 1]; lower is better. NaN for empty input.
 * @throws RangeError on length mismatch, p outside [0, 1] (or NaN), or a label other than 0/1.
 */
export function brier(p: ArrayLike<number>, y: ArrayLike<number>): number {
  checkProbabilities('brier', p, y);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const d = p[i]! - y[i]!;
    s += d * d;
  }
  return s / p.length;
}

/**
 * Mean negative log-likelihood in nats: −mean(y·ln p + (1 − y)·ln(1 − p)), with p clipped to
 * [1e-15, 1 − 1e-15]. NaN for empty input.
 * @throws RangeError on length mismatch, p outside [0, 1] (or NaN), or a label other than 0/1.
 */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  checkProbabilities('logLoss', p, y);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, p[i]!));
    s -= y[i] === 1 ? Math.log(q) : Math.log1p(-q);
  }
  return s / p.length;
}

/**
 * Reliability table over up to `bins` equal-count (quantile) bins of p. Tied p values always share a bin, so
 * heavily tied p gives fewer bins (never empty ones); bins are ordered by p. `lower` / `upper` are the
 * smallest and largest p in the bin. Empty input gives an empty table.
 *
 * @param bins - wanted number of bins, default {@link CALIBRATION_BINS}.
 * @throws RangeError on invalid p / y (as for {@link brier}) or when `bins` is not a positive integer.
 */
export function calibrationTable(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  bins: number = CALIBRATION_BINS,
): CalibrationBin[] {
  return binTable('calibrationTable', p, y, bins);
}

function binTable(fn: string, p: ArrayLike<number>, y: ArrayLike<number>, bins: number): CalibrationBin[] {
  checkProbabilities(fn, p, y);
  checkBins(fn, bins);
  const n = p.length;
  if (n === 0) return [];
  const edges = equalCountEdges(Float64Array.from(p).sort(), bins);
  const m = edges.length + 1;
  const count = new Float64Array(m);
  const sumP = new Float64Array(m);
  const sumY = new Float64Array(m);
  const lo = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(m).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    const q = p[i]!;
    const b = binOf(edges, q);
    count[b]!++;
    sumP[b]! += q;
    sumY[b]! += y[i]!;
    if (q < lo[b]!) lo[b] = q;
    if (q > hi[b]!) hi[b] = q;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < m; b++) {
    const c = count[b]!;
    if (c === 0) continue;
    out.push({
      lower: lo[b]!,
      upper: hi[b]!,
      count: c,
      meanPredicted: sumP[b]! / c,
      observedRate: sumY[b]! / c,
    });
  }
  return out;
}

/**
 * Expected calibration error: Σ_b (n_b / n)·|mean p_b − observed rate_b| over the bins of
 * {@link calibrationTable} (equal-count, ties kept together). In [0, 1]; NaN for empty input.
 * @throws RangeError as for {@link calibrationTable}.
 */
export function ece(p: ArrayLike<number>, y: ArrayLike<number>, bins: number = CALIBRATION_BINS): number {
  const table = binTable('ece', p, y, bins);
  let s = 0;
  for (const b of table) s += b.count * Math.abs(b.meanPredicted - b.observedRate);
  return s / p.length;
}
