/**
 * The `logistic` model kind: L2-penalised logistic regression fitted by Newton/IRLS on typed arrays.
 *
 * Preprocessing is learned at fit and stored in the JSON, so a loaded model applies exactly what was learned:
 * - numeric columns are standardised with the (weighted) mean and standard deviation of their non-missing
 *   values (sd 0 → 1); a missing value is imputed with the mean (standardised 0) and, when the feature had
 *   missing values in training, flagged in an extra missing-indicator column;
 * - categorical columns are one-hot encoded (0/1, not standardised), dropping no level (the L2 penalty
 *   handles the collinearity with the intercept); a missing value, or at predict time a code the model does
 *   not know, gives an all-zero one-hot row plus the missing indicator when missing values occurred in
 *   training. A categorical feature given without `categories` gets levels '0'..'max code seen'.
 * Values must be finite or NaN at fit (ModelError otherwise).
 *
 * The Newton loop ({@link fitIrls}) is shared with the scorecard kind, which fits it on WOE columns.
 */
import { CholeskyDecomposition, LuDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { z } from 'zod';
import {
  type Contribution,
  checkColumns,
  type FeatureInfo,
  type FitOptions,
  type FitProgress,
  type Fitted,
  type Labels,
  logit,
  type Matrix,
  ModelError,
  type ModelJson,
  type ModelKind,
  sigmoid,
} from './contract.ts';
import {
  byMagnitude,
  checkRow,
  checkTrainingData,
  copyFeature,
  featureInfoSchema,
  parseKindParams,
  parseModelJson,
  prepareFitFeatures,
} from './kind-helpers.ts';

// ---------------------------------------------------------------------------------------------------------
// Newton / IRLS
// ---------------------------------------------------------------------------------------------------------

/** Options of {@link fitIrls}. */
export interface IrlsOptions {
  /** Row weights (>= 0), default 1. */
  weights?: Float64Array;
  /** L2 penalty on the coefficients (not the intercept), on the scale of the summed log-loss. */
  l2: number;
  /** Newton iterations at most. */
  maxIter: number;
  /** Stop when the objective changes by less than `tol × (|objective| + 0.1)` (glm.fit's rule). */
  tol: number;
  onProgress?: (p: FitProgress) => void;
}

/** Result of {@link fitIrls}. */
export interface IrlsResult {
  intercept: number;
  /** One coefficient per column of the design. */
  coef: Float64Array;
  iterations: number;
  converged: boolean;
  /** Final penalised objective: Σ wᵢ·logloss(yᵢ, ηᵢ) + l2/2·‖coef‖². */
  objective: number;
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Minimises Σ wᵢ·[log(1 + e^ηᵢ) − yᵢηᵢ] + (l2/2)·Σⱼ βⱼ², ηᵢ = β₀ + xᵢ·β, by Newton steps with step halving.
 * An intercept is added here (unpenalised), so `design` holds only the feature columns. Deterministic.
 *
 * Cost per iteration is one pass over the rows for X'WX (blocked, see HessianBlock; upper triangle, then
 * mirrored) plus one per line-search step for the objective; the (p+1)² system is solved with a Cholesky
 * decomposition (LU if the matrix is not numerically positive definite).
 *
 * @param design - n × p, row-major, all values finite
 * @param y - n labels (0/1)
 * @throws ModelError when the design has a non-finite value or the Newton system is singular (l2 = 0 with
 *   collinear columns)
 */
export function fitIrls(design: Matrix, y: Labels, opts: IrlsOptions): IrlsResult {
  const { rows: n, cols: p, data } = design;
  const { weights, l2, maxIter, tol } = opts;
  const q = p + 1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new ModelError(`IRLS: design value at row ${Math.floor(i / p)}, column ${i % p} is ${data[i]}`);
    }
  }

  let sw = 0;
  let swy = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    sw += w;
    swy += w * y[i]!;
  }
  // Starting from the base rate makes the first Newton step small and well-conditioned.
  const beta = new Float64Array(q);
  beta[0] = logit(swy / sw);

  const eta = new Float64Array(n);
  const objectiveAt = (b: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const w = weights === undefined ? 1 : weights[i]!;
      let e = b[0]!;
      const base = i * p;
      for (let j = 0; j < p; j++) e += data[base + j]! * b[j + 1]!;
      eta[i] = e;
      if (w !== 0) loss += w * (softplus(e) - y[i]! * e);
    }
    let pen = 0;
    for (let j = 1; j < q; j++) pen += b[j]! * b[j]!;
    return loss + 0.5 * l2 * pen;
  };

  const h = new Float64Array(q * q);
  const g = new Float64Array(q);
  const cand = new Float64Array(q);
  const block = new HessianBlock(q);
  let obj = objectiveAt(beta);
  let iterations = 0;
  let converged = false;

  while (iterations < maxIter && !converged) {
    iterations++;
    h.fill(0);
    g.fill(0);
    // eta holds ηᵢ at `beta` (left there by the last objective evaluation that was accepted).
    for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
      const m = Math.min(BLOCK_ROWS, n - i0);
      block.reset(m);
      for (let r = 0; r < m; r++) {
        const i = i0 + r;
        const w = weights === undefined ? 1 : weights[i]!;
        const mu = sigmoid(eta[i]!);
        const res = w * (y[i]! - mu);
        block.sqrtW[r] = Math.sqrt(w * mu * (1 - mu));
        g[0] = g[0]! + res;
        const base = i * p;
        for (let j = 0; j < p; j++) {
          const v = data[base + j]!;
          if (v !== 0) {
            g[j + 1] = g[j + 1]! + res * v;
            block.seen[j + 1] = 1;
          }
        }
      }
      block.accumulate(data, i0, p, h);
    }
    for (let j = 1; j < q; j++) {
      g[j] = g[j]! - l2 * beta[j]!;
      h[j * q + j] = h[j * q + j]! + l2;
    }
    for (let a = 0; a < q; a++) for (let b = a + 1; b < q; b++) h[b * q + a] = h[a * q + b]!;
    const step = solveSymmetric(h, g, q);

    // Step halving keeps the objective decreasing when a full Newton step overshoots (near-separable data).
    let t = 1;
    let candObj = Number.POSITIVE_INFINITY;
    for (let half = 0; half < 40; half++) {
      for (let j = 0; j < q; j++) cand[j] = beta[j]! + t * step[j]!;
      candObj = objectiveAt(cand);
      if (candObj <= obj + 1e-12 * Math.abs(obj)) break;
      t /= 2;
    }
    if (!(candObj <= obj + 1e-12 * Math.abs(obj))) {
      // No decrease along the Newton direction: we are at the optimum to machine precision.
      converged = true;
      break;
    }
    beta.set(cand);
    converged = Math.abs(obj - candObj) <= tol * (Math.abs(candObj) + 0.1);
    obj = candObj;
    opts.onProgress?.({ step: 'iteration', done: iterations, total: maxIter, detail: { objective: obj } });
  }
  return { intercept: beta[0]!, coef: beta.slice(1), iterations, converged, objective: obj };
}

/** Rows per block of the X'WX accumulation: a block of scaled columns (≤ 128 × q doubles) stays in cache. */
const BLOCK_ROWS = 128;

/**
 * Accumulates X'WX one block of rows at a time. The block's active columns (any non-zero, so rare one-hot
 * levels and indicators are skipped) are copied column-major and scaled by √w, so every entry of X'WX is a
 * contiguous dot product summed in registers — several times faster in V8 than a per-row outer product that
 * stores to H on every multiply. Buffers are allocated once, so the pass over the rows allocates nothing.
 */
class HessianBlock {
  /** √(wᵢ·μᵢ(1−μᵢ)) of each row of the block. */
  readonly sqrtW = new Float64Array(BLOCK_ROWS);
  /** seen[c] = 1 when column c (0 = intercept) has a non-zero in the block. */
  readonly seen: Uint8Array;
  private readonly active: Int32Array;
  private readonly cols: Float64Array;
  private m = 0;

  constructor(private readonly q: number) {
    this.seen = new Uint8Array(q);
    this.active = new Int32Array(q);
    this.cols = new Float64Array(q * BLOCK_ROWS);
  }

  reset(m: number): void {
    this.m = m;
    this.seen.fill(0);
    this.seen[0] = 1;
  }

  /** Adds the block (rows i0 .. i0+m−1 of the n × p row-major `data`) to the upper triangle of `h`. */
  accumulate(data: Float64Array, i0: number, p: number, h: Float64Array): void {
    const { q, m, seen, active, cols, sqrtW } = this;
    const B = BLOCK_ROWS;
    let na = 0;
    for (let c = 0; c < q; c++) if (seen[c] === 1) active[na++] = c;
    for (let r = 0; r < m; r++) {
      const s = sqrtW[r]!;
      const base = (i0 + r) * p - 1;
      cols[r] = s;
      for (let a = 1; a < na; a++) cols[a * B + r] = data[base + active[a]!]! * s;
    }
    for (let a = 0; a < na; a++) {
      const oa = a * B;
      const row = active[a]! * q;
      let b = a;
      // Four dot products per sweep share the loads of column a.
      for (; b + 3 < na; b += 4) {
        const o0 = b * B;
        const o1 = o0 + B;
        const o2 = o1 + B;
        const o3 = o2 + B;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let r = 0; r < m; r++) {
          const v = cols[oa + r]!;
          s0 += v * cols[o0 + r]!;
          s1 += v * cols[o1 + r]!;
          s2 += v * cols[o2 + r]!;
          s3 += v * cols[o3 + r]!;
        }
        const k0 = row + active[b]!;
        const k1 = row + active[b + 1]!;
        const k2 = row + active[b + 2]!;
        const k3 = row + active[b + 3]!;
        h[k0] = h[k0]! + s0;
        h[k1] = h[k1]! + s1;
        h[k2] = h[k2]! + s2;
        h[k3] = h[k3]! + s3;
      }
      for (; b < na; b++) {
        const ob = b * B;
        let s = 0;
        for (let r = 0; r < m; r++) s += cols[oa + r]! * cols[ob + r]!;
        const k = row + active[b]!;
        h[k] = h[k]! + s;
      }
    }
  }
}

/** Solves H·s = g for a symmetric H (q × q, row-major). */
function solveSymmetric(h: Float64Array, g: Float64Array, q: number): Float64Array {
  const rows: number[][] = [];
  for (let a = 0; a < q; a++) rows.push(Array.from(h.subarray(a * q, (a + 1) * q)));
  const a = new MlMatrix(rows);
  const b = MlMatrix.columnVector(Array.from(g));
  const chol = new CholeskyDecomposition(a);
  if (chol.isPositiveDefinite()) {
    const s = Float64Array.from(chol.solve(b).getColumn(0));
    if (s.every(Number.isFinite)) return s;
  }
  const lu = new LuDecomposition(a);
  if (!lu.isSingular()) {
    const s = Float64Array.from(lu.solve(b).getColumn(0));
    if (s.every(Number.isFinite)) return s;
  }
  throw new ModelError(
    'IRLS: the Newton system is singular (collinear or constant columns without a penalty); use l2 > 0',
  );
}

// ---------------------------------------------------------------------------------------------------------
// The logistic kind
// ---------------------------------------------------------------------------------------------------------

const logisticParamsSchema = z.strictObject({
  l2: z.number().min(0).default(1),
  maxIter: z.number().int().min(1).max(10_000).default(50),
  tol: z.number().positive().max(1).default(1e-8),
});

const LOGISTIC_ALLOWED = {
  l2: 'a number >= 0',
  maxIter: 'an integer in [1, 10000]',
  tol: 'a number in (0, 1]',
} as const;

/**
 * Hyperparameters of the logistic kind.
 * - `l2` (default 1): penalty (l2/2)·‖β‖² on the standardised coefficients, not on the intercept, added to
 *   the summed (weighted) log-loss — as scikit-learn's C = 1/l2.
 * - `maxIter` (default 50): Newton iterations at most.
 * - `tol` (default 1e-8): relative change of the penalised objective that counts as converged.
 */
export type LogisticParams = z.output<typeof logisticParamsSchema>;

const finite = z.number();
const rate = z.number().min(0).max(1);

const numericStateSchema = z.strictObject({
  type: z.literal('numeric'),
  /** Weighted mean of the non-missing training values (the imputed value). */
  mean: finite,
  /** Weighted standard deviation of the non-missing training values; 1 when it was 0. */
  sd: z.number().positive(),
  /** Coefficient of the standardised value. */
  coef: finite,
  /** Weighted share of training rows that were missing. */
  missingRate: rate,
  /** Coefficient of the missing indicator; null when training had no missing values (no indicator). */
  missingCoef: finite.nullable(),
});

const categoricalStateSchema = z.strictObject({
  type: z.literal('categorical'),
  /** Coefficient of each level's one-hot column, in category-code order. */
  levelCoefs: z.array(finite),
  /** Weighted training share of each level (the one-hot column means, used as explain baselines). */
  levelFreqs: z.array(rate),
  missingRate: rate,
  missingCoef: finite.nullable(),
});

const logisticStateSchema = z.strictObject({
  intercept: finite,
  /** One entry per feature, in feature order. */
  features: z.array(z.discriminatedUnion('type', [numericStateSchema, categoricalStateSchema])),
  /** Seed of the fit, recorded only: the fit draws no random numbers. */
  seed: z.number().int(),
  iterations: z.number().int().min(0),
  converged: z.boolean(),
});

/** Learned state of a logistic model, as stored in its JSON. */
export type LogisticState = z.output<typeof logisticStateSchema>;
type FeatureState = LogisticState['features'][number];

const logisticJsonSchema = z.strictObject({
  kind: z.literal('logistic'),
  format: z.literal(1),
  params: logisticParamsSchema,
  features: z.array(featureInfoSchema),
  state: logisticStateSchema,
});

/** One coefficient on the scale of the original inputs (see {@link FittedLogistic.coefficients}). */
export interface LogisticTerm {
  feature: string;
  /** 'value' (per unit of the raw numeric input), 'missing' (indicator), or the category name. */
  column: string;
  coef: number;
}

/** A fitted logistic model. */
export interface FittedLogistic extends Fitted {
  readonly kind: 'logistic';
  readonly params: LogisticParams;
  readonly state: LogisticState;
  /**
   * Coefficients on the raw input scale: numeric 'value' terms per unit of the input (coef / sd), with the
   * intercept absorbing the centring (intercept − Σ coef·mean/sd); indicator and one-hot terms as fitted.
   */
  coefficients(): { intercept: number; terms: LogisticTerm[] };
}

/** Part of η that feature state `s` adds for input value `v` (NaN or an unknown code = missing). */
function term(s: FeatureState, v: number): number {
  if (s.type === 'numeric') {
    if (Number.isNaN(v)) return s.missingCoef ?? 0;
    return (s.coef * (v - s.mean)) / s.sd;
  }
  if (Number.isInteger(v) && v >= 0 && v < s.levelCoefs.length) return s.levelCoefs[v]!;
  return s.missingCoef ?? 0;
}

/** The term of an average training row: what explain measures deviations from. */
function baselineTerm(s: FeatureState): number {
  let b = (s.missingCoef ?? 0) * s.missingRate;
  if (s.type === 'categorical')
    for (let l = 0; l < s.levelCoefs.length; l++) b += s.levelCoefs[l]! * s.levelFreqs[l]!;
  return b;
}

class LogisticModel implements FittedLogistic {
  readonly kind = 'logistic' as const;
  readonly importanceMeasure =
    '|coefficient| × training standard deviation of each expanded column (standardised value, one-hot level, ' +
    'missing indicator), summed per feature: log-odds per SD';

  constructor(
    readonly params: LogisticParams,
    readonly features: readonly FeatureInfo[],
    readonly state: LogisticState,
  ) {}

  predictProba(x: Matrix): Float64Array {
    checkColumns(x, this.features);
    const { rows: n, cols: p, data } = x;
    const fs = this.state.features;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let e = this.state.intercept;
      for (let j = 0; j < p; j++) e += term(fs[j]!, data[i * p + j]!);
      out[i] = sigmoid(e);
    }
    return out;
  }

  explain(x: Matrix, row: number): Contribution[] {
    checkColumns(x, this.features);
    checkRow(x, row);
    return byMagnitude(
      this.state.features.map((s, j) => ({
        feature: this.features[j]!.name,
        contribution: term(s, x.data[row * x.cols + j]!) - baselineTerm(s),
      })),
    );
  }

  importance(): Contribution[] {
    return byMagnitude(
      this.state.features.map((s, j) => {
        const r = s.missingRate;
        // The standardised value is 0 on missing rows, so its SD over all rows is sqrt(1 - r).
        let imp = Math.abs(s.missingCoef ?? 0) * Math.sqrt(r * (1 - r));
        if (s.type === 'numeric') imp += Math.abs(s.coef) * Math.sqrt(1 - r);
        else
          for (let l = 0; l < s.levelCoefs.length; l++) {
            const f = s.levelFreqs[l]!;
            imp += Math.abs(s.levelCoefs[l]!) * Math.sqrt(f * (1 - f));
          }
        return { feature: this.features[j]!.name, contribution: imp };
      }),
    );
  }

  coefficients(): { intercept: number; terms: LogisticTerm[] } {
    let intercept = this.state.intercept;
    const terms: LogisticTerm[] = [];
    this.state.features.forEach((s, j) => {
      const f = this.features[j]!;
      if (s.type === 'numeric') {
        intercept -= (s.coef * s.mean) / s.sd;
        terms.push({ feature: f.name, column: 'value', coef: s.coef / s.sd });
      } else {
        s.levelCoefs.forEach((c, l) => {
          terms.push({ feature: f.name, column: f.categories![l]!, coef: c });
        });
      }
      if (s.missingCoef !== null) terms.push({ feature: f.name, column: 'missing', coef: s.missingCoef });
    });
    return { intercept, terms };
  }

  toJSON(): ModelJson {
    return {
      kind: 'logistic',
      format: 1,
      params: { ...this.params },
      features: this.features.map(copyFeature),
      state: structuredClone(this.state),
    };
  }
}

/** Weighted training statistics of one input column, from which its expanded columns follow. */
interface ColumnStats {
  mean: number;
  sd: number;
  missingRate: number;
  levelFreqs: number[];
}

/** Weighted statistics of every input column, in two row-major passes (strided column scans thrash cache). */
function columnStats(
  x: Matrix,
  features: readonly FeatureInfo[],
  weights: Float64Array | undefined,
): ColumnStats[] {
  const { rows: n, cols: p, data } = x;
  let sw = 0;
  const swMiss = new Float64Array(p);
  const swx = new Float64Array(p);
  const levels = features.map((f) => new Float64Array(f.type === 'categorical' ? f.categories!.length : 0));
  const numeric = features.map((f) => f.type === 'numeric');
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    sw += w;
    const base = i * p;
    for (let j = 0; j < p; j++) {
      const v = data[base + j]!;
      if (Number.isNaN(v)) swMiss[j] = swMiss[j]! + w;
      else if (numeric[j]) swx[j] = swx[j]! + w * v;
      else {
        const lv = levels[j]!;
        lv[v] = lv[v]! + w;
      }
    }
  }
  const mean = new Float64Array(p);
  for (let j = 0; j < p; j++) if (sw - swMiss[j]! > 0) mean[j] = swx[j]! / (sw - swMiss[j]!);
  // Second pass around the mean: the one-pass formula loses digits when |mean| >> sd.
  const ss = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    const base = i * p;
    for (let j = 0; j < p; j++) {
      const v = data[base + j]!;
      if (numeric[j] && !Number.isNaN(v)) ss[j] = ss[j]! + w * (v - mean[j]!) * (v - mean[j]!);
    }
  }
  return features.map((_, j) => {
    const swObs = sw - swMiss[j]!;
    const sd = swObs > 0 ? Math.sqrt(ss[j]! / swObs) : 0;
    return {
      mean: mean[j]!,
      sd: sd > 0 ? sd : 1,
      missingRate: swMiss[j]! / sw,
      levelFreqs: Array.from(levels[j]!, (c) => c / sw),
    };
  });
}

/** The `logistic` model kind (see the module comment for preprocessing and {@link LogisticParams}). */
export const logisticKind: ModelKind<LogisticParams, FittedLogistic> = {
  name: 'logistic',

  parseParams(raw: unknown): LogisticParams {
    return parseKindParams('logistic', logisticParamsSchema, LOGISTIC_ALLOWED, raw);
  },

  async fit(x: Matrix, y: Labels, opts: FitOptions<LogisticParams>): Promise<FittedLogistic> {
    const params = logisticKind.parseParams(opts.params);
    const features = prepareFitFeatures('logistic', x, opts.features);
    checkTrainingData('logistic', x, y, features, opts.weights);
    const { rows: n, cols: p, data } = x;

    const stats = columnStats(x, features, opts.weights);
    // Expanded layout: per feature its value / level columns, then its missing indicator if it had missing
    // values among positive-weight rows (a zero-weight row does not count, so weights equal repetitions).
    const start: number[] = [];
    let width = 0;
    stats.forEach((s, j) => {
      start.push(width);
      width += (features[j]!.type === 'numeric' ? 1 : s.levelFreqs.length) + (s.missingRate > 0 ? 1 : 0);
    });
    // Flat per-column parameters keep the n × p loop monomorphic (no object or string lookups per cell).
    const isNum = Uint8Array.from(features, (f) => (f.type === 'numeric' ? 1 : 0));
    const center = Float64Array.from(stats, (s) => s.mean);
    const scale = Float64Array.from(stats, (s) => s.sd);
    const at = Int32Array.from(start);
    const missAt = Int32Array.from(stats, (s, j) =>
      s.missingRate > 0 ? start[j]! + (isNum[j] ? 1 : s.levelFreqs.length) : -1,
    );
    const design = new Float64Array(n * width);
    for (let i = 0; i < n; i++) {
      const out = i * width;
      const base = i * p;
      for (let j = 0; j < p; j++) {
        const v = data[base + j]!;
        if (Number.isNaN(v)) {
          if (missAt[j]! >= 0) design[out + missAt[j]!] = 1;
        } else if (isNum[j] === 1) design[out + at[j]!] = (v - center[j]!) / scale[j]!;
        else design[out + at[j]! + v] = 1;
      }
    }

    const fit = fitIrls({ data: design, rows: n, cols: width }, y, {
      l2: params.l2,
      maxIter: params.maxIter,
      tol: params.tol,
      ...(opts.weights ? { weights: opts.weights } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });

    const fs: FeatureState[] = stats.map((s, j) => {
      const c = start[j]!;
      if (features[j]!.type === 'numeric') {
        return {
          type: 'numeric',
          mean: s.mean,
          sd: s.sd,
          coef: fit.coef[c]!,
          missingRate: s.missingRate,
          missingCoef: s.missingRate > 0 ? fit.coef[c + 1]! : null,
        };
      }
      const k = s.levelFreqs.length;
      return {
        type: 'categorical',
        levelCoefs: Array.from(fit.coef.subarray(c, c + k)),
        levelFreqs: s.levelFreqs,
        missingRate: s.missingRate,
        missingCoef: s.missingRate > 0 ? fit.coef[c + k]! : null,
      };
    });
    const state: LogisticState = {
      intercept: fit.intercept,
      features: fs,
      seed: opts.seed,
      iterations: fit.iterations,
      converged: fit.converged,
    };
    return new LogisticModel(params, features, state);
  },

  async load(json: ModelJson): Promise<FittedLogistic> {
    const m = parseModelJson('logistic', 1, logisticJsonSchema, json);
    if (m.features.length !== m.state.features.length) {
      throw new ModelError(
        `logistic: state.features has ${m.state.features.length} entries, expected ${m.features.length} (one per feature)`,
      );
    }
    m.features.forEach((f, j) => {
      const s = m.state.features[j]!;
      const where = `logistic: state.features[${j}] ('${f.name}')`;
      if (s.type !== f.type) throw new ModelError(`${where} is ${s.type}, but the feature is ${f.type}`);
      if ((s.missingCoef === null) !== (s.missingRate === 0)) {
        throw new ModelError(`${where}: missingCoef must be null exactly when missingRate is 0`);
      }
      if (s.type === 'categorical') {
        const k = f.categories?.length ?? 0;
        if (k === 0) throw new ModelError(`logistic: categorical feature '${f.name}' has no categories`);
        if (s.levelCoefs.length !== k || s.levelFreqs.length !== k) {
          throw new ModelError(
            `${where}: levelCoefs has ${s.levelCoefs.length} and levelFreqs ${s.levelFreqs.length} values, ` +
              `expected ${k} (one per category)`,
          );
        }
      }
    });
    return new LogisticModel(m.params, m.features as FeatureInfo[], m.state);
  },
};
