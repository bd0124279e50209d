// Model stability over the snapshot months of a history (DESIGN §8): the committed champion on data-samples/,
// and the pure month-grouping function on hand-made scores, including the PSI verdict boundaries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PSI_THRESHOLDS, psiVerdict } from '../src/core/metrics/index.ts';
import type { Labelled } from '../src/core/training/labels.ts';
import { MIN_ROWS_PER_CLASS, modelStability, stabilityRows } from '../src/pipeline/stability.ts';

const ROOT = join('models', 'repayrisk');
const CHAMPION = join(ROOT, readFileSync(join(ROOT, 'CHAMPION'), 'utf8').trim());

/** Every row labelled; label 1 where the index is even. */
function allLabelled(n: number): Labelled {
  return {
    rows: Int32Array.from({ length: n }, (_, i) => i),
    y: Uint8Array.from({ length: n }, (_, i) => 1 - (i % 2)),
  };
}

describe('modelStability on data-samples/ with the committed champion', () => {
  it('gives one row per month per target, the first month stable with PSI 0, AUCs in (0.5, 1)', async () => {
    const rows = await modelStability(CHAMPION, 'data-samples');
    const months = [...new Set(rows.map((r) => r.month))];
    expect(months.length).toBeGreaterThan(1);
    expect(months).toEqual([...months].sort());
    expect(rows).toHaveLength(months.length * 2);
    for (const m of months) {
      expect(rows.filter((r) => r.month === m).map((r) => r.target)).toEqual(['willingness', 'ability']);
    }
    for (const r of rows.filter((r) => r.month === months[0])) {
      expect(r.psi).toBe(0);
      expect(r.verdict).toBe('stable');
    }
    for (const r of rows) {
      expect(r.month).toMatch(/^\d{4}-\d{2}$/);
      expect(r.snapshots).toBeGreaterThan(0);
      expect(r.psi).toBeGreaterThanOrEqual(0);
      expect(r.verdict).toBe(psiVerdict(r.psi));
    }
    // Months with too few labelled rows of a class would get NaN AUC/KS; every month of the sample has enough.
    for (const r of rows) {
      expect(r.auc).toBeGreaterThan(0.5);
      expect(r.auc).toBeLessThan(1);
      expect(r.ks).toBeGreaterThan(0);
      expect(r.ks).toBeLessThanOrEqual(1);
    }
    // NaN reaches JSON as null, which is what backtest.json shows.
    expect(JSON.parse(JSON.stringify({ auc: Number.NaN })).auc).toBeNull();
  }, 120_000);
});

describe('stabilityRows', () => {
  const n = 400;
  const base = Float64Array.from({ length: n }, (_, i) => (i % 200) / 200);

  it('flags a month whose scores moved as act, and keeps an identical month stable', () => {
    const month = Array.from(
      { length: 3 * n },
      (_, i) => ['2024-01', '2024-02', '2024-03'][Math.floor(i / n)]!,
    );
    // Month 2 repeats month 1; month 3 is squeezed into the top of the range.
    const s = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      s[i] = base[i]!;
      s[n + i] = base[i]!;
      s[2 * n + i] = 0.7 + 0.3 * base[i]!;
    }
    const lab = allLabelled(3 * n);
    const rows = stabilityRows({
      month,
      scores: { willingness: s, ability: s },
      labels: { willingness: lab, ability: lab },
    });
    expect(rows.map((r) => `${r.month}/${r.target}`)).toEqual([
      '2024-01/willingness',
      '2024-01/ability',
      '2024-02/willingness',
      '2024-02/ability',
      '2024-03/willingness',
      '2024-03/ability',
    ]);
    const [jan, , feb, , mar] = rows;
    expect(jan).toMatchObject({ psi: 0, verdict: 'stable', snapshots: n });
    expect(feb!.psi).toBeCloseTo(0, 12);
    expect(feb!.verdict).toBe('stable');
    expect(mar!.psi).toBeGreaterThan(PSI_THRESHOLDS.act);
    expect(mar!.verdict).toBe('act');
  });

  it('gives NaN AUC and KS to a month with too few labelled rows of a class, and still its PSI', () => {
    const month = Array.from({ length: 2 * n }, (_, i) => (i < n ? '2024-01' : '2024-02'));
    const s = Float64Array.from({ length: 2 * n }, (_, i) => base[i % n]!);
    // January fully labelled; February has MIN_ROWS_PER_CLASS − 1 positives only.
    const rowsIdx: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      rowsIdx.push(i);
      y.push(s[i]! > 0.5 ? 1 : 0);
    }
    for (let i = 0; i < MIN_ROWS_PER_CLASS - 1; i++) {
      rowsIdx.push(n + i);
      y.push(1);
    }
    for (let i = MIN_ROWS_PER_CLASS; i < n; i++) {
      rowsIdx.push(n + i);
      y.push(0);
    }
    const lab: Labelled = { rows: Int32Array.from(rowsIdx), y: Uint8Array.from(y) };
    const rows = stabilityRows({
      month,
      scores: { willingness: s, ability: s },
      labels: { willingness: lab, ability: lab },
    });
    expect(rows[0]!.auc).toBe(1);
    expect(rows[0]!.ks).toBe(1);
    expect(rows[2]!.auc).toBeNaN();
    expect(rows[2]!.ks).toBeNaN();
    expect(rows[2]!.psi).toBeCloseTo(0, 12);
  });

  it('refuses scores whose length differs from the months', () => {
    const lab = allLabelled(2);
    expect(() =>
      stabilityRows({
        month: ['2024-01', '2024-01'],
        scores: { willingness: new Float64Array(2), ability: new Float64Array(3) },
        labels: { willingness: lab, ability: lab },
      }),
    ).toThrow(new RangeError("stabilityRows: 2 months but 3 'ability' scores"));
  });

  it('returns no rows for no snapshots', () => {
    const lab = allLabelled(0);
    const none = new Float64Array(0);
    expect(
      stabilityRows({
        month: [],
        scores: { willingness: none, ability: none },
        labels: { willingness: lab, ability: lab },
      }),
    ).toEqual([]);
  });
});

describe('PSI verdict bands', () => {
  it('is stable below 0.1, watch from 0.1 through 0.25, act above 0.25', () => {
    expect(PSI_THRESHOLDS).toEqual({ watch: 0.1, act: 0.25 });
    expect(psiVerdict(0)).toBe('stable');
    expect(psiVerdict(0.0999999)).toBe('stable');
    expect(psiVerdict(0.1)).toBe('watch');
    expect(psiVerdict(0.25)).toBe('watch');
    expect(psiVerdict(0.2500001)).toBe('act');
    expect(() => psiVerdict(Number.NaN)).toThrow(RangeError);
  });
});
