import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCalibrator } from '../src/core/models/calibration.ts';
import { type Fitted, matrix } from '../src/core/models/contract.ts';
import { decide } from '../src/core/policy/decide.ts';
import { parsePolicyText } from '../src/core/policy/load.ts';
import { TREATMENTS, type Treatment } from '../src/core/schema/enums.ts';
import type { CalibratedModel } from '../src/core/training/fit-target.ts';
import { overlapTable, RESPONSE_CELLS, responseCellOf } from '../src/core/uplift/overlap.ts';
import { drNet, meanInterval, shareOfOracleGain } from '../src/core/uplift/policy-value.ts';
import { spearman } from '../src/core/uplift/rank.ts';
import { predictResponses, type ResponseSet, responseScores } from '../src/core/uplift/response-set.ts';
import { generateWorld } from '../src/data/generate.ts';
import { makeAccount } from './helpers/account.ts';
import { tmpDir } from './helpers/tmp.ts';

/** A calibrated model that predicts `p` for every row (what a fitted arm looks like from outside). */
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

const arms = Object.fromEntries(
  TREATMENTS.map((t, k) => [t, { pay: constant(0.2 + 0.1 * k), cover: constant(0.5) }]),
) as ResponseSet['arms'];

describe('overlap: which treatments the logging policy took for each kind of account', () => {
  it('counts logged treatments per delinquency bucket and supports only those above both thresholds', () => {
    // Bucket 1-30: 100 snapshots, 60 nudges, 39 holds, 1 call; bucket 91-180: 10 legal, 10 calls.
    const cells = [...Array(100).fill(0), ...Array(20).fill(3)];
    const t = [...Array(60).fill(1), ...Array(39).fill(0), 3, ...Array(10).fill(4), ...Array(10).fill(3)];
    const table = overlapTable(cells, t, { minShare: 0.05, minCount: 10 });
    expect(table.map((r) => r.cell)).toEqual([...RESPONSE_CELLS]);
    // Every treatment has a count; one the logging policy never took (legal here, any added later) has 0.
    expect(table[0]!.counts).toEqual({
      ...Object.fromEntries(TREATMENTS.map((x) => [x, 0])),
      hold: 39,
      gentle_nudge: 60,
      human_call: 1,
    });
    expect(table[0]!.shares.human_call).toBeCloseTo(0.01, 12);
    expect(table[0]!.supported).toEqual(['hold', 'gentle_nudge']);
    expect(table[3]!.supported).toEqual(['human_call', 'legal']);
    // No snapshots: nothing is supported.
    expect(table[1]!.snapshots).toBe(0);
    expect(table[1]!.supported).toEqual([]);
  });

  it('refuses a rule outside its range, naming the field', () => {
    expect(() => overlapTable([0], [0], { minShare: 1.5, minCount: 1 })).toThrow(
      /minShare: expected \[0, 1\], got 1.5/,
    );
    expect(() => overlapTable([0], [0], { minShare: 0.1, minCount: 0 })).toThrow(
      /minCount: expected an integer >= 1, got 0/,
    );
  });
});

describe('no fitted response is used outside the logged support without saying so', () => {
  // Calls are supported only for 31-60 days past due; legal nowhere.
  const support: Treatment[][] = [
    ['hold', 'gentle_nudge', 'plan_offer'],
    ['hold', 'gentle_nudge', 'plan_offer', 'human_call'],
    ['hold', 'plan_offer'],
    ['hold', 'plan_offer', 'human_call'],
    [],
  ];
  const set: ResponseSet = { arms, support };
  const dpd = [10, 45, 75, 120, 200];
  const x = matrix(new Float64Array(0), dpd.length, 0);
  const pred = predictResponses(set, x, dpd);

  it('gives a response only for the supported treatments of the account’s bucket and lists the rest', () => {
    for (let i = 0; i < dpd.length; i++) {
      const r = responseScores(pred, i);
      const given = Object.keys(r.byTreatment ?? {});
      expect(given).toEqual(support[responseCellOf(dpd[i]!)]);
      expect([...given, ...(r.responseOutsideSupport ?? [])].sort()).toEqual([...TREATMENTS].sort());
    }
    expect(responseScores(pred, 1).byTreatment?.human_call).toEqual({ pPay: 0.5, pCover: 0.5 });
  });

  it('never supports a treatment without a fitted arm, whatever the support table says', () => {
    const { legal: _legal, ...noLegal } = arms;
    const p = predictResponses({ arms: noLegal, support: RESPONSE_CELLS.map(() => [...TREATMENTS]) }, x, dpd);
    for (let i = 0; i < dpd.length; i++) {
      const r = responseScores(p, i);
      expect(r.byTreatment?.legal).toBeUndefined();
      expect(r.responseOutsideSupport).toContain('legal');
    }
  });

  it('an expected-value decision names the treatments priced from the lift tables instead', async () => {
    const policy = parsePolicyText(
      readFileSync('policies/learned-ev.yaml', 'utf8'),
      'policies/learned-ev.yaml',
    );
    const a = makeAccount({ days_past_due: 10, amount_overdue: 800 });
    const now = Date.parse(`${a.as_of_date}T15:00:00Z`);
    const r = responseScores(pred, 0);
    const d = decide(a, { willingness: 0.5, ability: 0.5, ...r }, { now, contacts: [] }, policy);
    const k = d.reason_codes.indexOf('RESPONSE_OUTSIDE_SUPPORT');
    expect(k).toBeGreaterThanOrEqual(0);
    expect(d.reasons[k]).toContain('human_call, legal');
    // Inside the support everywhere: nothing to say.
    const all = { byTreatment: r.byTreatment, responseOutsideSupport: [] };
    const quiet = decide(a, { willingness: 0.5, ability: 0.5, ...all }, { now, contacts: [] }, policy);
    expect(quiet.reason_codes).not.toContain('RESPONSE_OUTSIDE_SUPPORT');
  });
});

describe('value and rank figures', () => {
  it('Spearman: +1 for any increasing map, -1 for a decreasing one, ties at their mean rank', () => {
    const a = [3, 1, 4, 1.5, 9, 2.6];
    expect(
      spearman(
        a,
        a.map((v) => Math.exp(v)),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      spearman(
        a,
        a.map((v) => -v * v * v),
      ),
    ).toBeCloseTo(-1, 12);
    // Ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]: r = 4.5 / sqrt(4.5 * 5) (centred sums by hand).
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('doubly robust net: model value plus the weighted residual where the logged treatment was chosen', () => {
    const base = { qChosen: 100, qLogged: 80, propensity: 0.25, realised: 90, cost: 6 };
    expect(drNet({ ...base, same: 0 })).toBeCloseTo(94, 12);
    expect(drNet({ ...base, same: 1 })).toBeCloseTo(100 + (90 - 80) / 0.25 - 6, 12);
  });

  it('mean interval and share of the oracle gain', () => {
    const m = meanInterval([1, 2, 3, 4, Number.NaN]);
    expect(m.value).toBeCloseTo(2.5, 12);
    expect(m.n).toBe(4);
    expect(m.high - m.value).toBeCloseTo(1.96 * Math.sqrt(5 / 3 / 4), 12);
    expect(shareOfOracleGain(190, 180, 200)).toBeCloseTo(0.5, 12);
    expect(shareOfOracleGain(190, 200, 200)).toBeNaN();
  });
});

describe('the generator’s treatment-response knob', () => {
  const dir = tmpDir();
  it('leaves a world unchanged unless set, and changes only what treatments do when set', async () => {
    const cfg = { accounts: 300, months: 4, seed: 5, start: '2024-01-01', format: 'csv' as const };
    await generateWorld({ ...cfg, out: join(dir, 'default') });
    await generateWorld({ ...cfg, out: join(dir, 'standard'), response: 'standard' });
    await generateWorld({ ...cfg, out: join(dir, 'inverted'), response: 'inverted' });
    const read = (w: string, f: string) => readFileSync(join(dir, w, f), 'utf8');
    for (const f of ['accounts.csv', 'treatments.csv', 'truth.csv', 'outcomes.csv', 'world.json'])
      expect(read('standard', f), f).toBe(read('default', f));
    expect(JSON.parse(read('inverted', 'world.json')).config.response).toBe('inverted');
    expect(read('inverted', 'truth.csv')).not.toBe(read('default', 'truth.csv'));
    await expect(
      generateWorld({ ...cfg, out: join(dir, 'bad'), response: 'sideways' as 'standard' }),
    ).rejects.toThrow(/response: expected one of standard, inverted, got sideways/);
  });
});
