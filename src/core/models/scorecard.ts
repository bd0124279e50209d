/**
 * The `scorecard` model kind: WOE binning (see binning.ts for the binning, missing-value and unseen-category
 * rules) followed by an L2-penalised logistic regression on the WOE columns (the same Newton loop as the
 * logistic kind, {@link fitIrls}), presented as points per bin.
 *
 * Points scale: factor = pdo / ln 2, offset = baseScore − factor·ln(baseOdds); the score of a row is
 * offset + factor·η with η = intercept + Σⱼ coefⱼ·woeⱼ the model's log-odds of the positive class, so
 * `baseScore` points mean `baseOdds`:1 positive:negative odds and every `pdo` points double the odds.
 * The score is split over the k features as points per bin = factor·(coefⱼ·woe + intercept/k) + offset/k.
 * Points are kept at full precision (not rounded to integers, nor to 1e-6): rounding each bin would make the
 * summed points drift from the model's probability by up to k rounding errors.
 */
import { z } from 'zod';
import {
  binFeature,
  binIndex,
  binLabels,
  type FeatureBinning,
  informationValue,
  labelTotals,
  meanWoe,
} from './binning.ts';
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
  type ScorecardPointsRow,
  sigmoid,
} from './contract.ts';
import {
  byMagnitude,
  checkRow,
  checkRows,
  checkTrainingData,
  copyFeature,
  featureInfoSchema,
  parseKindParams,
  parseModelJson,
  prepareFitFeatures,
} from './kind-helpers.ts';
import { fitIrls } from './logistic.ts';

const scorecardParamsSchema = z.strictObject({
  pdo: z.number().positive().default(20),
  baseScore: z.number().default(600),
  baseOdds: z.number().positive().default(50),
  minBinShare: z.number().gt(0).max(0.5).default(0.05),
  preBins: z.number().int().min(2).max(1000).default(20),
  l2: z.number().min(0).default(1),
  maxIter: z.number().int().min(1).max(10_000).default(50),
  tol: z.number().positive().max(1).default(1e-8),
});

const SCORECARD_ALLOWED = {
  pdo: 'a number > 0',
  baseScore: 'a finite number',
  baseOdds: 'a number > 0',
  minBinShare: 'a number in (0, 0.5]',
  preBins: 'an integer in [2, 1000]',
  l2: 'a number >= 0',
  maxIter: 'an integer in [1, 10000]',
  tol: 'a number in (0, 1]',
} as const;

/**
 * Hyperparameters of the scorecard kind.
 * - `pdo` (default 20): points that double the odds.
 * - `baseScore` (default 600) and `baseOdds` (default 50): the score at which positive:negative odds are
 *   baseOdds:1.
 * - `minBinShare` (default 0.05): minimum share of the training weight per bin; smaller bins (missing,
 *   "other") are scored neutral (WOE 0).
 * - `preBins` (default 20): quantile pre-bins per numeric feature before merging.
 * - `l2` (default 1), `maxIter` (default 50), `tol` (default 1e-8): the logistic fit on the WOE columns, as in
 *   the logistic kind (the WOE columns are not standardised: they are already on the log-odds scale).
 */
export type ScorecardParams = z.output<typeof scorecardParamsSchema>;

const binStatsSchema = z.strictObject({
  count: z.number().min(0),
  events: z.number().min(0),
  woe: z.number(),
});

const binningSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('numeric'),
    direction: z.union([z.literal(-1), z.literal(1)]),
    cuts: z.array(z.number()),
    bins: z.array(binStatsSchema),
  }),
  z.strictObject({
    type: z.literal('categorical'),
    categoryBin: z.array(z.number().int().min(0)),
    otherBin: z.number().int().min(0).nullable(),
    bins: z.array(binStatsSchema),
  }),
]);

const scorecardStateSchema = z.strictObject({
  intercept: z.number(),
  /** One coefficient per feature, on its WOE column. */
  coef: z.array(z.number()),
  /** One binning per feature, in feature order. */
  binnings: z.array(binningSchema),
  /** Seed of the fit, recorded only: the fit draws no random numbers. */
  seed: z.number().int(),
  iterations: z.number().int().min(0),
  converged: z.boolean(),
});

/** Learned state of a scorecard, as stored in its JSON. */
export type ScorecardState = z.output<typeof scorecardStateSchema>;

const scorecardJsonSchema = z.strictObject({
  kind: z.literal('scorecard'),
  format: z.literal(1),
  params: scorecardParamsSchema,
  features: z.array(featureInfoSchema),
  state: scorecardStateSchema,
});

/** A fitted scorecard. `predictProba` = sigmoid((score − offset) / factor) exactly, up to float rounding. */
export interface FittedScorecard extends Fitted {
  readonly kind: 'scorecard';
  readonly params: ScorecardParams;
  readonly state: ScorecardState;
  /** factor = pdo / ln 2 (points per unit of log-odds) and offset = baseScore − factor·ln(baseOdds). */
  readonly scaling: { readonly factor: number; readonly offset: number };
  /** Score per row: the sum of the row's points over features (higher = more likely positive). */
  scores(x: Matrix): Float64Array;
  /**
   * Points per bin, per feature in feature order, bins as in binning.ts (regular bins, "other", "missing").
   * `count` is the training weight in the bin; `eventRate` its share of positives (for an empty bin, the
   * overall training rate, which is what its neutral WOE 0 assumes).
   */
  pointsTable(): ScorecardPointsRow[];
  /**
   * The points table linearly rescaled (points' = s·points + t/k per bin, the same s for every bin) so that
   * the sum over features of each feature's lowest points equals `min` and of its highest equals `max`:
   * every possible score then lies in [min, max]. A rescaled score S' maps back as S = (S' − t) / s, where
   * s = (max − min) / (Σ max − Σ min) and t = min − s·Σ min.
   *
   * @throws ModelError unless min < max (finite), or when every row gets the same score
   */
  scaledPoints(min: number, max: number): ScorecardPointsRow[];
}

/**
 * out[i] = intercept + Σⱼ logit[j][bin of row i's value j], summed in feature order. The intercept comes in a
 * typed array: started from the double of a parsed object's field, V8 kept the running sum boxed (a new 16-byte
 * heap number per feature per row).
 */
function sumLogits(
  binnings: readonly FeatureBinning[],
  logit: readonly Float64Array[],
  intercept: Float64Array,
  data: Float64Array,
  p: number,
  n: number,
  out: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    let e = intercept[0]!;
    for (let j = 0; j < p; j++) e += logit[j]![binIndex(binnings[j]!, data[i * p + j]!)]!;
    out[i] = e;
  }
}

class ScorecardModel implements FittedScorecard {
  readonly kind = 'scorecard' as const;
  readonly importanceMeasure = 'information value';
  readonly scaling: { readonly factor: number; readonly offset: number };
  /** points[j][b]: points of bin b of feature j. */
  private readonly points: Float64Array[];
  /**
   * contribution[j][b]: `explain`'s contribution of feature j when the row falls in bin b, coefⱼ·(woe − mean woe),
   * computed once here with the same expression, so the score path reads the very same numbers.
   */
  private readonly contribution: Float64Array[];
  /**
   * logit[j][b]: coefⱼ·woe of bin b of feature j, the term the log-odds add for it (the same product the sum
   * would compute per row), in typed arrays so the per-row sum reads unboxed doubles and allocates nothing.
   */
  private readonly logit: Float64Array[];
  /** The model's intercept, as `sumLogits` takes it. */
  private readonly intercept: Float64Array;

  constructor(
    readonly params: ScorecardParams,
    readonly features: readonly FeatureInfo[],
    readonly state: ScorecardState,
  ) {
    // Derived, not learned: the points are a presentation of (intercept, coef, woe) on the params' scale.
    const factor = params.pdo / Math.LN2;
    const offset = params.baseScore - factor * Math.log(params.baseOdds);
    this.scaling = { factor, offset };
    const k = features.length;
    this.points = state.binnings.map((b, j) =>
      Float64Array.from(
        b.bins,
        (bin) => factor * (state.coef[j]! * bin.woe + state.intercept / k) + offset / k,
      ),
    );
    this.intercept = Float64Array.of(state.intercept);
    this.logit = state.binnings.map((b, j) => Float64Array.from(b.bins, (bin) => state.coef[j]! * bin.woe));
    this.contribution = state.binnings.map((b, j) => {
      const mean = meanWoe(b);
      return Float64Array.from(b.bins, (bin) => state.coef[j]! * (bin.woe - mean));
    });
  }

  predictProba(x: Matrix): Float64Array {
    checkColumns(x, this.features);
    const { rows: n, cols: p, data } = x;
    const out = new Float64Array(n);
    sumLogits(this.state.binnings, this.logit, this.intercept, data, p, n, out);
    for (let i = 0; i < n; i++) out[i] = sigmoid(out[i]!);
    return out;
  }

  scores(x: Matrix): Float64Array {
    checkColumns(x, this.features);
    const { rows: n, cols: p, data } = x;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += this.points[j]![binIndex(this.state.binnings[j]!, data[i * p + j]!)]!;
      out[i] = s;
    }
    return out;
  }

  explain(x: Matrix, row: number): Contribution[] {
    checkColumns(x, this.features);
    checkRow(x, row);
    return byMagnitude(
      this.state.binnings.map((b, j) => ({
        feature: this.features[j]!.name,
        contribution:
          this.state.coef[j]! * (b.bins[binIndex(b, x.data[row * x.cols + j]!)]!.woe - meanWoe(b)),
      })),
    );
  }

  /** `explain`'s contributions in feature order, added into `phi`, with no object per feature (score path). */
  explainInto(x: Matrix, row: number, phi: Float64Array): void {
    checkColumns(x, this.features);
    checkRow(x, row);
    const { binnings } = this.state;
    const { contribution } = this;
    const at = row * x.cols;
    for (let j = 0; j < binnings.length; j++)
      phi[j]! += contribution[j]![binIndex(binnings[j]!, x.data[at + j]!)]!;
  }

  explainRowsInto(x: Matrix, from: number, to: number, phi: Float64Array): void {
    checkColumns(x, this.features);
    checkRows(x, from, to, phi);
    const { binnings } = this.state;
    const { contribution } = this;
    const p = x.cols;
    for (let r = from; r < to; r++) {
      const at = r * p;
      const out = (r - from) * p;
      for (let j = 0; j < p; j++) phi[out + j]! += contribution[j]![binIndex(binnings[j]!, x.data[at + j]!)]!;
    }
  }

  importance(): Contribution[] {
    return byMagnitude(
      this.state.binnings.map((b, j) => ({
        feature: this.features[j]!.name,
        contribution: informationValue(b),
      })),
    );
  }

  pointsTable(): ScorecardPointsRow[] {
    let w = 0;
    let e = 0;
    for (const bin of this.state.binnings[0]?.bins ?? []) {
      w += bin.count;
      e += bin.events;
    }
    const overallRate = w > 0 ? e / w : 0;
    return this.state.binnings.flatMap((b, j) => {
      const f = this.features[j]!;
      const labels = binLabels(b, f);
      return b.bins.map((bin, k) => ({
        feature: f.name,
        bin: labels[k]!,
        count: bin.count,
        eventRate: bin.count > 0 ? bin.events / bin.count : overallRate,
        woe: bin.woe,
        points: this.points[j]![k]!,
      }));
    });
  }

  scaledPoints(min: number, max: number): ScorecardPointsRow[] {
    if (!(Number.isFinite(min) && Number.isFinite(max) && min < max)) {
      throw new ModelError(`scorecard: scaledPoints needs finite min < max, got min ${min}, max ${max}`);
    }
    let sumMin = 0;
    let sumMax = 0;
    for (const pts of this.points) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of pts) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      sumMin += lo;
      sumMax += hi;
    }
    const spread = sumMax - sumMin;
    if (!(spread > 0))
      throw new ModelError('scorecard: cannot rescale points: every row gets the same score');
    const s = (max - min) / spread;
    const shift = (min - s * sumMin) / this.features.length;
    return this.pointsTable().map((r) => ({ ...r, points: s * r.points + shift }));
  }

  toJSON(): ModelJson {
    return {
      kind: 'scorecard',
      format: 1,
      params: { ...this.params },
      features: this.features.map(copyFeature),
      state: structuredClone(this.state),
    };
  }
}

/** The `scorecard` model kind (see the module comment and {@link ScorecardParams}). */
export const scorecardKind: ModelKind<ScorecardParams, FittedScorecard> = {
  name: 'scorecard',

  parseParams(raw: unknown): ScorecardParams {
    return parseKindParams('scorecard', scorecardParamsSchema, SCORECARD_ALLOWED, raw);
  },

  async fit(x: Matrix, y: Labels, opts: FitOptions<ScorecardParams>): Promise<FittedScorecard> {
    const params = scorecardKind.parseParams(opts.params);
    const features = prepareFitFeatures('scorecard', x, opts.features);
    checkTrainingData('scorecard', x, y, features, opts.weights);
    const { rows: n, cols: k, data } = x;
    const totals = labelTotals(y, opts.weights);

    const binnings: FeatureBinning[] = [];
    const woeDesign = new Float64Array(n * k);
    const column = new Float64Array(n);
    const rowBin = new Int32Array(n);
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < n; i++) column[i] = data[i * k + j]!;
      const b = binFeature(column, y, opts.weights, features[j]!, totals, params, rowBin);
      binnings.push(b);
      const woes = Float64Array.from(b.bins, (bin) => bin.woe);
      for (let i = 0; i < n; i++) woeDesign[i * k + j] = woes[rowBin[i]!]!;
    }

    const fit = fitIrls({ data: woeDesign, rows: n, cols: k }, y, {
      l2: params.l2,
      maxIter: params.maxIter,
      tol: params.tol,
      ...(opts.weights ? { weights: opts.weights } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const state: ScorecardState = {
      intercept: fit.intercept,
      coef: Array.from(fit.coef),
      binnings,
      seed: opts.seed,
      iterations: fit.iterations,
      converged: fit.converged,
    };
    return new ScorecardModel(params, features, state);
  },

  async load(json: ModelJson): Promise<FittedScorecard> {
    const m = parseModelJson('scorecard', 1, scorecardJsonSchema, json);
    const k = m.features.length;
    if (k === 0) throw new ModelError('scorecard: a scorecard needs at least one feature');
    if (m.state.coef.length !== k || m.state.binnings.length !== k) {
      throw new ModelError(
        `scorecard: state.coef has ${m.state.coef.length} and state.binnings ${m.state.binnings.length} ` +
          `entries, expected ${k} (one per feature)`,
      );
    }
    m.features.forEach((f, j) => {
      const b = m.state.binnings[j]!;
      const where = `scorecard: state.binnings[${j}] ('${f.name}')`;
      if (b.type !== f.type) throw new ModelError(`${where} is ${b.type}, but the feature is ${f.type}`);
      for (const bin of b.bins) {
        if (bin.events > bin.count * (1 + 1e-12)) throw new ModelError(`${where}: a bin has events > count`);
      }
      if (b.type === 'numeric') {
        if (b.bins.length !== b.cuts.length + 2) {
          throw new ModelError(
            `${where}: ${b.bins.length} bins for ${b.cuts.length} cuts, expected ${b.cuts.length + 2} ` +
              '(cuts + 1 regular bins and the missing bin)',
          );
        }
        for (let c = 1; c < b.cuts.length; c++) {
          if (!(b.cuts[c]! > b.cuts[c - 1]!))
            throw new ModelError(`${where}: cuts must be strictly ascending`);
        }
      } else {
        const nCat = f.categories?.length ?? 0;
        const regular = b.bins.length - 1;
        if (nCat === 0) throw new ModelError(`scorecard: categorical feature '${f.name}' has no categories`);
        if (b.categoryBin.length !== nCat) {
          throw new ModelError(
            `${where}: categoryBin has ${b.categoryBin.length} values, expected ${nCat} (one per category)`,
          );
        }
        if (b.categoryBin.some((i) => i >= regular) || (b.otherBin !== null && b.otherBin >= regular)) {
          throw new ModelError(`${where}: bin index out of range (there are ${regular} regular bins)`);
        }
      }
    });
    return new ScorecardModel(m.params, m.features, m.state);
  },
};
