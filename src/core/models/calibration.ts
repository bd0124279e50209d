/**
 * Probability calibration, fitted on validation data after a kind has been fitted on training data, and
 * applied on top of the kind's `predictProba`. Like a model, a calibrator is pure learned state: `toJSON`
 * gives plain JSON and `loadCalibrator` rebuilds exactly the same mapping from it.
 *
 * - Platt: P = sigmoid(a·logit(p) + b), a logistic regression of y on logit(p). Two parameters, smooth, keeps
 *   the ranking (for a > 0); right when the raw scores are mis-scaled log-odds.
 * - Isotonic: the monotone step function that best fits y (pool-adjacent-violators), applied by linear
 *   interpolation between blocks. Flexible, needs more data.
 */
import { logLoss } from '../metrics/probability.ts';
import { logit, ModelError, sigmoid } from './contract.ts';

/** Serialised calibrator. */
export type CalibratorJson =
  | { method: 'platt'; a: number; b: number }
  | { method: 'isotonic'; x: number[]; y: number[] }
  | { method: 'none' };

/** A fitted probability calibration map [0, 1] → [0, 1]. */
export interface Calibrator {
  /** 'platt', 'isotonic' or 'none'. */
  readonly method: string;
  /** Calibrated probability for one raw probability. NaN in gives NaN out. */
  apply(p: number): number;
  /** `apply` on every element; returns a new array of the same length. */
  applyAll(p: Float64Array): Float64Array;
  toJSON(): CalibratorJson;
}

/** Fitted calibrators (platt, isotonic) never output probabilities closer than this to 0 or 1. */
export const CALIBRATED_EPS = 1e-6;

/** L2 penalty on (a, b) in the summed Platt log-likelihood: negligible on real data, finite under separation. */
const PLATT_L2 = 1e-3;
const PLATT_MAX_ITER = 100;

function clip(q: number): number {
  // Math.min / max propagate NaN, so NaN in gives NaN out.
  return Math.min(1 - CALIBRATED_EPS, Math.max(CALIBRATED_EPS, q));
}

function mapAll(c: Calibrator, p: Float64Array): Float64Array {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = c.apply(p[i]!);
  return out;
}

function plattCalibrator(a: number, b: number): Calibrator {
  const c: Calibrator = {
    method: 'platt',
    apply: (p) => clip(sigmoid(a * logit(p) + b)),
    applyAll: (p) => mapAll(c, p),
    toJSON: () => ({ method: 'platt', a, b }),
  };
  return c;
}

/** `x` strictly increasing, `y` non-decreasing in [0, 1], same non-zero length (checked by the callers). */
function isotonicCalibrator(x: Float64Array, y: Float64Array): Calibrator {
  const last = x.length - 1;
  const apply = (p: number): number => {
    if (Number.isNaN(p)) return Number.NaN;
    if (p <= x[0]!) return y[0]!;
    if (p >= x[last]!) return y[last]!;
    // Largest i with x[i] <= p; then x[i] <= p < x[i + 1].
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (x[mid]! <= p) lo = mid;
      else hi = mid;
    }
    const x0 = x[lo]!;
    const y0 = y[lo]!;
    return y0 + ((y[hi]! - y0) * (p - x0)) / (x[hi]! - x0);
  };
  const c: Calibrator = {
    method: 'isotonic',
    apply,
    applyAll: (p) => mapAll(c, p),
    toJSON: () => ({ method: 'isotonic', x: Array.from(x), y: Array.from(y) }),
  };
  return c;
}

function identityCalibrator(): Calibrator {
  return {
    method: 'none',
    apply: (p) => p,
    applyAll: (p) => Float64Array.from(p),
    toJSON: () => ({ method: 'none' }),
  };
}

/** Throws ModelError unless p and y have the same length >= 1, p in [0, 1], y in {0, 1}, both classes present. */
function checkFitData(fn: string, p: ArrayLike<number>, y: ArrayLike<number>): void {
  if (p.length !== y.length)
    throw new ModelError(`${fn}: p and y must have the same length, got ${p.length} and ${y.length}`);
  let positives = 0;
  for (let i = 0; i < p.length; i++) {
    const q = p[i]!;
    if (!(q >= 0 && q <= 1)) throw new ModelError(`${fn}: p[${i}] must be a probability in [0, 1], got ${q}`);
    const v = y[i];
    if (v === 1) positives++;
    else if (v !== 0) throw new ModelError(`${fn}: y[${i}] must be 0 or 1, got ${v}`);
  }
  if (positives === 0 || positives === p.length) {
    throw new ModelError(
      `${fn}: calibration data must contain both classes, got ${positives} positive(s) in ${p.length} row(s)`,
    );
  }
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function plattObjective(x: Float64Array, y: ArrayLike<number>, a: number, b: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const z = a * x[i]! + b;
    s += softplus(z) - (y[i] === 1 ? z : 0);
  }
  return s + 0.5 * PLATT_L2 * (a * a + b * b);
}

/** Newton's method with backtracking on the penalised log-likelihood, from the identity map (a = 1, b = 0). */
function plattParams(p: ArrayLike<number>, y: ArrayLike<number>): { a: number; b: number } {
  const n = p.length;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = logit(p[i]!);
  let a = 1;
  let b = 0;
  let f = plattObjective(x, y, a, b);
  for (let iter = 0; iter < PLATT_MAX_ITER; iter++) {
    let ga = PLATT_L2 * a;
    let gb = PLATT_L2 * b;
    let haa = PLATT_L2;
    let hab = 0;
    let hbb = PLATT_L2;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const s = sigmoid(a * xi + b);
      const r = s - (y[i] === 1 ? 1 : 0);
      const w = s * (1 - s);
      ga += r * xi;
      gb += r;
      haa += w * xi * xi;
      hab += w * xi;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    const slope = ga * da + gb * db;
    if (!(slope > 0)) break;
    let t = 1;
    let accepted = false;
    let na = a;
    let nb = b;
    let nf = f;
    for (let h = 0; h < 40; h++) {
      na = a - t * da;
      nb = b - t * db;
      nf = plattObjective(x, y, na, nb);
      if (nf <= f - 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
    const moved = Math.abs(na - a) + Math.abs(nb - b);
    const gained = f - nf;
    a = na;
    b = nb;
    f = nf;
    if (moved < 1e-12 * (1 + Math.abs(a) + Math.abs(b)) || gained < 1e-14 * (1 + f)) break;
  }
  return { a, b };
}

/** Pool-adjacent-violators over p sorted ascending (ties pooled first); one knot per final block. */
function isotonicKnots(p: ArrayLike<number>, y: ArrayLike<number>): { x: Float64Array; y: Float64Array } {
  const n = p.length;
  const ps = Float64Array.from(p);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((i, j) => ps[i]! - ps[j]! || i - j);
  // Block stack: weight, sum of y, sum of p, smallest and largest p.
  const w = new Float64Array(n);
  const sy = new Float64Array(n);
  const sx = new Float64Array(n);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  let top = -1;
  let r = 0;
  while (r < n) {
    const v = ps[idx[r]!]!;
    let cw = 0;
    let cy = 0;
    while (r < n && ps[idx[r]!] === v) {
      cw++;
      cy += y[idx[r]!] === 1 ? 1 : 0;
      r++;
    }
    top++;
    w[top] = cw;
    sy[top] = cy;
    sx[top] = cw * v;
    lo[top] = v;
    hi[top] = v;
    // Merge while the previous block's mean is >= this one's (so block means end strictly increasing).
    while (top > 0 && sy[top - 1]! * w[top]! >= sy[top]! * w[top - 1]!) {
      w[top - 1]! += w[top]!;
      sy[top - 1]! += sy[top]!;
      sx[top - 1]! += sx[top]!;
      hi[top - 1] = hi[top]!;
      top--;
    }
  }
  const k = top + 1;
  const kx = new Float64Array(k);
  const ky = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    // Clamped into the block's range so knots stay strictly increasing despite rounding of the mean.
    kx[i] = Math.min(hi[i]!, Math.max(lo[i]!, sx[i]! / w[i]!));
    ky[i] = clip(sy[i]! / w[i]!);
  }
  return { x: kx, y: ky };
}

/**
 * Platt scaling: fits P(y = 1) = sigmoid(a·logit(p) + b) by maximum likelihood (Newton's method with
 * backtracking, starting from the identity a = 1, b = 0, with a tiny L2 penalty so perfectly separated data
 * still gives finite a, b). Deterministic. Outputs are clipped to [1e-6, 1 − 1e-6].
 *
 * @param p - raw (uncalibrated) probabilities in [0, 1], e.g. a kind's predictions on the validation split.
 * @param y - outcomes, 1 = positive, 0 = negative, same length.
 * @throws ModelError on length mismatch, p outside [0, 1], y not 0/1, or data with a single class.
 */
export function fitPlatt(p: ArrayLike<number>, y: ArrayLike<number>): Calibrator {
  checkFitData('fitPlatt', p, y);
  const { a, b } = plattParams(p, y);
  return plattCalibrator(a, b);
}

/**
 * Isotonic calibration: pool-adjacent-violators on the rows sorted by p (equal p pooled first) gives blocks of
 * strictly increasing outcome rate; each block becomes a knot (mean p of the block, outcome rate of the block
 * clipped to [1e-6, 1 − 1e-6]). `apply` interpolates linearly between knots and is constant beyond the first
 * and last knot, so it is monotone non-decreasing in p. Deterministic; O(n log n).
 *
 * @param p - raw (uncalibrated) probabilities in [0, 1].
 * @param y - outcomes, 1 = positive, 0 = negative, same length.
 * @throws ModelError on length mismatch, p outside [0, 1], y not 0/1, or data with a single class.
 */
export function fitIsotonic(p: ArrayLike<number>, y: ArrayLike<number>): Calibrator {
  checkFitData('fitIsotonic', p, y);
  const k = isotonicKnots(p, y);
  return isotonicCalibrator(k.x, k.y);
}

function everyOther(v: ArrayLike<number>, start: 0 | 1): Float64Array {
  const out = new Float64Array(Math.floor((v.length + 1 - start) / 2));
  for (let i = start, j = 0; i < v.length; i += 2, j++) out[j] = v[i]!;
  return out;
}

function crossFitLoss(
  fitOn: (p: Float64Array, y: Float64Array) => Calibrator,
  folds: readonly { p: Float64Array; y: Float64Array }[],
): number {
  let total = 0;
  for (let f = 0; f < 2; f++) {
    const train = folds[f]!;
    const test = folds[1 - f]!;
    total += logLoss(fitOn(train.p, train.y).applyAll(test.p), test.y) * test.p.length;
  }
  return total;
}

/**
 * Fits a calibrator on validation data.
 *
 * `'auto'` chooses between Platt and isotonic by out-of-fold log-loss with 2-fold cross-fitting (fit on the
 * even-indexed rows and score the odd ones, and the reverse), preferring Platt on a tie or when a fold lacks
 * one of the classes; the chosen method is then refitted on all rows.
 *
 * @param method - 'platt', 'isotonic' or 'auto'.
 * @throws ModelError for an unknown method, and as for {@link fitPlatt} on bad data.
 */
export function fitCalibrator(
  method: 'platt' | 'isotonic' | 'auto',
  p: ArrayLike<number>,
  y: ArrayLike<number>,
): Calibrator {
  if (method === 'platt') return fitPlatt(p, y);
  if (method === 'isotonic') return fitIsotonic(p, y);
  if (method !== 'auto') {
    throw new ModelError(
      `fitCalibrator: method must be 'platt', 'isotonic' or 'auto', got ${describe(method)}`,
    );
  }
  checkFitData('fitCalibrator', p, y);
  const folds = [0, 1].map((s) => ({ p: everyOther(p, s as 0 | 1), y: everyOther(y, s as 0 | 1) }));
  const bothClasses = folds.every((f) => f.y.includes(1) && f.y.includes(0));
  if (!bothClasses) return fitPlatt(p, y);
  const platt = crossFitLoss((fp, fy) => {
    const { a, b } = plattParams(fp, fy);
    return plattCalibrator(a, b);
  }, folds);
  const iso = crossFitLoss((fp, fy) => {
    const k = isotonicKnots(fp, fy);
    return isotonicCalibrator(k.x, k.y);
  }, folds);
  return iso < platt ? fitIsotonic(p, y) : fitPlatt(p, y);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
    return `${typeof v} ${String(v)}`;
  return typeof v;
}

const FIELDS: Record<CalibratorJson['method'], readonly string[]> = {
  platt: ['method', 'a', 'b'],
  isotonic: ['method', 'x', 'y'],
  none: ['method'],
};

function finiteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Checks an isotonic knot array; pushes issues and returns it as numbers when its elements are valid. */
function knotArray(name: 'x' | 'y', v: unknown, issues: string[]): number[] | undefined {
  if (!Array.isArray(v)) {
    issues.push(`calibrator.${name} must be an array of finite numbers, got ${describe(v)}`);
    return undefined;
  }
  if (v.length === 0) {
    issues.push(`calibrator.${name} must not be empty`);
    return undefined;
  }
  const bad = v.findIndex((e) => !finiteNumber(e));
  if (bad >= 0) {
    issues.push(`calibrator.${name}[${bad}] must be a finite number, got ${describe(v[bad])}`);
    return undefined;
  }
  return v as number[];
}

/**
 * Rebuilds a calibrator from {@link Calibrator.toJSON} output (possibly after a JSON round trip); the result
 * maps every p exactly as the original did. Strict: every problem found is listed in the error.
 *
 * Accepted: `{ method: 'none' }`; `{ method: 'platt', a, b }` with finite a, b; `{ method: 'isotonic', x, y }`
 * with x, y non-empty arrays of finite numbers of the same length, x strictly increasing, y non-decreasing in
 * [0, 1]. No other fields.
 * @throws ModelError naming each offending field: not an object, unknown or missing method, unexpected field,
 *   missing or non-finite number, unsorted x, y out of order or range, length mismatch.
 */
export function loadCalibrator(json: unknown): Calibrator {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelError(`calibrator: expected an object with a 'method' field, got ${describe(json)}`);
  }
  const o = json as Record<string, unknown>;
  const method = o.method;
  if (method !== 'platt' && method !== 'isotonic' && method !== 'none') {
    throw new ModelError(
      `calibrator.method must be one of 'platt', 'isotonic', 'none', got ${method === undefined ? 'nothing' : describe(method)}`,
    );
  }
  const issues: string[] = [];
  const extra = Object.keys(o).filter((k) => !FIELDS[method].includes(k));
  if (extra.length > 0) {
    issues.push(
      `calibrator: unexpected field(s) for method '${method}': ${extra.map((k) => `'${k}'`).join(', ')}`,
    );
  }
  let result: Calibrator | undefined;
  if (method === 'none') {
    result = identityCalibrator();
  } else if (method === 'platt') {
    for (const k of ['a', 'b'] as const) {
      if (!finiteNumber(o[k])) issues.push(`calibrator.${k} must be a finite number, got ${describe(o[k])}`);
    }
    if (issues.length === 0) result = plattCalibrator(o.a as number, o.b as number);
  } else {
    const x = knotArray('x', o.x, issues);
    const y = knotArray('y', o.y, issues);
    if (x && y && x.length !== y.length) {
      issues.push(`calibrator.x and calibrator.y must have the same length, got ${x.length} and ${y.length}`);
    }
    if (x) {
      const i = x.findIndex((v, j) => j > 0 && !(v > x[j - 1]!));
      if (i > 0) {
        issues.push(
          `calibrator.x must be strictly increasing: x[${i}] = ${x[i]} after x[${i - 1}] = ${x[i - 1]}`,
        );
      }
    }
    if (y) {
      const out = y.findIndex((v) => v < 0 || v > 1);
      if (out >= 0) issues.push(`calibrator.y[${out}] must be a probability in [0, 1], got ${y[out]}`);
      const i = y.findIndex((v, j) => j > 0 && v < y[j - 1]!);
      if (i > 0) {
        issues.push(`calibrator.y must be non-decreasing: y[${i}] = ${y[i]} after y[${i - 1}] = ${y[i - 1]}`);
      }
    }
    if (issues.length === 0 && x && y)
      result = isotonicCalibrator(Float64Array.from(x), Float64Array.from(y));
  }
  if (issues.length > 0 || result === undefined) throw new ModelError(issues.join('; '));
  return result;
}
