/**
 * Tables for the model report: lift by score decile and a score histogram split by class.
 */
import { badLabel, checkSameLength, scoreGroups } from './discrimination.ts';
import { checkBins } from './probability.ts';
import type { HistogramBin, LiftRow } from './types.ts';

/**
 * Lift table over ten equal-count deciles of the score, decile 1 = the highest-scored tenth. Decile d holds
 * rows ranked ⌊(d−1)·n/10⌋+1 .. ⌊d·n/10⌋ from the top.
 *
 * Ties: a group of equal scores that straddles a decile boundary is split pro rata, each part carrying the
 * group's positive rate, so `positives` can be fractional there. This is the expectation over random
 * tie-breaking and, unlike breaking ties by row order, does not depend on how the rows were sorted. (With
 * constant scores every decile shows the overall rate and lift 1.) `cumulativeCapture` is exactly 1 at
 * decile 10.
 *
 * Empty deciles (only when n < 10) have rate and lift NaN; with no positives lift and capture are NaN.
 * @param scores - higher = more likely positive; not NaN.
 * @param labels - 1 = positive, 0 = negative.
 * @returns ten rows, decile 1..10.
 * @throws RangeError on length mismatch, a NaN score, or a label other than 0/1.
 */
export function liftByDecile(scores: ArrayLike<number>, labels: ArrayLike<number>): LiftRow[] {
  const g = scoreGroups('liftByDecile', scores, labels);
  const n = scores.length;
  const overall = g.totalPos / n;
  const rows: LiftRow[] = [];
  // Walk groups from the highest score; cumRows / cumPos count whole groups taken so far (exact integers).
  let k = g.length - 1;
  let cumRows = 0;
  let cumPos = 0;
  let prevPosAt = 0;
  let prevBoundary = 0;
  for (let d = 1; d <= 10; d++) {
    const boundary = Math.floor((d * n) / 10);
    while (k >= 0 && cumRows + g.pos[k]! + g.neg[k]! <= boundary) {
      cumRows += g.pos[k]! + g.neg[k]!;
      cumPos += g.pos[k]!;
      k--;
    }
    let posAt = cumPos;
    if (k >= 0 && boundary > cumRows) {
      const size = g.pos[k]! + g.neg[k]!;
      posAt += ((boundary - cumRows) * g.pos[k]!) / size;
    }
    const count = boundary - prevBoundary;
    const positives = posAt - prevPosAt;
    const rate = count > 0 ? positives / count : Number.NaN;
    rows.push({
      decile: d,
      count,
      positives,
      rate,
      lift: rate / overall,
      cumulativeCapture: g.totalPos > 0 ? posAt / g.totalPos : Number.NaN,
    });
    prevPosAt = posAt;
    prevBoundary = boundary;
  }
  return rows;
}

/**
 * Histogram of scores by class over `bins` equal-width bins. The range is [0, 1] when every score lies in
 * [0, 1] (probabilities; also for empty input), otherwise [min, max] of the scores; if all scores are equal
 * outside [0, 1] the range is [v − 0.5, v + 0.5]. Bins are half-open [lower, upper) except the last, which
 * includes its upper edge.
 *
 * @param bins - number of bins, default 20.
 * @throws RangeError on length mismatch, a non-finite score, a label other than 0/1, or bins not a positive
 *   integer.
 */
export function scoreHistogram(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 20,
): HistogramBin[] {
  const fn = 'scoreHistogram';
  checkSameLength(fn, scores, labels, 'scores and labels');
  checkBins(fn, bins);
  const n = scores.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new RangeError(`${fn}: scores[${i}] must be finite, got ${s}`);
    if (s < min) min = s;
    if (s > max) max = s;
    const y = labels[i];
    if (y !== 0 && y !== 1) badLabel(fn, i, y);
  }
  let lo = min;
  let hi = max;
  if (min >= 0 && max <= 1) {
    lo = 0;
    hi = 1;
  } else if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const pos = new Float64Array(bins);
  const neg = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((scores[i]! - lo) / width)));
    if (labels[i] === 1) pos[b]!++;
    else neg[b]!++;
  }
  const out: HistogramBin[] = [];
  for (let b = 0; b < bins; b++) {
    out.push({
      lower: lo + b * width,
      upper: b === bins - 1 ? hi : lo + (b + 1) * width,
      positives: pos[b]!,
      negatives: neg[b]!,
    });
  }
  return out;
}
