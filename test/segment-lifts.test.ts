// Lift tables estimated from fitted responses (scripts/write-lifts.ts): the mean logit difference between a
// treatment's fitted response and the scores, over accounts inside the treatment's logged support only.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../src/core/policy/load.ts';
import { SEGMENTS } from '../src/core/policy/schema.ts';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import { qiniCurve } from '../src/core/uplift/qini.ts';
import type { PredictedResponses } from '../src/core/uplift/response-set.ts';
import { estimateLifts } from '../src/core/uplift/segment-lifts.ts';
import { trainResponse } from '../src/pipeline/response-train.ts';
import { tmpDir } from './helpers/tmp.ts';

const logit = (p: number) => Math.log(p / (1 - p));
const T = TREATMENTS.length;
const k = (t: (typeof TREATMENTS)[number]) => TREATMENTS.indexOf(t);

/** n accounts, each treatment t predicted at pay[t] / cover[t]; `supported(i, t)` says where it may be used. */
function predictions(
  n: number,
  pay: (t: number, i: number) => number,
  supported: (i: number, t: number) => boolean,
): PredictedResponses {
  const s = new Uint8Array(n * T);
  for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) s[i * T + t] = supported(i, t) ? 1 : 0;
  return {
    rows: n,
    pPay: TREATMENTS.map((_, t) => Float64Array.from({ length: n }, (_, i) => pay(t, i))),
    pCover: TREATMENTS.map(() => new Float64Array(n).fill(0.5)),
    supported: s,
  };
}

describe('lift tables from fitted responses', () => {
  const dir = tmpDir('repayrisk-lifts-');
  it('averages logit(fitted) − logit(score) over the supported accounts of each segment', () => {
    // 40 accounts in segment 0, willingness 0.5 and 0.8 alternating, a nudge fitted at 0.6 and 0.9.
    const n = 40;
    const w = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 0.8 : 0.5));
    const p = predictions(
      n,
      (t, i) => (t === k('gentle_nudge') ? (i % 2 ? 0.9 : 0.6) : w[i]!),
      () => true,
    );
    const table = estimateLifts(p, w, new Float64Array(n).fill(0.5), new Int32Array(n));
    const nudge = table[SEGMENTS[0]!].gentle_nudge;
    expect(nudge.source).toBe('segment');
    expect(nudge.n).toBe(40);
    expect(nudge.pay).toBeCloseTo((logit(0.6) - logit(0.5) + logit(0.9) - logit(0.8)) / 2, 12);
    expect(nudge.cover).toBeCloseTo(0, 12);
    expect(table[SEGMENTS[0]!].hold.pay).toBeCloseTo(0, 12);
  });

  it('never reads a response outside the support: too few in a segment pools, none at all prices as hold', () => {
    // Segment 0: 30 accounts, segment 1: 10. Calls supported only for segment 1's accounts (10 < 20: pooled is
    // also 10, so no estimate); plan offers supported everywhere but predicted 0.99 where unsupported.
    const n = 40;
    const seg = Int32Array.from({ length: n }, (_, i) => (i < 30 ? 0 : 1));
    const w = new Float64Array(n).fill(0.5);
    const p = predictions(
      n,
      (t, i) => (t === k('plan_offer') ? (i < 30 ? 0.6 : 0.7) : t === k('hold') ? 0.55 : 0.99),
      (i, t) => t === k('hold') || t === k('plan_offer') || (t === k('human_call') && i >= 30),
    );
    const table = estimateLifts(p, w, new Float64Array(n).fill(0.5), seg);
    expect(table[SEGMENTS[0]!].plan_offer).toMatchObject({ source: 'segment', n: 30 });
    expect(table[SEGMENTS[0]!].plan_offer.pay).toBeCloseTo(logit(0.6), 12);
    // Segment 1 has 10 accounts: the pooled mean over all 40.
    expect(table[SEGMENTS[1]!].plan_offer).toMatchObject({ source: 'pooled', n: 40 });
    expect(table[SEGMENTS[1]!].plan_offer.pay).toBeCloseTo((30 * logit(0.6) + 10 * logit(0.7)) / 40, 12);
    // The 0.99 predictions of unsupported treatments never show: calls and legal are priced as hold.
    for (const s of SEGMENTS)
      for (const t of ['human_call', 'legal'] as const) {
        expect(table[s][t].source).toBe('as_hold');
        expect(table[s][t].pay).toBeCloseTo(table[s].hold.pay, 12);
      }
  });

  it('the script writes a policy’s lifts block from a fitted artifact, naming it, for every treatment', async () => {
    const r = await trainResponse({
      history: 'data-samples',
      modelsRoot: dir,
      seed: 1,
      ootMonths: 3,
      validationShare: 0.2,
      bags: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const policyPath = join(dir, 'policy.yaml');
    writeFileSync(policyPath, readFileSync('policies/default.yaml', 'utf8'));
    execFileSync(
      'npx',
      ['tsx', 'scripts/write-lifts.ts', '--response', r.dir, '--policy', policyPath, '--write'],
      {
        encoding: 'utf8',
      },
    );
    const text = readFileSync(policyPath, 'utf8');
    expect(text).toContain(
      `# Written by scripts/write-lifts.ts from the response artifact repayrisk-response/${r.version}`,
    );
    // Only the lifts block changed.
    const outside = (t: string) =>
      t.slice(0, t.indexOf('  lifts:')) + t.slice(t.indexOf('\n\n', t.indexOf('  lifts:')));
    expect(outside(text)).toBe(outside(readFileSync('policies/default.yaml', 'utf8')));
    const policy = parsePolicyText(text, policyPath);
    const block = text.slice(text.indexOf('  lifts:'));
    for (const s of SEGMENTS)
      for (const t of TREATMENTS) {
        const m = new RegExp(
          `\\n    ${s}:[\\s\\S]*?\\n      ${t}: \\{ pay: (-?[0-9.]+), cover: (-?[0-9.]+) \\} # `,
        ).exec(block);
        expect(m, `${s}.${t}`).not.toBeNull();
        expect(policy.champion.response.lifts[s][t].pay).toBe(Number(m![1]));
      }
    // Legal has 43 training rows on the sample, under the support rule's 50: never estimated, priced as hold.
    expect(block).toMatch(/\n {6}legal: \{ pay: [-0-9.]+, cover: [-0-9.]+ \} # as hold/);
  }, 300_000);
});

describe('Qini curve of a predicted uplift', () => {
  it('counts incremental positives of the top-ranked accounts against the control rate (by hand)', () => {
    // Ranked 0..3: treated payer, control non-payer, treated non-payer, control payer; weights 1, N = 4.
    // Prefix 1: no control yet -> 0. Prefix 2: (1 - 0 * 1/1) / 4. Prefix 3: (1 - 0 * 2/1) / 4. All: (1 - 1 * 2/2) / 4.
    const q = qiniCurve([0.9, 0.5, 0.1, 0], [1, 0, 1, 0], [1, 0, 0, 1], [1, 1, 1, 1], 4);
    expect(q.points.map((p) => p.share)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(q.points.map((p) => p.gain)).toEqual([0, 0, 0.25, 0.25, 0]);
    expect(q.coefficient).toBeCloseTo(0.5 / 5, 12);
    expect([q.treated, q.control]).toEqual([2, 2]);
    // Ranking the other way round puts the control payer first: below the random line.
    expect(
      qiniCurve([0, 0.1, 0.5, 0.9], [1, 0, 1, 0], [1, 0, 0, 1], [1, 1, 1, 1], 4).coefficient,
    ).toBeLessThan(0);
  });

  it('refuses a non-positive weight, naming the row', () => {
    expect(() => qiniCurve([1, 2], [1, 0], [1, 0], [1, 0])).toThrow(/weight\[1\] must be > 0, got 0/);
  });
});
