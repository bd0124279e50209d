/**
 * Helpers every model kind shares (logistic, scorecard, mlp, gbdt): hyperparameter and model-JSON validation
 * with messages that name what was wrong, the fit-time feature and data checks, and small contract utilities.
 * They live apart from any one kind so that no kind depends on another for them.
 */
import { z } from 'zod';
import {
  type Contribution,
  checkColumns,
  type FeatureInfo,
  type Labels,
  type Matrix,
  ModelError,
} from './contract.ts';

/** Shows a received value in an error message: numbers as written (NaN, Infinity), strings quoted. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v);
  if (s === undefined) return typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Validates raw hyperparameters over the schema's defaults (`undefined` means "all defaults").
 *
 * @param kind - model kind, prefixed to every message
 * @param allowed - per field, what is allowed in words (e.g. `'a number >= 0'`), used in the message
 * @throws ModelError listing every bad field: "logistic: 'l2' must be a number >= 0, got -1"
 */
export function parseKindParams<S extends z.ZodType>(
  kind: string,
  schema: S,
  allowed: Readonly<Record<string, string>>,
  raw: unknown,
): z.output<S> {
  const input = raw === undefined ? {} : raw;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ModelError(`${kind}: params must be an object, got ${showValue(raw)}`);
  }
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const rec = input as Record<string, unknown>;
  const problems = r.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `'${k}'`).join(', ');
      return `unknown parameter(s) ${keys}; allowed: ${Object.keys(allowed).join(', ')}`;
    }
    const key = String(issue.path[0]);
    return `'${key}' must be ${allowed[key] ?? issue.message}, got ${showValue(rec[key])}`;
  });
  throw new ModelError(`${kind}: ${problems.join('; ')}`);
}

/** Zod schema of a stored {@link FeatureInfo} (strict: unknown keys are refused on load). */
export const featureInfoSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['numeric', 'categorical']),
  categories: z.array(z.string()).optional(),
  monotone: z.union([z.literal(-1), z.literal(0), z.literal(1)]).optional(),
});

/** Copies only the known fields of a FeatureInfo, so what is stored is exactly what load accepts. */
export function copyFeature(f: FeatureInfo): FeatureInfo {
  const out: FeatureInfo = { name: f.name, type: f.type };
  if (f.categories !== undefined) out.categories = [...f.categories];
  if (f.monotone !== undefined) out.monotone = f.monotone;
  return out;
}

/** Formats zod issues as "path: message, got value" lines for a load error. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const path = i.path.reduce<string>(
        (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
        '',
      );
      const got = i.code === 'unrecognized_keys' || !('input' in i) ? '' : `, got ${showValue(i.input)}`;
      return `${path || '(root)'}: ${i.message}${got}`;
    })
    .join('; ');
}

/**
 * Strict first step of every `load`: checks kind and format by name, then the whole JSON against `schema`.
 *
 * @throws ModelError naming the wrong kind, the unknown format, or every path that does not fit the schema
 */
export function parseModelJson<S extends z.ZodType>(
  kind: string,
  format: number,
  schema: S,
  json: unknown,
): z.output<S> {
  if (typeof json !== 'object' || json === null)
    throw new ModelError(`${kind}: model JSON must be an object`);
  const j = json as Record<string, unknown>;
  if (j.kind !== kind) throw new ModelError(`${kind}: cannot load a model of kind ${showValue(j.kind)}`);
  if (j.format !== format) {
    throw new ModelError(
      `${kind}: unknown JSON format ${showValue(j.format)} (this version reads format ${format})`,
    );
  }
  const r = schema.safeParse(json, { reportInput: true });
  if (!r.success) throw new ModelError(`${kind}: invalid model JSON: ${formatIssues(r.error.issues)}`);
  return r.data;
}

/**
 * Checks the feature list of a fit against `x` and itself: one feature per column (SchemaMismatchError) and
 * unique names. Returns copies; a categorical feature given without `categories` gets one per code seen in
 * training, named by the code ('0', '1', …), so the stored model always lists its levels.
 *
 * @throws SchemaMismatchError when the column count differs; ModelError for a bad feature or code
 */
export function prepareFitFeatures(kind: string, x: Matrix, features: readonly FeatureInfo[]): FeatureInfo[] {
  checkColumns(x, features);
  const seen = new Set<string>();
  return features.map((f, j) => {
    const r = featureInfoSchema.safeParse(copyFeature(f), { reportInput: true });
    if (!r.success)
      throw new ModelError(`${kind}: feature ${showValue(f.name)}: ${formatIssues(r.error.issues)}`);
    if (seen.has(f.name)) throw new ModelError(`${kind}: feature name '${f.name}' appears twice`);
    seen.add(f.name);
    const out = copyFeature(f);
    if (f.type === 'categorical' && (f.categories === undefined || f.categories.length === 0)) {
      let max = -1;
      for (let i = 0; i < x.rows; i++) {
        const v = x.data[i * x.cols + j]!;
        if (Number.isNaN(v)) continue;
        if (!(Number.isInteger(v) && v >= 0 && v < 1e6)) {
          throw new ModelError(
            `${kind}: column '${f.name}' row ${i} must be a category code (integer >= 0) or NaN (missing), got ${v}`,
          );
        }
        if (v > max) max = v;
      }
      if (max < 0)
        throw new ModelError(`${kind}: categorical feature '${f.name}' has neither categories nor codes`);
      out.categories = Array.from({ length: max + 1 }, (_, c) => String(c));
    }
    return out;
  });
}

/**
 * Checks training data: labels 0/1 of the right length with both classes among positive-weight rows; weights
 * finite, >= 0 and not all 0; numeric cells finite or NaN; categorical cells a known code or NaN.
 *
 * @throws ModelError naming the first bad row / column
 */
export function checkTrainingData(
  kind: string,
  x: Matrix,
  y: Labels,
  features: readonly FeatureInfo[],
  weights: Float64Array | undefined,
): void {
  const n = x.rows;
  if (n === 0) throw new ModelError(`${kind}: no training rows`);
  if (y.length !== n) throw new ModelError(`${kind}: ${y.length} labels for ${n} rows`);
  if (weights !== undefined && weights.length !== n) {
    throw new ModelError(`${kind}: ${weights.length} weights for ${n} rows`);
  }
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    if (!(w >= 0 && w < Number.POSITIVE_INFINITY)) {
      throw new ModelError(`${kind}: weight of row ${i} must be a finite number >= 0, got ${showValue(w)}`);
    }
    const yi = y[i]!;
    if (yi !== 0 && yi !== 1) throw new ModelError(`${kind}: label of row ${i} must be 0 or 1, got ${yi}`);
    if (w > 0) {
      if (yi === 1) pos += w;
      else neg += w;
    }
  }
  if (pos === 0 || neg === 0) {
    throw new ModelError(
      `${kind}: training labels need both classes (positive weight ${pos}, negative ${neg})`,
    );
  }
  const p = x.cols;
  const d = x.data;
  const levels = features.map((f) => (f.type === 'numeric' ? -1 : (f.categories?.length ?? 0)));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const v = d[i * p + j]!;
      if (Number.isNaN(v)) continue;
      const k = levels[j]!;
      if (k < 0 ? !Number.isFinite(v) : !(Number.isInteger(v) && v >= 0 && v < k)) {
        const f = features[j]!;
        throw new ModelError(
          k < 0
            ? `${kind}: column '${f.name}' row ${i} must be finite or NaN (missing), got ${v}`
            : `${kind}: column '${f.name}' row ${i} must be a category code in 0..${k - 1} or NaN (missing), got ${v}`,
        );
      }
    }
  }
}

/** Throws a RangeError unless `row` is a row of `x`. */
export function checkRow(x: Matrix, row: number): void {
  if (!(Number.isInteger(row) && row >= 0 && row < x.rows)) {
    throw new RangeError(`row must be an integer in [0, ${x.rows}), got ${row}`);
  }
}

/** Throws RangeError unless `from .. to` is a non-empty range of x's rows and `phi` has one slot per feature of each. */
export function checkRows(x: Matrix, from: number, to: number, phi: Float64Array): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= x.rows))
    throw new RangeError(`rows must be a range in [0, ${x.rows}], got ${from} .. ${to}`);
  if (phi.length < (to - from) * x.cols)
    throw new RangeError(
      `phi has ${phi.length} slots, expected at least ${(to - from) * x.cols} (${to - from} rows of ${x.cols} features)`,
    );
}

/** Contributions sorted by magnitude, largest first (ties keep feature order: Array.sort is stable). */
export function byMagnitude(c: Contribution[]): Contribution[] {
  return c.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
}
