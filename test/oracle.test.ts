// Model quality against known truth: on a synthetic world the generator wrote the true probabilities, so the
// best any model can do on the out-of-time rows (the oracle AUC) is known.
import { describe, expect, it } from 'vitest';
import { generateWorld } from '../src/data/generate.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { tmpDir } from './helpers/tmp.ts';

describe('willingness and ability models on a 50,000-account synthetic world', () => {
  it('come within 0.01 AUC of the oracle out of time, with expected calibration error <= 0.02', async () => {
    const dir = tmpDir();
    await generateWorld({
      accounts: 50_000,
      months: 12,
      seed: 11,
      start: '2024-01-01',
      out: dir,
      format: 'csv',
    });
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
      expect(oracle - oot.auc, `${target}: AUC ${oot.auc} vs oracle ${oracle}`).toBeLessThanOrEqual(0.01);
      expect(oot.ece, `${target} ECE`).toBeLessThanOrEqual(0.02);
    }
  }, 300_000);
});
