/**
 * Input encoding learned at fit time and stored with a model, for kinds that need a dense real-valued input
 * (mlp now; others may reuse it). Pure: no tensors, no I/O.
 *
 * Policy, per feature, in feature order:
 * - numeric: standardised, z = (v − mean) / sd, with mean and population sd over the non-missing training
 *   values, weighted when row weights are given (sd 0 → 1, no values → mean 0, sd 1). Missing (NaN) → z = 0,
 *   plus a missing-indicator input when the feature had missing values in training.
 * - categorical: one input per category code seen in training (one-hot). Missing and unseen codes → all
 *   zero, plus the missing indicator set to 1 when the feature had missing values in training.
 * The explanation baseline is the "average" training row: z = 0, one-hot = training frequencies,
 * indicator = 0.
 */
import { z } from 'zod';
import { checkColumns, type FeatureInfo, type Matrix, ModelError } from './contract.ts';

/** Stored form of one numeric column's encoding. */
export interface NumericColumnJson {
  name: string;
  type: 'numeric';
  /** (Weighted) mean of the non-missing training values (feature units). */
  mean: number;
  /** (Weighted) population standard deviation of the non-missing training values; 1 when it was 0. */
  sd: number;
  /** True when the feature had missing values in training: a 0/1 missing-indicator input follows z. */
  missingIndicator: boolean;
}

/** Stored form of one categorical column's encoding. */
export interface CategoricalColumnJson {
  name: string;
  type: 'categorical';
  /** Integer codes seen in training, ascending; one one-hot input each. */
  codes: number[];
  /** Category label per code (the code as text when the feature had no `categories`). */
  levels: string[];
  /** (Weighted) share of training rows with each code, missing rows in the denominator: the baseline. */
  frequencies: number[];
  missingIndicator: boolean;
}

/** Serialised {@link Preprocessor}. */
export interface PreprocessorJson {
  format: 1;
  columns: Array<NumericColumnJson | CategoricalColumnJson>;
}

/** Inputs [start, end) of the encoded row that come from one feature. */
export interface InputBlock {
  feature: string;
  start: number;
  end: number;
}

/** A fitted input encoding. */
export interface Preprocessor {
  /** Number of encoded inputs per row. */
  readonly width: number;
  /** One name per encoded input, e.g. `income`, `income:missing`, `region=north`. */
  readonly inputNames: readonly string[];
  /** One block per feature, in feature order. */
  readonly blocks: readonly InputBlock[];
  /**
   * Encodes `x` (rows × features, NaN = missing) into rows × `width` float32 values, row-major.
   * Non-finite numeric values and unseen category codes are treated as missing.
   * @throws SchemaMismatchError when `x` does not have one column per feature.
   */
  transform(x: Matrix): Float32Array;
  /** The explanation baseline: one encoded row (`width` values). A fresh copy each call. */
  baseline(): Float32Array;
  toJSON(): PreprocessorJson;
}

/**
 * Learns the encoding from the training matrix (unsupervised: labels are not used).
 *
 * @param weights Optional per-row weights (finite, >= 0; default 1): means, sds and category frequencies
 *   are weighted. Whether a feature gets a missing indicator depends only on whether any row was missing.
 * @throws SchemaMismatchError when `x.cols` differs from `features.length`.
 * @throws ModelError on duplicate feature names, infinite numeric values, or a categorical code that is not
 *   a non-negative integer (below `categories.length` when categories are given).
 */
export function fitPreprocessor(
  x: Matrix,
  features: readonly FeatureInfo[],
  weights?: ArrayLike<number>,
): Preprocessor {
  checkColumns(x, features);
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f.name)) throw new ModelError(`preprocess: duplicate feature name '${f.name}'`);
    seen.add(f.name);
  }
  const { data, rows, cols } = x;
  if (weights && weights.length !== rows) {
    throw new ModelError(`preprocess: weights has ${weights.length} values for ${rows} rows`);
  }
  const w = (i: number): number => (weights ? weights[i]! : 1);
  let total = 0;
  for (let i = 0; i < rows; i++) total += w(i);
  const columns = features.map((f, j): NumericColumnJson | CategoricalColumnJson => {
    let missing = 0;
    if (f.type === 'numeric') {
      let sum = 0;
      let wsum = 0;
      for (let i = 0; i < rows; i++) {
        const v = data[i * cols + j]!;
        if (Number.isNaN(v)) missing++;
        else if (!Number.isFinite(v)) {
          throw new ModelError(
            `preprocess: numeric feature '${f.name}' has ${v} at row ${i}; use NaN for missing`,
          );
        } else {
          sum += w(i) * v;
          wsum += w(i);
        }
      }
      const mean = wsum > 0 ? sum / wsum : 0;
      let ss = 0;
      for (let i = 0; i < rows; i++) {
        const v = data[i * cols + j]!;
        if (!Number.isNaN(v)) ss += w(i) * (v - mean) * (v - mean);
      }
      const sd = wsum > 0 ? Math.sqrt(ss / wsum) : 0;
      return { name: f.name, type: 'numeric', mean, sd: sd > 0 ? sd : 1, missingIndicator: missing > 0 };
    }
    const counts = new Map<number, number>();
    for (let i = 0; i < rows; i++) {
      const v = data[i * cols + j]!;
      if (Number.isNaN(v)) {
        missing++;
        continue;
      }
      const limit = f.categories?.length ?? Number.POSITIVE_INFINITY;
      if (!Number.isInteger(v) || v < 0 || v >= limit) {
        const allowed = f.categories
          ? `an integer code in [0, ${f.categories.length - 1}]`
          : 'a non-negative integer code';
        throw new ModelError(
          `preprocess: categorical feature '${f.name}' must be ${allowed} or NaN, got ${v} at row ${i}`,
        );
      }
      counts.set(v, (counts.get(v) ?? 0) + w(i));
    }
    const codes = [...counts.keys()].sort((a, b) => a - b);
    return {
      name: f.name,
      type: 'categorical',
      codes,
      levels: codes.map((c) => f.categories?.[c] ?? String(c)),
      frequencies: codes.map((c) => (total > 0 ? counts.get(c)! / total : 0)),
      missingIndicator: missing > 0,
    };
  });
  return build({ format: 1, columns });
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const columnSchema = z.discriminatedUnion('type', [
  z.strictObject({
    name: z.string().min(1),
    type: z.literal('numeric'),
    mean: finite,
    sd: finite.refine((v) => v > 0, 'must be > 0'),
    missingIndicator: z.boolean(),
  }),
  z.strictObject({
    name: z.string().min(1),
    type: z.literal('categorical'),
    codes: z.array(z.number().int().nonnegative()),
    levels: z.array(z.string()),
    frequencies: z.array(finite.refine((v) => v >= 0 && v <= 1, 'must be in [0, 1]')),
    missingIndicator: z.boolean(),
  }),
]);
const preprocessorSchema = z.strictObject({ format: z.literal(1), columns: z.array(columnSchema) });

/**
 * Rebuilds a preprocessor from its JSON, strictly.
 *
 * @param path Where the JSON sits in the caller's document, for error messages (e.g. `state.preprocessor`).
 * @throws ModelError naming the first offending path when the JSON is not a valid preprocessor.
 */
export function loadPreprocessor(json: unknown, path = 'preprocessor'): Preprocessor {
  const parsed = preprocessorSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = [path, ...issue.path.map(String)].join('.');
    throw new ModelError(`preprocess: ${where}: ${issue.message}`);
  }
  const seen = new Set<string>();
  parsed.data.columns.forEach((c, j) => {
    if (seen.has(c.name))
      throw new ModelError(`preprocess: ${path}.columns.${j}: duplicate name '${c.name}'`);
    seen.add(c.name);
    if (c.type !== 'categorical') return;
    if (c.levels.length !== c.codes.length || c.frequencies.length !== c.codes.length) {
      throw new ModelError(
        `preprocess: ${path}.columns.${j} ('${c.name}'): codes, levels and frequencies must have the same length, ` +
          `got ${c.codes.length}, ${c.levels.length}, ${c.frequencies.length}`,
      );
    }
    for (let k = 1; k < c.codes.length; k++) {
      if (c.codes[k]! <= c.codes[k - 1]!) {
        throw new ModelError(
          `preprocess: ${path}.columns.${j} ('${c.name}'): codes must be strictly ascending`,
        );
      }
    }
  });
  return build(parsed.data as PreprocessorJson);
}

function build(json: PreprocessorJson): Preprocessor {
  // Private copy: the caller's object may be mutated later; toJSON hands out copies too.
  const columns = structuredClone(json.columns);
  const blocks: InputBlock[] = [];
  const inputNames: string[] = [];
  const base: number[] = [];
  const lookups: Array<Map<number, number> | undefined> = [];
  for (const c of columns) {
    const start = inputNames.length;
    if (c.type === 'numeric') {
      inputNames.push(c.name);
      base.push(0);
      lookups.push(undefined);
    } else {
      c.levels.forEach((level) => {
        inputNames.push(`${c.name}=${level}`);
      });
      base.push(...c.frequencies);
      lookups.push(new Map(c.codes.map((code, k) => [code, k])));
    }
    if (c.missingIndicator) {
      inputNames.push(`${c.name}:missing`);
      base.push(0);
    }
    blocks.push({ feature: c.name, start, end: inputNames.length });
  }
  const width = inputNames.length;
  const features = columns.map((c) => ({ name: c.name, type: c.type }));

  return {
    width,
    inputNames,
    blocks,
    transform(x: Matrix): Float32Array {
      checkColumns(x, features);
      const { data, rows, cols } = x;
      const out = new Float32Array(rows * width);
      for (let j = 0; j < cols; j++) {
        const c = columns[j]!;
        const { start } = blocks[j]!;
        const lookup = lookups[j];
        if (c.type === 'numeric') {
          for (let i = 0; i < rows; i++) {
            const v = data[i * cols + j]!;
            const o = i * width + start;
            if (Number.isFinite(v)) out[o] = (v - c.mean) / c.sd;
            else if (c.missingIndicator) out[o + 1] = 1;
          }
        } else {
          const k = c.codes.length;
          for (let i = 0; i < rows; i++) {
            const at = lookup!.get(data[i * cols + j]!);
            const o = i * width + start;
            if (at !== undefined) out[o + at] = 1;
            else if (c.missingIndicator) out[o + k] = 1;
          }
        }
      }
      return out;
    },
    baseline: () => Float32Array.from(base),
    toJSON: () => ({ format: 1, columns: structuredClone(columns) }),
  };
}
