import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReport } from '../src/core/backtest/types.ts';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import type { AccountRow, TruthRow } from '../src/core/schema/tables.ts';
import { generateWorld } from '../src/data/generate.ts';
import { LOGGED_TREATMENT_COUNT } from '../src/data/synthetic/response.ts';
import { truthOfTreatment } from '../src/data/synthetic/staged-truth.ts';
import { runBacktest } from '../src/pipeline/backtest.ts';
import { renderBacktestReport } from '../src/report/backtest-html.ts';
import { tmpDir } from './helpers/tmp.ts';
import { readAll, snapKey } from './helpers/world.ts';

/**
 * The staged flow in a backtest: policies/staged.yaml replayed over a small generated world with payments. The
 * stage transitions are counted again here from decisions.csv, by the stages written in staged.yaml.
 */

/** staged.yaml's stages, as its file states them. */
const STAGE: Record<string, number> = {
  gentle_nudge: 0,
  human_call: 1,
  plan_offer: 1,
  field_visit: 2,
  agency_placement: 3,
  legal: 3,
};

describe('backtest of the staged policy', () => {
  const dir = tmpDir();
  const out = tmpDir();
  let report: BacktestReport;
  let html: string;
  beforeAll(async () => {
    await generateWorld({
      accounts: 2500,
      months: 10,
      seed: 21,
      start: '2025-01-01',
      out: dir,
      payments: true,
      format: 'csv',
    });
    report = await runBacktest({
      history: dir,
      policy: 'policies/staged.yaml',
      challenger: 'policies/default.yaml',
      bootstrapSamples: 20,
      seed: 1,
      out,
    });
    html = await renderBacktestReport(report);
  }, 300_000);

  it('replays the new treatments, prices them from the truth, and reports promise-kept rates', () => {
    const champion = report.policies.find((p) => p.role === 'champion')!;
    expect(champion.policy_version).toBe('staged-2026.12.1');
    expect(champion.overall.treatment_mix.field_visit).toBeGreaterThan(0.01);
    expect(champion.overall.treatment_mix.agency_placement).toBeGreaterThan(0);
    expect(Number.isFinite(champion.overall.recovery.simulation)).toBe(true);
    expect(champion.guardrail_hits).toHaveProperty('placement_days_past_due');
    // The default policy never visits or places.
    const challenger = report.policies.find((p) => p.role === 'challenger')!;
    expect([
      challenger.overall.treatment_mix.field_visit,
      challenger.overall.treatment_mix.agency_placement,
    ]).toEqual([0, 0]);
    expect(report.promises).not.toBeNull();
    expect(report.promises!.overall.promises).toBeGreaterThan(0);
    expect(html).toContain('<h2 id="stages">Stage transitions</h2>');
    expect(html).toContain('<h2 id="promises">Promises to pay</h2>');
  });

  it('counts the stage transitions decisions.csv shows, month by month', () => {
    const lines = readFileSync(join(out, 'decisions.csv'), 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const [id, date, t] = ['account_id', 'as_of_date', 'champion_treatment'].map((c) => head.indexOf(c));
    const rows = lines
      .slice(1)
      .map((l) => l.split(','))
      .map((c) => ({ account: c[id!]!, date: c[date!]!, treatment: c[t!]! }))
      .sort((a, b) => a.account.localeCompare(b.account) || a.date.localeCompare(b.date));
    const counted = new Map<string, number>();
    const last = new Map<string, number>();
    for (const r of rows) {
      const s = STAGE[r.treatment];
      if (s === undefined) continue;
      const before = last.get(r.account);
      last.set(r.account, s);
      if (before === undefined || before === s) continue;
      const k = `${r.date.slice(0, 7)} ${before}->${s}`;
      counted.set(k, (counted.get(k) ?? 0) + 1);
    }
    const st = report.policies.find((p) => p.role === 'champion')!.stage_transitions;
    expect(st.staged).toBe(true);
    expect(st.stages).toEqual(['reminder', 'call', 'visit', 'agency_or_legal']);
    const reported = new Map(st.by_month.map((m) => [`${m.month} ${m.from}->${m.to}`, m.accounts]));
    expect(reported).toEqual(counted);
    // Escalations through every stage happened, visits to an agency or legal included.
    for (const e of st.escalations) expect(e.accounts, `${e.from} -> ${e.to}`).toBeGreaterThan(0);
  });

  it("the truth of the logged treatments, recomputed from the latents, is the table's", async () => {
    const truth = await readAll(join(dir, 'truth.csv'), 'truth');
    const accounts = new Map(
      (await readAll(join(dir, 'accounts.csv'), 'accounts')).map((a) => [snapKey(a), a]),
    );
    let worst = 0;
    for (const row of truth) {
      const a = accounts.get(snapKey(row))! as unknown as AccountRow;
      const r = truthOfTreatment(row as unknown as TruthRow, a, 'standard');
      for (let k = 0; k < LOGGED_TREATMENT_COUNT; k++) {
        const name = TREATMENTS[k]!;
        worst = Math.max(
          worst,
          Math.abs(r.pPay[k]! - (row[`p_pay_${name}`] as number)),
          Math.abs(r.pCover[k]! - (row[`p_cover_${name}`] as number)),
        );
      }
      // The staged flow's treatments have a truth of their own, a probability like the others.
      for (let k = LOGGED_TREATMENT_COUNT; k < TREATMENTS.length; k++)
        expect(r.pPay[k]! > 0 && r.pPay[k]! < 1 && r.pCover[k]! > 0 && r.pCover[k]! < 1).toBe(true);
    }
    expect(truth.length).toBeGreaterThan(500);
    expect(worst).toBeLessThan(2e-6);
  });
});
