import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS } from '../src/core/backtest/buckets.ts';
import type { BacktestReport, PolicyBacktest } from '../src/core/backtest/types.ts';
import { generateWorld } from '../src/data/generate.ts';
import { runBacktest } from '../src/pipeline/backtest.ts';
import { tmpDir } from './helpers/tmp.ts';

const role = (r: BacktestReport, x: PolicyBacktest['role']) => r.policies.find((p) => p.role === x)!;

describe('backtest estimators on a synthetic world with known truth', () => {
  const dir = tmpDir();
  let report: BacktestReport;
  beforeAll(async () => {
    // 40,000 customers × 12 months: about 27,000 delinquent snapshots, enough for off-policy estimates to be tight.
    await generateWorld({
      accounts: 40_000,
      months: 12,
      seed: 77,
      start: '2024-01-01',
      out: dir,
      format: 'parquet',
    });
    report = await runBacktest({
      history: dir,
      policy: 'policies/default.yaml',
      bootstrapSamples: 200,
      seed: 3,
    });
  }, 300_000);

  it('the default policy differs from the logging policy', () => {
    const champion = role(report, 'champion').overall.treatment_mix;
    const logged = role(report, 'logged').overall.treatment_mix;
    const distance = Object.keys(champion).reduce(
      (s, t) => s + Math.abs(champion[t as keyof typeof champion] - logged[t as keyof typeof logged]),
      0,
    );
    expect(distance).toBeGreaterThan(0.2);
    expect(report.estimators).toEqual({ simulation: true, ipw: true, doubly_robust: true });
  });

  it('doubly robust is within 5% of the true expected recovery, and the truth lies in the IPW interval', () => {
    const p = role(report, 'champion');
    const truth = p.overall.recovery.simulation!;
    const dr = p.overall.recovery.doubly_robust!;
    expect(Math.abs(dr - truth) / truth).toBeLessThan(0.05);
    const ipw = p.intervals.recovery.ipw!;
    expect(truth).toBeGreaterThanOrEqual(ipw.low);
    expect(truth).toBeLessThanOrEqual(ipw.high);
    expect(p.overlap.ess_share).toBeGreaterThan(0.1);
  });

  it('replaying the logging policy reproduces the realised recovery within sampling error', () => {
    const logged = role(report, 'logged');
    const realised = logged.intervals.recovery.ipw!;
    expect(realised.value).toBeCloseTo(report.realised.recovery, 9);
    const se = (realised.high - realised.low) / 3.92;
    expect(Math.abs(logged.overall.recovery.simulation! - report.realised.recovery)).toBeLessThan(3 * se);
    const cureSe = (logged.intervals.cure_rate.ipw!.high - logged.intervals.cure_rate.ipw!.low) / 3.92;
    expect(Math.abs(logged.overall.cure_rate.simulation! - report.realised.cure_rate)).toBeLessThan(
      3 * cureSe,
    );
  });

  it('breaks the figures down by segment, bucket and month, and the parts add up to the whole', () => {
    const p = role(report, 'champion');
    for (const parts of [p.by_segment, p.by_bucket, p.by_month]) {
      expect(parts.reduce((s, g) => s + g.snapshots, 0)).toBe(p.snapshots);
      const cost = parts.reduce((s, g) => s + g.cost * g.snapshots, 0) / p.snapshots;
      expect(cost).toBeCloseTo(p.overall.cost, 9);
    }
    // In BUCKETS order; buckets without snapshots are left out (this world charges off past 180 days).
    const keys = p.by_bucket.map((g) => g.key);
    expect(keys).toEqual(BUCKETS.filter((b) => keys.includes(b)));
    expect(keys.slice(0, 4)).toEqual(['1-30', '31-60', '61-90', '91-180']);
    const cells = new Set(p.heatmap.map((h) => `${h.willingness_bin},${h.ability_bin}`));
    for (const c of cells) {
      const shares = p.heatmap.filter((h) => `${h.willingness_bin},${h.ability_bin}` === c);
      expect(shares.reduce((s, h) => s + h.share, 0)).toBeCloseTo(1, 9);
    }
  });

  it('a daily call capacity caps the calls of every snapshot date', async () => {
    const policy = join(dir, 'capped.yaml');
    writeFileSync(policy, 'version: capped\ncapacity: { total_slots: 50 }\n');
    const r = await runBacktest({ history: dir, policy, bootstrapSamples: 20 });
    const p = role(r, 'champion');
    // Snapshots are monthly (one date per month), so a month's calls are one day's calls.
    for (const m of p.by_month)
      expect(Math.round(m.treatment_mix.human_call * m.snapshots)).toBeLessThanOrEqual(50);
    const free = role(report, 'champion');
    expect(p.overall.treatment_mix.human_call).toBeLessThan(free.overall.treatment_mix.human_call);
  }, 120_000);
});

describe('repayrisk backtest', () => {
  const out = tmpDir();
  it('compares a challenger with the policy on the sample history and writes the report', () => {
    const challenger = join(out, 'plan-first.yaml');
    writeFileSync(
      challenger,
      'version: plan-first\nmatrix: { low_willingness_high_ability: [plan_offer, human_call] }\n',
    );
    const r = spawnSync(
      process.execPath,
      [
        'bin/repayrisk.js',
        'backtest',
        '--history',
        'data-samples',
        '--challenger',
        challenger,
        '--out',
        out,
        '--bootstrap',
        '50',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('plan-first');
    const html = readFileSync(join(out, 'backtest.html'), 'utf8');
    expect(html).toContain('plan-first');
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(6);
    const report = JSON.parse(readFileSync(join(out, 'backtest.json'), 'utf8')) as BacktestReport;
    expect(report.policies.map((p) => p.role)).toEqual(['champion', 'challenger', 'logged']);
    expect(report.stability.length).toBe(24); // 12 months × 2 targets
    expect(report.stability.every((s) => ['stable', 'watch', 'act'].includes(s.verdict))).toBe(true);
    expect(report.difference?.net.doubly_robust).not.toBeNull();
    const d = report.difference!.recovery.simulation!;
    const [a, b] = [role(report, 'champion'), role(report, 'challenger')];
    expect(d.value).toBeCloseTo(b.overall.recovery.simulation! - a.overall.recovery.simulation!, 9);
    expect(d.low).toBeLessThanOrEqual(d.value);
    expect(d.high).toBeGreaterThanOrEqual(d.value);
  }, 120_000);

  it('refuses a bad challenger policy with its problems (exit 2)', () => {
    const bad = join(out, 'bad.yaml');
    writeFileSync(bad, 'version: x\nsegments: { willingness_high: 2 }\n');
    const r = spawnSync(
      process.execPath,
      ['bin/repayrisk.js', 'backtest', '--history', 'data-samples', '--challenger', bad, '--out', out],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('segments.willingness_high');
  });
});
