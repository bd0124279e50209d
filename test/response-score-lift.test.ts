// The score lift of the response models (src/core/uplift/score-lift.ts): a treatment's logit lift over the hold
// arm in the bilinear basis of the two scores, fitted by offset logistic regression, averaged with the treatment's
// own arm in predictResponses, and the account folds the bags are cross-fitted on.
import { describe, expect, it } from 'vitest';
import { loadCalibrator } from '../src/core/models/calibration.ts';
import { type Fitted, matrix } from '../src/core/models/contract.ts';
import { createRng } from '../src/core/random.ts';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import type { CalibratedModel } from '../src/core/training/fit-target.ts';
import { foldsOf } from '../src/core/uplift/fit-responses.ts';
import { predictResponses, type ResponseSet } from '../src/core/uplift/response-set.ts';
import { fitLift, lifted, liftOf } from '../src/core/uplift/score-lift.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

describe('fitLift recovers a known lift over a known offset', () => {
  it('finds the coefficients of logit P(y) = logit(base) + β·(1, w, a, w·a) from 40,000 draws', () => {
    const rng = createRng(7);
    const truth = [-0.3, 0.8, -0.5, 1.2];
    const n = 40_000;
    const w = new Float64Array(n);
    const a = new Float64Array(n);
    const base = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      w[i] = rng.next();
      a[i] = rng.next();
      base[i] = 0.1 + 0.8 * rng.next();
      y[i] = rng.next() < sigmoid(logit(base[i]!) + liftOf(truth, w[i]!, a[i]!)) ? 1 : 0;
    }
    const beta = fitLift({ w, a, base, y, weight: new Float64Array(n).fill(1) }, 0);
    // Standard errors at this size are about 0.05 (intercept) to 0.15 (the interaction): within 3 of them.
    const tolerance = [0.15, 0.3, 0.3, 0.45];
    for (let j = 0; j < truth.length; j++)
      expect(Math.abs(beta[j]! - truth[j]!), `β${j} = ${beta[j]}`).toBeLessThan(tolerance[j]!);
  });

  it('gives a zero lift when the treatment changes nothing, and weights count as repeated rows', () => {
    const rng = createRng(11);
    const n = 20_000;
    const rows = Array.from({ length: n }, () => ({
      w: rng.next(),
      a: rng.next(),
      base: 0.3 + 0.4 * rng.next(),
    }));
    const y = rows.map((r) => (rng.next() < r.base ? 1 : 0));
    const beta = fitLift({
      w: rows.map((r) => r.w),
      a: rows.map((r) => r.a),
      base: rows.map((r) => r.base),
      y,
      weight: new Float64Array(n).fill(1),
    });
    for (const b of beta) expect(Math.abs(b)).toBeLessThan(0.3);
    // Two copies of each row fit as one row of weight 2.
    const small = rows.slice(0, 500);
    const doubled = fitLift({
      w: [...small, ...small].map((r) => r.w),
      a: [...small, ...small].map((r) => r.a),
      base: [...small, ...small].map((r) => r.base),
      y: [...y.slice(0, 500), ...y.slice(0, 500)],
      weight: new Float64Array(1000).fill(1),
    });
    const weighted = fitLift({
      w: small.map((r) => r.w),
      a: small.map((r) => r.a),
      base: small.map((r) => r.base),
      y: y.slice(0, 500),
      weight: new Float64Array(500).fill(2),
    });
    for (let j = 0; j < doubled.length; j++) expect(weighted[j]!).toBeCloseTo(doubled[j]!, 9);
  });

  it('refuses columns of different lengths, naming the column', () => {
    expect(() => fitLift({ w: [0.5], a: [0.5, 0.5], base: [0.5], y: [1], weight: [1] })).toThrow(
      /fitLift: a has 2 rows, y has 1/,
    );
  });
});

/** A calibrated model that predicts `p` for every row. */
function constant(p: number): CalibratedModel {
  const fitted: Fitted = {
    kind: 'constant',
    features: [],
    importanceMeasure: 'none',
    predictProba: (x) => new Float64Array(x.rows).fill(p),
    explain: () => [],
    importance: () => [],
    toJSON: () => ({ kind: 'constant', format: 1, params: {}, features: [], state: p }),
  };
  return { fitted, calibrator: loadCalibrator({ method: 'none' }) };
}

describe('predictResponses averages each arm with the lifted hold arm', () => {
  const arms = Object.fromEntries(
    TREATMENTS.map((t, k) => [t, { pay: constant(0.5 + 0.05 * k), cover: constant(0.4) }]),
  ) as ResponseSet['arms'];
  const lift = {
    scoringVersion: 'vaaaaaaaaaaaa',
    blend: 0.5,
    coef: { plan_offer: { pay: [0.2, 1, -1, 2], cover: [-0.8, 0, 0, 0] } },
  };
  const set: ResponseSet = { arms, support: [[...TREATMENTS]], lift };
  const x = matrix(new Float64Array(0), 2, 0);
  const scores = { willingness: [0.9, 0.2], ability: [0.6, 0.3], version: 'vaaaaaaaaaaaa' };

  it('P(y | t) = ½ arm_t + ½ σ(logit arm_hold + β_t·φ(w, a)); hold and treatments without a lift are their arms', () => {
    const p = predictResponses(set, x, [10, 10], scores);
    const plan = TREATMENTS.indexOf('plan_offer');
    const hold = TREATMENTS.indexOf('hold');
    for (let i = 0; i < 2; i++) {
      const w = scores.willingness[i]!;
      const a = scores.ability[i]!;
      const expected = 0.5 * (0.5 + 0.05 * plan) + 0.5 * sigmoid(logit(0.5) + 0.2 + w - a + 2 * w * a);
      expect(p.pPay[plan]![i]).toBeCloseTo(expected, 12);
      expect(p.pCover[plan]![i]).toBeCloseTo(0.5 * 0.4 + 0.5 * sigmoid(logit(0.4) - 0.8), 12);
      expect(p.pPay[hold]![i]).toBeCloseTo(0.5, 12);
      expect(p.pPay[TREATMENTS.indexOf('human_call')]![i]).toBeCloseTo(
        0.5 + 0.05 * TREATMENTS.indexOf('human_call'),
        12,
      );
    }
    expect(lifted(0.5, 0)).toBeCloseTo(0.5, 12);
  });

  it('refuses scores of another scoring model and a wrong number of them', () => {
    expect(() => predictResponses(set, x, [10, 10], { ...scores, version: 'vbbbbbbbbbbbb' })).toThrow(
      /fitted on scoring model vaaaaaaaaaaaa, the scores come from vbbbbbbbbbbbb/,
    );
    expect(() => predictResponses(set, x, [10, 10], { ...scores, ability: [0.5] })).toThrow(
      /2 rows but 2 willingness and 1 ability scores/,
    );
  });
});

describe('cross-fitting folds', () => {
  it('puts every snapshot of an account in one fold, spreads accounts evenly, and follows the seed', () => {
    const groups = Int32Array.from({ length: 30_000 }, (_, i) => Math.floor(i / 3));
    const f = foldsOf(groups, 3, 1);
    for (let i = 0; i < groups.length; i += 3) {
      expect(f[i + 1]).toBe(f[i]);
      expect(f[i + 2]).toBe(f[i]);
    }
    const counts = [0, 1, 2].map((k) => f.filter((v) => v === k).length / 3);
    for (const c of counts) expect(Math.abs(c - 10_000 / 3)).toBeLessThan(150);
    const g = foldsOf(groups, 3, 2);
    expect(g.some((v, i) => v !== f[i])).toBe(true);
    expect(foldsOf(groups, 3, 1)).toEqual(f);
  });
});
