// The gbdt kind beyond the shared contract: splits, histograms, monotone constraints, missing values,
// categories, growth, early stopping, scoring paths and strict loading.
import { describe, expect, it } from 'vitest';
import { auc } from '../src/core/metrics/index.ts';
import { type FeatureInfo, type Matrix, ModelError, sigmoid } from '../src/core/models/contract.ts';
import { binOf, learnBins, valueBins } from '../src/core/models/gbdt/bins.ts';
import { type FittedGbdt, gbdtKind } from '../src/core/models/gbdt/gbdt.ts';
import { leafOf } from '../src/core/models/gbdt/tree.ts';
import { createRng } from '../src/core/random.ts';
import { loadSnapshotDataset } from '../src/data/snapshot-dataset.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { loadArtifact } from '../src/registry/artifact.ts';
import { tmpDir } from './helpers/tmp.ts';

const num = (name: string): FeatureInfo => ({ name, type: 'numeric' });

/** A table whose truth is non-monotone in x1 (a bump), decreasing in x2, with missing x2 meaning high risk. */
function bumpy(n: number, seed: number) {
  const rng = createRng(seed);
  const data = new Float64Array(n * 4);
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = rng.normal();
    const x2 = rng.normal();
    const miss = rng.bernoulli(0.1);
    const cat = rng.int(0, 5);
    const catEffect = [1, -1, 1, -1, 0, 2][cat]!;
    const z = 1.5 * x1 + 1.2 * Math.sin(3 * x1) - (miss ? -1.5 : 0.9 * x2) + 0.6 * catEffect - 0.2;
    p[i] = sigmoid(z);
    y[i] = rng.next() < p[i]! ? 1 : 0;
    data.set([x1, miss ? Number.NaN : x2, rng.normal(), cat], i * 4);
  }
  return { x: { data, rows: n, cols: 4 } as Matrix, y, p };
}
const BUMPY_FEATURES: FeatureInfo[] = [
  num('x1'),
  num('x2'),
  num('noise'),
  { name: 'cat', type: 'categorical', categories: ['a', 'b', 'c', 'd', 'e', 'f'] },
];

const fitGbdt = (
  d: { x: Matrix; y: Uint8Array },
  params: Record<string, unknown>,
  extra: { validation?: { x: Matrix; y: Uint8Array }; seed?: number; features?: FeatureInfo[] } = {},
) =>
  gbdtKind.fit(d.x, d.y, {
    seed: extra.seed ?? 3,
    params: gbdtKind.parseParams(params),
    features: extra.features ?? BUMPY_FEATURES,
    ...(extra.validation ? { validation: extra.validation } : {}),
  });

function depthOf(t: FittedGbdt['trees'][number]): number {
  const walk = (n: number): number =>
    t.feature[n]! < 0 ? 0 : 1 + Math.max(walk(t.left[n]!), walk(t.right[n]!));
  return walk(0);
}

/** The row of x as a plain array. */
const rowOf = (x: Matrix, i: number) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols));

describe('gbdt: splits and histograms', () => {
  it("the first tree's root split is the brute-force best split over every feature and threshold", async () => {
    // Integer-valued features (<= 40 distinct values) so every distinct value has a bin of its own.
    const rng = createRng(11);
    const n = 3000;
    const data = new Float64Array(n * 3);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const a = rng.int(0, 39);
      const b = rng.int(0, 9);
      const c = rng.int(0, 19);
      data.set([a, b, c], i * 3);
      y[i] = rng.next() < sigmoid(0.08 * (a - 20) + 0.3 * (b > 6 ? 1 : 0) + 0.02 * c) ? 1 : 0;
    }
    const x = { data, rows: n, cols: 3 };
    const l2 = 1;
    const m = await fitGbdt(
      { x, y },
      { nTrees: 1, subsample: 1, colsampleByTree: 1, l2, maxDepth: 1 },
      {
        features: [num('a'), num('b'), num('c')],
      },
    );
    // Brute force: at the base score every row has g = p0 − y and h = p0(1 − p0).
    const p0 = y.reduce((s, v) => s + v, 0) / n;
    const h = p0 * (1 - p0);
    const score = (G: number, H: number) => (G * G) / (H + l2);
    let G = 0;
    for (let i = 0; i < n; i++) G += p0 - y[i]!;
    const H = n * h;
    let best = { gain: -1, feature: -1, threshold: 0 };
    for (let j = 0; j < 3; j++) {
      for (let t = 0; t < 40; t++) {
        let GL = 0;
        let HL = 0;
        for (let i = 0; i < n; i++) {
          if (data[i * 3 + j]! <= t) {
            GL += p0 - y[i]!;
            HL += h;
          }
        }
        if (HL < 1 || H - HL < 1) continue;
        const gain = 0.5 * (score(GL, HL) + score(G - GL, H - HL) - score(G, H));
        if (gain > best.gain + 1e-9) best = { gain, feature: j, threshold: t };
      }
    }
    const tree = m.trees[0]!;
    expect(tree.feature[0]).toBe(best.feature);
    expect(tree.gain[0]).toBeCloseTo(best.gain, 6);
    // Stored edges sit halfway between neighbouring distinct values.
    expect(tree.threshold[0]).toBe(best.threshold + 0.5);
  });

  it('node covers equal the hessian of the training rows that reach them (histogram subtraction is exact)', async () => {
    const d = bumpy(4000, 1);
    const m = await fitGbdt(d, { nTrees: 1, subsample: 1, colsampleByTree: 1, maxDepth: 6 });
    const p0 = d.y.reduce((s, v) => s + v, 0) / d.y.length;
    const tree = m.trees[0]!;
    const reach = new Float64Array(tree.feature.length);
    for (let i = 0; i < d.x.rows; i++) {
      const row = rowOf(d.x, i);
      let node = 0;
      reach[0]!++;
      while (tree.feature[node]! >= 0) {
        const v = row[tree.feature[node]!]!;
        const cats = tree.leftCategories[node];
        const left = Number.isNaN(v)
          ? tree.defaultLeft[node] === 1
          : cats
            ? cats.includes(v)
            : v <= tree.threshold[node]!;
        node = left ? tree.left[node]! : tree.right[node]!;
        reach[node]!++;
      }
    }
    expect(depthOf(tree)).toBeGreaterThanOrEqual(4);
    for (let node = 0; node < tree.feature.length; node++) {
      expect(tree.cover[node]! / (p0 * (1 - p0))).toBeCloseTo(reach[node]!, 6);
    }
  });

  it('depthwise growth keeps maxDepth; leafwise keeps maxLeaves and grows deeper, unevenly', async () => {
    const d = bumpy(5000, 2);
    const deep = await fitGbdt(d, { nTrees: 20, maxDepth: 3, earlyStoppingRounds: 0 });
    for (const t of deep.trees) expect(depthOf(t)).toBeLessThanOrEqual(3);
    const leafy = await fitGbdt(d, { nTrees: 20, growth: 'leafwise', maxDepth: 0, maxLeaves: 8 });
    let deepest = 0;
    for (const t of leafy.trees) {
      expect(t.feature.filter((f) => f < 0).length).toBeLessThanOrEqual(8);
      deepest = Math.max(deepest, depthOf(t));
    }
    expect(deepest).toBeGreaterThan(3);
  });
});

describe('gbdt: bins', () => {
  it('cuts a feature into at most maxBins equal-count quantile bins, a heavy value in a bin of its own', () => {
    const n = 20_000;
    const rng = createRng(4);
    const data = new Float64Array(n);
    // 40% zeros (say, days past due of current accounts), the rest spread out, 1% missing.
    for (let i = 0; i < n; i++)
      data[i] = rng.bernoulli(0.01) ? Number.NaN : rng.bernoulli(0.4) ? 0 : 1 + rng.next() * 1000;
    const x = { data, rows: n, cols: 1 };
    const [b] = learnBins(x, [num('v')], 255);
    if (b?.type !== 'numeric') throw new Error('expected numeric bins');
    expect(b.upper.length + 1).toBeLessThanOrEqual(255);
    expect(b.upper.length + 1).toBeGreaterThan(200);
    const counts = new Array(valueBins(b) + 1).fill(0);
    for (let i = 0; i < n; i++) counts[binOf(b, data[i]!)]++;
    // Zero alone in the first bin; the missing values in the last; the rest within 2x of an equal share.
    expect(binOf(b, 0)).toBe(0);
    expect(binOf(b, 1)).toBe(1);
    expect(counts[valueBins(b)]).toBe(data.filter(Number.isNaN).length);
    const share = (n - counts[0] - counts[valueBins(b)]) / (valueBins(b) - 1);
    for (let k = 1; k < valueBins(b); k++) {
      expect(counts[k]).toBeGreaterThan(share / 2);
      expect(counts[k]).toBeLessThan(share * 2);
    }
    // Few distinct values: one bin each, edges halfway between them.
    const [small] = learnBins(
      { data: Float64Array.from([3, 1, 2, 1, 3]), rows: 5, cols: 1 },
      [num('s')],
      255,
    );
    expect(small).toEqual({ type: 'numeric', upper: [1.5, 2.5] });
  });
});

describe('gbdt: monotone constraints', () => {
  const train = bumpy(8000, 5);
  const grid = Float64Array.from({ length: 241 }, (_, k) => -3 + k * 0.025);

  /** For each base row, the margins along the x1 grid. */
  function sweeps(m: FittedGbdt, base: Matrix, rows: number) {
    const out: Float64Array[] = [];
    for (let i = 0; i < rows; i++) {
      const data = new Float64Array(grid.length * 4);
      for (let k = 0; k < grid.length; k++) {
        data.set(rowOf(base, i), k * 4);
        data[k * 4] = grid[k]!;
      }
      out.push(m.margins({ data, rows: grid.length, cols: 4 }));
    }
    return out;
  }

  it('+1 on x1 and −1 on x2 hold exactly on a grid, for any values of the other features', async () => {
    const m = await fitGbdt(train, { monotone: { x1: 1, x2: -1 }, nTrees: 150, earlyStoppingRounds: 0 });
    expect(m.state.monotone).toEqual([1, -1, 0, 0]);
    const base = bumpy(60, 9);
    for (const s of sweeps(m, base.x, 60)) {
      for (let k = 1; k < s.length; k++) expect(s[k]!).toBeGreaterThanOrEqual(s[k - 1]!);
    }
    // x2 decreasing: sweep it with x1 fixed at a few values (missing x2 is outside the order).
    for (const x1 of [-2, 0, 0.7, 2]) {
      const data = new Float64Array(grid.length * 4);
      for (let k = 0; k < grid.length; k++) data.set([x1, grid[k]!, 0, 2], k * 4);
      const s = m.margins({ data, rows: grid.length, cols: 4 });
      for (let k = 1; k < s.length; k++) expect(s[k]!).toBeLessThanOrEqual(s[k - 1]!);
    }
  });

  it('without the constraint the same fit follows the bump (so the grid check can fail)', async () => {
    const m = await fitGbdt(train, { nTrees: 150, earlyStoppingRounds: 0 });
    const drops = sweeps(m, bumpy(60, 9).x, 60).filter((s) =>
      s.some((v, k) => k > 0 && v < s[k - 1]! - 1e-9),
    );
    expect(drops.length).toBeGreaterThan(30);
  });

  it('refuses constraints on unknown or categorical features, naming them', async () => {
    await expect(fitGbdt(train, { monotone: { days_past_due: -1 } })).rejects.toThrow(
      /gbdt: 'monotone' names 'days_past_due', not among the features \(x1, x2, noise, cat\)/,
    );
    await expect(fitGbdt(train, { monotone: { cat: 1 } })).rejects.toThrow(/categorical feature 'cat'/);
    expect(() => gbdtKind.parseParams({ monotone: { x1: 2 } })).toThrow(
      /'monotone' must be an object of feature name to -1, 0 or 1/,
    );
  });
});

describe('gbdt: missing values, categories, early stopping', () => {
  const train = bumpy(8000, 5);
  const valid = bumpy(3000, 6);
  const test = bumpy(6000, 7);

  it('learns where missing values go: a missing x2 scores like the high-risk side', async () => {
    const m = await fitGbdt(train, {}, { validation: valid });
    // Truth: missing x2 adds +1.5 to the logit, about what x2 = −1.7 does.
    const rows = [
      [0, Number.NaN, 0, 4],
      [0, -1.7, 0, 4],
      [0, 1.5, 0, 4],
    ];
    const p = m.predictProba({ data: Float64Array.from(rows.flat()), rows: 3, cols: 4 });
    expect(p[0]!).toBeGreaterThan(p[2]! + 0.2);
    expect(Math.abs(p[0]! - p[1]!)).toBeLessThan(0.12);
  });

  it('ranks unordered categories by their true effect (native categorical splits)', async () => {
    const m = await fitGbdt(train, {}, { validation: valid });
    const rows = [0, 1, 2, 3, 4, 5].flatMap((c) => [0.3, 0.2, 0, c]);
    const p = Array.from(m.predictProba({ data: Float64Array.from(rows), rows: 6, cols: 4 }));
    const effect = [1, -1, 1, -1, 0, 2];
    // Codes with a higher true effect get a higher probability, for every pair whose effects differ.
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) if (effect[a]! > effect[b]!) expect(p[a]!).toBeGreaterThan(p[b]!);
    }
    expect(m.trees.some((t) => t.leftCategories.some((c) => c !== null))).toBe(true);
  });

  it('comes close to the truth on held-out rows', async () => {
    const m = await fitGbdt(train, {}, { validation: valid });
    expect(auc(m.predictProba(test.x), test.y)).toBeGreaterThan(auc(test.p, test.y) - 0.01);
  });

  it('stops early at the best validation round and keeps exactly its trees', async () => {
    const losses: number[] = [];
    const m = await gbdtKind.fit(train.x, train.y, {
      seed: 3,
      params: gbdtKind.parseParams({ learningRate: 0.3, nTrees: 400, earlyStoppingRounds: 20 }),
      features: BUMPY_FEATURES,
      validation: valid,
      onProgress: (p) => losses.push(p.detail!.validationLogLoss!),
    });
    const best = losses.indexOf(Math.min(...losses));
    expect(m.state.rounds).toBe(losses.length);
    expect(m.state.rounds).toBeLessThan(400);
    expect(m.state.rounds).toBe(best + 1 + 20);
    expect(m.trees.length).toBe(best + 1);
    expect(m.state.validationLogLoss).toBe(losses[best]);
  });
});

describe('gbdt: scoring and explanations', () => {
  const train = bumpy(6000, 5);

  it('scores a row alone exactly as in a batch, and as the per-tree walk', async () => {
    const m = await fitGbdt(train, { nTrees: 80, earlyStoppingRounds: 0 });
    const test = bumpy(500, 8);
    // Missing categories and codes the model never saw take the same route in every path.
    for (let i = 0; i < 500; i += 7) test.x.data[i * 4 + 3] = i % 2 ? Number.NaN : 9;
    const batch = m.margins(test.x);
    for (let i = 0; i < test.x.rows; i++) {
      const one = m.margins({ data: test.x.data.slice(i * 4, i * 4 + 4), rows: 1, cols: 4 });
      expect(one[0]).toBe(batch[i]);
      let walk = m.state.baseScore;
      for (const t of m.trees) walk += t.value[leafOf(t, rowOf(test.x, i))]!;
      expect(walk).toBe(batch[i]);
    }
    const p = m.predictProba(test.x);
    for (let i = 0; i < p.length; i++) expect(p[i]).toBe(sigmoid(batch[i]!));
  });

  it('explains every score with TreeSHAP values that add up to its log-odds', async () => {
    const m = await fitGbdt(train, { nTrees: 80, earlyStoppingRounds: 0 });
    const test = bumpy(200, 8);
    const margins = m.margins(test.x);
    for (let i = 0; i < test.x.rows; i++) {
      const s = m.shap(test.x, i);
      const sum = s.phi.reduce((a, b) => a + b, s.base);
      expect(sum).toBeCloseTo(margins[i]!, 9);
      const e = m.explain(test.x, i);
      expect(e.reduce((a, c) => a + c.contribution, s.base)).toBeCloseTo(margins[i]!, 9);
    }
    // The noise column gets far less than x1 on average.
    let noise = 0;
    let x1 = 0;
    for (let i = 0; i < test.x.rows; i++) {
      const { phi } = m.shap(test.x, i);
      noise += Math.abs(phi[2]!);
      x1 += Math.abs(phi[0]!);
    }
    expect(noise * 5).toBeLessThan(x1);
  });

  it('ranks the noise feature last by mean split gain', async () => {
    const m = await fitGbdt(train, {});
    expect(m.importance().map((c) => c.feature)).toContain('noise');
    expect(m.importance().at(-1)!.feature).toBe('noise');
  });

  it('gives the same bytes for the same data and seed, and another model for another seed', async () => {
    const a = JSON.stringify((await fitGbdt(train, { nTrees: 60 }, { seed: 21 })).toJSON());
    const b = JSON.stringify((await fitGbdt(train, { nTrees: 60 }, { seed: 21 })).toJSON());
    const c = JSON.stringify((await fitGbdt(train, { nTrees: 60 }, { seed: 22 })).toJSON());
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('treats a weight of 2 like a duplicated row', async () => {
    // Rounded values (< 255 distinct per feature) so both fits get the same bins.
    const small = bumpy(1500, 12);
    small.x.data.forEach((v, k) => {
      small.x.data[k] = Math.round(v * 10) / 10;
    });
    const w = new Float64Array(1500).fill(1);
    const dup: number[] = [];
    for (let i = 0; i < 1500; i += 3) {
      w[i] = 2;
      dup.push(i);
    }
    const params = gbdtKind.parseParams({ nTrees: 30, subsample: 1, colsampleByTree: 1 });
    const weighted = await gbdtKind.fit(small.x, small.y, {
      seed: 1,
      params,
      features: BUMPY_FEATURES,
      weights: w,
    });
    const data = new Float64Array((1500 + dup.length) * 4);
    data.set(small.x.data);
    const y = new Uint8Array(1500 + dup.length);
    y.set(small.y);
    dup.forEach((i, k) => {
      data.set(rowOf(small.x, i), (1500 + k) * 4);
      y[1500 + k] = small.y[i]!;
    });
    const copied = await gbdtKind.fit({ data, rows: y.length, cols: 4 }, y, {
      seed: 1,
      params,
      features: BUMPY_FEATURES,
    });
    const test = bumpy(300, 13);
    const a = weighted.predictProba(test.x);
    const b = copied.predictProba(test.x);
    for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 6);
  });
});

describe('gbdt: strict loading', () => {
  const train = bumpy(2000, 5);
  const model = fitGbdt(train, { nTrees: 5, earlyStoppingRounds: 0 });
  type Json = ReturnType<FittedGbdt['toJSON']> & { state: FittedGbdt['state'] };
  const broken = async (edit: (j: Json) => void) => {
    const j = structuredClone((await model).toJSON()) as Json;
    edit(j);
    return gbdtKind.load(j);
  };
  const firstSplit = (j: Json) => j.state.trees[0]!.feature.findIndex((f) => f >= 0);

  it('round-trips through JSON text to identical scores and explanations', async () => {
    const m = await model;
    const loaded = await gbdtKind.load(JSON.parse(JSON.stringify(m.toJSON())));
    const test = bumpy(300, 8);
    expect(Array.from(loaded.margins(test.x))).toEqual(Array.from(m.margins(test.x)));
    expect(loaded.explain(test.x, 3)).toEqual(m.explain(test.x, 3));
  });

  it.each([
    [
      'a child that points back (a cycle)',
      (j: Json) => {
        j.state.trees[0]!.left[firstSplit(j)] = 0;
      },
      /child 0 must be in/,
    ],
    [
      "a split bin past the feature's bins",
      (j: Json) => {
        const t = j.state.trees[0]!;
        const n = t.feature.findIndex((f) => f === 0 || f === 1 || f === 2);
        t.bin[n] = 999;
      },
      /split bin 999 out of range/,
    ],
    [
      'a feature index out of range',
      (j: Json) => {
        j.state.trees[0]!.feature[firstSplit(j)] = 9;
      },
      /feature 9 out of range \(0\.\.3\)/,
    ],
    [
      'node arrays of different lengths',
      (j: Json) => {
        j.state.trees[0]!.value.push(0);
      },
      /state\.trees\[0\]\.value has \d+ entries, expected \d+ \(one per node\)/,
    ],
    [
      'bins for fewer features',
      (j: Json) => {
        j.state.bins.pop();
      },
      /state\.bins has 3 and state\.monotone 4 entries, expected 4/,
    ],
    [
      'descending bin edges',
      (j: Json) => {
        const b = j.state.bins[0]!;
        if (b.type === 'numeric') b.upper.reverse();
      },
      /upper edges must be strictly ascending/,
    ],
    [
      'a non-finite leaf value',
      (j: Json) => {
        j.state.trees[0]!.value[0] = Number.NaN;
      },
      /state\.trees\[0\]\.value\[0\]/,
    ],
    [
      'an unknown state field',
      (j: Json) => {
        (j.state as Record<string, unknown>).extra = 1;
      },
      /extra/,
    ],
  ])('refuses %s, naming it', async (_what, edit, message) => {
    await expect(broken(edit)).rejects.toThrow(ModelError);
    await expect(broken(edit)).rejects.toThrow(message);
  });

  it('names bad hyperparameters', () => {
    expect(() => gbdtKind.parseParams({ maxBins: 300, learningRate: 0 })).toThrow(
      /gbdt: 'learningRate' must be a number in \(0, 1\], got 0; 'maxBins' must be an integer in \[2, 255\], got 300/,
    );
    expect(() => gbdtKind.parseParams({ growth: 'depthwise', maxDepth: 0 })).toThrow(
      /maxDepth 0 \(no limit\) needs growth 'leafwise' or a maxLeaves limit/,
    );
  });
});

describe('gbdt: monotone constraints declared in the training config', () => {
  it('train --params {"gbdt":{"monotone":{"days_past_due":-1}}}: the artifact honours it for every account', async () => {
    const r = await trainSnapshots({
      history: 'data-samples',
      modelsRoot: tmpDir(),
      name: 'mono',
      kind: 'gbdt',
      seed: 1,
      ootMonths: 3,
      validationShare: 0.2,
      calibration: 'platt',
      params: { gbdt: { monotone: { days_past_due: -1 } } },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const loaded = await loadArtifact(r.artifact.dir);
    const ds = await loadSnapshotDataset('data-samples', {});
    const dpd = loaded.manifest.features.findIndex((f) => f.name === 'days_past_due');
    for (const target of ['willingness', 'ability'] as const) {
      const m = loaded.models[target]!.fitted as FittedGbdt;
      expect(m.state.monotone[dpd]).toBe(-1);
      // Every 20th snapshot, with days past due swept from 1 to 360: the log-odds never rise.
      const p = ds.x.cols;
      for (let i = 0; i < ds.x.rows; i += 20) {
        const data = new Float64Array(360 * p);
        for (let d = 0; d < 360; d++) {
          data.set(ds.x.data.subarray(i * p, (i + 1) * p), d * p);
          data[d * p + dpd] = d + 1;
        }
        const s = m.margins({ data, rows: 360, cols: p });
        for (let d = 1; d < 360; d++) expect(s[d]!).toBeLessThanOrEqual(s[d - 1]!);
      }
    }
  }, 120_000);
});
