import { describe, expect, it } from 'vitest';
import {
  auc,
  brier,
  CALIBRATION_BINS,
  calibrationTable,
  ece,
  gini,
  ks,
  ksCurve,
  liftByDecile,
  logLoss,
  MAX_CURVE_POINTS,
  psi,
  psiRow,
  psiVerdict,
  rocCurve,
  scoreHistogram,
  summarise,
} from '../src/core/metrics/index.ts';
import { createRng, type Rng } from '../src/core/random.ts';

/** Random data with many ties: scores on a coarse grid, labels more likely for high scores. */
function tiedData(rng: Rng, n: number, levels = 20): { s: Float64Array; y: Uint8Array } {
  const s = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = rng.int(0, levels) / levels;
    y[i] = rng.bernoulli(0.2 + 0.5 * s[i]!) ? 1 : 0;
  }
  return { s, y };
}

/** O(n²) pair count, ties one half. */
function bruteAuc(s: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      if (s[i]! > s[j]!) num += 1;
      else if (s[i] === s[j]) num += 0.5;
    }
  }
  return num / pairs;
}

/** Scan every candidate threshold t (each observed score) of |F_neg(t) − F_pos(t)|, counting rows directly. */
function bruteKs(s: ArrayLike<number>, y: ArrayLike<number>): number {
  let best = 0;
  for (let k = 0; k < s.length; k++) {
    const t = s[k]!;
    let pos = 0;
    let neg = 0;
    let np = 0;
    let nn = 0;
    for (let i = 0; i < s.length; i++) {
      if (y[i] === 1) {
        np++;
        if (s[i]! <= t) pos++;
      } else {
        nn++;
        if (s[i]! <= t) neg++;
      }
    }
    best = Math.max(best, Math.abs(neg / nn - pos / np));
  }
  return best;
}

function trapezoid(x: number[], y: number[]): number {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return a;
}

describe('auc', () => {
  it('equals the brute-force pair count on random data with ties', () => {
    const rng = createRng(101);
    for (const levels of [3, 20, 1000]) {
      const { s, y } = tiedData(rng, 700, levels);
      expect(auc(s, y)).toBeCloseTo(bruteAuc(s, y), 12);
    }
  });

  it('is 0.5 for constant scores, 1 for perfect separation and 0 for reversed separation', () => {
    const y = [0, 1, 0, 1, 1, 0];
    expect(auc([3, 3, 3, 3, 3, 3], y)).toBe(0.5);
    expect(auc([0.1, 0.9, 0.2, 0.8, 0.7, 0.3], y)).toBe(1);
    expect(auc([0.9, 0.1, 0.8, 0.2, 0.3, 0.7], y)).toBe(0);
    expect(gini([0.1, 0.9, 0.2, 0.8, 0.7, 0.3], y)).toBe(1);
    expect(gini([3, 3, 3, 3, 3, 3], y)).toBe(0);
  });

  it('with integer weights equals the AUC of the data with rows repeated by weight', () => {
    const rng = createRng(7);
    const { s, y } = tiedData(rng, 300, 15);
    const w = new Float64Array(300);
    const rs: number[] = [];
    const ry: number[] = [];
    for (let i = 0; i < 300; i++) {
      w[i] = rng.int(0, 4);
      for (let r = 0; r < w[i]!; r++) {
        rs.push(s[i]!);
        ry.push(y[i]!);
      }
    }
    expect(auc(s, y, w)).toBeCloseTo(bruteAuc(rs, ry), 12);
    expect(auc(s, y, new Float64Array(300).fill(2.5))).toBeCloseTo(auc(s, y), 12);
  });

  it('is NaN without both classes and names the problem for bad input', () => {
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(ks([0.1, 0.2], [0, 0])).toBeNaN();
    expect(() => auc([0.1, 0.2], [1])).toThrow(/same length, got 2 and 1/);
    expect(() => auc([0.1, Number.NaN], [1, 0])).toThrow(/scores\[1\] is NaN/);
    expect(() => auc([0.1, 0.2], [1, 2])).toThrow(/labels\[1\] must be 0 or 1, got 2/);
    expect(() => auc([0.1, 0.2], [1, 0], [1, -1])).toThrow(/weights\[1\] must be a finite number >= 0/);
  });

  it('handles a million rows quickly (no quadratic path)', () => {
    const n = 1_000_000;
    const rng = createRng(9);
    const p = new Float64Array(n);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = rng.next();
      y[i] = rng.bernoulli(p[i]!) ? 1 : 0;
    }
    const t0 = performance.now();
    const m = summarise(p, y);
    const elapsed = performance.now() - t0;
    // Uniform p with y ~ Bernoulli(p): positives' p ~ Beta(2,1) (CDF t²), negatives' ~ Beta(1,2) (CDF 2t − t²),
    // so AUC = ∫ 2t·(2t − t²) dt = 5/6, KS = max (2t − 2t²) = 1/2 at t = 1/2, and p is calibrated.
    expect(m.auc).toBeCloseTo(5 / 6, 2);
    expect(m.ks).toBeCloseTo(0.5, 2);
    expect(m.ece).toBeLessThan(0.005);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe('rocCurve', () => {
  it('runs from (0,0) to (1,1), is monotone, and its area equals the AUC', () => {
    const { s, y } = tiedData(createRng(3), 500, 30);
    const roc = rocCurve(s, y);
    expect(roc.fpr[0]).toBe(0);
    expect(roc.tpr[0]).toBe(0);
    expect(roc.fpr.at(-1)).toBe(1);
    expect(roc.tpr.at(-1)).toBe(1);
    for (let i = 1; i < roc.fpr.length; i++) {
      expect(roc.fpr[i]!).toBeGreaterThanOrEqual(roc.fpr[i - 1]!);
      expect(roc.tpr[i]!).toBeGreaterThanOrEqual(roc.tpr[i - 1]!);
    }
    expect(roc.fpr.length).toBe(32); // 31 distinct scores + origin, no thinning needed
    expect(trapezoid(roc.fpr, roc.tpr)).toBeCloseTo(bruteAuc(s, y), 12);
  });

  it('is thinned to at most MAX_CURVE_POINTS points for continuous scores, keeping the ends', () => {
    const rng = createRng(4);
    const n = 20_000;
    const s = new Float64Array(n);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = rng.normal();
      y[i] = rng.bernoulli(1 / (1 + Math.exp(-s[i]!))) ? 1 : 0;
    }
    const roc = rocCurve(s, y);
    expect(roc.fpr.length).toBeLessThanOrEqual(MAX_CURVE_POINTS);
    expect(roc.fpr.length).toBeGreaterThan(MAX_CURVE_POINTS / 2);
    expect([roc.fpr[0], roc.tpr[0], roc.fpr.at(-1), roc.tpr.at(-1)]).toEqual([0, 0, 1, 1]);
    expect(trapezoid(roc.fpr, roc.tpr)).toBeCloseTo(auc(s, y), 3);
  });
});

describe('ks', () => {
  it('equals a brute-force scan over thresholds', () => {
    const rng = createRng(11);
    for (const levels of [4, 50, 10_000]) {
      const { s, y } = tiedData(rng, 400, levels);
      const want = bruteKs(s, y);
      expect(ks(s, y)).toBeCloseTo(want, 12);
      const curve = ksCurve(s, y);
      expect(curve.ks).toBeCloseTo(want, 12);
      // The reported threshold really has that gap.
      const i = curve.threshold.indexOf(curve.atThreshold);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(Math.abs(curve.cumNegatives[i]! - curve.cumPositives[i]!)).toBeCloseTo(want, 12);
      expect(curve.threshold.length).toBeLessThanOrEqual(MAX_CURVE_POINTS);
      expect(curve.cumPositives.at(-1)).toBe(1);
      expect(curve.cumNegatives.at(-1)).toBe(1);
    }
  });

  it('is 1 for perfect separation and 0 for constant scores', () => {
    expect(ks([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(ks([5, 5, 5, 5], [0, 1, 0, 1])).toBe(0);
    const c = ksCurve([1, 2, 3, 4], [0, 0, 1, 1]);
    expect(c.atThreshold).toBe(2);
    expect(c.threshold).toEqual([1, 2, 3, 4]);
    expect(c.cumNegatives).toEqual([0.5, 1, 1, 1]);
    expect(c.cumPositives).toEqual([0, 0, 0.5, 1]);
  });

  it('keeps the maximum-gap point when thinning', () => {
    const rng = createRng(12);
    const n = 50_000;
    const s = new Float64Array(n);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = rng.next();
      y[i] = rng.bernoulli(s[i]! > 0.37 ? 0.6 : 0.1) ? 1 : 0;
    }
    const c = ksCurve(s, y);
    expect(c.threshold.length).toBeLessThanOrEqual(MAX_CURVE_POINTS);
    const i = c.threshold.indexOf(c.atThreshold);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(Math.abs(c.cumNegatives[i]! - c.cumPositives[i]!)).toBe(c.ks);
    expect(c.atThreshold).toBeCloseTo(0.37, 2);
  });
});

describe('brier and logLoss', () => {
  it('match hand-computed values', () => {
    // (0.8 − 1)² = 0.04, (0.3 − 0)² = 0.09
    expect(brier([0.8, 0.3], [1, 0])).toBeCloseTo(0.065, 15);
    expect(logLoss([0.8, 0.3], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 15);
    expect(brier([1, 0], [1, 0])).toBe(0);
    expect(logLoss([0.5, 0.5, 0.5], [1, 0, 1])).toBeCloseTo(Math.LN2, 15);
  });

  it('clips p to [1e-15, 1 − 1e-15] in logLoss', () => {
    expect(logLoss([0], [1])).toBeCloseTo(-Math.log(1e-15), 10);
    // 1 − 1e-15 is not exact in binary: the loss is −ln(1 − fl(1 − 1e-15)), within 0.1% of −ln(1e-15).
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1 - (1 - 1e-15)), 10);
    expect(logLoss([1], [0]) / -Math.log(1e-15)).toBeCloseTo(1, 3);
    expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true);
  });

  it('refuses probabilities outside [0, 1], naming the row', () => {
    expect(() => brier([0.5, 1.5], [0, 1])).toThrow(/p\[1\] must be a probability in \[0, 1\], got 1.5/);
    expect(() => logLoss([Number.NaN], [0])).toThrow(/p\[0\]/);
  });
});

describe('calibrationTable and ece', () => {
  /** Ten probability levels, 100 rows each, with exactly 100·p positives per level; rows shuffled. */
  function perfectlyCalibrated(rng: Rng): { p: Float64Array; y: Uint8Array } {
    const rows: [number, number][] = [];
    for (let k = 0; k < 10; k++) {
      const q = 0.05 + 0.1 * k;
      const positives = Math.round(100 * q);
      for (let r = 0; r < 100; r++) rows.push([q, r < positives ? 1 : 0]);
    }
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    return { p: Float64Array.from(rows, (r) => r[0]), y: Uint8Array.from(rows, (r) => r[1]) };
  }

  it('gives ECE 0 when p equals the observed rate of each bin', () => {
    const { p, y } = perfectlyCalibrated(createRng(5));
    expect(ece(p, y)).toBeCloseTo(0, 12);
    const table = calibrationTable(p, y);
    expect(table).toHaveLength(CALIBRATION_BINS);
    for (const b of table) {
      expect(b.count).toBe(100);
      expect(b.lower).toBe(b.upper);
      expect(b.observedRate).toBeCloseTo(b.meanPredicted, 12);
    }
  });

  it('keeps tied p in one bin and gives hand-computed ECE', () => {
    // All p = 0.5 but every outcome positive: one bin, gap 0.5.
    expect(calibrationTable([0.5, 0.5, 0.5, 0.5], [1, 1, 1, 1])).toHaveLength(1);
    expect(ece([0.5, 0.5, 0.5, 0.5], [1, 1, 1, 1])).toBeCloseTo(0.5, 15);
    // Two bins of two rows: {0.1, 0.2} observed 1/2 (gap 0.35), {0.7, 0.9} observed 1 (gap 0.2).
    expect(ece([0.9, 0.1, 0.7, 0.2], [1, 0, 1, 1], 2)).toBeCloseTo((2 / 4) * 0.35 + (2 / 4) * 0.2, 15);
  });

  it('makes equal-count bins over continuous p', () => {
    const rng = createRng(6);
    const p = Float64Array.from({ length: 1000 }, () => rng.next() ** 2);
    const y = Uint8Array.from(p, (q) => (rng.bernoulli(q) ? 1 : 0));
    const table = calibrationTable(p, y, 8);
    expect(table.map((b) => b.count)).toEqual(new Array(8).fill(125));
    for (let i = 1; i < table.length; i++) expect(table[i]!.lower).toBeGreaterThan(table[i - 1]!.upper);
    expect(() => calibrationTable(p, y, 0)).toThrow(/bins must be a positive integer, got 0/);
  });
});

describe('psi', () => {
  it('is 0 for identical samples, including missing values', () => {
    const rng = createRng(8);
    const x = Float64Array.from({ length: 5000 }, () => (rng.bernoulli(0.1) ? Number.NaN : rng.normal()));
    expect(psi(x, x)).toBe(0);
    expect(psi(x, Float64Array.from(x).reverse())).toBe(0);
  });

  it('matches a hand-built two-bin case', () => {
    // Bins {0} and {1}: expected 1/2, 1/2; actual 1/4, 3/4.
    // PSI = (1/4 − 1/2)·ln(1/2) + (3/4 − 1/2)·ln(3/2) = (ln 2 + ln 1.5) / 4 = ln(3) / 4.
    expect(psi([0, 0, 1, 1], [0, 1, 1, 1], 2)).toBeCloseTo(Math.log(3) / 4, 12);
  });

  it('treats NaN as a bin of its own and floors empty shares at 1e-4', () => {
    // Expected: {0}: 1/2, {1}: 1/2, missing: 0 → 1e-4. Actual: 1/4, 1/4, 1/2.
    const want = 2 * (0.25 - 0.5) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(psi([0, 0, 1, 1], [0, 1, Number.NaN, Number.NaN], 2)).toBeCloseTo(want, 12);
  });

  it('deduplicates edges for discrete variables', () => {
    // 70% zeros, 20% ones, 10% twos: 10 quantile edges collapse to the three values.
    const e = [...new Array(70).fill(0), ...new Array(20).fill(1), ...new Array(10).fill(2)];
    const a = [...new Array(50).fill(0), ...new Array(30).fill(1), ...new Array(20).fill(2)];
    const want = (0.5 - 0.7) * Math.log(0.5 / 0.7) + (0.3 - 0.2) * Math.log(0.3 / 0.2) + 0.1 * Math.log(2);
    expect(psi(e, a)).toBeCloseTo(want, 12);
  });

  it('grows with a shift and reads as stable / watch / act', () => {
    const rng = createRng(10);
    const base = Float64Array.from({ length: 20_000 }, () => rng.normal());
    const same = Float64Array.from({ length: 20_000 }, () => rng.normal());
    const shifted = Float64Array.from({ length: 20_000 }, () => rng.normal() + 1);
    expect(psiRow('x', base, same).verdict).toBe('stable');
    const row = psiRow('score', base, shifted);
    expect(row.name).toBe('score');
    expect(row.verdict).toBe('act');
    expect(psiVerdict(0.0999)).toBe('stable');
    expect(psiVerdict(0.1)).toBe('watch');
    expect(psiVerdict(0.25)).toBe('watch');
    expect(psiVerdict(0.2501)).toBe('act');
    expect(() => psiVerdict(Number.NaN)).toThrow(RangeError);
    expect(() => psi([], [1])).toThrow(/expected sample is empty/);
  });
});

describe('liftByDecile', () => {
  it('captures all positives by decile 10 and is highest at the top for an informative score', () => {
    const { s, y } = tiedData(createRng(13), 2003, 1000);
    const rows = liftByDecile(s, y);
    expect(rows.map((r) => r.decile)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.reduce((a, r) => a + r.count, 0)).toBe(2003);
    const positives = y.reduce((a, v) => a + v, 0);
    expect(rows.reduce((a, r) => a + r.positives, 0)).toBeCloseTo(positives, 9);
    expect(rows[9]!.cumulativeCapture).toBe(1);
    expect(rows[0]!.lift).toBeGreaterThan(1.2);
    expect(rows[9]!.lift).toBeLessThan(0.8);
  });

  it('gives lift 10 for a perfect score with 10% positives', () => {
    const s = Array.from({ length: 100 }, (_, i) => i);
    const y = s.map((i) => (i >= 90 ? 1 : 0));
    const rows = liftByDecile(s, y);
    expect(rows[0]).toEqual({ decile: 1, count: 10, positives: 10, rate: 1, lift: 10, cumulativeCapture: 1 });
    expect(rows.slice(1).every((r) => r.positives === 0)).toBe(true);
  });

  it('splits tied scores pro rata, so a constant score has lift 1 everywhere', () => {
    const y = Array.from({ length: 50 }, (_, i) => (i < 20 ? 1 : 0)); // positives sorted first on purpose
    const rows = liftByDecile(new Array(50).fill(0.3), y);
    for (const r of rows) {
      expect(r.count).toBe(5);
      expect(r.rate).toBeCloseTo(0.4, 12);
      expect(r.lift).toBeCloseTo(1, 12);
      expect(r.cumulativeCapture).toBeCloseTo(r.decile / 10, 12);
    }
  });
});

describe('scoreHistogram', () => {
  it('uses [0, 1] for probabilities and counts every row once', () => {
    const h = scoreHistogram([0, 0.05, 0.5, 0.51, 1], [0, 1, 0, 1, 1], 10);
    expect(h).toHaveLength(10);
    expect(h[0]).toEqual({ lower: 0, upper: 0.1, positives: 1, negatives: 1 });
    expect([h[5]!.lower, h[5]!.positives, h[5]!.negatives]).toEqual([0.5, 1, 1]);
    expect(h[5]!.upper).toBeCloseTo(0.6, 12);
    expect(h[9]!.upper).toBe(1);
    expect(h[9]!.positives).toBe(1); // the maximum falls in the last bin
    expect(h.reduce((a, b) => a + b.positives + b.negatives, 0)).toBe(5);
  });

  it('uses [min, max] for other scores', () => {
    const h = scoreHistogram([300, 400, 850], [1, 0, 0], 2);
    expect(h).toEqual([
      { lower: 300, upper: 575, positives: 1, negatives: 1 },
      { lower: 575, upper: 850, positives: 0, negatives: 1 },
    ]);
    expect(() => scoreHistogram([1, Number.POSITIVE_INFINITY], [0, 1])).toThrow(/scores\[1\] must be finite/);
  });
});

describe('summarise', () => {
  it('reports counts and agrees with the brute-force metrics', () => {
    const { s, y } = tiedData(createRng(14), 600, 10);
    const m = summarise(s, y);
    expect(m.rows).toBe(600);
    expect(m.positives).toBe(y.reduce((a, v) => a + v, 0));
    expect(m.auc).toBeCloseTo(bruteAuc(s, y), 12);
    expect(m.gini).toBeCloseTo(2 * bruteAuc(s, y) - 1, 12);
    expect(m.ks).toBeCloseTo(bruteKs(s, y), 12);
    let b = 0;
    for (let i = 0; i < 600; i++) b += (s[i]! - y[i]!) ** 2;
    expect(m.brier).toBeCloseTo(b / 600, 12);
    expect(m.logLoss).toBeGreaterThan(0);
    expect(m.ece).toBeGreaterThanOrEqual(0);
  });
});
