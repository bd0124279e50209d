/**
 * `mlp`: a small fully connected network (ReLU hidden layers, one logit output) trained with Adam on the
 * weighted log-loss, with L2 on the kernels, optional dropout and early stopping on validation log-loss.
 *
 * Inputs are encoded by the shared preprocessor (standardised numerics, one-hot categoricals, missing
 * indicators; see preprocess.ts), learned at fit and stored in the JSON with the weights.
 *
 * Determinism (STYLE §7): every random draw comes from `opts.seed` — kernel initialisation through seeded
 * Glorot-uniform initialisers (one derived seed per layer), and shuffling, the hold-out split, dropout masks
 * and the importance sample through `createRng(seed, stream)`. The training loop is our own (not
 * `model.fit`) because tfjs shuffles with Math.random, its Dropout layer repeats one mask for every batch
 * when seeded, and `fit` ignores sample weights. On the single-threaded wasm backend the same data and
 * seed give byte-identical JSON.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { createRng } from '../random.ts';
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
  matrix,
  sigmoid,
} from './contract.ts';
import { byMagnitude, copyFeature } from './kind-helpers.ts';
import { fitPreprocessor, loadPreprocessor, type Preprocessor, type PreprocessorJson } from './preprocess.ts';
import { ensureTfBackend } from './tf-backend.ts';

const KIND = 'mlp';
/** Version of the JSON layout written by this module. */
const FORMAT = 1;
/** Rows per forward pass at prediction time (bounds tensor memory, not results). */
const PREDICT_BATCH = 4096;
/** Share of training rows held out for early stopping when no validation set is given. */
const HOLDOUT_SHARE = 0.1;
/** Rows sampled (seeded) from the training data for the stored occlusion importance. */
const IMPORTANCE_ROWS = 500;
const IMPORTANCE_MEASURE = `mean |occlusion contribution| (log-odds) over up to ${IMPORTANCE_ROWS} seeded training rows`;

// Independent random streams derived from the one seed.
const STREAM_SHUFFLE = 1;
const STREAM_HOLDOUT = 2;
const STREAM_DROPOUT = 3;
const STREAM_IMPORTANCE = 4;
const STREAM_INIT = 100;

/** Hyperparameters of the mlp kind (all have defaults; see {@link MLP_DEFAULTS}). */
export interface MlpParams {
  /** Units per hidden layer, 1–4 layers of 1–512 units. Default [32, 16]. */
  hidden: number[];
  /** Adam step size. Default 0.003. */
  learningRate: number;
  /** Maximum passes over the training rows. Default 60. */
  epochs: number;
  /** Rows per gradient step. Default 512. */
  batchSize: number;
  /** Epochs without a new best validation log-loss before stopping. Default 6. */
  patience: number;
  /** L2 penalty: `l2 · Σ kernel²` added to the mean batch log-loss (biases are not penalised). Default 1e-4. */
  l2: number;
  /** Dropout rate after each hidden layer during training, in [0, 0.9]. Default 0. */
  dropout: number;
}

/** Default hyperparameters. */
export const MLP_DEFAULTS: Readonly<MlpParams> = Object.freeze({
  hidden: [32, 16],
  learningRate: 0.003,
  epochs: 60,
  batchSize: 512,
  patience: 6,
  l2: 1e-4,
  dropout: 0,
});

const PARAM_RULES: { [K in keyof MlpParams]: { schema: z.ZodType<MlpParams[K]>; allowed: string } } = {
  hidden: {
    schema: z.array(z.number().int().min(1).max(512)).min(1).max(4),
    allowed: 'a list of 1–4 integers in [1, 512]',
  },
  learningRate: { schema: z.number().gt(0).max(1), allowed: 'a number in (0, 1]' },
  epochs: { schema: z.number().int().min(1).max(10_000), allowed: 'an integer in [1, 10000]' },
  batchSize: { schema: z.number().int().min(1).max(65_536), allowed: 'an integer in [1, 65536]' },
  patience: { schema: z.number().int().min(1).max(1000), allowed: 'an integer in [1, 1000]' },
  l2: { schema: z.number().min(0).max(1), allowed: 'a number in [0, 1]' },
  dropout: { schema: z.number().min(0).max(0.9), allowed: 'a number in [0, 0.9]' },
};
const PARAM_NAMES = Object.keys(PARAM_RULES) as (keyof MlpParams)[];

function show(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || v === undefined) return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Validates raw hyperparameters over {@link MLP_DEFAULTS}; `undefined` / `null` give the defaults.
 *
 * @throws ModelError listing every bad or unknown field, e.g.
 *   "mlp: 'hidden' must be a list of 1–4 integers in [1, 512], got [0]".
 */
export function parseMlpParams(raw: unknown): MlpParams {
  if (raw === undefined || raw === null) return { ...MLP_DEFAULTS, hidden: [...MLP_DEFAULTS.hidden] };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelError(`${KIND}: params must be an object of hyperparameters, got ${show(raw)}`);
  }
  const input = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!(PARAM_NAMES as string[]).includes(key)) {
      problems.push(`unknown parameter '${key}' (allowed: ${PARAM_NAMES.join(', ')})`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const name of PARAM_NAMES) {
    const value = input[name];
    if (value === undefined) {
      const d = MLP_DEFAULTS[name];
      out[name] = Array.isArray(d) ? [...d] : d;
      continue;
    }
    const r = PARAM_RULES[name].schema.safeParse(value);
    if (r.success) out[name] = Array.isArray(r.data) ? [...r.data] : r.data;
    else problems.push(`'${name}' must be ${PARAM_RULES[name].allowed}, got ${show(value)}`);
  }
  if (problems.length > 0) throw new ModelError(`${KIND}: ${problems.join('; ')}`);
  return out as unknown as MlpParams;
}

/** A fitted mlp: the contract plus what a caller may want to inspect, and a way to free its tensors. */
export interface FittedMlp extends Fitted {
  readonly params: Readonly<MlpParams>;
  readonly preprocessor: Preprocessor;
  /** How training went (epochs run, best epoch, losses); also in the JSON. */
  readonly training: Readonly<MlpTraining>;
  /** Frees the weight tensors; later predictions throw ModelError. */
  dispose(): void;
}

/** Training record stored with the model. Losses are mean (weighted) log-loss, nats per row. */
export interface MlpTraining {
  /** Epochs run before stopping. */
  epochs: number;
  /** 1-based epoch whose weights were kept (lowest validation log-loss). */
  bestEpoch: number;
  /** Training log-loss (without the L2 term) averaged over the best epoch's batches. */
  trainLoss: number;
  /** Validation log-loss at the best epoch. */
  valLoss: number;
  /** 'given' = opts.validation; 'holdout' = a seeded share of the training rows. */
  validation: 'given' | 'holdout';
  validationRows: number;
  trainRows: number;
}

/** Shape and values of one weight tensor, row-major, float32 values as exact JS numbers. */
interface TensorJson {
  shape: number[];
  values: number[];
}

interface MlpState {
  seed: number;
  /** Hidden-layer activation; the output layer is linear (a logit) followed by the logistic function. */
  activation: 'relu';
  preprocessor: PreprocessorJson;
  layers: { kernel: TensorJson; bias: TensorJson }[];
  training: MlpTraining;
  importance: { measure: string; rows: number; values: Contribution[] };
}

/** Weights of one dense layer: kernel [in, out] and bias [out], float32. */
interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

/** Forward pass to logits (shape [n]). Hidden layers are fused matMul + bias + ReLU. */
function forward(
  x: tf.Tensor2D,
  layers: readonly { kernel: tf.Tensor2D; bias: tf.Tensor1D }[],
  masks?: readonly tf.Tensor2D[],
): tf.Tensor1D {
  let h = x;
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    h = tf.fused.matMul({
      a: h,
      b: l.kernel,
      bias: l.bias,
      activation: last ? 'linear' : 'relu',
    }) as tf.Tensor2D;
    const mask = masks?.[i];
    if (!last && mask) h = tf.mul(h, mask);
  });
  return tf.reshape(h, [-1]);
}

/** Logits for `rows` encoded rows, computed in chunks of PREDICT_BATCH rows; frees every tensor it makes. */
function logitsOf(
  encoded: Float32Array,
  rows: number,
  width: number,
  layers: readonly { kernel: tf.Tensor2D; bias: tf.Tensor1D }[],
): Float32Array {
  const out = new Float32Array(rows);
  for (let s = 0; s < rows; s += PREDICT_BATCH) {
    const e = Math.min(rows, s + PREDICT_BATCH);
    const t = tf.tidy(() =>
      forward(tf.tensor2d(encoded.subarray(s * width, e * width), [e - s, width]), layers),
    );
    out.set(t.dataSync() as Float32Array, s);
    t.dispose();
  }
  return out;
}

/** Mean (weighted) log-loss of logits z against labels y, in float64. */
function logLoss(z: Float32Array, y: ArrayLike<number>, w?: ArrayLike<number>): number {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < z.length; i++) {
    const zi = z[i]!;
    const wi = w ? w[i]! : 1;
    sum += wi * (Math.max(zi, 0) - zi * y[i]! + Math.log1p(Math.exp(-Math.abs(zi))));
    wsum += wi;
  }
  return wsum > 0 ? sum / wsum : Number.NaN;
}

class MlpModel implements FittedMlp {
  readonly kind = KIND;
  readonly importanceMeasure = IMPORTANCE_MEASURE;
  readonly features: readonly FeatureInfo[];
  readonly params: Readonly<MlpParams>;
  readonly preprocessor: Preprocessor;
  readonly training: Readonly<MlpTraining>;
  private readonly seed: number;
  private readonly weights: readonly DenseWeights[];
  private tensors: { kernel: tf.Tensor2D; bias: tf.Tensor1D }[] | undefined;
  private importanceValues: Contribution[] = [];
  private importanceRows = 0;

  constructor(args: {
    features: readonly FeatureInfo[];
    params: MlpParams;
    preprocessor: Preprocessor;
    seed: number;
    weights: DenseWeights[];
    training: MlpTraining;
  }) {
    this.features = args.features;
    this.params = args.params;
    this.preprocessor = args.preprocessor;
    this.seed = args.seed;
    this.weights = args.weights;
    this.training = args.training;
    this.tensors = args.weights.map((w) => ({
      kernel: tf.tensor2d(w.kernel, [w.inputs, w.units]),
      bias: tf.tensor1d(w.bias),
    }));
  }

  /** Sets the stored importance (fit computes it, load reads it). */
  setImportance(values: Contribution[], rows: number): void {
    this.importanceValues = values;
    this.importanceRows = rows;
  }

  /** Logits for encoded rows. */
  logits(encoded: Float32Array, rows: number): Float32Array {
    if (!this.tensors) throw new ModelError(`${KIND}: model has been disposed`);
    return logitsOf(encoded, rows, this.preprocessor.width, this.tensors);
  }

  predictProba(x: Matrix): Float64Array {
    checkColumns(x, this.features);
    const z = this.logits(this.preprocessor.transform(x), x.rows);
    const p = new Float64Array(x.rows);
    for (let i = 0; i < z.length; i++) p[i] = sigmoid(z[i]!);
    return p;
  }

  /**
   * Occlusion contributions for encoded rows `encoded` (n × width): for each row and feature, the row's
   * logit minus the logit with that feature's inputs set to the training baseline. Returns n × features.
   */
  occlusion(encoded: Float32Array, n: number): Float64Array {
    const { width, blocks } = this.preprocessor;
    const base = this.preprocessor.baseline();
    const f = blocks.length;
    const batch = new Float32Array(n * (f + 1) * width);
    for (let i = 0; i < n; i++) {
      const row = encoded.subarray(i * width, (i + 1) * width);
      for (let k = 0; k <= f; k++) {
        const o = (i * (f + 1) + k) * width;
        batch.set(row, o);
        if (k > 0) {
          const b = blocks[k - 1]!;
          batch.set(base.subarray(b.start, b.end), o + b.start);
        }
      }
    }
    const z = this.logits(batch, n * (f + 1));
    const out = new Float64Array(n * f);
    for (let i = 0; i < n; i++) {
      const z0 = z[i * (f + 1)]!;
      for (let k = 0; k < f; k++) out[i * f + k] = z0 - z[i * (f + 1) + k + 1]!;
    }
    return out;
  }

  /**
   * Occlusion on the log-odds scale: logit(p(row)) − logit(p(row with the feature's inputs at the training
   * baseline)). Because the network is nonlinear the contributions need not add up to the logit's distance
   * from the baseline row's logit.
   */
  explain(x: Matrix, row: number): Contribution[] {
    checkColumns(x, this.features);
    if (!Number.isInteger(row) || row < 0 || row >= x.rows) {
      throw new ModelError(`${KIND}: explain row must be an integer in [0, ${x.rows - 1}], got ${row}`);
    }
    const one = matrix(x.data.subarray(row * x.cols, (row + 1) * x.cols), 1, x.cols);
    const c = this.occlusion(this.preprocessor.transform(one), 1);
    return byMagnitude(this.features.map((f, k) => ({ feature: f.name, contribution: c[k]! })));
  }

  importance(): Contribution[] {
    return this.importanceValues.map((c) => ({ ...c }));
  }

  toJSON(): ModelJson {
    const state: MlpState = {
      seed: this.seed,
      activation: 'relu',
      preprocessor: this.preprocessor.toJSON(),
      layers: this.weights.map((w) => ({
        kernel: { shape: [w.inputs, w.units], values: Array.from(w.kernel) },
        bias: { shape: [w.units], values: Array.from(w.bias) },
      })),
      training: { ...this.training },
      importance: { measure: IMPORTANCE_MEASURE, rows: this.importanceRows, values: this.importance() },
    };
    return {
      kind: KIND,
      format: FORMAT,
      params: { ...this.params, hidden: [...this.params.hidden] },
      features: this.features.map(copyFeature),
      state,
    };
  }

  dispose(): void {
    for (const t of this.tensors ?? []) {
      t.kernel.dispose();
      t.bias.dispose();
    }
    this.tensors = undefined;
  }
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
function permutation(n: number, rng: { int(lo: number, hi: number): number }): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  shuffleInPlace(p, rng);
  return p;
}

function shuffleInPlace(p: Int32Array, rng: { int(lo: number, hi: number): number }): void {
  for (let i = p.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
}

function checkLabels(y: Labels, rows: number, what: string): void {
  if (y.length !== rows) throw new ModelError(`${KIND}: ${what} has ${y.length} labels for ${rows} rows`);
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) {
      throw new ModelError(`${KIND}: ${what} must be 0 or 1, got ${y[i]} at row ${i}`);
    }
  }
}

async function fitMlp(x: Matrix, y: Labels, opts: FitOptions<MlpParams>): Promise<MlpModel> {
  const params = parseMlpParams(opts.params);
  const { seed, features } = opts;
  if (!Number.isSafeInteger(seed)) throw new ModelError(`${KIND}: seed must be an integer, got ${seed}`);
  checkColumns(x, features);
  checkLabels(y, x.rows, 'labels');
  const n = x.rows;
  if (n < 10) throw new ModelError(`${KIND}: need at least 10 training rows, got ${n}`);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  if (positives === 0 || positives === n) {
    throw new ModelError(
      `${KIND}: labels must contain both classes, got ${positives} positives in ${n} rows`,
    );
  }
  const weights = opts.weights;
  if (weights) {
    if (weights.length !== n)
      throw new ModelError(`${KIND}: weights has ${weights.length} values for ${n} rows`);
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(Number.isFinite(w) && w >= 0)) {
        throw new ModelError(`${KIND}: weights must be finite and >= 0, got ${w} at row ${i}`);
      }
    }
  }

  await ensureTfBackend();
  const pre = fitPreprocessor(x, features, weights);
  const width = pre.width;
  const encoded = pre.transform(x);

  // Training and validation rows.
  let trainIdx: Int32Array;
  let valX: Float32Array;
  let valY: Float32Array;
  let valW: Float64Array | undefined;
  let valRows: number;
  if (opts.validation) {
    const v = opts.validation;
    checkColumns(v.x, features);
    checkLabels(v.y, v.x.rows, 'validation labels');
    if (v.x.rows === 0) throw new ModelError(`${KIND}: validation set has no rows`);
    trainIdx = Int32Array.from({ length: n }, (_, i) => i);
    valX = pre.transform(v.x);
    valY = Float32Array.from(v.y);
    valRows = v.x.rows;
  } else {
    const order = permutation(n, createRng(seed, STREAM_HOLDOUT));
    valRows = Math.max(1, Math.round(n * HOLDOUT_SHARE));
    const held = order.slice(0, valRows).sort();
    trainIdx = order.slice(valRows).sort();
    valX = new Float32Array(valRows * width);
    valY = new Float32Array(valRows);
    valW = weights ? new Float64Array(valRows) : undefined;
    held.forEach((r, i) => {
      valX.set(encoded.subarray(r * width, (r + 1) * width), i * width);
      valY[i] = y[r]!;
      if (valW && weights) valW[i] = weights[r]!;
    });
  }
  const nTrain = trainIdx.length;

  // Network variables: seeded Glorot-uniform kernels (one derived seed per layer), zero biases.
  const dims = [width, ...params.hidden, 1];
  const vars = dims.slice(1).map((units, l) => {
    const layerSeed = createRng(seed, STREAM_INIT + l).int(0, 2 ** 31 - 1);
    const init = tf.initializers.glorotUniform({ seed: layerSeed }).apply([dims[l]!, units]) as tf.Tensor2D;
    const kernel = tf.variable(init, true);
    init.dispose();
    const zeros = tf.zeros([units]) as tf.Tensor1D;
    const bias = tf.variable(zeros, true);
    zeros.dispose();
    return { kernel: kernel as tf.Variable<tf.Rank.R2>, bias: bias as tf.Variable<tf.Rank.R1> };
  });
  const trainable = vars.flatMap((v) => [v.kernel, v.bias]);
  const optimizer = tf.train.adam(params.learningRate);

  const shuffleRng = createRng(seed, STREAM_SHUFFLE);
  const dropRng = createRng(seed, STREAM_DROPOUT);
  const keep = 1 - params.dropout;
  const bs = params.batchSize;
  const xb = new Float32Array(bs * width);
  const yb = new Float32Array(bs);
  const wb = new Float32Array(bs);

  let best: { epoch: number; valLoss: number; trainLoss: number; weights: DenseWeights[] } | undefined;
  let sinceBest = 0;
  let epochsRun = 0;
  try {
    for (let epoch = 1; epoch <= params.epochs; epoch++) {
      shuffleInPlace(trainIdx, shuffleRng);
      let lossSum = 0;
      let weightSum = 0;
      for (let s = 0; s < nTrain; s += bs) {
        const m = Math.min(bs, nTrain - s);
        let wsum = 0;
        for (let i = 0; i < m; i++) {
          const r = trainIdx[s + i]!;
          xb.set(encoded.subarray(r * width, (r + 1) * width), i * width);
          yb[i] = y[r]!;
          const w = weights ? weights[r]! : 1;
          wb[i] = w;
          wsum += w;
        }
        if (wsum === 0) continue;
        const masks =
          params.dropout > 0
            ? params.hidden.map((u) => {
                const a = new Float32Array(m * u);
                for (let k = 0; k < a.length; k++) a[k] = dropRng.next() < keep ? 1 / keep : 0;
                return a;
              })
            : undefined;
        const batchLoss = tf.tidy(() => {
          const xt = tf.tensor2d(xb.subarray(0, m * width), [m, width]);
          const yt = tf.tensor1d(yb.subarray(0, m));
          const wt = weights ? tf.tensor1d(wb.subarray(0, m)) : undefined;
          const mt = masks?.map((a, l) => tf.tensor2d(a, [m, params.hidden[l]!]));
          let dataLoss: tf.Scalar | undefined;
          optimizer.minimize(
            () => {
              const z = forward(xt, vars, mt);
              // Stable log-loss on logits: max(z, 0) − z·y + log(1 + e^−|z|).
              const per = tf.add(tf.sub(tf.relu(z), tf.mul(z, yt)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
              const dl = wt ? tf.div(tf.sum(tf.mul(per, wt)), wsum) : tf.mean(per);
              dataLoss = tf.keep(dl as tf.Scalar);
              if (params.l2 === 0) return dl as tf.Scalar;
              const penalty = tf.addN(vars.map((v) => tf.sum(tf.square(v.kernel))));
              return tf.add(dl, tf.mul(penalty, params.l2)) as tf.Scalar;
            },
            false,
            trainable,
          );
          return dataLoss!;
        });
        lossSum += batchLoss.dataSync()[0]! * wsum;
        weightSum += wsum;
        batchLoss.dispose();
      }
      epochsRun = epoch;
      const trainLoss = weightSum > 0 ? lossSum / weightSum : Number.NaN;
      const valZ = logitsOf(valX, valRows, width, vars);
      const valLoss = logLoss(valZ, valY, valW);
      opts.onProgress?.({
        step: 'epoch',
        done: epoch,
        total: params.epochs,
        detail: { loss: trainLoss, valLoss },
      });
      if (Number.isFinite(valLoss) && (best === undefined || valLoss < best.valLoss)) {
        best = {
          epoch,
          valLoss,
          trainLoss,
          weights: vars.map((v, l) => ({
            kernel: Float32Array.from(v.kernel.dataSync() as Float32Array),
            bias: Float32Array.from(v.bias.dataSync() as Float32Array),
            inputs: dims[l]!,
            units: dims[l + 1]!,
          })),
        };
        sinceBest = 0;
      } else if (++sinceBest >= params.patience) break;
    }
  } finally {
    for (const v of trainable) v.dispose();
    optimizer.dispose();
  }

  if (!best || best.weights.some((w) => !w.kernel.every(Number.isFinite) || !w.bias.every(Number.isFinite))) {
    throw new ModelError(
      `${KIND}: training diverged (no finite validation log-loss); lower 'learningRate' (now ${params.learningRate})`,
    );
  }
  const model = new MlpModel({
    features: features.map(copyFeature),
    params,
    preprocessor: pre,
    seed,
    weights: best.weights,
    training: {
      epochs: epochsRun,
      bestEpoch: best.epoch,
      trainLoss: best.trainLoss,
      valLoss: best.valLoss,
      validation: opts.validation ? 'given' : 'holdout',
      validationRows: valRows,
      trainRows: nTrain,
    },
  });

  // Importance: mean |occlusion contribution| over a seeded sample of training rows, stored in the JSON.
  const sampleRows = Math.min(IMPORTANCE_ROWS, n);
  const sample = permutation(n, createRng(seed, STREAM_IMPORTANCE)).slice(0, sampleRows).sort();
  const sampled = new Float32Array(sampleRows * width);
  sample.forEach((r, i) => {
    sampled.set(encoded.subarray(r * width, (r + 1) * width), i * width);
  });
  const occ = model.occlusion(sampled, sampleRows);
  const f = features.length;
  const values = features.map((feat, k) => {
    let sum = 0;
    for (let i = 0; i < sampleRows; i++) sum += Math.abs(occ[i * f + k]!);
    return { feature: feat.name, contribution: sum / sampleRows };
  });
  model.setImportance(byMagnitude(values), sampleRows);
  return model;
}

// ---------------------------------------------------------------------------------------------------------
// Strict loading

const finiteNumber = z.number({ error: 'must be a finite number' });
const tensorSchema = z.strictObject({
  shape: z.array(z.number().int().nonnegative()),
  values: z.array(finiteNumber),
});
const featureSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['numeric', 'categorical']),
  categories: z.array(z.string()).optional(),
  monotone: z.union([z.literal(-1), z.literal(0), z.literal(1)]).optional(),
});
const stateSchema = z.strictObject({
  seed: z.number().int(),
  activation: z.literal('relu'),
  preprocessor: z.unknown(),
  layers: z.array(z.strictObject({ kernel: tensorSchema, bias: tensorSchema })),
  training: z.strictObject({
    epochs: z.number().int().min(1),
    bestEpoch: z.number().int().min(1),
    trainLoss: finiteNumber,
    valLoss: finiteNumber,
    validation: z.enum(['given', 'holdout']),
    validationRows: z.number().int().min(1),
    trainRows: z.number().int().min(1),
  }),
  importance: z.strictObject({
    measure: z.string(),
    rows: z.number().int().nonnegative(),
    values: z.array(z.strictObject({ feature: z.string(), contribution: finiteNumber })),
  }),
});

function zodProblem(prefix: string, error: z.ZodError): ModelError {
  const issues = error.issues;
  const first = issues[0]!;
  const where = [prefix, ...first.path.map(String)].join('.');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem(s))` : '';
  return new ModelError(`${KIND}: ${where}: ${first.message}${more}`);
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

async function loadMlp(json: ModelJson): Promise<MlpModel> {
  if (typeof json !== 'object' || json === null)
    throw new ModelError(`${KIND}: model JSON must be an object`);
  if (json.kind !== KIND) {
    const kind = typeof json.kind === 'string' ? `'${json.kind}'` : show(json.kind);
    throw new ModelError(`${KIND}: cannot load a model of kind ${kind}`);
  }
  if (json.format !== FORMAT) {
    throw new ModelError(
      `${KIND}: unknown format ${show(json.format)} (this version reads format ${FORMAT})`,
    );
  }
  const params = parseMlpParams(json.params);
  const features = z.array(featureSchema).safeParse(json.features);
  if (!features.success) throw zodProblem('features', features.error);
  const parsed = stateSchema.safeParse(json.state);
  if (!parsed.success) throw zodProblem('state', parsed.error);
  const state = parsed.data;
  const feats = features.data as FeatureInfo[];
  const pre = loadPreprocessor(state.preprocessor, 'state.preprocessor');

  const cols = (pre.toJSON() as PreprocessorJson).columns;
  if (cols.length !== feats.length) {
    throw new ModelError(
      `${KIND}: state.preprocessor has ${cols.length} columns for ${feats.length} features`,
    );
  }
  feats.forEach((f, j) => {
    const c = cols[j]!;
    if (c.name !== f.name || c.type !== f.type) {
      throw new ModelError(
        `${KIND}: state.preprocessor column ${j} is '${c.name}' (${c.type}) but features[${j}] is '${f.name}' (${f.type})`,
      );
    }
  });

  const dims = [pre.width, ...params.hidden, 1];
  if (state.layers.length !== dims.length - 1) {
    throw new ModelError(
      `${KIND}: state.layers has ${state.layers.length} layers, expected ${dims.length - 1} (hidden ${show(params.hidden)} + output)`,
    );
  }
  const weights = state.layers.map((l, i): DenseWeights => {
    const inputs = dims[i]!;
    const units = dims[i + 1]!;
    for (const [part, t, shape] of [
      ['kernel', l.kernel, [inputs, units]],
      ['bias', l.bias, [units]],
    ] as const) {
      if (!sameShape(t.shape, shape)) {
        throw new ModelError(
          `${KIND}: state.layers.${i}.${part}.shape must be ${show(shape)}, got ${show(t.shape)}`,
        );
      }
      const size = shape.reduce((a, b) => a * b, 1);
      if (t.values.length !== size) {
        throw new ModelError(
          `${KIND}: state.layers.${i}.${part}.values has ${t.values.length} values, expected ${size}`,
        );
      }
    }
    return {
      kernel: Float32Array.from(l.kernel.values),
      bias: Float32Array.from(l.bias.values),
      inputs,
      units,
    };
  });

  const names = new Set(feats.map((f) => f.name));
  const imp = state.importance.values;
  if (imp.length !== feats.length || !imp.every((c) => names.has(c.feature))) {
    throw new ModelError(`${KIND}: state.importance.values must have one entry per feature`);
  }

  await ensureTfBackend();
  const model = new MlpModel({
    features: feats.map(copyFeature),
    params,
    preprocessor: pre,
    seed: state.seed,
    weights,
    training: { ...state.training },
  });
  model.setImportance(
    imp.map((c) => ({ ...c })),
    state.importance.rows,
  );
  return model;
}

/**
 * The `mlp` model kind. `fit` needs the wasm TensorFlow.js backend (see tf-backend.ts) and throws
 * ModelError on bad params or data; `load` is strict (kind, format, params, shapes, finite values).
 */
export const mlpKind: ModelKind<MlpParams, FittedMlp> = {
  name: KIND,
  parseParams: parseMlpParams,
  fit: fitMlp,
  load: loadMlp,
};
