// Issue 13: the score API prices an expected-value policy's treatments from a fitted response artifact
// (`serve --response DIR`), inside the logged support only, and says which treatments it priced from the lift
// tables instead. The artifact is fitted here on a generated history of 6,000 customers × 8 months (two cross-fitted
// bags, to stay quick; the committed sample's 1,478 logged snapshots leave most treatments outside the support),
// with its score lift on the repository's champion scoring model, the one the service scores with.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_FEATURES } from '../src/core/features/schema.ts';
import { TREATMENTS, type Treatment } from '../src/core/schema/enums.ts';
import { archiveFeatures } from '../src/core/scoring/score.ts';
import { predictCalibrated } from '../src/core/training/fit-target.ts';
import { responseCellOf } from '../src/core/uplift/overlap.ts';
import { predictResponses } from '../src/core/uplift/response-set.ts';
import { generateWorld } from '../src/data/generate.ts';
import { createApp } from '../src/http/app.ts';
import { trainResponse } from '../src/pipeline/response-train.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { readPointer, writePointer } from '../src/registry/artifact.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';
import { type LoadedResponse, loadResponseArtifact } from '../src/registry/response-artifact.ts';
import { LiveModels, loadLiveState, loadScoringModel } from '../src/service/live.ts';
import type { LiveState } from '../src/service/live-types.ts';
import {
  bearer,
  counterIds,
  FakeLive,
  MemoryLedger,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

const NOW = Date.parse(T0);
const dir = tmpDir('repayrisk-response-serve-');
let responseDir: string;
let artifact: LoadedResponse;
let learned: LiveState;
let history: string;
const championDir = join('models', 'repayrisk', readPointer('models', 'repayrisk', 'CHAMPION') ?? 'none');

beforeAll(async () => {
  history = join(dir, 'history');
  await generateWorld({
    accounts: 6_000,
    months: 8,
    seed: 3,
    start: '2024-01-01',
    out: history,
    format: 'parquet',
  });
  const r = await trainResponse({
    history,
    modelsRoot: dir,
    model: championDir,
    seed: 1,
    ootMonths: 2,
    validationShare: 0.2,
    bags: 2,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  responseDir = r.dir;
  artifact = await loadResponseArtifact(responseDir, SNAPSHOT_FEATURES);
  learned = await loadLiveState(
    { modelsRoot: 'models', policyPath: 'policies/learned-ev.yaml', responseDir },
    () => NOW,
  );
}, 300_000);

async function score(state: LiveState, body: unknown) {
  const app = await createApp({
    live: new FakeLive(state),
    ledger: new MemoryLedger(),
    keys: testKeys(),
    now: () => NOW,
    newId: counterIds('d'),
  });
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(PLAIN.score),
      payload: body as Record<string, unknown>,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as {
      treatment: Treatment;
      reason_codes: string[];
      reasons: string[];
      scores: { expected_recovery: number };
    };
  } finally {
    await app.close();
  }
}

describe('serve --response: the score API uses fitted per-account responses', () => {
  const body = scoreBody({ days_past_due: 12, amount_overdue: 640 });

  it('names every treatment outside the logged support of the account’s delinquency bucket', async () => {
    const r = await score(learned, body);
    const cell = artifact.manifest.overlap.table[responseCellOf(12)]!;
    const outside = TREATMENTS.filter((t) => !cell.supported.includes(t));
    expect(outside.length).toBeGreaterThan(0);
    const k = r.reason_codes.indexOf('RESPONSE_OUTSIDE_SUPPORT');
    expect(k, JSON.stringify(r.reason_codes)).toBeGreaterThanOrEqual(0);
    expect(r.reasons[k]).toContain(`no fitted response used for ${outside.join(', ')}`);
  });

  it('prices the chosen treatment from the artifact’s own prediction when it lies inside the support', async () => {
    // An account in a bucket where the chosen treatment is supported: scan a few overdue amounts for one.
    const policy = await readPolicyFile('policies/learned-ev.yaml');
    const partial = policy.champion.response.partial_recovery;
    let checked = 0;
    for (const dpd of [5, 12, 25, 40, 75, 120]) {
      const b = scoreBody({ days_past_due: dpd, amount_overdue: 640 });
      const r = await score(learned, b);
      const cell = artifact.manifest.overlap.table[responseCellOf(dpd)]!;
      if (!cell.supported.includes(r.treatment)) continue;
      const x = archiveFeatures([{ account: b.account, installments: b.installments, contacts: [] }]);
      const champion = await loadScoringModel(championDir);
      const p = predictResponses(artifact.set, x, [dpd], {
        willingness: predictCalibrated(champion.willingness, x),
        ability: predictCalibrated(champion.ability, x),
        version: champion.version,
      });
      const k = TREATMENTS.indexOf(r.treatment);
      const pPay = p.pPay[k]![0]!;
      const pCover = p.pCover[k]![0]!;
      expect(r.scores.expected_recovery).toBeCloseTo(640 * pPay * (pCover + (1 - pCover) * partial), 6);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('without a response artifact the same request is priced from the lift tables and says nothing of support', async () => {
    const plain: LiveState = { ...learned, response: null };
    const a = await score(plain, body);
    const b = await score(learned, body);
    expect(a.reason_codes).not.toContain('RESPONSE_OUTSIDE_SUPPORT');
    expect(a.scores.expected_recovery).not.toBeCloseTo(b.scores.expected_recovery, 6);
  });

  it('never supports a treatment the logging policy did not take, and the service refuses a changed artifact', async () => {
    for (const t of TREATMENTS)
      if (!artifact.manifest.arms[t])
        for (const row of artifact.manifest.overlap.table) expect(row.supported).not.toContain(t);
    const copy = join(dir, 'tampered');
    cpSync(responseDir, copy, { recursive: true });
    const f = join(copy, 'pay.0.model.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/"baseScore":(-?[0-9.]+)/, '"baseScore":0.123'));
    await expect(
      loadLiveState({ modelsRoot: 'models', policyPath: 'policies/learned-ev.yaml', responseDir: copy }),
    ).rejects.toThrow(/pay\.0\.model\.json: checksum mismatch/);
  });
});

describe('the score lift belongs to one scoring model', () => {
  it('the artifact records the champion it was fitted on, and a lift for the treatments logged often enough', () => {
    const lift = artifact.manifest.scoreLift;
    expect(lift?.scoringModel.version).toBe(readPointer('models', 'repayrisk', 'CHAMPION'));
    expect(lift?.basis).toEqual(['1', 'w', 'a', 'w*a']);
    // Legal, rarely logged in this small world, may have too few payers for a lift: its arm is then used alone.
    for (const t of ['gentle_nudge', 'plan_offer', 'human_call']) expect(lift?.coef, t).toHaveProperty(t);
    for (const t of Object.keys(lift?.coef ?? {})) expect(artifact.manifest.arms, t).toHaveProperty(t);
    expect(lift?.coef).not.toHaveProperty('hold');
  });

  it('refuses a manifest whose layout and score lift disagree, or that gives the hold arm a lift, naming the field', async () => {
    type Manifest = { apiVersion: number; scoreLift?: { coef: Record<string, unknown> } };
    const edits: [string, (m: Manifest) => void, RegExp][] = [
      ['v1-with-lift', (m) => (m.apiVersion = 1), /scoreLift: not part of apiVersion 1/],
      ['v2-without-lift', (m) => delete m.scoreLift, /scoreLift: required by apiVersion 2/],
      [
        'lift-for-hold',
        (m) => {
          m.scoreLift!.coef.hold = m.scoreLift!.coef.plan_offer;
        },
        /scoreLift\.coef\.hold: the hold arm is the base/,
      ],
    ];
    for (const [name, edit, message] of edits) {
      const copy = join(dir, name);
      cpSync(responseDir, copy, { recursive: true });
      const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8')) as Manifest;
      edit(m);
      writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
      await expect(
        loadLiveState({ modelsRoot: 'models', policyPath: 'policies/learned-ev.yaml', responseDir: copy }),
        name,
      ).rejects.toThrow(message);
    }
  });

  it('the service refuses to start on a response fitted on another scoring model, naming both versions', async () => {
    const copy = join(dir, 'other-scoring');
    cpSync(responseDir, copy, { recursive: true });
    const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    m.scoreLift.scoringModel.version = 'v000000000000';
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
    await expect(
      loadLiveState({ modelsRoot: 'models', policyPath: 'policies/learned-ev.yaml', responseDir: copy }),
    ).rejects.toThrow(
      /score lift was fitted on scoring model v000000000000, but the scoring model in use is v[0-9a-f]{12}/,
    );
  });

  it('a running service refuses to reload to a champion the lift was not fitted on, and keeps serving', async () => {
    const root = join(dir, 'models-root');
    const champion = readPointer('models', 'repayrisk', 'CHAMPION')!;
    cpSync(championDir, join(root, 'repayrisk', champion), { recursive: true });
    writePointer(root, 'repayrisk', 'CHAMPION', champion);
    const src = { modelsRoot: root, policyPath: 'policies/learned-ev.yaml', responseDir };
    const live = new LiveModels(await loadLiveState(src, () => NOW), src, () => NOW);
    const other = await trainSnapshots({
      history,
      modelsRoot: root,
      name: 'repayrisk',
      kind: 'logistic',
      seed: 2,
      ootMonths: 2,
      validationShare: 0.2,
      calibration: 'platt',
    });
    writePointer(root, 'repayrisk', 'CHAMPION', other.artifact.version);
    const r = await live.reload();
    expect(r.champion).toEqual({ version: champion, changed: false });
    expect(r.refused.join('\n')).toContain(
      `champion: ${other.artifact.version} is not the scoring model the response artifact was fitted on (${champion})`,
    );
    expect(live.current().champion.version).toBe(champion);
  }, 120_000);

  it('predicting without the scores, or with another model’s, is an error that says what to do', () => {
    const b = scoreBody({ days_past_due: 12, amount_overdue: 640 });
    const x = archiveFeatures([{ account: b.account, installments: b.installments, contacts: [] }]);
    expect(() => predictResponses(artifact.set, x, [12])).toThrow(
      /needs that model's willingness and ability scores/,
    );
    expect(() =>
      predictResponses(artifact.set, x, [12], {
        willingness: [0.5],
        ability: [0.5],
        version: 'v111111111111',
      }),
    ).toThrow(/the scores come from v111111111111; refit the responses on this model/);
  });
});

describe('train --response writes a report: overlap table, calibration of each arm, Qini per treatment', () => {
  it('marks exactly the supported cells and charts every fitted arm', () => {
    const html = readFileSync(join(responseDir, 'report.html'), 'utf8');
    const table = html.slice(html.indexOf('<section id="overlap">'), html.indexOf('</section>'));
    for (const row of artifact.manifest.overlap.table) {
      const tr = new RegExp(`<tr><td>${row.cell}</td>(.*?)</tr>`).exec(table)?.[1] ?? '';
      expect((tr.match(/ ✓/g) ?? []).length, row.cell).toBe(row.supported.length);
    }
    const arms = Object.keys(artifact.manifest.arms);
    for (const t of arms) expect(html).toContain(`<h2>${t}</h2>`);
    // A calibration chart per arm with both outcomes out of time, a Qini chart per treatment other than hold.
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(arms.length + 1);
    for (const t of arms.filter((t) => t !== 'hold' && t !== 'legal'))
      expect(html, t).toMatch(new RegExp(`Qini: ${t} vs hold`));
  });
});
