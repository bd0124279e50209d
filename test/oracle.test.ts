// Model quality against known truth: on a synthetic world the generator wrote the true probabilities, so the
// best any model can do on the out-of-time rows (the oracle AUC) is known.
import { describe, expect, it } from 'vitest';
import { generateWorld } from '../src/data/generate.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { tmpDir } from './helpers/tmp.ts';

async function check(
  accounts: number,
  months: number,
  seed: number,
  maxGap: { willingness: number; ability: number },
  gbdtGap?: { willingness: number; ability: number },
) {
  const dir = tmpDir();
  await generateWorld({ accounts, months, seed, start: '2024-01-01', out: dir, format: 'csv' });
  const r = await trainSnapshots({
    history: dir,
    modelsRoot: tmpDir(),
    name: 'oracle-check',
    kind: 'auto',
    seed: 1,
    ootMonths: 3,
    validationShare: 0.2,
    calibration: 'auto',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  for (const target of ['willingness', 'ability'] as const) {
    const oot = r.fits[target].chosen.evaluation.outOfTime;
    const oracle = r.oracleAuc[target]!;
    expect(oot.rows, target).toBeGreaterThan(5000);
    expect(oracle - oot.auc, `${target}: AUC ${oot.auc} vs oracle ${oracle}`).toBeLessThanOrEqual(
      maxGap[target],
    );
    // The leak guard compared every candidate with the oracle on the same rows (and train would have refused one
    // above it by more than noise).
    expect(r.oracle[target]!.map((c) => c.kind)).toEqual(r.fits[target].candidates.map((c) => c.kind));
    expect(r.oracle[target]!.every((c) => c.oracleAuc === oracle && c.rows === oot.rows)).toBe(true);
    // No model beats the truth: one above the oracle would mean the future leaks into features.
    for (const c of r.fits[target].candidates) {
      expect(c.evaluation.outOfTime.auc, `${target} ${c.kind} above the oracle`).toBeLessThanOrEqual(
        oracle + 0.003,
      );
    }
    expect(oot.ece, `${target} ECE`).toBeLessThanOrEqual(0.02);
    if (gbdtGap) {
      const g = r.fits[target].candidates.find((c) => c.kind === 'gbdt')!.evaluation.outOfTime.auc;
      expect(oracle - g, `${target}: gbdt AUC ${g} vs oracle ${oracle}`).toBeLessThanOrEqual(gbdtGap[target]);
    }
  }
}

describe('willingness and ability models against the oracle', () => {
  // Quick guard on every run: 50,000 customers × 12 months (~35k delinquent snapshots). Willingness needs more
  // data than this to come within 0.01 (README: the gap shrinks from ~0.016 here to ~0.009 at 500k snapshots; ability ~0.007 here).
  it('50,000 customers: within 0.02 (willingness) and 0.01 (ability), nothing above the oracle, ECE <= 0.02', async () => {
    await check(50_000, 12, 11, { willingness: 0.02, ability: 0.01 });
  }, 300_000);

  // The bar at full size, ~8 minutes on 2 cores: run by CI (CI=true), skipped on a developer's `npm test`.
  // gbdt on its own: ability within 0.005 of the oracle; willingness stops at ~0.007 (0.0068 here, 0.0067 at a
  // million snapshots, whatever the depth or learning rate): what timing features reveal of the trait, not the
  // model, is the limit there (README, Models).
  it.skipIf(!process.env.CI)(
    '400,000 customers × 24 months (~508k snapshots, runs when CI=true): both within 0.01 of the oracle; gbdt within 0.005 (ability) and 0.0075 (willingness)',
    async () => {
      await check(
        400_000,
        24,
        5,
        { willingness: 0.01, ability: 0.01 },
        { willingness: 0.0075, ability: 0.005 },
      );
    },
    2_400_000,
  );
});
