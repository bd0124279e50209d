import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type FeatureInfo,
  type Labels,
  logit,
  type Matrix,
  ModelError,
  type ModelJson,
  matrix,
  SchemaMismatchError,
} from '../src/core/models/contract.ts';
import { type FittedMlp, MLP_DEFAULTS, mlpKind } from '../src/core/models/mlp.ts';
import { fitPreprocessor, loadPreprocessor } from '../src/core/models/preprocess.ts';
import { ensureTfBackend } from '../src/core/models/tf-backend.ts';
import { createRng } from '../src/core/random.ts';

const FEATURES: FeatureInfo[] = [
  { name: 'x1', type: 'numeric' },
  { name: 'x2', type: 'numeric' },
  { name: 'x3', type: 'numeric' },
  { name: 'noise', type: 'numeric' },
  { name: 'region', type: 'categorical', categories: ['north', 'south', 'east'] },
];

/**
 * y ~ Bernoulli(sigmoid(2·x1·x2 + sin(x3) + 0.5·[region = east])); `noise` is irrelevant and 10% missing,
 * region 5% missing. Returns the true probabilities too.
 */
function world(n: number, seed: number): { x: Matrix; y: Labels; p: Float64Array } {
  const rng = createRng(seed);
  const cols = FEATURES.length;
  const data = new Float64Array(n * cols);
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = rng.normal();
    const x2 = rng.normal();
    const x3 = 2 * rng.normal();
    const noise = rng.normal();
    const region = rng.int(0, 2);
    p[i] = 1 / (1 + Math.exp(-(2 * x1 * x2 + Math.sin(x3) + (region === 2 ? 0.5 : 0))));
    y[i] = rng.bernoulli(p[i]!) ? 1 : 0;
    data.set(
      [x1, x2, x3, rng.bernoulli(0.1) ? Number.NaN : noise, rng.bernoulli(0.05) ? Number.NaN : region],
      i * cols,
    );
  }
  return { x: matrix(data, n, cols), y, p };
}

/** Rank AUC (Mann–Whitney), ties counted half. */
function auc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && score[idx[j + 1]!] === score[idx[i]!]) j++;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) {
        rankSum += (i + j) / 2 + 1;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

const SMALL = mlpKind.parseParams({ hidden: [8, 4], epochs: 4, batchSize: 128 });

async function fitSmall(seed: number, extra: Partial<typeof SMALL> = {}): Promise<FittedMlp> {
  const { x, y } = world(2000, 3);
  return mlpKind.fit(x, y, { seed, params: { ...SMALL, ...extra }, features: FEATURES });
}

interface TensorJson {
  shape: number[];
  values: number[];
}
/** The parts of an mlp JSON the strict-load cases spoil. */
type MlpJson = ModelJson & {
  params: { hidden: number[] };
  state: { layers?: { kernel: TensorJson; bias: TensorJson }[] };
};

const reload = (m: FittedMlp) => JSON.parse(JSON.stringify(m.toJSON())) as MlpJson;

describe('mlp params', () => {
  it('fills defaults', () => {
    expect(mlpKind.parseParams(undefined)).toEqual(MLP_DEFAULTS);
    expect(mlpKind.parseParams({ hidden: [64] }).hidden).toEqual([64]);
    expect(MLP_DEFAULTS).toEqual({
      hidden: [32, 16],
      learningRate: 0.003,
      epochs: 60,
      batchSize: 512,
      patience: 6,
      l2: 1e-4,
      dropout: 0,
    });
  });

  it('names the field, the allowed values and what came', () => {
    expect(() => mlpKind.parseParams({ hidden: [0] })).toThrow(
      new ModelError("mlp: 'hidden' must be a list of 1–4 integers in [1, 512], got [0]"),
    );
    expect(() => mlpKind.parseParams({ dropout: 1, lr: 0.1 })).toThrow(
      new ModelError(
        "mlp: unknown parameter 'lr' (allowed: hidden, learningRate, epochs, batchSize, patience, l2, dropout); " +
          "'dropout' must be a number in [0, 0.9], got 1",
      ),
    );
    expect(() => mlpKind.parseParams({ epochs: 2.5 })).toThrow(
      /'epochs' must be an integer in \[1, 10000\], got 2.5/,
    );
    expect(() => mlpKind.parseParams('fast')).toThrow(ModelError);
  });
});

describe('preprocessor', () => {
  const feats: FeatureInfo[] = [
    { name: 'income', type: 'numeric' },
    { name: 'age', type: 'numeric' },
    { name: 'region', type: 'categorical', categories: ['n', 's', 'e'] },
  ];
  const nan = Number.NaN;
  // income has a missing value, age is constant, region code 1 never occurs and one region is missing.
  const x = matrix(Float64Array.from([1, 40, 0, 3, 40, 2, nan, 40, nan, 5, 40, 0]), 4, 3);

  it('standardises, one-hot encodes and adds indicators only where training had missing values', () => {
    const pre = fitPreprocessor(x, feats);
    expect(pre.inputNames).toEqual([
      'income',
      'income:missing',
      'age',
      'region=n',
      'region=e',
      'region:missing',
    ]);
    expect(pre.blocks).toEqual([
      { feature: 'income', start: 0, end: 2 },
      { feature: 'age', start: 2, end: 3 },
      { feature: 'region', start: 3, end: 6 },
    ]);
    const sd = Math.sqrt(8 / 3);
    const t = pre.transform(matrix(Float64Array.from([5, 41, 1, nan, nan, 2]), 2, 3));
    // Unseen code 1 is treated as missing; constant age has sd 1.
    expect(Array.from(t)).toEqual([2 / sd, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0].map((v) => Math.fround(v)));
    expect(Array.from(pre.baseline())).toEqual([0, 0, 0, 0.5, 0.25, 0]);
    expect(JSON.stringify(loadPreprocessor(JSON.parse(JSON.stringify(pre.toJSON()))).toJSON())).toBe(
      JSON.stringify(pre.toJSON()),
    );
  });

  it('weights means, sds and frequencies by row weight', () => {
    const pre = fitPreprocessor(x, feats, [1, 3, 1, 0]);
    const cols = pre.toJSON().columns;
    // income: values 1 (w 1) and 3 (w 3) → mean 2.5, var (1·2.25 + 3·0.25) / 4 = 0.75.
    expect(cols[0]).toMatchObject({ mean: 2.5, missingIndicator: true });
    expect((cols[0] as { sd: number }).sd).toBeCloseTo(Math.sqrt(0.75), 12);
    expect(cols[2]).toMatchObject({ codes: [0, 2], frequencies: [0.2, 0.6], missingIndicator: true });
  });

  it('refuses bad training codes and bad JSON', () => {
    expect(() => fitPreprocessor(matrix(Float64Array.from([1, 40, 3]), 1, 3), feats)).toThrow(
      new ModelError(
        "preprocess: categorical feature 'region' must be an integer code in [0, 2] or NaN, got 3 at row 0",
      ),
    );
    expect(() => fitPreprocessor(x, feats.slice(1))).toThrow(SchemaMismatchError);
    const json = fitPreprocessor(x, feats).toJSON();
    json.columns[0] = { ...json.columns[0]!, sd: 0 } as (typeof json.columns)[0];
    expect(() => loadPreprocessor(json, 'state.preprocessor')).toThrow(
      new ModelError('preprocess: state.preprocessor.columns.0.sd: must be > 0'),
    );
  });
});

describe('mlp kind', () => {
  let small: FittedMlp;
  beforeAll(async () => {
    small = await fitSmall(42);
  });

  it('learns a nonlinear truth: AUC within 0.02 of the true-probability AUC', async () => {
    const train = world(20_000, 1);
    const test = world(10_000, 2);
    const events: { done: number; valLoss: number }[] = [];
    const m = await mlpKind.fit(train.x, train.y, {
      seed: 7,
      params: mlpKind.parseParams({}),
      features: FEATURES,
      onProgress: (p) => {
        expect(p.step).toBe('epoch');
        events.push({ done: p.done, valLoss: p.detail!.valLoss! });
      },
    });
    const model = auc(m.predictProba(test.x), test.y);
    const truth = auc(test.p, test.y);
    expect(truth - model).toBeLessThan(0.02);
    // Early stopping kept the best validation epoch.
    expect(events.length).toBe(m.training.epochs);
    const best = events.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(m.training.bestEpoch).toBe(best.done);
    expect(m.training.valLoss).toBe(best.valLoss);
    expect(m.training.validation).toBe('holdout');
    expect(m.training.validationRows).toBe(2000);
    // The interaction features matter most; the noise feature least.
    const imp = m.importance().map((c) => c.feature);
    expect(imp.slice(0, 2).sort()).toEqual(['x1', 'x2']);
    expect(imp.at(-1)).toBe('noise');
  });

  it('is deterministic: same data and seed give byte-identical JSON, another seed does not', async () => {
    const { x, y } = world(2000, 3);
    const weights = Float64Array.from({ length: 2000 }, (_, i) => 1 + (i % 3));
    const opts = { params: { ...SMALL, dropout: 0.2 }, features: FEATURES, weights };
    const a = JSON.stringify((await mlpKind.fit(x, y, { ...opts, seed: 5 })).toJSON());
    const b = JSON.stringify((await mlpKind.fit(x, y, { ...opts, seed: 5 })).toJSON());
    const c = JSON.stringify((await mlpKind.fit(x, y, { ...opts, seed: 6 })).toJSON());
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(JSON.stringify((await fitSmall(42)).toJSON())).toBe(JSON.stringify(small.toJSON()));
  });

  it('uses a given validation set for early stopping', async () => {
    const { x, y } = world(2000, 3);
    const v = world(500, 4);
    const before = tf.memory().numTensors;
    const m = await mlpKind.fit(x, y, { seed: 1, params: SMALL, features: FEATURES, validation: v });
    // Only the fitted model's 3 kernels and 3 biases stay alive.
    expect(tf.memory().numTensors).toBe(before + 6);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(m.training).toMatchObject({ validation: 'given', validationRows: 500, trainRows: 2000 });
  });

  it('round-trips through JSON with identical predictions, explanations and importance', async () => {
    const json = reload(small);
    const loaded = await mlpKind.load(json);
    const { x } = world(300, 9);
    expect(loaded.predictProba(x)).toEqual(small.predictProba(x));
    expect(loaded.explain(x, 3)).toEqual(small.explain(x, 3));
    expect(loaded.importance()).toEqual(small.importance());
    expect(JSON.stringify(loaded.toJSON())).toBe(JSON.stringify(json));
    expect(json.state).toMatchObject({ seed: 42, activation: 'relu' });
    loaded.dispose();
    expect(() => loaded.predictProba(x)).toThrow(new ModelError('mlp: model has been disposed'));
  });

  it('gives finite probabilities for missing and unseen inputs', () => {
    const nan = Number.NaN;
    const x = matrix(Float64Array.from([nan, nan, nan, nan, nan, 1e6, -1e6, nan, 0, 7]), 2, 5);
    const p = small.predictProba(x);
    for (const v of p) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(small.explain(x, 0).every((c) => Number.isFinite(c.contribution))).toBe(true);
  });

  it('explains by occlusion on the log-odds scale, largest first', () => {
    const { x } = world(5, 11);
    const e = small.explain(x, 2);
    expect(e.map((c) => c.feature).sort()).toEqual(FEATURES.map((f) => f.name).sort());
    for (let k = 1; k < e.length; k++) {
      expect(Math.abs(e[k - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(e[k]!.contribution));
    }
    // x1 has no missing values in training, so occluding it = setting it to its training mean.
    const mean = (small.preprocessor.toJSON().columns[0] as { mean: number }).mean;
    const row = x.data.slice(2 * 5, 3 * 5);
    const occluded = row.slice();
    occluded[0] = mean;
    const [p, q] = small.predictProba(matrix(Float64Array.from([...row, ...occluded]), 2, 5));
    const x1 = e.find((c) => c.feature === 'x1')!.contribution;
    expect(x1).toBeCloseTo(logit(p!) - logit(q!), 5);
    expect(small.importanceMeasure).toMatch(/occlusion/);
    expect(small.importance().every((c) => c.contribution >= 0)).toBe(true);
  });

  it('refuses a wrong column count', () => {
    const x = matrix(new Float64Array(8), 2, 4);
    expect(() => small.predictProba(x)).toThrow(SchemaMismatchError);
    expect(() => small.predictProba(x)).toThrow(
      'expected 5 feature columns (x1, x2, x3, noise, region), got 4',
    );
    expect(() => small.explain(x, 0)).toThrow(SchemaMismatchError);
    expect(() => small.explain(world(2, 1).x, 2)).toThrow(
      new ModelError('mlp: explain row must be an integer in [0, 1], got 2'),
    );
  });

  it('refuses bad training input with a ModelError', async () => {
    const { x, y } = world(50, 3);
    const opts = { seed: 1, params: SMALL, features: FEATURES };
    await expect(mlpKind.fit(x, new Uint8Array(50), opts)).rejects.toThrow(
      new ModelError('mlp: labels must contain both classes, got 0 positives in 50 rows'),
    );
    await expect(mlpKind.fit(x, y, { ...opts, seed: 1.5 })).rejects.toThrow(/seed must be an integer/);
    await expect(mlpKind.fit(x, y, { ...opts, features: FEATURES.slice(1) })).rejects.toThrow(
      SchemaMismatchError,
    );
  });

  it('loads strictly, naming what is wrong', async () => {
    const cases: [string, (j: MlpJson) => void, string][] = [
      ['wrong kind', (j) => (j.kind = 'logistic'), "mlp: cannot load a model of kind 'logistic'"],
      ['unknown format', (j) => (j.format = 2), 'mlp: unknown format 2 (this version reads format 1)'],
      [
        'bad params',
        (j) => (j.params.hidden = [8, 0]),
        "mlp: 'hidden' must be a list of 1–4 integers in [1, 512], got [8, 0]",
      ],
      [
        'params that do not match the layers',
        (j) => (j.params.hidden = [8]),
        'mlp: state.layers has 3 layers, expected 2 (hidden [8] + output)',
      ],
      [
        'wrong kernel shape',
        (j) => (j.state.layers![1]!.kernel.shape = [4, 8]),
        'mlp: state.layers.1.kernel.shape must be [8, 4], got [4, 8]',
      ],
      [
        'wrong value count',
        (j) => j.state.layers![2]!.bias.values.push(0.5),
        'mlp: state.layers.2.bias.values has 2 values, expected 1',
      ],
      [
        'non-finite weight',
        (j) => (j.state.layers![0]!.kernel.values[3] = Number.NaN),
        'mlp: state.layers.0.kernel.values.3: must be a finite number',
      ],
      ['missing state', (j) => delete j.state.layers, 'mlp: state.layers:'],
      [
        'features that do not match the preprocessor',
        (j) => (j.features[1]!.name = 'x9'),
        "mlp: state.preprocessor column 1 is 'x2' (numeric) but features[1] is 'x9' (numeric)",
      ],
    ];
    for (const [what, spoil, message] of cases) {
      const json = reload(small);
      spoil(json);
      const err = await mlpKind.load(json).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(ModelError);
      expect((err as Error).message, what).toContain(message);
    }
  });

  it('does not leak tensors across predictions and explanations', () => {
    const { x } = world(5000, 12);
    small.predictProba(x);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      small.predictProba(x);
      small.explain(x, i);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs on the wasm backend and keeps it across calls', async () => {
    await ensureTfBackend();
    await ensureTfBackend();
    expect(tf.getBackend()).toBe('wasm');
  });
});
