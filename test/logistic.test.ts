import { describe, expect, it } from 'vitest';
import {
  type FeatureInfo,
  type Labels,
  type Matrix,
  ModelError,
  type ModelJson,
  matrix,
  SchemaMismatchError,
  sigmoid,
} from '../src/core/models/contract.ts';
import {
  type FittedLogistic,
  fitIrls,
  type LogisticParams,
  logisticKind,
} from '../src/core/models/logistic.ts';
import { simulate } from './helpers/simulate.ts';

/** Rows drawn column by column: `draw(rng, row)` returns one row of inputs; truth gives its log-odds. */
const params = (over: Partial<LogisticParams> = {}): LogisticParams => logisticKind.parseParams(over);

function fitLogistic(
  x: Matrix,
  y: Labels,
  features: FeatureInfo[],
  over: Partial<LogisticParams> = {},
  weights?: Float64Array,
) {
  return logisticKind.fit(x, y, { seed: 7, params: params(over), features, ...(weights ? { weights } : {}) });
}

const num = (name: string): FeatureInfo => ({ name, type: 'numeric' });

describe('logistic params', () => {
  it('fills the defaults', () => {
    expect(logisticKind.parseParams(undefined)).toEqual({ l2: 1, maxIter: 50, tol: 1e-8 });
    expect(logisticKind.parseParams({ l2: 0.5 })).toEqual({ l2: 0.5, maxIter: 50, tol: 1e-8 });
  });

  it('names the field, what is allowed and what came', () => {
    expect(() => logisticKind.parseParams({ l2: -1 })).toThrow(
      new ModelError("logistic: 'l2' must be a number >= 0, got -1"),
    );
    expect(() => logisticKind.parseParams({ maxIter: 2.5, tol: 'x' })).toThrow(
      "logistic: 'maxIter' must be an integer in [1, 10000], got 2.5; 'tol' must be a number in (0, 1], got 'x'",
    );
    expect(() => logisticKind.parseParams({ l1: 1 })).toThrow(
      "logistic: unknown parameter(s) 'l1'; allowed: l2, maxIter, tol",
    );
    expect(() => logisticKind.parseParams(3)).toThrow('logistic: params must be an object, got 3');
  });
});

describe('logistic fit', () => {
  it('recovers known coefficients (numeric on the raw scale, one-hot level differences)', async () => {
    const truth = { b0: -0.5, b1: 0.8, b2: -0.4, b3: 0.15, level: [0, 0.5, -0.5] };
    const { x, y } = simulate(
      11,
      40_000,
      (r) => [r.normal(), 5 + 2 * r.normal(), 10 * r.next(), r.int(0, 2)],
      ([a, b, c, k]) => truth.b0 + truth.b1 * a! + truth.b2 * b! + truth.b3 * c! + truth.level[k!]!,
    );
    const m = await fitLogistic(
      x,
      y,
      [num('a'), num('b'), num('c'), { name: 'k', type: 'categorical', categories: ['u', 'v', 'w'] }],
      { l2: 1e-6 },
    );
    expect(m.state.converged).toBe(true);
    const { intercept, terms } = m.coefficients();
    const coef = (feature: string, column: string) =>
      terms.find((t) => t.feature === feature && t.column === column)!.coef;
    // Tolerances are ~4 standard errors at n = 40k (SE ≈ 0.011, 0.006, 0.004 for the slopes, 0.03 for levels).
    expect(Math.abs(coef('a', 'value') - truth.b1)).toBeLessThan(0.045);
    expect(Math.abs(coef('b', 'value') - truth.b2)).toBeLessThan(0.025);
    expect(Math.abs(coef('c', 'value') - truth.b3)).toBeLessThan(0.016);
    expect(Math.abs(coef('k', 'v') - coef('k', 'u') - 0.5)).toBeLessThan(0.12);
    expect(Math.abs(coef('k', 'w') - coef('k', 'u') + 0.5)).toBeLessThan(0.12);
    // The intercept is only identified together with a level (no level dropped).
    expect(Math.abs(intercept + coef('k', 'u') - truth.b0)).toBeLessThan(0.2);
    // No missing values in training: no indicator terms.
    expect(terms.some((t) => t.column === 'missing')).toBe(false);
  });

  it('predicts the group rates exactly for one binary feature without penalty (closed form)', async () => {
    const { x, y } = simulate(
      3,
      2_000,
      (r) => [r.bernoulli(0.3) ? 1 : 0],
      ([a]) => (a === 1 ? 1.2 : -0.3),
    );
    const m = await fitLogistic(x, y, [num('a')], { l2: 0, tol: 1e-14, maxIter: 100 });
    const rate = [0, 0].map((_, g) => {
      let s = 0;
      let c = 0;
      for (let i = 0; i < x.rows; i++) {
        if (x.data[i] === g) {
          s += y[i]!;
          c++;
        }
      }
      return s / c;
    });
    const p = m.predictProba(matrix(Float64Array.of(0, 1), 2, 1));
    expect(Math.abs(p[0]! - rate[0]!)).toBeLessThan(1e-9);
    expect(Math.abs(p[1]! - rate[1]!)).toBeLessThan(1e-9);
  });

  it('gives the fit on rows repeated by integer weights when given those weights', async () => {
    const { x, y } = simulate(
      5,
      600,
      (r) => [r.bernoulli(0.15) ? Number.NaN : r.normal(), r.int(0, 2), 3 * r.normal()],
      ([a, k, b]) => 0.3 + (Number.isNaN(a!) ? 0.7 : 0.9 * a!) + (k === 1 ? -0.6 : 0) + 0.2 * b!,
    );
    const w = Float64Array.from({ length: x.rows }, (_, i) => (i * 7) % 4); // 0, 3, 2, 1, …
    const rep: number[] = [];
    const repY: number[] = [];
    for (let i = 0; i < x.rows; i++) {
      for (let t = 0; t < w[i]!; t++) {
        rep.push(...x.data.subarray(i * x.cols, (i + 1) * x.cols));
        repY.push(y[i]!);
      }
    }
    const features: FeatureInfo[] = [
      num('a'),
      { name: 'k', type: 'categorical', categories: ['p', 'q', 'r'] },
      num('b'),
    ];
    const weighted = await fitLogistic(x, y, features, {}, w);
    const repeated = await fitLogistic(
      matrix(Float64Array.from(rep), repY.length, x.cols),
      Uint8Array.from(repY),
      features,
    );
    const a = weighted.predictProba(x);
    const b = repeated.predictProba(x);
    for (let i = 0; i < x.rows; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-9);
    expect(weighted.state.features[0]!.missingRate).toBeCloseTo(repeated.state.features[0]!.missingRate, 12);
    expect(weighted.state.intercept).toBeCloseTo(repeated.state.intercept, 8);
  });

  it('imputes missing values with an indicator and survives an all-missing column', async () => {
    const { x, y } = simulate(
      9,
      20_000,
      (r) => [r.bernoulli(0.2) ? Number.NaN : r.normal(), Number.NaN, r.normal()],
      ([a, , b]) => 0.5 + (Number.isNaN(a!) ? 0.8 : 1.0 * a!) - 0.5 * b!,
    );
    const m = await fitLogistic(x, y, [num('a'), num('empty'), num('b')]);
    const [sa, sEmpty, sb] = m.state.features;
    expect(sa!.missingCoef).not.toBeNull();
    expect(sa!.missingRate).toBeGreaterThan(0.18);
    expect(sEmpty).toMatchObject({ type: 'numeric', mean: 0, sd: 1, missingRate: 1 });
    expect(sb!.missingCoef).toBeNull();
    // A missing 'a' is scored with its own effect: truth 0.5 + 0.8 at b = 0.
    const p = m.predictProba(matrix(Float64Array.of(Number.NaN, Number.NaN, 0, 0, Number.NaN, 0), 2, 3));
    expect(Math.abs(p[0]! - sigmoid(1.3))).toBeLessThan(0.03);
    expect(Math.abs(p[1]! - sigmoid(0.5))).toBeLessThan(0.03);
    // The all-missing column carries no information: importance 0 and no contribution.
    expect(m.importance().find((c) => c.feature === 'empty')!.contribution).toBe(0);
    expect(m.explain(x, 0).find((c) => c.feature === 'empty')!.contribution).toBe(0);
    // A missing value where training had none is imputed (z = 0) without an indicator.
    const q = m.predictProba(matrix(Float64Array.of(0, 0, Number.NaN), 1, 3));
    expect(Number.isFinite(q[0]!)).toBe(true);
  });

  it('scores an unseen category code like a missing one', async () => {
    const { x, y } = simulate(
      4,
      3_000,
      (r) => [r.bernoulli(0.1) ? Number.NaN : r.int(0, 2)],
      ([k]) => (Number.isNaN(k!) ? 1 : [0, -1, 0.5][k!]!),
    );
    const m = await fitLogistic(x, y, [{ name: 'k', type: 'categorical', categories: ['a', 'b', 'c'] }]);
    const p = m.predictProba(matrix(Float64Array.of(Number.NaN, 7, 1.5), 3, 1));
    expect(p[1]).toBe(p[0]);
    expect(p[2]).toBe(p[0]);
  });

  it('converges on separable data thanks to the penalty', async () => {
    const { x, y } = simulate(
      2,
      1_000,
      (r) => [r.normal()],
      ([a]) => (a! > 0 ? 50 : -50),
    );
    for (const l2 of [1, 1e-6]) {
      const m = await fitLogistic(x, y, [num('a')], { l2 });
      expect(m.state.converged).toBe(true);
      const s = m.state.features[0]!;
      if (s.type !== 'numeric') throw new Error('a is numeric');
      // Without a penalty the slope would run off to infinity; with it the slope is finite and large.
      expect(Number.isFinite(s.coef)).toBe(true);
      expect(s.coef).toBeGreaterThan(5);
      const p = m.predictProba(x);
      let right = 0;
      for (let i = 0; i < x.rows; i++) if (p[i]! > 0.5 === (y[i] === 1)) right++;
      expect(right / x.rows).toBeGreaterThan(0.99);
    }
  });

  it('is deterministic: the same data and seed give byte-identical JSON', async () => {
    const { x, y } = simulate(
      8,
      2_000,
      (r) => [r.normal(), r.int(0, 1)],
      ([a, k]) => a! - k!,
    );
    const features: FeatureInfo[] = [num('a'), { name: 'k', type: 'categorical', categories: ['n', 'y'] }];
    const a = await fitLogistic(x, y, features);
    const b = await fitLogistic(x, y, features);
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect((a.toJSON().state as { seed: number }).seed).toBe(7);
  });

  it('refuses bad labels, weights and a feature list that does not fit the matrix', async () => {
    const x = matrix(Float64Array.of(1, 2, 3), 3, 1);
    await expect(fitLogistic(x, Uint8Array.of(0, 1, 2), [num('a')])).rejects.toThrow(
      'logistic: label of row 2 must be 0 or 1, got 2',
    );
    await expect(fitLogistic(x, Uint8Array.of(1, 1, 1), [num('a')])).rejects.toThrow(/need both classes/);
    await expect(
      fitLogistic(x, Uint8Array.of(0, 1, 1), [num('a')], {}, Float64Array.of(1, -1, 1)),
    ).rejects.toThrow('logistic: weight of row 1 must be a finite number >= 0, got -1');
    await expect(fitLogistic(x, Uint8Array.of(0, 1, 1), [num('a'), num('b')])).rejects.toThrow(
      SchemaMismatchError,
    );
    await expect(
      fitLogistic(x, Uint8Array.of(0, 1, 1), [{ name: 'a', type: 'categorical', categories: ['x', 'y'] }]),
    ).rejects.toThrow("logistic: column 'a' row 1 must be a category code in 0..1 or NaN (missing), got 2");
  });

  it('reports progress per Newton iteration', async () => {
    const { x, y } = simulate(
      1,
      500,
      (r) => [r.normal()],
      ([a]) => a!,
    );
    const seen: number[] = [];
    const m = await logisticKind.fit(x, y, {
      seed: 1,
      params: params(),
      features: [num('a')],
      onProgress: (p) => seen.push(p.done),
    });
    expect(seen).toEqual(Array.from({ length: m.state.iterations }, (_, i) => i + 1));
  });
});

describe('fitted logistic', () => {
  const data = simulate(
    21,
    5_000,
    (r) => [
      r.normal(),
      r.bernoulli(0.1) ? Number.NaN : 2 * r.normal(),
      r.bernoulli(0.05) ? Number.NaN : r.int(0, 3),
    ],
    ([a, b, k]) =>
      0.2 +
      0.9 * a! +
      (Number.isNaN(b!) ? 0.4 : -0.3 * b!) +
      (Number.isNaN(k!) ? 0 : [0, 0.3, -0.2, 0.6][k!]!),
  );
  const features: FeatureInfo[] = [
    num('a'),
    num('b'),
    { name: 'k', type: 'categorical', categories: ['w', 'x', 'y', 'z'], monotone: 0 },
  ];
  const fitted = fitLogistic(data.x, data.y, features);

  it('refuses a matrix with the wrong number of columns', async () => {
    const m = await fitted;
    const bad = matrix(new Float64Array(4), 2, 2);
    expect(() => m.predictProba(bad)).toThrow(SchemaMismatchError);
    expect(() => m.predictProba(bad)).toThrow('expected 3 feature columns (a, b, k), got 2');
    expect(() => m.explain(bad, 0)).toThrow(SchemaMismatchError);
    expect(() => m.explain(data.x, data.x.rows)).toThrow(RangeError);
  });

  it('explains a row as deviations from the average training row, largest first', async () => {
    const m = await fitted;
    const p = m.predictProba(data.x);
    // The average row's log-odds: intercept plus each feature's mean term.
    let base = m.state.intercept;
    for (const s of m.state.features) {
      base += (s.missingCoef ?? 0) * s.missingRate;
      if (s.type === 'categorical') {
        s.levelCoefs.forEach((c, l) => {
          base += c * s.levelFreqs[l]!;
        });
      }
    }
    for (const row of [0, 1, 2, 17, 99]) {
      const c = m.explain(data.x, row);
      expect(c.map((e) => e.feature).sort()).toEqual(['a', 'b', 'k']);
      for (let i = 1; i < c.length; i++) {
        expect(Math.abs(c[i - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(c[i]!.contribution));
      }
      const sum = c.reduce((s, e) => s + e.contribution, 0);
      expect(sum + base).toBeCloseTo(Math.log(p[row]! / (1 - p[row]!)), 9);
    }
  });

  it('ranks importance by |coef| × column SD, and says so', async () => {
    const m = await fitted;
    const imp = m.importance();
    expect(imp[0]!.feature).toBe('a');
    const sa = m.state.features[0]!;
    if (sa.type !== 'numeric') throw new Error('a is numeric');
    expect(imp[0]!.contribution).toBeCloseTo(Math.abs(sa.coef), 12);
    expect(m.importanceMeasure).toMatch(/standard deviation/);
  });

  it('round-trips through JSON with identical predictions', async () => {
    const m = await fitted;
    const json = JSON.parse(JSON.stringify(m.toJSON())) as ModelJson;
    expect(json).toMatchObject({ kind: 'logistic', format: 1, params: { l2: 1, maxIter: 50, tol: 1e-8 } });
    const back = await logisticKind.load(json);
    expect(back.predictProba(data.x)).toEqual(m.predictProba(data.x));
    expect(back.toJSON()).toEqual(json);
  });

  describe('strict load', () => {
    const variant = async (
      edit: (j: { features: FeatureInfo[]; state: FittedLogistic['state'] } & ModelJson) => void,
    ) => {
      const j = structuredClone((await fitted).toJSON()) as Parameters<typeof edit>[0];
      edit(j);
      return logisticKind.load(j);
    };

    it('refuses another kind and an unknown format', async () => {
      await expect(variant((j) => (j.kind = 'scorecard'))).rejects.toThrow(
        new ModelError("logistic: cannot load a model of kind 'scorecard'"),
      );
      await expect(variant((j) => (j.format = 2))).rejects.toThrow(
        'logistic: unknown JSON format 2 (this version reads format 1)',
      );
    });

    it('refuses arrays of the wrong length', async () => {
      await expect(
        variant((j) => {
          const s = j.state.features[2]!;
          if (s.type === 'categorical') s.levelCoefs.pop();
        }),
      ).rejects.toThrow(
        "logistic: state.features[2] ('k'): levelCoefs has 3 and levelFreqs 4 values, expected 4 (one per category)",
      );
      await expect(variant((j) => j.state.features.pop())).rejects.toThrow(
        'logistic: state.features has 2 entries, expected 3 (one per feature)',
      );
    });

    it('refuses non-finite numbers, naming the path', async () => {
      await expect(
        variant((j) => {
          const s = j.state.features[0]!;
          if (s.type === 'numeric') s.coef = Number.NaN;
        }),
      ).rejects.toThrow(/state\.features\[0\]\.coef: .*got NaN/);
      await expect(variant((j) => (j.state.intercept = Number.POSITIVE_INFINITY))).rejects.toThrow(
        /state\.intercept: .*got Infinity/,
      );
    });

    it('refuses unknown keys, bad params and mismatched feature types', async () => {
      await expect(variant((j) => Object.assign(j.state, { extra: 1 }))).rejects.toThrow(/Unrecognized key/);
      await expect(variant((j) => Object.assign(j.params as object, { l2: -1 }))).rejects.toThrow(
        /params\.l2/,
      );
      await expect(variant((j) => (j.features[0]!.type = 'categorical'))).rejects.toThrow(
        "logistic: state.features[0] ('a') is numeric, but the feature is categorical",
      );
    });
  });
});

describe('fitIrls', () => {
  it('matches the closed-form intercept-only fit: logit of the weighted mean', () => {
    const y = Uint8Array.of(1, 0, 0, 1, 1);
    const w = Float64Array.of(1, 2, 0.5, 1, 0);
    const r = fitIrls({ data: new Float64Array(0), rows: 5, cols: 0 }, y, {
      l2: 0,
      maxIter: 50,
      tol: 1e-14,
      weights: w,
    });
    expect(r.intercept).toBeCloseTo(Math.log(2 / 2.5), 12);
    expect(r.coef.length).toBe(0);
  });

  it('refuses a non-finite design value and a singular unpenalised system', () => {
    const y = Uint8Array.of(1, 0, 1, 0);
    expect(() =>
      fitIrls({ data: Float64Array.of(1, Number.NaN, 0, 1), rows: 4, cols: 1 }, y, {
        l2: 0,
        maxIter: 5,
        tol: 1e-8,
      }),
    ).toThrow('IRLS: design value at row 1, column 0 is NaN');
    expect(() =>
      fitIrls({ data: Float64Array.of(1, 1, 1, 1, 1, 1, 1, 1), rows: 4, cols: 2 }, y, {
        l2: 0,
        maxIter: 5,
        tol: 1e-8,
      }),
    ).toThrow(ModelError);
  });
});
