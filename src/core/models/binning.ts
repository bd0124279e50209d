/**
 * Supervised binning with weight of evidence (WOE), the first stage of the scorecard kind.
 *
 * Rules (all counts are weighted by the fit's row weights; "share" is of the total training weight):
 * - numeric: up to `preBins` quantile pre-bins of the non-missing values (from a systematic sample of 100k
 *   values on larger data), then adjacent bins are merged
 *   until (1) both the event rate and the WOE move strictly in one direction and (2) every bin holds at least
 *   `minBinShare`. The direction is `feature.monotone` when given and non-zero, otherwise the sign of the
 *   weighted correlation between pre-bin rank and outcome (a Spearman-like sign; +1 on a tie).
 *   Bin i covers [cuts[i-1], cuts[i]) with −∞ / +∞ at the ends, so a value outside the training range falls
 *   in an end bin.
 * - categorical: one bin per category holding at least `minBinShare`; the other categories (including ones
 *   never seen in training) are pooled into an "other" bin. A code the model does not know at all falls in
 *   "other" when there is one, else in "missing".
 * - missing (NaN) is always a bin of its own, listed last, so its scoring policy is explicit (STYLE §5).
 *
 * WOE of a bin = ln((events + 0.5) / (nonEvents + 0.5)) − ln(totalEvents / totalNonEvents), i.e. the log of
 * (share of positives / share of negatives) with 0.5 added to the bin counts so an empty class gives a
 * finite value. Neutral rule: a bin holding less than `minBinShare` of the training weight (in practice the
 * missing bin, the "other" bin, or an empty one) gets WOE 0 — it is scored as an average customer, because
 * its own rate is too noisy to trust.
 */
import type { FeatureInfo, Labels } from './contract.ts';

/** Weighted counts of one bin and the WOE it is scored with. */
export interface BinStats {
  /** Training weight in the bin (row count when unweighted). */
  count: number;
  /** Training weight of positives in the bin. */
  events: number;
  woe: number;
}

/** Binning of a numeric feature. */
export interface NumericBinning {
  type: 'numeric';
  /** +1: event rate rises with the value; −1: falls. */
  direction: 1 | -1;
  /** Strictly ascending cut points; regular bin i is [cuts[i-1], cuts[i]). */
  cuts: number[];
  /** `cuts.length + 1` regular bins, then the missing bin. */
  bins: BinStats[];
}

/** Binning of a categorical feature. */
export interface CategoricalBinning {
  type: 'categorical';
  /** Bin index of each category code (length = number of categories). */
  categoryBin: number[];
  /** Index of the pooled "other" bin, or null when every category has its own bin. */
  otherBin: number | null;
  /** Regular bins (categories with their own bin in code order, then "other" if any), then the missing bin. */
  bins: BinStats[];
}

/** Binning of one feature; the missing bin is always the last of `bins`. */
export type FeatureBinning = NumericBinning | CategoricalBinning;

/** Binning hyperparameters. */
export interface BinningOptions {
  /** Minimum share of the training weight per bin, in (0, 0.5]. */
  minBinShare: number;
  /** Number of quantile pre-bins for numeric features, >= 2. */
  preBins: number;
}

/** WOE of a bin from its weighted counts and the totals (0.5 smoothing on the bin counts). */
export function woe(events: number, count: number, totalEvents: number, totalNonEvents: number): number {
  const nonEvents = Math.max(0, count - events);
  return Math.log((events + 0.5) / (nonEvents + 0.5)) - Math.log(totalEvents / totalNonEvents);
}

/** Index into `b.bins` of the bin a value falls in (NaN → missing; see the module comment for the rest). */
export function binIndex(b: FeatureBinning, v: number): number {
  const missing = b.bins.length - 1;
  if (Number.isNaN(v)) return missing;
  if (b.type === 'numeric') return upperBound(b.cuts, v);
  if (Number.isInteger(v) && v >= 0 && v < b.categoryBin.length) return b.categoryBin[v]!;
  return b.otherBin ?? missing;
}

/** Number of cuts <= v, i.e. the regular bin of v. */
function upperBound(cuts: readonly number[], v: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Human labels of `b.bins`: "(-inf, 30)", "[30, 60)", "[60, inf)"; category names, "other"; "missing". */
export function binLabels(b: FeatureBinning, feature: FeatureInfo): string[] {
  const labels: string[] = [];
  if (b.type === 'numeric') {
    const c = b.cuts.map(formatCut);
    for (let i = 0; i <= c.length; i++) {
      labels.push(`${i === 0 ? '(-inf' : `[${c[i - 1]}`}, ${i === c.length ? 'inf)' : `${c[i]})`}`);
    }
  } else {
    const names = feature.categories ?? [];
    const regular = b.bins.length - 1;
    for (let k = 0; k < regular; k++) {
      if (k === b.otherBin) labels.push('other');
      else {
        const code = b.categoryBin.indexOf(k);
        labels.push(names[code] ?? String(code));
      }
    }
  }
  labels.push('missing');
  return labels;
}

/** Cut points shown with 8 significant digits: labels are for people, the exact cuts stay in the state. */
function formatCut(c: number): string {
  return String(Number(c.toPrecision(8)));
}

/** Weight-averaged WOE over the training rows: the explain baseline of a feature. */
export function meanWoe(b: FeatureBinning): number {
  let s = 0;
  let w = 0;
  for (const bin of b.bins) {
    s += bin.count * bin.woe;
    w += bin.count;
  }
  return w > 0 ? s / w : 0;
}

/**
 * Information value Σ (share of positives − share of negatives) × WOE over the bins (unsmoothed shares; bins
 * scored neutral add 0).
 */
export function informationValue(b: FeatureBinning): number {
  let e = 0;
  let ne = 0;
  for (const bin of b.bins) {
    e += bin.events;
    ne += Math.max(0, bin.count - bin.events);
  }
  if (e === 0 || ne === 0) return 0;
  let iv = 0;
  for (const bin of b.bins) iv += (bin.events / e - Math.max(0, bin.count - bin.events) / ne) * bin.woe;
  return iv;
}

/** Totals of the training labels that every feature's WOE is measured against. */
export interface LabelTotals {
  /** Total training weight. */
  weight: number;
  events: number;
  nonEvents: number;
}

/** Weighted totals of the labels. */
export function labelTotals(y: Labels, weights: Float64Array | undefined): LabelTotals {
  let weight = 0;
  let events = 0;
  for (let i = 0; i < y.length; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    weight += w;
    events += w * y[i]!;
  }
  return { weight, events, nonEvents: weight - events };
}

/**
 * Bins one feature's column (length n; categorical values are codes in 0..categories.length-1 or NaN, as
 * checked by the caller) against labels `y`.
 *
 * @param rowBin - when given (length n), receives each row's index into the returned `bins`, saving the
 *   caller a second lookup pass
 */
export function binFeature(
  column: Float64Array,
  y: Labels,
  weights: Float64Array | undefined,
  feature: FeatureInfo,
  totals: LabelTotals,
  opts: BinningOptions,
  rowBin?: Int32Array,
): FeatureBinning {
  const out = rowBin ?? new Int32Array(column.length);
  return feature.type === 'numeric'
    ? binNumeric(column, y, weights, feature, totals, opts, out)
    : binCategorical(column, y, weights, feature.categories?.length ?? 0, totals, opts, out);
}

/** Applies the neutral rule and computes the WOE of final bins. */
function finish(count: number, events: number, totals: LabelTotals, minWeight: number): BinStats {
  const w = count > 0 && count >= minWeight ? woe(events, count, totals.events, totals.nonEvents) : 0;
  return { count, events, woe: w };
}

function binNumeric(
  column: Float64Array,
  y: Labels,
  weights: Float64Array | undefined,
  feature: FeatureInfo,
  totals: LabelTotals,
  opts: BinningOptions,
  rowBin: Int32Array,
): NumericBinning {
  const n = column.length;
  const minWeight = opts.minBinShare * totals.weight;

  // Pre-bin cuts at unweighted quantiles of the positive-weight non-missing values; cuts are data values and
  // a value equal to a cut goes to the bin above, so ties never split across bins.
  const sorted = quantileSample(column, weights).sort();
  const m = sorted.length;
  const cuts: number[] = [];
  for (let k = 1; k < opts.preBins && m > 0; k++) {
    const c = sorted[Math.floor((k * m) / opts.preBins)]!;
    if (c > sorted[0]! && (cuts.length === 0 || c > cuts[cuts.length - 1]!)) cuts.push(c);
  }

  const count = new Array<number>(cuts.length + 1).fill(0);
  const events = new Array<number>(cuts.length + 1).fill(0);
  let missCount = 0;
  let missEvents = 0;
  const preMissing = cuts.length + 1;
  for (let i = 0; i < n; i++) {
    const v = column[i]!;
    const b = Number.isNaN(v) ? preMissing : upperBound(cuts, v);
    rowBin[i] = b;
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) continue;
    const yi = y[i]!;
    if (b === preMissing) {
      missCount += w;
      missEvents += w * yi;
    } else {
      count[b] = count[b]! + w;
      events[b] = events[b]! + w * yi;
    }
  }

  const direction = feature.monotone ? feature.monotone : rankCorrelationSign(count, events);
  const preCuts = [...cuts];
  mergeMonotone(count, events, cuts, direction, totals, minWeight);

  const bins = count.map((c, b) => finish(c, events[b]!, totals, minWeight));
  bins.push(finish(missCount, missEvents, totals, minWeight));
  // Final cuts are a subset of the pre-bin cuts, so a pre-bin lands in the final bin holding its lower edge.
  const toFinal = Int32Array.from({ length: preMissing + 1 }, (_, b) =>
    b === preMissing ? bins.length - 1 : b === 0 ? 0 : upperBound(cuts, preCuts[b - 1]!),
  );
  for (let i = 0; i < n; i++) rowBin[i] = toFinal[rowBin[i]!]!;
  return { type: 'numeric', direction, cuts, bins };
}

/** Above this many values, pre-bin quantiles come from a systematic sample of this size. */
export const QUANTILE_SAMPLE = 100_000;

/**
 * The positive-weight non-missing values, or an evenly spaced (systematic, hence deterministic) sample of
 * QUANTILE_SAMPLE of them: pre-bin edges are only candidates for merging, and sorting every 1e6-row column
 * in full (~150 ms each) would dominate the fit. The sample's quantiles are within ~0.2% of rank of the exact
 * ones on typical data; bin counts are always exact.
 */
function quantileSample(column: Float64Array, weights: Float64Array | undefined): Float64Array {
  const keep = (i: number) => !Number.isNaN(column[i]!) && (weights === undefined || weights[i]! > 0);
  let m = 0;
  for (let i = 0; i < column.length; i++) if (keep(i)) m++;
  const size = Math.min(m, QUANTILE_SAMPLE);
  const out = new Float64Array(size);
  // The t-th kept value is taken when its rank among kept values reaches floor(t × m / size).
  let rank = 0;
  let t = 0;
  let next = 0;
  for (let i = 0; i < column.length && t < size; i++) {
    if (!keep(i)) continue;
    if (rank === next) {
      out[t++] = column[i]!;
      next = Math.floor((t * m) / size);
    }
    rank++;
  }
  return out;
}

/** Sign of the weighted covariance between bin rank and event rate (+1 when it is 0). */
function rankCorrelationSign(count: readonly number[], events: readonly number[]): 1 | -1 {
  let w = 0;
  let sr = 0;
  let se = 0;
  for (let b = 0; b < count.length; b++) {
    w += count[b]!;
    sr += count[b]! * b;
    se += events[b]!;
  }
  if (w === 0) return 1;
  const rBar = sr / w;
  const yBar = se / w;
  let cov = 0;
  for (let b = 0; b < count.length; b++) cov += (b - rBar) * (events[b]! - count[b]! * yBar);
  return cov < 0 ? -1 : 1;
}

/**
 * Merges adjacent bins in place until the event rate and the (unneutralised) WOE are strictly monotone in
 * `direction` and every bin holds at least `minWeight`. Merging two neighbours of a monotone sequence keeps it
 * monotone in rate, but the 0.5 smoothing can break WOE order slightly, so both checks run until neither
 * fires. Each merge removes a bin, so this ends after at most `preBins` merges.
 */
function mergeMonotone(
  count: number[],
  events: number[],
  cuts: number[],
  direction: 1 | -1,
  totals: LabelTotals,
  minWeight: number,
): void {
  const merge = (b: number): void => {
    count[b] = count[b]! + count[b + 1]!;
    events[b] = events[b]! + events[b + 1]!;
    count.splice(b + 1, 1);
    events.splice(b + 1, 1);
    cuts.splice(b, 1);
  };
  const w = (b: number) => woe(events[b]!, count[b]!, totals.events, totals.nonEvents);
  const r = (b: number) => (count[b]! > 0 ? events[b]! / count[b]! : 0);
  for (;;) {
    // The worst violation first: merging it often fixes its neighbours' order too.
    let worst = -1;
    let worstStep = Number.POSITIVE_INFINITY;
    for (let b = 0; b + 1 < count.length; b++) {
      const dw = direction * (w(b + 1) - w(b));
      const dr = direction * (r(b + 1) - r(b));
      if ((dw <= 0 || dr <= 0) && dw < worstStep) {
        worst = b;
        worstStep = dw;
      }
    }
    if (worst >= 0) {
      merge(worst);
      continue;
    }
    let small = -1;
    for (let b = 0; b < count.length && count.length > 1; b++) {
      if (count[b]! < minWeight && (small < 0 || count[b]! < count[small]!)) small = b;
    }
    if (small < 0) return;
    if (small === 0) merge(0);
    else if (small === count.length - 1) merge(small - 1);
    else {
      // Join the neighbour with the closer WOE: the merged bin changes least.
      const left = Math.abs(w(small) - w(small - 1));
      const right = Math.abs(w(small + 1) - w(small));
      merge(left <= right ? small - 1 : small);
    }
  }
}

function binCategorical(
  column: Float64Array,
  y: Labels,
  weights: Float64Array | undefined,
  k: number,
  totals: LabelTotals,
  opts: BinningOptions,
  rowBin: Int32Array,
): CategoricalBinning {
  const minWeight = opts.minBinShare * totals.weight;
  const count = new Float64Array(k);
  const events = new Float64Array(k);
  let missCount = 0;
  let missEvents = 0;
  for (let i = 0; i < column.length; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) continue;
    const v = column[i]!;
    if (Number.isNaN(v)) {
      missCount += w;
      missEvents += w * y[i]!;
    } else {
      count[v] = count[v]! + w;
      events[v] = events[v]! + w * y[i]!;
    }
  }
  const categoryBin = new Array<number>(k).fill(-1);
  const bins: BinStats[] = [];
  let otherCount = 0;
  let otherEvents = 0;
  let hasOther = false;
  for (let c = 0; c < k; c++) {
    if (count[c]! > 0 && count[c]! >= minWeight) {
      categoryBin[c] = bins.length;
      bins.push(finish(count[c]!, events[c]!, totals, minWeight));
    } else {
      hasOther = true;
      otherCount += count[c]!;
      otherEvents += events[c]!;
    }
  }
  let otherBin: number | null = null;
  if (hasOther) {
    otherBin = bins.length;
    bins.push(finish(otherCount, otherEvents, totals, minWeight));
    for (let c = 0; c < k; c++) if (categoryBin[c] === -1) categoryBin[c] = otherBin;
  }
  bins.push(finish(missCount, missEvents, totals, minWeight));
  const missing = bins.length - 1;
  for (let i = 0; i < column.length; i++) {
    const v = column[i]!;
    rowBin[i] = Number.isNaN(v) ? missing : categoryBin[v]!;
  }
  return { type: 'categorical', categoryBin, otherBin, bins };
}
