/**
 * The `gbdt` model kind: histogram gradient-boosted trees for binary log-loss (boost.ts, grow.ts), with
 * quantile bins stored in the artifact (bins.ts), a learned default direction for missing values, native
 * categorical splits, exact monotone constraints, exact TreeSHAP explanations (shap.ts) and flattened-array
 * scoring (forest.ts). Hyperparameters: params.ts.
 */
import { z } from 'zod';
import {
  type Contribution,
  checkColumns,
  type FeatureInfo,
  type FitOptions,
  type Fitted,
  type Labels,
  type Matrix,
  ModelError,
  type ModelJson,
  type ModelKind,
  sigmoid,
} from '../contract.ts';
import {
  byMagnitude,
  checkRow,
  checkRows,
  checkTrainingData,
  copyFeature,
  featureInfoSchema,
  parseModelJson,
  prepareFitFeatures,
  showValue,
} from '../kind-helpers.ts';
import { type FeatureBins, valueBins } from './bins.ts';
import { boost } from './boost.ts';
import { type Forest, flatten } from './forest.ts';
import { type GbdtParams, gbdtParamsSchema, parseGbdtParams } from './params.ts';
import { expectedValue } from './shap.ts';
import { compileShap, type ShapExplainer } from './shap-table.ts';
import type { Tree } from './tree.ts';

const int = z.number().int();

const binsSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('numeric'), upper: z.array(z.number()) }),
  z.strictObject({
    type: z.literal('categorical'),
    categoryBin: z.array(int.min(0)),
    bins: int.min(1).max(255),
  }),
]);

const treeSchema = z.strictObject({
  feature: z.array(int.min(-1)),
  /** Numeric split: value bins <= bin go left, i.e. x <= bins.upper[bin] (+∞ past the last edge); else −1. */
  bin: z.array(int.min(-1)),
  /** Categorical split: the category codes that go left, ascending; null otherwise. */
  leftCategories: z.array(z.array(int.min(0)).nullable()),
  left: z.array(int.min(-1)),
  right: z.array(int.min(-1)),
  defaultLeft: z.array(z.union([z.literal(0), z.literal(1)])),
  /** Leaf log-odds contribution (learning rate applied); 0 for split nodes. */
  value: z.array(z.number()),
  cover: z.array(z.number().min(0)),
  gain: z.array(z.number()),
});

const gbdtStateSchema = z.strictObject({
  /** Log-odds every row starts from: the weighted training base rate. */
  baseScore: z.number(),
  /** Effective monotone constraint per feature (params.monotone over the feature's own). */
  monotone: z.array(z.union([z.literal(-1), z.literal(0), z.literal(1)])),
  bins: z.array(binsSchema),
  trees: z.array(treeSchema).min(1),
  seed: int,
  /** Boosting rounds run; more than trees.length when early stopping dropped the rounds after the best. */
  rounds: int.min(1),
  validationLogLoss: z.number().nullable(),
});

/** Learned state of a gbdt model, as stored in its JSON. */
export type GbdtState = z.output<typeof gbdtStateSchema>;
type TreeJson = GbdtState['trees'][number];

const gbdtJsonSchema = z.strictObject({
  kind: z.literal('gbdt'),
  format: z.literal(1),
  params: gbdtParamsSchema,
  features: z.array(featureInfoSchema),
  state: gbdtStateSchema,
});

/** Exact TreeSHAP attribution of one row: base + Σ phi = the row's log-odds. */
export interface ShapValues {
  /** Expected log-odds over the training cover (base score + each tree's cover-weighted mean leaf). */
  base: number;
  /** One value per feature, in feature order. */
  phi: Float64Array;
}

/** A fitted gbdt model. */
export interface FittedGbdt extends Fitted {
  readonly kind: 'gbdt';
  readonly params: GbdtParams;
  readonly state: GbdtState;
  /** The trees on raw values. */
  readonly trees: readonly Tree[];
  /** Log-odds per row (before the sigmoid). */
  margins(x: Matrix): Float64Array;
  /** Exact TreeSHAP values of row `row`. */
  shap(x: Matrix, row: number): ShapValues;
  /** Exact TreeSHAP values of row `row` added into `phi` (one slot per feature); allocates nothing. */
  explainInto(x: Matrix, row: number, phi: Float64Array): void;
  /** Exact TreeSHAP values of rows `from .. to` added into `phi` (row-major, one slot per feature); allocates nothing. */
  explainRowsInto(x: Matrix, from: number, to: number, phi: Float64Array): void;
}

class GbdtModel implements FittedGbdt {
  readonly kind = 'gbdt' as const;
  readonly importanceMeasure = "mean gain (loss reduction) per split on the feature, XGBoost's 'gain'";
  readonly trees: readonly Tree[];
  private readonly forest: Forest;
  private readonly explainer: ShapExplainer;
  private readonly base: number;

  constructor(
    readonly params: GbdtParams,
    readonly features: readonly FeatureInfo[],
    readonly state: GbdtState,
  ) {
    this.trees = state.trees.map((t) => fromJson(t, state.bins));
    this.forest = flatten(
      this.trees,
      state.baseScore,
      features.length,
      features.map((f) => (f.type === 'categorical' ? (f.categories?.length ?? 0) : 0)),
    );
    // Explanations run on every decision: their per-leaf tables are built once here, not per row.
    this.explainer = compileShap(this.trees, features.length);
    this.base = this.trees.reduce((s, t) => s + expectedValue(t), state.baseScore);
  }

  margins(x: Matrix): Float64Array {
    checkColumns(x, this.features);
    return this.forest.margins(x);
  }

  predictProba(x: Matrix): Float64Array {
    const m = this.margins(x);
    for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]!);
    return m;
  }

  shap(x: Matrix, row: number): ShapValues {
    const phi = new Float64Array(x.cols);
    this.explainInto(x, row, phi);
    return { base: this.base, phi };
  }

  explainInto(x: Matrix, row: number, phi: Float64Array): void {
    checkColumns(x, this.features);
    checkRow(x, row);
    if (phi.length !== x.cols)
      throw new RangeError(`phi has ${phi.length} slots, expected ${x.cols} (one per feature)`);
    this.explainer.addInto(x.data, row * x.cols, phi);
  }

  explainRowsInto(x: Matrix, from: number, to: number, phi: Float64Array): void {
    checkColumns(x, this.features);
    checkRows(x, from, to, phi);
    this.explainer.addRows(x.data, from * x.cols, x.cols, to - from, phi);
  }

  explain(x: Matrix, row: number): Contribution[] {
    const { phi } = this.shap(x, row);
    return byMagnitude(this.features.map((f, j) => ({ feature: f.name, contribution: phi[j]! })));
  }

  /**
   * Mean gain per split (XGBoost's default 'gain'), 0 for a feature never split on. Total gain would favour
   * noisy continuous features, which collect many small overfitting splits; the mean does not.
   */
  importance(): Contribution[] {
    const gain = new Float64Array(this.features.length);
    const splits = new Float64Array(this.features.length);
    for (const t of this.trees) {
      for (let n = 0; n < t.feature.length; n++) {
        const j = t.feature[n]!;
        if (j < 0) continue;
        gain[j]! += t.gain[n]!;
        splits[j]!++;
      }
    }
    return byMagnitude(
      this.features.map((f, j) => ({
        feature: f.name,
        contribution: splits[j]! > 0 ? gain[j]! / splits[j]! : 0,
      })),
    );
  }

  toJSON(): ModelJson {
    return {
      kind: 'gbdt',
      format: 1,
      params: structuredClone(this.params),
      features: this.features.map(copyFeature),
      state: structuredClone(this.state),
    };
  }
}

/** A stored tree → the raw-value tree (thresholds from the bins' edges). */
function fromJson(t: TreeJson, bins: readonly FeatureBins[]): Tree {
  const m = t.feature.length;
  const threshold = new Float64Array(m).fill(Number.NaN);
  for (let n = 0; n < m; n++) {
    const j = t.feature[n]!;
    const b = j >= 0 ? bins[j]! : undefined;
    if (b?.type === 'numeric') {
      const s = t.bin[n]!;
      threshold[n] = s < b.upper.length ? b.upper[s]! : Number.POSITIVE_INFINITY;
    }
  }
  return {
    feature: Int32Array.from(t.feature),
    threshold,
    leftCategories: t.leftCategories.map((c) => (c ? Int32Array.from(c) : null)),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    defaultLeft: Uint8Array.from(t.defaultLeft),
    value: Float64Array.from(t.value),
    cover: Float64Array.from(t.cover),
    gain: Float64Array.from(t.gain),
  };
}

/** Effective monotone constraints: params.monotone by name over each feature's own `monotone`. */
function resolveMonotone(params: GbdtParams, features: readonly FeatureInfo[]): Int8Array {
  const names = new Set(features.map((f) => f.name));
  const unknown = Object.keys(params.monotone).filter((k) => !names.has(k));
  if (unknown.length > 0) {
    throw new ModelError(
      `gbdt: 'monotone' names ${unknown.map((k) => `'${k}'`).join(', ')}, not among the features ` +
        `(${features.map((f) => f.name).join(', ')})`,
    );
  }
  return Int8Array.from(features, (f) => {
    const c = params.monotone[f.name] ?? f.monotone ?? 0;
    if (c !== 0 && f.type === 'categorical') {
      throw new ModelError(
        `gbdt: monotone constraint ${c} on categorical feature '${f.name}': categories have no order; ` +
          'constrain numeric features only',
      );
    }
    return c;
  });
}

/** Checks what the schema cannot: shapes agree, every node is reached once, splits fit their feature. */
function checkState(features: readonly FeatureInfo[], s: GbdtState): void {
  const p = features.length;
  if (p === 0) throw new ModelError('gbdt: a model needs at least one feature');
  if (s.bins.length !== p || s.monotone.length !== p) {
    throw new ModelError(
      `gbdt: state.bins has ${s.bins.length} and state.monotone ${s.monotone.length} entries, expected ${p} ` +
        '(one per feature)',
    );
  }
  features.forEach((f, j) => {
    const b = s.bins[j]!;
    const where = `gbdt: state.bins[${j}] ('${f.name}')`;
    if (b.type !== f.type) throw new ModelError(`${where} is ${b.type}, but the feature is ${f.type}`);
    if (b.type === 'numeric') {
      if (b.upper.length > 254)
        throw new ModelError(`${where}: ${b.upper.length + 1} value bins, at most 255`);
      for (let k = 1; k < b.upper.length; k++) {
        if (!(b.upper[k]! > b.upper[k - 1]!))
          throw new ModelError(`${where}: upper edges must be strictly ascending`);
      }
    } else {
      const k = f.categories?.length ?? 0;
      if (b.categoryBin.length !== k) {
        throw new ModelError(
          `${where}: categoryBin has ${b.categoryBin.length} values, expected ${k} (one per category)`,
        );
      }
      if (b.categoryBin.some((c) => c >= b.bins))
        throw new ModelError(`${where}: a category's bin is >= bins (${b.bins})`);
    }
  });
  s.trees.forEach((t, k) => {
    const where = `gbdt: state.trees[${k}]`;
    const m = t.feature.length;
    for (const [name, arr] of Object.entries(t)) {
      if (arr.length !== m)
        throw new ModelError(`${where}.${name} has ${arr.length} entries, expected ${m} (one per node)`);
    }
    const parents = new Int32Array(m);
    for (let n = 0; n < m; n++) {
      const j = t.feature[n]!;
      const at = `${where} node ${n}`;
      if (j < 0) {
        if (t.left[n] !== -1 || t.right[n] !== -1)
          throw new ModelError(`${at}: a leaf must have children -1`);
        if (t.leftCategories[n] !== null || t.bin[n] !== -1)
          throw new ModelError(`${at}: a leaf has no split`);
        continue;
      }
      if (j >= p) throw new ModelError(`${at}: feature ${j} out of range (0..${p - 1})`);
      for (const c of [t.left[n]!, t.right[n]!]) {
        // Children after their parent: no cycles, every walk ends at a leaf.
        if (!(c > n && c < m)) throw new ModelError(`${at}: child ${c} must be in (${n}, ${m})`);
        parents[c]!++;
      }
      const b = s.bins[j]!;
      const cats = t.leftCategories[n] ?? null;
      if (b.type === 'numeric') {
        if (cats !== null) throw new ModelError(`${at}: a numeric split has leftCategories`);
        if (!(t.bin[n]! >= 0 && t.bin[n]! < valueBins(b))) {
          throw new ModelError(`${at}: split bin ${t.bin[n]} out of range (0..${valueBins(b) - 1})`);
        }
      } else {
        if (cats === null || t.bin[n] !== -1)
          throw new ModelError(`${at}: a categorical split needs leftCategories and bin -1`);
        const k = features[j]!.categories?.length ?? 0;
        for (let q = 0; q < cats.length; q++) {
          if (cats[q]! >= k || (q > 0 && cats[q]! <= cats[q - 1]!)) {
            throw new ModelError(
              `${at}: leftCategories must be ascending codes in 0..${k - 1}, got ${showValue(cats)}`,
            );
          }
        }
      }
    }
    for (let n = 1; n < m; n++) {
      if (parents[n] !== 1) throw new ModelError(`${where}: node ${n} has ${parents[n]} parents, expected 1`);
    }
  });
}

/** The `gbdt` model kind (see the module comment and {@link GbdtParams}). */
export const gbdtKind: ModelKind<GbdtParams, FittedGbdt> = {
  name: 'gbdt',

  parseParams(raw: unknown): GbdtParams {
    return parseGbdtParams(raw);
  },

  async fit(x: Matrix, y: Labels, opts: FitOptions<GbdtParams>): Promise<FittedGbdt> {
    const params = parseGbdtParams(opts.params);
    const features = prepareFitFeatures('gbdt', x, opts.features);
    checkTrainingData('gbdt', x, y, features, opts.weights);
    const monotone = resolveMonotone(params, features);
    if (opts.validation) {
      checkColumns(opts.validation.x, features);
      checkTrainingData('gbdt validation', opts.validation.x, opts.validation.y, features, undefined);
    }
    const r = boost({
      x,
      y,
      weights: opts.weights,
      features,
      monotone,
      params,
      seed: opts.seed,
      validation: opts.validation,
      onProgress: opts.onProgress,
    });
    const state: GbdtState = {
      baseScore: r.baseScore,
      monotone: Array.from(monotone) as (-1 | 0 | 1)[],
      bins: r.bins.map((b) =>
        b.type === 'numeric'
          ? { type: 'numeric', upper: [...b.upper] }
          : { ...b, categoryBin: [...b.categoryBin] },
      ),
      trees: r.trees.map((t, k) => ({
        feature: Array.from(t.feature),
        bin: r.builds[k]!.feature.map((j, n) =>
          j >= 0 && r.bins[j]!.type === 'numeric' ? r.builds[k]!.bin[n]! : -1,
        ),
        leftCategories: t.leftCategories.map((c) => (c ? Array.from(c) : null)),
        left: Array.from(t.left),
        right: Array.from(t.right),
        defaultLeft: Array.from(t.defaultLeft) as (0 | 1)[],
        value: Array.from(t.value),
        cover: Array.from(t.cover),
        gain: Array.from(t.gain),
      })),
      seed: opts.seed,
      rounds: r.rounds,
      validationLogLoss: r.validationLogLoss,
    };
    return new GbdtModel(params, features, state);
  },

  async load(json: ModelJson): Promise<FittedGbdt> {
    const m = parseModelJson('gbdt', 1, gbdtJsonSchema, json);
    checkState(m.features, m.state);
    return new GbdtModel(m.params, m.features, m.state);
  },
};
