// Model stability over the snapshot months of a history (DESIGN §8): the committed champion on data-samples/ and on
// a copy that starts without delinquency, and the pure month-grouping function on hand-made scores, including the
// PSI verdict boundaries. Every month's PSI is measured against the model's training scores, never the first month.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PSI_THRESHOLDS, psiVerdict } from '../src/core/metrics/index.ts';
import type { Labelled } from '../src/core/training/labels.ts';
import { loadSnapshotDataset } from '../src/data/snapshot-dataset.ts';
import {
  MIN_REFERENCE_ROWS,
  MIN_ROWS_PER_CLASS,
  modelStability,
  type ReferenceRows,
  stabilityRows,
  trainingReference,
} from '../src/pipeline/stability.ts';
import { readManifest } from '../src/registry/artifact.ts';
import { tmpDir } from './helpers/tmp.ts';

const ROOT = join('models', 'repayrisk');
const CHAMPION = join(ROOT, readFileSync(join(ROOT, 'CHAMPION'), 'utf8').trim());

/** Rows `from` .. `to - 1` as the reference, with the basis a model's own training data gives. */
const refRows = (from: number, to: number): ReferenceRows => ({
  basis: 'training',
  rows: Array.from({ length: to - from }, (_, i) => from + i),
});

/**
 * A copy of data-samples/ as if the book had started with no account in arrears: no delinquent snapshot in its
 * first month and, in its second, only accounts 1-30 days past due (nobody can be further behind yet).
 */
function historyStartingWithoutDelinquency(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync('data-samples'))
    if (f !== 'accounts.csv') copyFileSync(join('data-samples', f), join(dir, f));
  const [head, ...lines] = readFileSync(join('data-samples', 'accounts.csv'), 'utf8').trimEnd().split('\n');
  const cols = head!.split(',');
  const asOf = cols.indexOf('as_of_date');
  const dpd = cols.indexOf('days_past_due');
  const kept = lines.filter((l) => {
    const c = l.split(',');
    const days = Number(c[dpd]);
    if (c[asOf] === '2024-01-01') return days === 0;
    if (c[asOf] === '2024-02-01') return days <= 30;
    return true;
  });
  writeFileSync(join(dir, 'accounts.csv'), `${[head, ...kept].join('\n')}\n`);
  return dir;
}

/** Every row labelled; label 1 where the index is even. */
function allLabelled(n: number): Labelled {
  return {
    rows: Int32Array.from({ length: n }, (_, i) => i),
    y: Uint8Array.from({ length: n }, (_, i) => 1 - (i % 2)),
  };
}

describe('modelStability on data-samples/ with the committed champion', () => {
  it('gives one row per month per target, each month against the training scores, none to act on, AUCs in (0.5, 1)', async () => {
    const rows = await modelStability(CHAMPION, 'data-samples');
    const months = [...new Set(rows.map((r) => r.month))];
    expect(months.length).toBeGreaterThan(1);
    expect(months).toEqual([...months].sort());
    expect(rows).toHaveLength(months.length * 2);
    for (const m of months) {
      expect(rows.filter((r) => r.month === m).map((r) => r.target)).toEqual(['willingness', 'ability']);
    }
    // data-samples/ is the champion's training data: the reference is the snapshots it was fitted on, and the
    // first month is measured like any other (it was the reference itself, PSI 0 by construction, before).
    for (const r of rows) expect(r.reference).toBe('training');
    expect(rows.filter((r) => r.month === months[0]).every((r) => r.psi > 0)).toBe(true);
    for (const r of rows) {
      expect(r.month).toMatch(/^\d{4}-\d{2}$/);
      expect(r.snapshots).toBeGreaterThan(0);
      expect(r.psi).toBeGreaterThanOrEqual(0);
      expect(r.verdict).toBe(psiVerdict(r.psi));
      // A model scored on the months it was trained on (and the three just after) has not drifted.
      expect(r.verdict, `${r.month} ${r.target} PSI ${r.psi}`).not.toBe('act');
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

  it('takes as reference exactly the rows the champion was fitted on, as many as its manifest says', async () => {
    const manifest = readManifest(CHAMPION);
    const ds = await loadSnapshotDataset('data-samples');
    const ref = trainingReference(manifest, ds);
    expect(ref.basis).toBe('training');
    // Every sample snapshot has an outcome, so the willingness model trained on all training-role snapshots.
    const w = manifest.targets.willingness!.metrics;
    expect(w.train.rows + w.validation.rows + w.outOfTime.rows).toBe(ds.x.rows);
    expect(ref.rows).toHaveLength(w.train.rows);
    // All before the out-of-time months.
    const oot = Date.parse(`${manifest.split.outOfTimeFrom}T00:00:00Z`) / 86_400_000;
    expect(ref.rows.every((i) => ds.asOf[i]! < oot)).toBe(true);
  }, 120_000);

  it('a history that starts without delinquency: its later months are not all "act" against its first', async () => {
    const late = historyStartingWithoutDelinquency(join(tmpDir('repayrisk-stability-'), 'late'));
    const rows = await modelStability(CHAMPION, late);
    const months = [...new Set(rows.map((r) => r.month))];
    // January has no delinquent snapshot, so the first month scored is February, early arrears only.
    expect(months[0]).toBe('2024-02');
    // Not the training data any more (a different fingerprint): its own snapshots of the training months stand in.
    for (const r of rows) expect(r.reference).toBe('training-months');
    // Against February every later month read 'act' (PSI 0.8-2.3 for both targets); against the training
    // months none does, and February itself is the month that moved (only early arrears): 'act'.
    const later = rows.filter((r) => r.month !== '2024-02');
    expect(later.filter((r) => r.verdict === 'act')).toEqual([]);
    expect(later.every((r) => r.psi < PSI_THRESHOLDS.act)).toBe(true);
    for (const r of rows.filter((r) => r.month === '2024-02')) expect(r.verdict).toBe('act');
  }, 120_000);
});

describe('stabilityRows', () => {
  const n = 400;
  const base = Float64Array.from({ length: n }, (_, i) => (i % 200) / 200);

  it('flags a month whose scores moved from the reference as act, and keeps an identical month stable', () => {
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
    // The reference is January's scores (as if January were the training data).
    const rows = stabilityRows({
      month,
      scores: { willingness: s, ability: s },
      labels: { willingness: lab, ability: lab },
      reference: refRows(0, n),
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
    expect(jan).toMatchObject({ psi: 0, verdict: 'stable', snapshots: n, reference: 'training' });
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
      reference: refRows(0, n),
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
        reference: refRows(0, 2),
      }),
    ).toThrow(new RangeError("stabilityRows: 2 months but 3 'ability' scores"));
    expect(() =>
      stabilityRows({
        month: ['2024-01', '2024-01'],
        scores: { willingness: new Float64Array(2), ability: new Float64Array(2) },
        labels: { willingness: lab, ability: lab },
        reference: refRows(1, 3),
      }),
    ).toThrow(new RangeError('stabilityRows: reference row 2 is not a row of the 2 scored'));
  });

  it('a book that starts without arrears: later months are stable against the training months, act against the first', () => {
    // January: 40 snapshots, all early arrears, scored high; February to April: the usual mix.
    const first = 40;
    const month = [
      ...Array.from({ length: first }, () => '2024-01'),
      ...Array.from({ length: 3 * n }, (_, i) => ['2024-02', '2024-03', '2024-04'][Math.floor(i / n)]!),
    ];
    const s = new Float64Array(first + 3 * n);
    for (let i = 0; i < first; i++) s[i] = 0.9 + (0.1 * i) / first;
    // Each month the same mix, in another order.
    for (let m = 0; m < 3; m++)
      for (let i = 0; i < n; i++) s[first + m * n + i] = base[(i * (m + 1) * 7) % n]!;
    const lab = allLabelled(first + 3 * n);
    const input = {
      month,
      scores: { willingness: s, ability: s },
      labels: { willingness: lab, ability: lab },
    };
    // Against the training months (here February to April), January is the month that moved.
    const fixed = stabilityRows({
      ...input,
      reference: { basis: 'training-months', rows: Array.from({ length: 3 * n }, (_, i) => first + i) },
    });
    expect(fixed.filter((r) => r.verdict === 'act').map((r) => r.month)).toEqual(['2024-01', '2024-01']);
    for (const r of fixed.filter((r) => r.month !== '2024-01')) {
      expect(r.psi).toBeCloseTo(0, 12);
      expect(r.reference).toBe('training-months');
    }
    // Against January, as before the fix, every later month reads 'act': the false alarm this replaces.
    const againstFirst = stabilityRows({ ...input, reference: refRows(0, first) });
    expect(againstFirst.filter((r) => r.month !== '2024-01').every((r) => r.verdict === 'act')).toBe(true);
  });

  it('without a reference, PSI is NaN and the verdict n/a, and AUC and KS are still given', () => {
    const month = Array.from({ length: n }, () => '2024-01');
    const lab = allLabelled(n);
    const rows = stabilityRows({
      month,
      scores: { willingness: base, ability: base },
      labels: { willingness: lab, ability: lab },
      reference: { basis: 'none', rows: [] },
    });
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.psi).toBeNaN();
      expect(r.verdict).toBe('n/a');
      expect(r.reference).toBe('none');
      expect(r.auc).toBeGreaterThan(0);
    }
    // A reference of no rows is no reference, whatever basis it claims.
    const empty = stabilityRows({
      month,
      scores: { willingness: base, ability: base },
      labels: { willingness: lab, ability: lab },
      reference: { basis: 'training-months', rows: [] },
    });
    expect(empty.every((r) => r.verdict === 'n/a' && r.reference === 'none')).toBe(true);
  });

  it('returns no rows for no snapshots', () => {
    const lab = allLabelled(0);
    const none = new Float64Array(0);
    expect(
      stabilityRows({
        month: [],
        scores: { willingness: none, ability: none },
        labels: { willingness: lab, ability: lab },
        reference: { basis: 'none', rows: [] },
      }),
    ).toEqual([]);
  });
});

describe('trainingReference on a history that is not the training data', () => {
  const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
  /** `before` snapshots dated in the training months (2024-03), then 50 in the out-of-time months (2024-10). */
  function dataset(before: number) {
    const n = before + 50;
    const asOf = Int32Array.from({ length: n }, (_, i) => day(i < before ? '2024-03-01' : '2024-10-01'));
    return {
      x: { data: new Float64Array(n), rows: n, cols: 1 },
      asOf,
      accountIds: Array.from({ length: n }, (_, i) => `A${i}`),
      paid30: new Float64Array(n),
      overdue: new Float64Array(n),
    };
  }
  const manifest = {
    seed: 1,
    // Another data set's fingerprint: the rows the model was fitted on are not in this history.
    data: { sha256: '0'.repeat(64), rows: 999, from: '2024-01-01', to: '2024-12-01', source: 'elsewhere' },
    split: { ootMonths: 3, validationShare: 0.2, outOfTimeFrom: '2024-10-01' },
  };

  it('uses the snapshots of the training months when there are enough of them, else none', () => {
    const enough = trainingReference(manifest, dataset(MIN_REFERENCE_ROWS));
    expect(enough.basis).toBe('training-months');
    expect(enough.rows).toEqual(Array.from({ length: MIN_REFERENCE_ROWS }, (_, i) => i));
    expect(trainingReference(manifest, dataset(MIN_REFERENCE_ROWS - 1))).toEqual({ basis: 'none', rows: [] });
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
