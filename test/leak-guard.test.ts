// The leak guard (docs/models.md): on a synthetic history no model can rank the out-of-time snapshots better than
// the generator's true probabilities. A history whose installments.paid_date holds the account's *last* payment
// date (a natural but wrong mapping of a lender's data) lets the future into the features; `train` must refuse it
// with both figures, while a clean world trains and `evaluate` shows the oracle beside the model.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pairedAucDifference } from '../src/core/metrics/auc-difference.ts';
import { createRng } from '../src/core/random.ts';
import { compareWithOracle, ORACLE_MARGIN } from '../src/core/training/leak-guard.ts';
import { generateWorld } from '../src/data/generate.ts';
import { cliInProcess } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

const cli = cliInProcess;

/**
 * A copy of `world` whose paid installments carry the account's last payment date as `paid_date` (what a
 * "last payment date" column mapped onto the contract gives). Without a payments table nothing dates the real
 * payments, so a snapshot sees its account's future: instalments paid later look unpaid, and vice versa.
 */
function withLastPaymentDate(world: string, out: string): void {
  cpSync(world, out, { recursive: true });
  for (const f of readdirSync(out)) if (f.startsWith('payments.')) rmSync(join(out, f));
  const file = join(out, 'installments.csv');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const head = lines[0]!.split(',');
  const acc = head.indexOf('account_id');
  const paid = head.indexOf('paid_date');
  expect(acc >= 0 && paid >= 0, `installments.csv header: ${lines[0]}`).toBe(true);
  const rows = lines.slice(1).map((l) => l.split(','));
  const last = new Map<string, string>();
  for (const c of rows) if (c[paid] && c[paid]! > (last.get(c[acc]!) ?? '')) last.set(c[acc]!, c[paid]!);
  let changed = 0;
  for (const c of rows) {
    if (!c[paid]) continue;
    const l = last.get(c[acc]!)!;
    if (l !== c[paid]) changed++;
    c[paid] = l;
  }
  expect(changed, 'installments whose paid_date the leak rewrote').toBeGreaterThan(1000);
  writeFileSync(file, `${[lines[0], ...rows.map((c) => c.join(','))].join('\n')}\n`);
}

describe('pairedAucDifference (DeLong)', () => {
  it('gives the two AUCs exactly and a standard error that matches the spread over repeated samples', () => {
    // A latent score s; two noisy views of it, correlated through s. Over many samples the sd of the measured
    // AUC difference is the truth the DeLong standard error estimates.
    const rng = createRng(7, 1);
    const normal = () => rng.normal();
    const diffs: number[] = [];
    const ses: number[] = [];
    for (let rep = 0; rep < 300; rep++) {
      const n = 400;
      const a = new Float64Array(n);
      const b = new Float64Array(n);
      const y = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const s = normal();
        y[i] = rng.next() < 1 / (1 + Math.exp(-2 * s)) ? 1 : 0;
        a[i] = s + 0.5 * normal();
        b[i] = s + 0.8 * normal();
      }
      const d = pairedAucDifference(a, b, y);
      diffs.push(d.difference);
      ses.push(d.se);
    }
    const mean = diffs.reduce((s, v) => s + v, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((s, v) => s + (v - mean) ** 2, 0) / (diffs.length - 1));
    const meanSe = ses.reduce((s, v) => s + v, 0) / ses.length;
    expect(mean).toBeGreaterThan(0); // the less noisy view ranks better
    expect(meanSe / sd).toBeGreaterThan(0.85);
    expect(meanSe / sd).toBeLessThan(1.15);
  });

  it('counts ties one half, as the AUC does, and refuses a sample without both classes', () => {
    // Positives 0.9 and 0.5, negatives 0.5 and 0.1: 3.5 of 4 pairs ordered.
    const d = pairedAucDifference([0.9, 0.5, 0.5, 0.1], [0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect(d.aucA).toBe(0.875);
    expect(d.difference).toBe(0);
    expect(() => pairedAucDifference([0.1, 0.2], [0.1, 0.2], [1, 1])).toThrow(/both classes/);
    expect(() => pairedAucDifference([0.1, Number.NaN], [0.1, 0.2], [1, 0])).toThrow(/finite.*row 1/);
  });

  it('compareWithOracle: a margin of 3 standard errors with a floor, and rows without truth left out', () => {
    const y = [1, 1, 0, 0, 1];
    const c = compareWithOracle(
      'willingness',
      'logistic',
      [0.9, 0.8, 0.2, 0.1, 0.05],
      [0.7, 0.6, 0.4, 0.3, Number.NaN],
      y,
    )!;
    expect(c.rows).toBe(4);
    expect(c.modelAuc).toBe(1);
    expect(c.oracleAuc).toBe(1);
    expect(c.margin).toBe(ORACLE_MARGIN.floor);
    expect(c.above).toBe(false);
    expect(compareWithOracle('ability', 'gbdt', [0.5, 0.4], [0.5, 0.4], [1, 1])).toBeNull();
  });
});

describe('repayrisk train / evaluate against the oracle of a synthetic history', () => {
  const root = tmpDir();
  const clean = join(root, 'clean');
  const leaky = join(root, 'leaky');
  const models = join(root, 'models');
  // 12,000 customers × 12 months: ~1,900 out-of-time willingness rows, enough for the paired standard error to
  // separate a leak of ~0.03 AUC from noise (margin ~0.01), small enough to generate and fit in seconds.
  beforeAll(async () => {
    await generateWorld({
      accounts: 12_000,
      months: 12,
      seed: 21,
      start: '2024-01-01',
      out: clean,
      format: 'csv',
    });
    withLastPaymentDate(clean, leaky);
  }, 120_000);

  const train = (history: string, ...more: string[]) =>
    cli(
      'train',
      '--history',
      history,
      '--kind',
      'logistic',
      '--calibration',
      'platt',
      '--out',
      models,
      ...more,
    );

  it('a clean world trains, with the oracle beside each model and the guard passed', async () => {
    const r = await train(clean, '--name', 'clean');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/willingness\s+oracle\s+OOT AUC 0\.\d{4}/);
    expect(r.out).toMatch(/ability\s+oracle\s+OOT AUC 0\.\d{4}/);
    expect(r.out).toContain('leak guard: passed');
    const dir = /wrote (\S+)/.exec(r.out)![1]!;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    for (const t of ['willingness', 'ability']) {
      const e = manifest.targets[t];
      expect(e.oracleAuc, `${t} oracle in the manifest`).toBeGreaterThan(0.7);
      expect(e.metrics.outOfTime.auc, `${t}: an honest model sits below the truth`).toBeLessThan(e.oracleAuc);
    }
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('leak guard');

    // evaluate prints the oracle of the same rows beside the model's AUC.
    const ev = await cli('evaluate', '--model', dir, '--history', clean, '--oot-months', '3');
    expect(ev.code, ev.err).toBe(0);
    for (const t of ['willingness', 'ability'] as const) {
      const m = new RegExp(`^${t}\\s+rows (\\d+)\\s+AUC (0\\.\\d{4})`, 'm').exec(ev.out);
      const o = new RegExp(
        `^${t}\\s+oracle AUC (0\\.\\d{4}).*out-of-time AUC (0\\.\\d{4}) vs oracle`,
        'm',
      ).exec(ev.out);
      expect(m, ev.out).not.toBeNull();
      expect(o, ev.out).not.toBeNull();
      // The same rows, the same model: the evaluation's AUC is the one compared with the oracle, and the oracle
      // is the one training recorded (the same out-of-time months of the same history).
      expect(o![2]).toBe(m![2]);
      expect(Number(o![1])).toBeCloseTo(manifest.targets[t].oracleAuc, 4);
    }
    expect(ev.err).not.toContain('WARNING');
  }, 180_000);

  it('a history whose paid_date is the last payment date fails, naming both figures and the likely cause', async () => {
    const r = await train(leaky, '--name', 'leaky');
    expect(r.code, r.out).not.toBe(0);
    const line =
      /ABOVE the oracle: willingness logistic: out-of-time AUC (0\.\d{4}) vs oracle (0\.\d{4}) on [\d,]+ rows: \+(0\.\d{4}), noise margin (0\.\d{4})/.exec(
        r.err,
      );
    expect(line, r.err).not.toBeNull();
    const [model, oracle, excess, margin] = line!.slice(1).map(Number) as [number, number, number, number];
    expect(model).toBeGreaterThan(oracle);
    expect(excess).toBeGreaterThan(margin);
    expect(excess).toBeCloseTo(model - oracle, 3);
    // Every target's figures are shown, the ones within noise too.
    expect(r.err).toMatch(/ability logistic: out-of-time AUC 0\.\d{4} vs oracle 0\.\d{4}/);
    expect(r.err).toContain('paid_date');
    expect(r.err).toContain('--allow-above-oracle');
    expect(r.err).toContain('No artifact was written');
    expect(existsSync(join(models, 'leaky')), 'no artifact for a leaky history').toBe(false);
  }, 180_000);

  it('--allow-above-oracle writes the artifact with a loud warning carrying the figures', async () => {
    const r = await train(leaky, '--name', 'leaky-research', '--allow-above-oracle');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /WARNING \(--allow-above-oracle\).*\n.*willingness logistic: out-of-time AUC 0\.\d{4} vs oracle/,
    );
    expect(r.out).toContain('above the oracle by more than noise (overridden');
    const dir = /wrote (\S+)/.exec(r.out)![1]!;
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('OVERRIDDEN');
  }, 180_000);
});
