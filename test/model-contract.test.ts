// The one contract every model kind keeps (STYLE §2), run over every kind in the registry.
import { describe, expect, it } from 'vitest';
import { auc } from '../src/core/metrics/index.ts';
import {
  type FeatureInfo,
  type Matrix,
  ModelError,
  SchemaMismatchError,
  sigmoid,
} from '../src/core/models/contract.ts';
import { KINDS } from '../src/core/models/kinds.ts';
import { createRng } from '../src/core/random.ts';

const FEATURES: FeatureInfo[] = [
  { name: 'x1', type: 'numeric' },
  { name: 'x2', type: 'numeric' },
  { name: 'x3', type: 'numeric' },
  { name: 'colour', type: 'categorical', categories: ['red', 'green', 'blue'] },
];

/** Data with a known truth: logit p = 1.2 x1 - 0.8 x2 + 0.5 [colour = blue]; x3 is noise; 5% of x2 missing. */
function world(n: number, seed: number) {
  const rng = createRng(seed);
  const data = new Float64Array(n * 4);
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = rng.normal();
    const x2 = rng.normal();
    const colour = rng.int(0, 2);
    p[i] = sigmoid(1.2 * x1 - 0.8 * x2 + (colour === 2 ? 0.5 : 0) - 0.3);
    y[i] = rng.next() < p[i]! ? 1 : 0;
    data.set([x1, rng.bernoulli(0.05) ? Number.NaN : x2, rng.normal(), colour], i * 4);
  }
  return { x: { data, rows: n, cols: 4 } as Matrix, y, p };
}

// Small hyperparameters keep the suite quick; the contract does not depend on them.
const QUICK: Record<string, unknown> = { mlp: { epochs: 25, hidden: [8] } };

describe.each(Object.keys(KINDS))('model kind %s keeps the contract', (name) => {
  const kind = KINDS[name]!;
  const train = world(4000, 1);
  const valid = world(1500, 2);
  const test = world(3000, 3);
  const trainModel = (seed: number) =>
    kind.fit(train.x, train.y, {
      seed,
      params: kind.parseParams(QUICK[name] ?? {}),
      features: FEATURES,
      validation: valid,
    });

  it('is deterministic for a seed: same seed, same JSON', async () => {
    const a = JSON.stringify((await trainModel(7)).toJSON());
    const b = JSON.stringify((await trainModel(7)).toJSON());
    expect(a).toBe(b);
  });

  it('round-trips through JSON text to identical predictions', async () => {
    const m = await trainModel(7);
    const loaded = await kind.load(JSON.parse(JSON.stringify(m.toJSON())));
    expect(Array.from(loaded.predictProba(test.x))).toEqual(Array.from(m.predictProba(test.x)));
  });

  it('gives probabilities in [0, 1], finite even for missing values, and learns the truth', async () => {
    const m = await trainModel(7);
    const p = m.predictProba(test.x);
    expect(p.length).toBe(test.x.rows);
    for (const v of p) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    const allMissing = { data: new Float64Array(4).fill(Number.NaN), rows: 1, cols: 4 };
    expect(Number.isFinite(m.predictProba(allMissing)[0]!)).toBe(true);
    expect(auc(p, test.y)).toBeGreaterThan(auc(test.p, test.y) - 0.02);
  });

  it('refuses a matrix with the wrong number of feature columns', async () => {
    const m = await trainModel(7);
    const wrong = { data: new Float64Array(6), rows: 2, cols: 3 };
    expect(() => m.predictProba(wrong)).toThrow(SchemaMismatchError);
    expect(() => m.predictProba(wrong)).toThrow(/expected 4 feature columns \(x1, x2, x3, colour\), got 3/);
  });

  it('explains a score with the strongest driver first and ranks the noise feature last', async () => {
    const m = await trainModel(7);
    const e = m.explain(test.x, 0);
    expect(e.map((c) => c.feature).sort()).toEqual(['colour', 'x1', 'x2', 'x3']);
    for (let i = 1; i < e.length; i++)
      expect(Math.abs(e[i - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(e[i]!.contribution));
    const imp = m.importance();
    expect(imp[0]!.feature).toBe('x1');
    expect(imp[imp.length - 1]!.feature).toBe('x3');
  });

  it('refuses JSON of another kind or an unknown format', async () => {
    const j = (await trainModel(7)).toJSON();
    await expect(kind.load({ ...j, kind: 'other' })).rejects.toThrow(ModelError);
    await expect(kind.load({ ...j, format: 999 })).rejects.toThrow(ModelError);
  });

  it('names the bad hyperparameter', () => {
    expect(() => kind.parseParams({ nonsense: 1 })).toThrow(ModelError);
  });
});
