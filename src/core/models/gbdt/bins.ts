/**
 * Bucketing for histogram boosting: every feature is cut once, at fit, into at most `maxBins` value bins plus
 * one bin for missing values; training then works on small integers (binMatrix's row-major histogram slots,
 * and a column-major byte copy for partitioning rows, boost.ts).
 *
 * Numeric: value bin b holds the values x with upper[b−1] < x <= upper[b] (upper[−1] = −∞, the last bin has no
 * upper edge). The edges sit halfway between neighbouring distinct training values, at quantiles of the
 * values (greedy equal-count bins, so a value that fills many rows gets a bin of its own). A split "bin <= s"
 * is then exactly "x <= upper[s]" on raw values, which is how a fitted tree stores and applies it.
 * Categorical: category code c → `categoryBin[c]`; with more categories than value bins, the most frequent
 * `maxBins − 1` keep a bin each and the rest share the last one.
 * The missing bin is always the one after the value bins.
 */
import { type FeatureInfo, type Matrix, ModelError } from '../contract.ts';

export interface NumericBins {
  readonly type: 'numeric';
  /** Upper edges of the value bins but the last, strictly ascending (value bins = upper.length + 1). */
  readonly upper: readonly number[];
}

export interface CategoricalBins {
  readonly type: 'categorical';
  /** Value bin of each category code. */
  readonly categoryBin: readonly number[];
  /** Number of value bins. */
  readonly bins: number;
}

export type FeatureBins = NumericBins | CategoricalBins;

/** Number of value bins (the missing bin's index). */
export function valueBins(b: FeatureBins): number {
  return b.type === 'numeric' ? b.upper.length + 1 : b.bins;
}

/** Rows whose values are sampled to place numeric edges (a seeded-free stride sample above this). */
const EDGE_SAMPLE = 200_000;

/**
 * Learns the bins of every feature from the training matrix.
 * @param maxBins - value bins per feature at most (2..255)
 */
export function learnBins(x: Matrix, features: readonly FeatureInfo[], maxBins: number): FeatureBins[] {
  return features.map((f, j) =>
    f.type === 'numeric' ? numericBins(x, j, maxBins) : categoricalBins(x, j, f, maxBins),
  );
}

function numericBins(x: Matrix, j: number, maxBins: number): NumericBins {
  const { rows: n, cols: p, data } = x;
  // A fixed stride keeps the sample deterministic without a seed and spreads it over the whole table.
  const stride = Math.max(1, Math.floor(n / EDGE_SAMPLE));
  const sample = new Float64Array(Math.ceil(n / stride));
  let m = 0;
  for (let i = 0; i < n; i += stride) {
    const v = data[i * p + j]!;
    if (!Number.isNaN(v)) sample[m++] = v;
  }
  const sorted = sample.subarray(0, m).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]!++;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const upper: number[] = [];
  const cutAfter = (k: number) => {
    const a = distinct[k]!;
    const b = distinct[k + 1]!;
    const mid = a / 2 + b / 2;
    upper.push(mid > a && mid < b ? mid : a);
  };
  if (distinct.length <= maxBins) {
    for (let k = 0; k + 1 < distinct.length; k++) cutAfter(k);
    return { type: 'numeric', upper };
  }
  // Greedy equal-count bins: close a bin once it holds its share of what is left.
  let remaining = sorted.length;
  let binsLeft = maxBins;
  let inBin = 0;
  for (let k = 0; k + 1 < distinct.length && binsLeft > 1; k++) {
    inBin += counts[k]!;
    const target = remaining / binsLeft;
    // Close before a heavy next value too, so that value starts a bin of its own.
    if (inBin >= target || (inBin > 0 && counts[k + 1]! >= target)) {
      cutAfter(k);
      remaining -= inBin;
      binsLeft--;
      inBin = 0;
    }
  }
  return { type: 'numeric', upper };
}

function categoricalBins(x: Matrix, j: number, f: FeatureInfo, maxBins: number): CategoricalBins {
  const k = f.categories?.length ?? 0;
  if (k <= maxBins)
    return { type: 'categorical', categoryBin: Array.from({ length: k }, (_, c) => c), bins: k };
  const { rows: n, cols: p, data } = x;
  const freq = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const v = data[i * p + j]!;
    if (!Number.isNaN(v)) freq[v]!++;
  }
  // Most frequent first; ties by code so the order is fixed.
  const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => freq[b]! - freq[a]! || a - b);
  const keep = order.slice(0, maxBins - 1).sort((a, b) => a - b);
  const categoryBin = new Array<number>(k).fill(maxBins - 1);
  keep.forEach((c, b) => {
    categoryBin[c] = b;
  });
  return { type: 'categorical', categoryBin, bins: maxBins };
}

/** Bin of one value (NaN → the missing bin). Numeric: binary search over the upper edges. */
export function binOf(b: FeatureBins, v: number): number {
  if (Number.isNaN(v)) return valueBins(b);
  if (b.type === 'categorical') return b.categoryBin[v] ?? b.bins;
  const up = b.upper;
  let lo = 0;
  let hi = up.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= up[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The whole matrix binned, row-major, each cell as its histogram slot: offset[j] + its bin, so building a
 * histogram needs no per-feature offset (two bytes per cell; at most 256 slots per feature).
 */
export function binMatrix(x: Matrix, bins: readonly FeatureBins[], offset: Int32Array): Uint16Array {
  const { rows: n, cols: p, data } = x;
  const last = offset[p - 1]! + valueBins(bins[p - 1]!);
  if (last > 0xffff) {
    throw new ModelError(
      `gbdt: ${p} features need ${last + 1} histogram slots (value bins + 1 per feature), at most 65,536; ` +
        'lower maxBins',
    );
  }
  const out = new Uint16Array(n * p);
  for (let j = 0; j < p; j++) {
    const b = bins[j]!;
    const off = offset[j]!;
    for (let i = 0; i < n; i++) out[i * p + j] = off + binOf(b, data[i * p + j]!);
  }
  return out;
}
