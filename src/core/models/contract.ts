/**
 * The one model contract (STYLE §2). A kind's constructor-free `fit` learns from a design matrix and returns a
 * Fitted model; prediction reads only learned state; `toJSON` / `load` round-trip it exactly. Every kind
 * (logistic, scorecard, mlp, later gbdt) passes the shared contract test in test/model-contract.test.ts.
 */

/** A dense design matrix: `rows` × `cols`, row-major. `NaN` marks a missing value. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Builds a Matrix, checking the data length. */
export function matrix(data: Float64Array, rows: number, cols: number): Matrix {
  if (data.length !== rows * cols)
    throw new RangeError(`matrix: data has ${data.length} values, expected ${rows}×${cols}`);
  return { data, rows, cols };
}

/**
 * What a model knows of one input column. Categorical columns arrive integer-coded (0..categories.length-1,
 * NaN = missing); numeric columns as reals (NaN = missing). A kind decides how it treats missing values and
 * must say so in its JSON (e.g. median imputation plus a missing indicator, or a bin of its own).
 */
export interface FeatureInfo {
  name: string;
  type: 'numeric' | 'categorical';
  categories?: readonly string[];
  /** Expected direction of the effect on the positive class: +1 up, -1 down, 0 unknown (binning, gbdt). */
  monotone?: -1 | 0 | 1;
}

/** Binary labels: 1 = positive class, 0 = negative. */
export type Labels = Uint8Array;

export interface FitProgress {
  /** e.g. 'iteration', 'epoch' */
  step: string;
  done: number;
  total: number;
  /** e.g. training / validation loss */
  detail?: Record<string, number>;
}

export interface FitOptions<P> {
  /** Every random draw comes from this seed. */
  seed: number;
  params: P;
  features: readonly FeatureInfo[];
  /** Optional per-row weights (e.g. inverse propensities); default 1. */
  weights?: Float64Array;
  /** Held-out data for early stopping (mlp). Calibration is done outside the kind, on the same data. */
  validation?: { x: Matrix; y: Labels };
  onProgress?: (p: FitProgress) => void;
}

/** Serialised model: plain JSON, no functions, numbers only as finite JSON numbers. */
export interface ModelJson {
  kind: string;
  /** Version of this kind's JSON layout; load refuses layouts it does not know. */
  format: number;
  params: unknown;
  features: FeatureInfo[];
  state: unknown;
}

/** One row of a scorecard's points table (the scorecard kind makes it; the model report shows it). */
export interface ScorecardPointsRow {
  feature: string;
  /** Human label of the bin, e.g. "[30, 60)", "missing", "other", "card". */
  bin: string;
  count: number;
  eventRate: number;
  woe: number;
  points: number;
}

/** One feature's contribution to one score, on the log-odds scale (positive raises the probability). */
export interface Contribution {
  feature: string;
  contribution: number;
}

export interface Fitted {
  readonly kind: string;
  readonly features: readonly FeatureInfo[];
  /** Uncalibrated P(positive) per row. Throws SchemaMismatchError when x has the wrong number of columns. */
  predictProba(x: Matrix): Float64Array;
  /** Per-feature contributions to row `row`'s log-odds, largest magnitude first. */
  explain(x: Matrix, row: number): Contribution[];
  /**
   * Optional fast form of `explain` for the request path: the same contributions, in feature order, added into
   * `phi` (one slot per feature, zeroed by the caller), allocating nothing.
   */
  explainInto?(x: Matrix, row: number, phi: Float64Array): void;
  /**
   * Optional batch form of `explainInto`: rows `from .. to` of `x` at once, row r's contributions added into
   * `phi[(r − from)·cols .. (r − from + 1)·cols)` (zeroed by the caller), each exactly what `explainInto` gives
   * that row. Allocates nothing. Throws RangeError when the rows or `phi`'s length do not fit.
   */
  explainRowsInto?(x: Matrix, from: number, to: number, phi: Float64Array): void;
  /** Global importance per feature (kind-specific measure, stated in `importanceMeasure`), largest first. */
  importance(): Contribution[];
  readonly importanceMeasure: string;
  toJSON(): ModelJson;
}

export interface ModelKind<P = unknown, F extends Fitted = Fitted> {
  readonly name: string;
  /** Validates raw hyperparameters (from CLI / config) over the defaults; throws ModelError naming the field. */
  parseParams(raw: unknown): P;
  fit(x: Matrix, y: Labels, opts: FitOptions<P>): Promise<F>;
  /** Strict: throws ModelError when the JSON is not a valid model of this kind. */
  load(json: ModelJson): Promise<F>;
}

/** A model could not be fitted, loaded or applied. */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

/** Input columns do not match the features the model was fitted on. */
export class SchemaMismatchError extends ModelError {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaMismatchError';
  }
}

/** Throws SchemaMismatchError unless `x` has exactly one column per feature. */
export function checkColumns(x: Matrix, features: readonly FeatureInfo[]): void {
  if (x.cols !== features.length) {
    throw new SchemaMismatchError(
      `expected ${features.length} feature columns (${features.map((f) => f.name).join(', ')}), got ${x.cols}`,
    );
  }
}

/** Logistic function, stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Log-odds of p, clipped away from 0 and 1. */
export function logit(p: number): number {
  const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
  return Math.log(q / (1 - q));
}
