import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReport } from '../src/core/backtest/types.ts';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import { withDuckDB } from '../src/data/duckdb.ts';
import { generateWorld } from '../src/data/generate.ts';
import { runBacktest } from '../src/pipeline/backtest.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { tmpDir } from './helpers/tmp.ts';

/** decisions.csv / decisions.parquet of `backtest`: one row per replayed snapshot, the policies side by side. */
describe('backtest writes its per-snapshot decisions for analysts', () => {
  const dir = tmpDir();
  const out = join(dir, 'out');
  let report: BacktestReport;
  let rows: Record<string, string>[];
  beforeAll(async () => {
    const history = join(dir, 'world');
    await generateWorld({
      accounts: 3000,
      months: 6,
      seed: 4,
      start: '2024-01-01',
      out: history,
      format: 'parquet',
    });
    const m = await trainSnapshots({
      history,
      modelsRoot: join(dir, 'models'),
      name: 'score',
      kind: 'logistic',
      seed: 1,
      ootMonths: 1,
      validationShare: 0.2,
      calibration: 'platt',
    });
    report = await runBacktest({
      history,
      policy: 'policies/default.yaml',
      challenger: 'policies/challenger-plan-first.yaml',
      model: m.artifact.dir,
      out,
      bootstrapSamples: 20,
    });
    const [head, ...lines] = readFileSync(join(out, 'decisions.csv'), 'utf8').trim().split('\n');
    const names = head!.split(',');
    rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, v])));
  }, 240_000);

  it('has one row per replayed snapshot, keyed by account and date, with each policy’s choice', () => {
    expect(rows).toHaveLength(report.snapshots);
    expect(new Set(rows.map((r) => `${r.account_id}|${r.as_of_date}`)).size).toBe(rows.length);
    for (const r of rows) {
      for (const role of ['champion', 'challenger', 'logged'])
        expect(TREATMENTS as readonly string[]).toContain(r[`${role}_treatment`]);
      expect(r.champion_channel === '').toBe(r.champion_treatment === 'hold');
    }
  });

  it('agrees with backtest.json: treatment mix and true recovery per policy', () => {
    for (const p of report.policies) {
      const mix = Object.fromEntries(TREATMENTS.map((t) => [t, 0]));
      let truth = 0;
      for (const r of rows) {
        mix[r[`${p.role}_treatment`]!]! += 1 / rows.length;
        truth += Number(r[`${p.role}_true_recovery`]) / rows.length;
      }
      for (const t of TREATMENTS) expect(mix[t]).toBeCloseTo(p.overall.treatment_mix[t], 9);
      // The file rounds each amount to cents: the mean moves by at most half a cent.
      expect(Math.abs(truth - p.overall.recovery.simulation!)).toBeLessThanOrEqual(0.005);
    }
  });

  it('the Parquet copy holds the same rows', async () => {
    const n = await withDuckDB(async (conn) => {
      const r = await conn.runAndReadAll(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT champion_treatment)::INTEGER AS t FROM read_parquet('${join(out, 'decisions.parquet')}')`,
      );
      return r.getRowObjects()[0] as { n: number; t: number };
    });
    expect(n.n).toBe(rows.length);
    expect(n.t).toBe(new Set(rows.map((r) => r.champion_treatment)).size);
  });
});
