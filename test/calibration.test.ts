import { describe, expect, it } from 'vitest';
import { ece, logLoss } from '../src/core/metrics/index.ts';
import {
  type Calibrator,
  fitCalibrator,
  fitIsotonic,
  fitPlatt,
  loadCalibrator,
} from '../src/core/models/calibration.ts';
import { logit, ModelError, sigmoid } from '../src/core/models/contract.ts';
import { createRng } from '../src/core/random.ts';

/**
 * Raw scores p = sigmoid(N(0, 1.2²)) and outcomes whose true probability is sigmoid(a·logit(p) + b): the raw
 * scores are miscalibrated unless a = 1, b = 0.
 */
function simulate(
  seed: number,
  n: number,
  a: number,
  b: number,
): { p: Float64Array; y: Uint8Array; q: Float64Array } {
  const rng = createRng(seed);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = sigmoid(1.2 * rng.normal());
    q[i] = sigmoid(a * logit(p[i]!) + b);
    y[i] = rng.bernoulli(q[i]!) ? 1 : 0;
  }
  return { p, y, q };
}

function isMonotone(c: Calibrator): boolean {
  let prev = -1;
  for (let i = 0; i <= 2000; i++) {
    const v = c.apply(i / 2000);
    if (!(v >= prev)) return false;
    prev = v;
  }
  return true;
}

describe('fitPlatt', () => {
  it('recovers known a, b from simulated data', () => {
    for (const [a, b] of [
      [2, 0],
      [0.6, -0.8],
      [1.5, 0.7],
    ] as const) {
      const { p, y } = simulate(1000 + a * 10, 100_000, a, b);
      const json = fitPlatt(p, y).toJSON();
      if (json.method !== 'platt') throw new Error('expected platt');
      expect(Math.abs(json.a - a)).toBeLessThan(0.05);
      expect(Math.abs(json.b - b)).toBeLessThan(0.05);
    }
  });

  it('is deterministic and near the identity on calibrated data', () => {
    const { p, y } = simulate(2, 20_000, 1, 0);
    const c1 = fitPlatt(p, y).toJSON();
    expect(fitPlatt(p, y).toJSON()).toEqual(c1);
    if (c1.method !== 'platt') throw new Error('expected platt');
    expect(Math.abs(c1.a - 1)).toBeLessThan(0.1);
    expect(Math.abs(c1.b)).toBeLessThan(0.1);
  });

  it('stays finite on perfectly separated data and keeps outputs inside (0, 1)', () => {
    const p = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8];
    const y = [0, 0, 0, 1, 1, 1];
    const c = fitPlatt(p, y);
    const json = c.toJSON();
    if (json.method !== 'platt') throw new Error('expected platt');
    expect(Number.isFinite(json.a) && Number.isFinite(json.b)).toBe(true);
    expect(c.apply(0)).toBeGreaterThanOrEqual(1e-6);
    expect(c.apply(1)).toBeLessThanOrEqual(1 - 1e-6);
    expect(c.apply(0.1)).toBeLessThan(0.5);
    expect(c.apply(0.8)).toBeGreaterThan(0.5);
  });
});

describe('fitIsotonic', () => {
  it('is monotone non-decreasing and lowers out-of-sample log-loss on miscalibrated data', () => {
    const fit = simulate(3, 20_000, 2.5, -0.5);
    const test = simulate(4, 20_000, 2.5, -0.5);
    const c = fitIsotonic(fit.p, fit.y);
    expect(isMonotone(c)).toBe(true);
    const json = c.toJSON();
    if (json.method !== 'isotonic') throw new Error('expected isotonic');
    for (let i = 1; i < json.x.length; i++) {
      expect(json.x[i]!).toBeGreaterThan(json.x[i - 1]!);
      expect(json.y[i]!).toBeGreaterThanOrEqual(json.y[i - 1]!);
    }
    const raw = logLoss(test.p, test.y);
    const calibrated = logLoss(c.applyAll(test.p), test.y);
    expect(calibrated).toBeLessThan(raw - 0.02);
    // and comes close to the best possible, the log-loss of the true probabilities
    expect(calibrated).toBeLessThan(logLoss(test.q, test.y) + 0.01);
  });

  it('pools adjacent violators into block means (hand-computed)', () => {
    // Sorted by p, y = 1, 0, 1, 1 → blocks {0.1}: 1 violates {0.2}: 0 → pooled mean 0.5 at p 0.15; then 1 at 0.35.
    const c = fitIsotonic([0.4, 0.2, 0.1, 0.3], [1, 0, 1, 1]);
    const json = c.toJSON();
    if (json.method !== 'isotonic') throw new Error('expected isotonic');
    expect(json.x).toHaveLength(2);
    expect(json.x[0]).toBeCloseTo(0.15, 15);
    expect(json.x[1]).toBeCloseTo(0.35, 15);
    expect(json.y).toEqual([0.5, 1 - 1e-6]);
    expect(c.apply(0)).toBe(0.5); // clamped below the first knot
    expect(c.apply(0.25)).toBeCloseTo(0.5 + (1 - 1e-6 - 0.5) * 0.5, 12); // halfway between the knots
    expect(c.apply(0.9)).toBe(1 - 1e-6); // clamped above the last knot, clipped away from 1
    expect(c.apply(Number.NaN)).toBeNaN();
  });
});

describe('calibrated probabilities', () => {
  it('have ECE < 0.02 on fresh data when the truth is sigmoid(2·logit(p))', () => {
    const fit = simulate(5, 50_000, 2, 0);
    const test = simulate(6, 50_000, 2, 0);
    expect(ece(test.p, test.y)).toBeGreaterThan(0.04); // raw scores are visibly off
    for (const method of ['platt', 'isotonic', 'auto'] as const) {
      const c = fitCalibrator(method, fit.p, fit.y);
      expect(ece(c.applyAll(test.p), test.y)).toBeLessThan(0.02);
    }
  });

  it("'auto' chooses Platt when the truth is a Platt map and isotonic when it is a step", () => {
    const smooth = simulate(7, 20_000, 2, 0.3);
    expect(fitCalibrator('auto', smooth.p, smooth.y).method).toBe('platt');
    // True probability jumps from 0.1 to 0.7 at p = 0.5: no logistic curve in logit(p) fits that well.
    const rng = createRng(8);
    const p = Float64Array.from({ length: 20_000 }, () => rng.next());
    const y = Uint8Array.from(p, (v) => (rng.bernoulli(v < 0.5 ? 0.1 : 0.7) ? 1 : 0));
    expect(fitCalibrator('auto', p, y).method).toBe('isotonic');
  });

  it('refuses bad fitting data with ModelError', () => {
    expect(() => fitPlatt([0.2, 0.3], [1, 1])).toThrow(/both classes, got 2 positive\(s\) in 2 row\(s\)/);
    expect(() => fitIsotonic([0.2, 1.3], [0, 1])).toThrow(ModelError);
    expect(() => fitIsotonic([0.2, 1.3], [0, 1])).toThrow(/p\[1\] must be a probability/);
    expect(() => fitPlatt([0.2, 0.3], [0, 2])).toThrow(/y\[1\] must be 0 or 1, got 2/);
    expect(() => fitCalibrator('auto', [0.2], [0, 1])).toThrow(/same length, got 1 and 2/);
    expect(() => fitCalibrator('magic' as 'auto', [0.2, 0.3], [0, 1])).toThrow(
      /method must be .* got 'magic'/,
    );
  });
});

describe('loadCalibrator', () => {
  it('round-trips toJSON through JSON text to identical outputs', () => {
    const { p, y } = simulate(9, 5000, 1.7, 0.2);
    const probe = Float64Array.from({ length: 1001 }, (_, i) => i / 1000);
    for (const c of [fitPlatt(p, y), fitIsotonic(p, y), loadCalibrator({ method: 'none' })]) {
      const json = JSON.parse(JSON.stringify(c.toJSON())) as unknown;
      const back = loadCalibrator(json);
      expect(back.method).toBe(c.method);
      expect(back.toJSON()).toEqual(c.toJSON());
      expect(back.applyAll(probe)).toEqual(c.applyAll(probe));
    }
    expect(loadCalibrator({ method: 'none' }).apply(0.37)).toBe(0.37);
  });

  it('refuses bad JSON with ModelError naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [null, /expected an object with a 'method' field, got null/],
      [[1, 2], /got an array/],
      [{ a: 1, b: 2 }, /calibrator\.method must be one of 'platt', 'isotonic', 'none', got nothing/],
      [{ method: 'beta' }, /calibrator\.method .* got 'beta'/],
      [{ method: 'platt', a: 1 }, /calibrator\.b must be a finite number, got undefined/],
      [{ method: 'platt', a: Number.NaN, b: 0 }, /calibrator\.a must be a finite number, got number NaN/],
      [{ method: 'platt', a: 1, b: '0' }, /calibrator\.b must be a finite number, got '0'/],
      [{ method: 'platt', a: 1, b: 0, c: 2 }, /unexpected field\(s\) for method 'platt': 'c'/],
      [
        { method: 'isotonic', x: [0.1, 0.3, 0.2], y: [0.1, 0.2, 0.3] },
        /calibrator\.x must be strictly increasing: x\[2\]/,
      ],
      [
        { method: 'isotonic', x: [0.1, 0.2], y: [0.1] },
        /x and calibrator\.y must have the same length, got 2 and 1/,
      ],
      [
        { method: 'isotonic', x: [0.1, null], y: [0.1, 0.2] },
        /calibrator\.x\[1\] must be a finite number, got null/,
      ],
      [{ method: 'isotonic', x: [0.1, 0.2], y: [0.3, 0.2] }, /calibrator\.y must be non-decreasing: y\[1\]/],
      [{ method: 'isotonic', x: [0.1, 0.2], y: [0.3, 1.2] }, /calibrator\.y\[1\] must be a probability/],
      [{ method: 'isotonic', x: [], y: [] }, /calibrator\.x must not be empty/],
      [{ method: 'isotonic', y: [0.5] }, /calibrator\.x must be an array of finite numbers, got undefined/],
    ];
    for (const [json, message] of bad) {
      expect(() => loadCalibrator(json)).toThrow(ModelError);
      expect(() => loadCalibrator(json)).toThrow(message);
    }
  });

  it('lists every problem at once', () => {
    expect(() => loadCalibrator({ method: 'platt', a: 'x', b: null, extra: true })).toThrow(
      "calibrator: unexpected field(s) for method 'platt': 'extra'; calibrator.a must be a finite number, got 'x'; " +
        'calibrator.b must be a finite number, got null',
    );
  });
});
