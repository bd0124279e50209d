// Kind-agnostic importance: mean |explain contribution| per feature over (a seeded sample of) rows, checked on
// real fitted kinds against an independent computation, and carried by fitTarget for the chosen candidate.
import { describe, expect, it } from 'vitest';
import type { Contribution, FeatureInfo, Fitted, Matrix } from '../src/core/models/contract.ts';
import { KIND_NAMES, KINDS } from '../src/core/models/kinds.ts';
import type { FittedLogistic } from '../src/core/models/logistic.ts';
import { takeRows } from '../src/core/models/rows.ts';
import {
  CONTRIBUTION_ROWS,
  contributionSample,
  meanAbsContribution,
} from '../src/core/training/contribution-importance.ts';
import { fitTarget } from '../src/core/training/fit-target.ts';
import { OUT_OF_TIME, TRAIN, VALIDATION } from '../src/core/training/split.ts';
import { simulate } from './helpers/simulate.ts';

const FEATURES: FeatureInfo[] = [
  { name: 'a', type: 'numeric' },
  { name: 'b', type: 'numeric' },
  { name: 'c', type: 'numeric' },
  // Constant: never moves the log-odds away from the baseline, yet must be listed (with 0).
  { name: 'flat', type: 'numeric' },
];

/** True log-odds −0.3 + 1.2a − 0.5b + 0.1c; `flat` is always 3. */
function data(seed: number, n: number) {
  return simulate(
    seed,
    n,
    (r) => [r.normal(), 5 + 2 * r.normal(), 10 * r.next(), 3],
    ([a, b, c]) => -0.3 + 1.2 * a! - 0.5 * (b! - 5) + 0.1 * c!,
  );
}

async function fitKind(name: string, x: Matrix, y: Uint8Array): Promise<Fitted> {
  const kind = KINDS[name]!;
  // A small, quick network: this tests the importance, not the mlp.
  const params = kind.parseParams(name === 'mlp' ? { epochs: 25, hidden: [8] } : {});
  return kind.fit(x, y, { seed: 5, params, features: FEATURES });
}

/**
 * Independent of explain: mean over `rows` of |β_j · (x_ij − x̄_j)| with β_j the raw-scale coefficient from
 * `coefficients()` and x̄_j the training mean computed here.
 */
function logisticByHand(
  m: FittedLogistic,
  train: Matrix,
  x: Matrix,
  rows: ArrayLike<number>,
): Contribution[] {
  const beta = m.coefficients().terms;
  return FEATURES.map((f, j) => {
    let mean = 0;
    for (let i = 0; i < train.rows; i++) mean += train.data[i * train.cols + j]!;
    mean /= train.rows;
    const coef = beta.find((t) => t.feature === f.name && t.column === 'value')!.coef;
    let sum = 0;
    for (let k = 0; k < rows.length; k++) sum += Math.abs(coef * (x.data[rows[k]! * x.cols + j]! - mean));
    return { feature: f.name, contribution: sum / rows.length };
  });
}

function expectSameByName(got: Contribution[], want: Contribution[]): void {
  expect(got.map((c) => c.feature).sort()).toEqual(want.map((c) => c.feature).sort());
  for (const w of want) {
    const g = got.find((c) => c.feature === w.feature)!;
    expect(g.contribution, w.feature).toBeCloseTo(w.contribution, 10);
  }
}

describe('contributionSample', () => {
  it('takes every row, in order, when there are at most maxRows', () => {
    expect([...contributionSample(5, { maxRows: 5, seed: 1 })]).toEqual([0, 1, 2, 3, 4]);
    expect([...contributionSample(3, { maxRows: 2000, seed: 9 })]).toEqual([0, 1, 2]);
  });

  it('draws maxRows distinct rows, ascending, the same for a seed and different for another', () => {
    const s = [...contributionSample(10_000, { maxRows: 2000, seed: 42 })];
    expect(s).toHaveLength(2000);
    expect(new Set(s).size).toBe(2000);
    expect(s.every((r, k) => r >= 0 && r < 10_000 && (k === 0 || r > s[k - 1]!))).toBe(true);
    expect([...contributionSample(10_000, { maxRows: 2000, seed: 42 })]).toEqual(s);
    expect([...contributionSample(10_000, { maxRows: 2000, seed: 43 })]).not.toEqual(s);
    // Spread over the whole range, not the first rows: about 1,000 of them fall in the upper half.
    expect(Math.abs(s.filter((r) => r >= 5000).length - 1000)).toBeLessThan(100);
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => contributionSample(10, { maxRows: 0, seed: 1 })).toThrow(
      new RangeError('maxRows must be a positive integer, got 0'),
    );
    expect(() => contributionSample(10, { maxRows: 2.5, seed: 1 })).toThrow(RangeError);
  });
});

describe('meanAbsContribution', () => {
  const train = data(1, 3000);
  const oot = data(2, 1500);

  it('equals mean |β·(x − x̄)| for a fitted logistic model, on all rows', async () => {
    const m = (await fitKind('logistic', train.x, train.y)) as FittedLogistic;
    const got = meanAbsContribution(m, oot.x, { maxRows: CONTRIBUTION_ROWS, seed: 7 });
    const all = Array.from({ length: oot.x.rows }, (_, i) => i);
    expectSameByName(got, logisticByHand(m, train.x, oot.x, all));
    // Largest first, and the true effect sizes come out in order: |1.2|·1 > |0.5|·2 ≈ 1 > 0.1·2.9 > flat.
    expect(got.map((c) => c.feature)).toEqual(['a', 'b', 'c', 'flat']);
    expect(got[3]).toEqual({ feature: 'flat', contribution: 0 });
  });

  it('explains only maxRows seeded rows when there are more, deterministically', async () => {
    const m = (await fitKind('logistic', train.x, train.y)) as FittedLogistic;
    const opts = { maxRows: 200, seed: 11 };
    const got = meanAbsContribution(m, oot.x, opts);
    const rows = contributionSample(oot.x.rows, opts);
    expect(rows).toHaveLength(200);
    expectSameByName(got, logisticByHand(m, train.x, oot.x, rows));
    expect(meanAbsContribution(m, oot.x, opts)).toEqual(got);
    const other = meanAbsContribution(m, oot.x, { maxRows: 200, seed: 12 });
    expect(other.find((c) => c.feature === 'a')!.contribution).not.toBe(
      got.find((c) => c.feature === 'a')!.contribution,
    );
    // With the cap at or above the row count the seed does not matter.
    expect(meanAbsContribution(m, oot.x, { maxRows: 1500, seed: 1 })).toEqual(
      meanAbsContribution(m, oot.x, { maxRows: 1500, seed: 2 }),
    );
  });

  it.each(KIND_NAMES)(
    'lists every feature once, finite, non-negative, largest first: %s',
    async (name) => {
      const fitted = await fitKind(name, train.x, train.y);
      const got = meanAbsContribution(fitted, oot.x, { maxRows: 300, seed: 3 });
      expect(got.map((c) => c.feature).sort()).toEqual(FEATURES.map((f) => f.name).sort());
      for (const c of got)
        expect(Number.isFinite(c.contribution) && c.contribution >= 0, c.feature).toBe(true);
      for (let k = 1; k < got.length; k++)
        expect(got[k - 1]!.contribution).toBeGreaterThanOrEqual(got[k]!.contribution);
      // Matches the per-row explanations of the same sampled rows, matched by name (explain sorts by magnitude).
      const xs = takeRows(oot.x, contributionSample(oot.x.rows, { maxRows: 300, seed: 3 }));
      for (const f of ['a', 'b']) {
        let sum = 0;
        for (let i = 0; i < xs.rows; i++)
          sum += Math.abs(fitted.explain(xs, i).find((c) => c.feature === f)!.contribution);
        expect(got.find((c) => c.feature === f)!.contribution, f).toBeCloseTo(sum / xs.rows, 10);
      }
      expect(got.find((c) => c.feature === 'a')!.contribution).toBeGreaterThan(0);
    },
    60_000,
  );

  it('gives 0 to a feature explain never mentions, and 0 everywhere on no rows', async () => {
    const m = await fitKind('logistic', train.x, train.y);
    const withoutC: Fitted = {
      features: m.features,
      kind: m.kind,
      importanceMeasure: m.importanceMeasure,
      predictProba: (x) => m.predictProba(x),
      importance: () => m.importance(),
      toJSON: () => m.toJSON(),
      explain: (x, row) => m.explain(x, row).filter((c) => c.feature !== 'c'),
    };
    const got = meanAbsContribution(withoutC, oot.x, { maxRows: 100, seed: 1 });
    expect(got.map((c) => c.feature).sort()).toEqual(['a', 'b', 'c', 'flat']);
    expect(got.find((c) => c.feature === 'c')!.contribution).toBe(0);
    const empty = { data: new Float64Array(0), rows: 0, cols: 4 };
    expect(meanAbsContribution(m, empty, { maxRows: 100, seed: 1 })).toEqual([
      { feature: 'a', contribution: 0 },
      { feature: 'b', contribution: 0 },
      { feature: 'c', contribution: 0 },
      { feature: 'flat', contribution: 0 },
    ]);
  });
});

describe('fitTarget contribution importance', () => {
  it('is the chosen candidate’s mean |contribution| over a seeded sample of the out-of-time rows', async () => {
    const all = data(3, 3000);
    const roles = new Uint8Array(3000);
    for (let i = 0; i < 3000; i++) roles[i] = i < 1500 ? TRAIN : i < 2000 ? VALIDATION : OUT_OF_TIME;
    const input = {
      x: all.x,
      y: all.y,
      roles,
      features: FEATURES,
      kinds: ['logistic', 'scorecard'].map((n) => ({ kind: KINDS[n]!, params: KINDS[n]!.parseParams({}) })),
      seed: 17,
      calibration: 'platt' as const,
      contributionRows: 400,
    };
    const fit = await fitTarget(input);
    const oot = takeRows(
      all.x,
      Int32Array.from({ length: 1000 }, (_, k) => 2000 + k),
    );
    expect(fit.contributionImportance.rows).toBe(400);
    expect(fit.contributionImportance.values).toEqual(
      meanAbsContribution(fit.chosen.fitted, oot, { maxRows: 400, seed: 17 }),
    );
    // Defaults to CONTRIBUTION_ROWS, here more than the 1,000 out-of-time rows: all of them.
    const { contributionRows: _, ...defaults } = input;
    const again = await fitTarget(defaults);
    expect(again.contributionImportance.rows).toBe(1000);
    expect(again.contributionImportance.values).toEqual(
      meanAbsContribution(again.chosen.fitted, oot, { maxRows: 1000, seed: 0 }),
    );
  }, 60_000);
});
