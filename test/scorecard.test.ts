import { describe, expect, it } from 'vitest';
import { auc } from '../src/core/metrics/index.ts';
import { binIndex, type FeatureBinning } from '../src/core/models/binning.ts';
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
import { type ScorecardParams, type ScorecardState, scorecardKind } from '../src/core/models/scorecard.ts';
import type { Rng } from '../src/core/random.ts';
import { simulate } from './helpers/simulate.ts';

const fitCard = (x: Matrix, y: Labels, features: FeatureInfo[], over: Partial<ScorecardParams> = {}) =>
  scorecardKind.fit(x, y, { seed: 3, params: scorecardKind.parseParams(over), features });

const num = (name: string, monotone?: -1 | 0 | 1): FeatureInfo =>
  monotone === undefined ? { name, type: 'numeric' } : { name, type: 'numeric', monotone };

/** Regular bins (all but the trailing missing bin). */
const regular = (b: FeatureBinning) => b.bins.slice(0, -1);

function expectStrictlyMonotone(values: number[], direction: 1 | -1): void {
  for (let i = 1; i < values.length; i++)
    expect(direction * (values[i]! - values[i - 1]!)).toBeGreaterThan(0);
}

describe('scorecard params', () => {
  it('fills the defaults and names bad fields', () => {
    expect(scorecardKind.parseParams(undefined)).toEqual({
      pdo: 20,
      baseScore: 600,
      baseOdds: 50,
      minBinShare: 0.05,
      preBins: 20,
      l2: 1,
      maxIter: 50,
      tol: 1e-8,
    });
    expect(() => scorecardKind.parseParams({ pdo: 0 })).toThrow(
      new ModelError("scorecard: 'pdo' must be a number > 0, got 0"),
    );
    expect(() => scorecardKind.parseParams({ minBinShare: 0.7 })).toThrow(
      "scorecard: 'minBinShare' must be a number in (0, 0.5], got 0.7",
    );
  });
});

describe('scorecard binning', () => {
  it('makes monotone bins of at least minBinShare on monotone data, in the detected direction', async () => {
    const n = 20_000;
    for (const sign of [1, -1] as const) {
      const { x, y } = simulate(
        sign === 1 ? 1 : 2,
        n,
        (r) => [r.normal()],
        ([a]) => sign * 1.2 * a!,
      );
      const m = await fitCard(x, y, [num('a')]);
      const b = m.state.binnings[0]!;
      if (b.type !== 'numeric') throw new Error('numeric expected');
      expect(b.direction).toBe(sign);
      const bins = regular(b);
      expect(bins.length).toBeGreaterThanOrEqual(5);
      expectStrictlyMonotone(
        bins.map((bin) => bin.woe),
        sign,
      );
      expectStrictlyMonotone(
        bins.map((bin) => bin.events / bin.count),
        sign,
      );
      for (const bin of bins) expect(bin.count).toBeGreaterThanOrEqual(0.05 * n);
      expect(bins.reduce((s, bin) => s + bin.count, 0)).toBe(n);
      // No missing values in training: the missing bin is empty and neutral.
      expect(b.bins.at(-1)).toEqual({ count: 0, events: 0, woe: 0 });
    }
  });

  it('follows feature.monotone over the data: the wrong direction collapses to one bin', async () => {
    const { x, y } = simulate(
      4,
      10_000,
      (r) => [r.normal()],
      ([a]) => a!,
    );
    const m = await fitCard(x, y, [num('a', -1)]);
    const b = m.state.binnings[0]!;
    expect(b).toMatchObject({ type: 'numeric', direction: -1, cuts: [] });
    expect(m.pointsTable().map((r) => r.bin)).toEqual(['(-inf, inf)', 'missing']);
  });

  it('gives missing values a bin of their own, neutral when smaller than minBinShare', async () => {
    for (const [missShare, neutral] of [
      [0.12, false],
      [0.02, true],
    ] as const) {
      const { x, y } = simulate(
        5,
        20_000,
        (r) => [r.bernoulli(missShare) ? Number.NaN : r.normal()],
        ([a]) => (Number.isNaN(a!) ? 1.5 : 0.8 * a!),
      );
      const m = await fitCard(x, y, [num('a')]);
      const miss = m.state.binnings[0]!.bins.at(-1)!;
      expect(miss.count / x.rows).toBeCloseTo(missShare, 1);
      if (neutral) expect(miss.woe).toBe(0);
      else {
        // Own counts: ln((e + .5)/(ne + .5)) − ln(E/NE).
        let e = 0;
        for (let i = 0; i < x.rows; i++) e += y[i]!;
        const expected =
          Math.log((miss.events + 0.5) / (miss.count - miss.events + 0.5)) - Math.log(e / (x.rows - e));
        expect(miss.woe).toBeCloseTo(expected, 12);
        expect(miss.woe).toBeGreaterThan(0.5);
      }
      const table = m.pointsTable();
      expect(table.at(-1)).toMatchObject({ feature: 'a', bin: 'missing', woe: miss.woe });
    }
  });

  it('pools rare categories into "other" and scores unseen codes there (or as missing without "other")', async () => {
    const cats = ['card', 'bnpl', 'cash', 'crypto'];
    const { x, y } = simulate(
      6,
      10_000,
      (r) => [r.categorical([0.5, 0.3, 0.18, 0.02]), r.int(0, 1)],
      ([k, j]) => [0.5, -0.5, 0, 1][k!]! + (j === 1 ? 0.4 : -0.4),
    );
    const m = await fitCard(x, y, [
      { name: 'k', type: 'categorical', categories: cats },
      { name: 'j', type: 'categorical', categories: ['no', 'yes'] },
    ]);
    const labels = (f: string) =>
      m
        .pointsTable()
        .filter((r) => r.feature === f)
        .map((r) => r.bin);
    expect(labels('k')).toEqual(['card', 'bnpl', 'cash', 'other', 'missing']);
    expect(labels('j')).toEqual(['no', 'yes', 'missing']);
    // 'crypto' (2% < minBinShare) makes up "other", which is therefore scored neutral.
    expect(m.pointsTable().find((r) => r.feature === 'k' && r.bin === 'other')).toMatchObject({ woe: 0 });
    const s = m.scores(matrix(Float64Array.of(3, 0, 9, 0, 0, 0, 0, 9, 0, Number.NaN), 5, 2));
    expect(s[1]).toBe(s[0]); // unseen code 9 of k → "other", like 'crypto'
    expect(s[2]).not.toBe(s[0]); // 'card' has a bin of its own
    expect(s[3]).toBe(s[4]); // unseen code 9 of j (no "other" bin) → missing
  });

  it('puts values outside the training range in the end bins', async () => {
    const { x, y } = simulate(
      7,
      5_000,
      (r) => [r.normal()],
      ([a]) => a!,
    );
    const m = await fitCard(x, y, [num('a')]);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of x.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const s = m.scores(matrix(Float64Array.of(-1e9, lo, hi, 1e9), 4, 1));
    expect(s[0]).toBe(s[1]);
    expect(s[3]).toBe(s[2]);
  });
});

describe('fitted scorecard', () => {
  // A monotone but nonlinear truth, with missing values that carry their own effect and a categorical.
  const truth = (r: number[]) => {
    const [a, b, k] = r;
    const fa = Number.isNaN(a!) ? -0.5 : 2 * Math.tanh(1.5 * a!);
    return 0.3 + fa - 3 * b! * b! + [0.6, 0, -0.4, 0.2][k!]!;
  };
  const draw = (r: Rng) => [r.bernoulli(0.1) ? Number.NaN : r.normal(), r.next(), r.int(0, 3)];
  const features: FeatureInfo[] = [
    num('a'),
    num('b'),
    { name: 'k', type: 'categorical', categories: ['p', 'q', 'r', 's'] },
  ];
  const train = simulate(31, 20_000, draw, truth);
  const test = simulate(32, 20_000, draw, truth);
  const fitted = fitCard(train.x, train.y, features);

  it('ranks nearly as well as the true probabilities on new data', async () => {
    const m = await fitted;
    const model = auc(m.predictProba(test.x), test.y);
    const oracle = auc(test.p, test.y);
    expect(Math.abs(model - oracle)).toBeLessThan(0.02);
    // The scores rank exactly like the probabilities.
    expect(auc(m.scores(test.x), test.y)).toBeCloseTo(model, 12);
  });

  it('turns points back into the model probability: sigmoid((score − offset) / factor)', async () => {
    const m = await fitted;
    const factor = 20 / Math.LN2;
    expect(m.scaling.factor).toBeCloseTo(factor, 12);
    expect(m.scaling.offset).toBeCloseTo(600 - factor * Math.log(50), 12);
    const p = m.predictProba(test.x);
    const s = m.scores(test.x);
    // The underlying logistic model, recomputed from the stored state.
    const { intercept, coef, binnings } = m.state;
    for (let i = 0; i < 2_000; i++) {
      let eta = intercept;
      binnings.forEach((b, j) => {
        eta += coef[j]! * b.bins[binIndex(b, test.x.data[i * 3 + j]!)]!.woe;
      });
      const fromPoints = sigmoid((s[i]! - m.scaling.offset) / m.scaling.factor);
      expect(Math.abs(fromPoints - sigmoid(eta))).toBeLessThan(1e-9);
      expect(Math.abs(p[i]! - sigmoid(eta))).toBeLessThan(1e-12);
    }
  });

  it('puts baseOdds:1 odds at baseScore', async () => {
    const m = await fitted;
    const { factor, offset } = m.scaling;
    expect(sigmoid((600 - offset) / factor)).toBeCloseTo(50 / 51, 12);
    expect(sigmoid((620 - offset) / factor)).toBeCloseTo(100 / 101, 12);
  });

  it('rescales points so the summed minimum and maximum points are exactly 300 and 850', async () => {
    const m = await fitted;
    const scaled = m.scaledPoints(300, 850);
    let sumMin = 0;
    let sumMax = 0;
    for (const f of features) {
      const pts = scaled.filter((r) => r.feature === f.name).map((r) => r.points);
      sumMin += Math.min(...pts);
      sumMax += Math.max(...pts);
    }
    expect(sumMin).toBeCloseTo(300, 6);
    expect(sumMax).toBeCloseTo(850, 6);
    // Same bins, same order, an affine map of the raw points with a common slope.
    const raw = m.pointsTable();
    expect(scaled.map((r) => [r.feature, r.bin])).toEqual(raw.map((r) => [r.feature, r.bin]));
    const slope = (scaled[1]!.points - scaled[0]!.points) / (raw[1]!.points - raw[0]!.points);
    const last = raw.length - 1;
    expect((scaled[last]!.points - scaled[0]!.points) / (raw[last]!.points - raw[0]!.points)).toBeCloseTo(
      slope,
      9,
    );
    expect(() => m.scaledPoints(850, 300)).toThrow(ModelError);
  });

  it('lists points per bin with counts, event rates and WOE', async () => {
    const m = await fitted;
    const table = m.pointsTable();
    const a = table.filter((r) => r.feature === 'a');
    expect(a[0]!.bin).toMatch(/^\(-inf, -?[\d.]+\)$/);
    expect(a.at(-2)!.bin).toMatch(/^\[-?[\d.]+, inf\)$/);
    expect(a.at(-1)!.bin).toBe('missing');
    for (const f of features) {
      expect(table.filter((r) => r.feature === f.name).reduce((s, r) => s + r.count, 0)).toBe(train.x.rows);
    }
    for (const r of table) {
      expect(r.eventRate).toBeGreaterThanOrEqual(0);
      expect(r.eventRate).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.points)).toBe(true);
    }
  });

  it('explains on the log-odds scale against the mean training WOE, largest first', async () => {
    const m = await fitted;
    const { intercept, coef, binnings } = m.state;
    const meanWoe = binnings.map((b) => {
      let s = 0;
      let w = 0;
      for (const bin of b.bins) {
        s += bin.count * bin.woe;
        w += bin.count;
      }
      return s / w;
    });
    const base = intercept + coef.reduce((s, c, j) => s + c * meanWoe[j]!, 0);
    const p = m.predictProba(test.x);
    for (const row of [0, 5, 42]) {
      const c = m.explain(test.x, row);
      for (let i = 1; i < c.length; i++) {
        expect(Math.abs(c[i - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(c[i]!.contribution));
      }
      const sum = c.reduce((s, e) => s + e.contribution, 0);
      expect(sum + base).toBeCloseTo(Math.log(p[row]! / (1 - p[row]!)), 9);
    }
  });

  it('ranks importance by information value computed from the points table', async () => {
    const m = await fitted;
    expect(m.importanceMeasure).toBe('information value');
    const table = m.pointsTable();
    const imp = m.importance();
    for (const f of features) {
      const rows = table.filter((r) => r.feature === f.name);
      const e = rows.reduce((s, r) => s + r.count * r.eventRate, 0);
      const ne = rows.reduce((s, r) => s + r.count * (1 - r.eventRate), 0);
      const iv = rows.reduce(
        (s, r) =>
          s +
          (r.count === 0 ? 0 : ((r.count * r.eventRate) / e - (r.count * (1 - r.eventRate)) / ne) * r.woe),
        0,
      );
      expect(imp.find((c) => c.feature === f.name)!.contribution).toBeCloseTo(iv, 10);
    }
    for (let i = 1; i < imp.length; i++)
      expect(imp[i - 1]!.contribution).toBeGreaterThanOrEqual(imp[i]!.contribution);
  });

  it('refuses a matrix with the wrong number of columns', async () => {
    const m = await fitted;
    const bad = matrix(new Float64Array(2), 1, 2);
    expect(() => m.predictProba(bad)).toThrow(SchemaMismatchError);
    expect(() => m.scores(bad)).toThrow(SchemaMismatchError);
    expect(() => m.explain(bad, 0)).toThrow('expected 3 feature columns (a, b, k), got 2');
  });

  it('is deterministic and round-trips through JSON with identical predictions', async () => {
    const m = await fitted;
    const again = await fitCard(train.x, train.y, features);
    expect(JSON.stringify(again.toJSON())).toBe(JSON.stringify(m.toJSON()));
    const json = JSON.parse(JSON.stringify(m.toJSON())) as ModelJson;
    const back = await scorecardKind.load(json);
    expect(back.predictProba(test.x)).toEqual(m.predictProba(test.x));
    expect(back.pointsTable()).toEqual(m.pointsTable());
    expect(back.toJSON()).toEqual(json);
  });

  describe('strict load', () => {
    type J = ModelJson & { features: FeatureInfo[]; state: ScorecardState };
    const variant = async (edit: (j: J) => void) => {
      const j = structuredClone((await fitted).toJSON()) as J;
      edit(j);
      return scorecardKind.load(j);
    };

    it('refuses another kind and an unknown format', async () => {
      await expect(variant((j) => (j.kind = 'logistic'))).rejects.toThrow(
        "scorecard: cannot load a model of kind 'logistic'",
      );
      await expect(variant((j) => (j.format = 3))).rejects.toThrow('scorecard: unknown JSON format 3');
    });

    it('refuses arrays of the wrong length', async () => {
      await expect(variant((j) => j.state.coef.pop())).rejects.toThrow(
        'scorecard: state.coef has 2 and state.binnings 3 entries, expected 3 (one per feature)',
      );
      await expect(variant((j) => j.state.binnings[0]!.bins.pop())).rejects.toThrow(
        /scorecard: state.binnings\[0\] \('a'\): \d+ bins for \d+ cuts/,
      );
      await expect(
        variant((j) => {
          const b = j.state.binnings[2]!;
          if (b.type === 'categorical') b.categoryBin.push(0);
        }),
      ).rejects.toThrow(
        "scorecard: state.binnings[2] ('k'): categoryBin has 5 values, expected 4 (one per category)",
      );
    });

    it('refuses non-finite numbers and inconsistent bins', async () => {
      await expect(variant((j) => (j.state.binnings[1]!.bins[0]!.woe = Number.NaN))).rejects.toThrow(
        /state\.binnings\[1\]\.bins\[0\]\.woe: .*got NaN/,
      );
      await expect(
        variant((j) => {
          const bin = j.state.binnings[1]!.bins[0]!;
          bin.events = bin.count + 1;
        }),
      ).rejects.toThrow("scorecard: state.binnings[1] ('b'): a bin has events > count");
      await expect(
        variant((j) => {
          const b = j.state.binnings[0]!;
          if (b.type === 'numeric') b.cuts.reverse();
        }),
      ).rejects.toThrow('cuts must be strictly ascending');
    });
  });
});
