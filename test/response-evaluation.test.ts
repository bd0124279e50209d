import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_FEATURES } from '../src/core/features/schema.ts';
import { generateWorld } from '../src/data/generate.ts';
import type { ResponseProfile } from '../src/data/synthetic/response.ts';
import type { ResponseEvaluation } from '../src/pipeline/response-evaluate.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { loadResponseArtifact } from '../src/registry/response-artifact.ts';
import { cliInProcess } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Treatment-response models judged against the truth of two generated worlds whose customers respond to
 * treatments differently (the generator's `response` knob): 30,000 customers × 12 months each, about 21,000
 * logged delinquent snapshots, the last 3 months (about 4,900 snapshots) held out. Everything goes through the
 * CLI a strategy team would use: train (scoring models), train --response, backtest --response.
 */
const WORLDS: { name: string; seed: number; response: ResponseProfile }[] = [
  { name: 'standard', seed: 11, response: 'standard' },
  { name: 'inverted', seed: 12, response: 'inverted' },
];

const dir = tmpDir();
const results: Record<string, { evaluation: ResponseEvaluation; responseDir: string }> = {};

/** The four policies' figures in one line, so a failing assertion shows them all. */
const describeWorld = (e: ResponseEvaluation) =>
  Object.entries(e.policies)
    .map(
      ([k, v]) =>
        `${k} true ${v.trueNet.toFixed(1)} DR ${v.dr.value.toFixed(1)} [${v.dr.low.toFixed(1)}, ${v.dr.high.toFixed(1)}]`,
    )
    .join('; ') +
  `; share ${e.learnedShareOfOracleGain.toFixed(3)}; Spearman ${e.ranks.map((r) => `${r.treatment} ${r.spearman.toFixed(3)} (n=${r.snapshots})`).join(', ')}`;

beforeAll(async () => {
  for (const w of WORLDS) {
    const history = join(dir, w.name);
    const models = join(dir, `models-${w.name}`);
    await generateWorld({
      accounts: 30_000,
      months: 12,
      seed: w.seed,
      start: '2024-01-01',
      out: history,
      format: 'parquet',
      response: w.response,
    });
    const scoring = await trainSnapshots({
      history,
      modelsRoot: models,
      name: 'score',
      kind: 'logistic',
      seed: 1,
      ootMonths: 3,
      validationShare: 0.2,
      calibration: 'platt',
    });
    const train = await cliInProcess(
      'train',
      '--history',
      history,
      '--response',
      '--model',
      scoring.artifact.dir,
      '--out',
      models,
      '--seed',
      '1',
    );
    expect(train.code, train.err).toBe(0);
    const responseDir = /wrote (\S+)/.exec(train.out)![1]!;
    const out = join(dir, `eval-${w.name}`);
    const bt = await cliInProcess(
      'backtest',
      '--history',
      history,
      '--model',
      scoring.artifact.dir,
      '--response',
      responseDir,
      '--out',
      out,
    );
    expect(bt.code, bt.err).toBe(0);
    const evaluation = JSON.parse(
      readFileSync(join(out, 'response-evaluation.json'), 'utf8'),
    ) as ResponseEvaluation;
    results[w.name] = { evaluation, responseDir };
    // The figures of README's and docs/strategy.md's table, for whoever refreshes them.
    console.log(
      `${w.name} world (seed ${w.seed}, ${evaluation.snapshots} held out): ${describeWorld(evaluation)}`,
    );
  }
}, 1_200_000);

describe.each(WORLDS)('learned expected-value policy on the $name world', ({ name }) => {
  it('beats the logging and matrix policies in truth and captures >= 70% of the oracle’s gain over logging', () => {
    const e = results[name]!.evaluation;
    const p = e.policies;
    const figures = describeWorld(e);
    expect(p.learned.trueNet, figures).toBeGreaterThan(p.logging.trueNet);
    expect(p.learned.trueNet, figures).toBeGreaterThan(p.matrix.trueNet);
    expect(p.oracle.trueNet, figures).toBeGreaterThanOrEqual(p.learned.trueNet);
    expect(e.learnedShareOfOracleGain, figures).toBeGreaterThanOrEqual(0.7);
  });

  it('the doubly robust interval of the learned policy’s value covers its true value', () => {
    const e = results[name]!.evaluation;
    const { trueNet, dr } = e.policies.learned;
    expect(trueNet, describeWorld(e)).toBeGreaterThanOrEqual(dr.low);
    expect(trueNet, describeWorld(e)).toBeLessThanOrEqual(dr.high);
  });

  it('every policy used the same call capacity: no more calls per date than the slots', () => {
    const e = results[name]!.evaluation;
    const callsPerDate = (p: keyof ResponseEvaluation['policies']) =>
      (e.policies[p].treatmentMix.human_call * e.snapshots) / 3;
    for (const p of ['learned', 'matrix', 'oracle'] as const)
      expect(callsPerDate(p)).toBeLessThanOrEqual(e.callSlots + 1e-6);
  });

  it('legal is never priced from a fitted response below 91 days past due (outside the logged support)', () => {
    const e = results[name]!.evaluation;
    expect(e.outsideSupport.legal).toBeGreaterThan(0);
    expect(e.ranks.find((r) => r.treatment === 'legal')!.snapshots).toBeLessThan(
      e.snapshots - e.outsideSupport.legal + 1,
    );
  });
});

describe('the two worlds differ in what works', () => {
  it('the truly best treatment mix changes with the response knob', () => {
    const a = results.standard!.evaluation.policies.oracle.treatmentMix;
    const b = results.inverted!.evaluation.policies.oracle.treatmentMix;
    const distance = Object.keys(a).reduce(
      (s, t) => s + Math.abs(a[t as keyof typeof a] - b[t as keyof typeof b]),
      0,
    );
    expect(distance).toBeGreaterThan(0.2);
  });
});

describe.each(WORLDS)(
  'rank correlation of predicted and true incremental P(pay) on the $name world',
  ({ name }) => {
    // Every treatment ranked is one the logging policy gave to >= 5% of comparable accounts (same delinquency bucket,
    // the treatment lawful for the account; src/pipeline/response-evaluate.ts), hold likewise.
    it('Spearman >= 0.5 for every logged treatment with >= 5% support among comparable accounts', () => {
      const e = results[name]!.evaluation;
      const ranked = e.ranks.filter((x) => x.snapshots > 0);
      expect(ranked.map((r) => r.treatment).sort()).toEqual([
        'gentle_nudge',
        'human_call',
        'legal',
        'plan_offer',
      ]);
      for (const r of ranked)
        expect(r.spearman, `${r.treatment}: ${describeWorld(e)}`).toBeGreaterThanOrEqual(0.5);
    });
  },
);

describe('the response artifact is loaded strictly', () => {
  it('loads what train --response wrote, with support only for fitted treatments', async () => {
    const r = await loadResponseArtifact(results.inverted!.responseDir, SNAPSHOT_FEATURES);
    expect(r.manifest.learner.method).toBe('s-learner');
    for (const row of r.manifest.overlap.table)
      for (const t of row.supported) expect(r.set.arms[t]).toBeDefined();
  });

  it('refuses a changed weight file, naming it', async () => {
    const copy = join(dir, 'tampered');
    cpSync(results.inverted!.responseDir, copy, { recursive: true });
    const f = join(copy, 'pay.0.model.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/"baseScore":(-?[0-9.]+)/, '"baseScore":0.123'));
    await expect(loadResponseArtifact(copy, SNAPSHOT_FEATURES)).rejects.toThrow(
      /pay\.0\.model\.json: checksum mismatch/,
    );
  });

  it('refuses support claimed for a treatment without a response, and another feature schema', async () => {
    const copy = join(dir, 'claims');
    cpSync(results.inverted!.responseDir, copy, { recursive: true });
    const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    delete m.arms.legal;
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
    await expect(loadResponseArtifact(copy, SNAPSHOT_FEATURES)).rejects.toThrow(
      /overlap cell 91-180 lists 'legal' as supported, but 'legal' has no response/,
    );
    await expect(
      loadResponseArtifact(results.inverted!.responseDir, SNAPSHOT_FEATURES.slice(1)),
    ).rejects.toThrow(/feature schema differs from this build's: unexpected: days_past_due/);
  });
});
