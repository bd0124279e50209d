import { beforeAll, describe, expect, it } from 'vitest';
import type { Fitted } from '../src/core/models/contract.ts';
import type { FittedGbdt } from '../src/core/models/gbdt/gbdt.ts';
import { treeShap } from '../src/core/models/gbdt/shap.ts';
import { createRng } from '../src/core/random.ts';
import { PREFERRED_CHANNELS } from '../src/core/schema/enums.ts';
import {
  type AccountArchive,
  archiveFeatures,
  DRIVER_COUNT,
  scoreArchives,
} from '../src/core/scoring/score.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { makeAccount, makeContact } from './helpers/account.ts';
import { committedState, makeInstallments } from './helpers/service.ts';

/**
 * The drivers every decision carries are named from exact Shapley values: scoring a batch (explained a block of
 * rows at a time, tree by tree) must name, for every account, the drivers the reference computation names — the
 * recursion of Lundberg et al. (shap.ts) for the gbdt, the model's own `explain` for other kinds — with the same
 * signed contributions to two decimals ("days_past_due (-0.84)").
 */

const PRODUCTS = ['card', 'personal_loan', 'bnpl', 'auto'] as const;
const EMPLOYMENT = ['employed', 'self_employed', 'unemployed', 'retired'] as const;
const OUTCOMES = ['no_answer', 'delivered', 'right_party', 'promise_to_pay', 'refused'] as const;

/** 600 varied archives (more than one explained block, the last one partial), seeded. */
function archives(): AccountArchive[] {
  const rng = createRng(11);
  return Array.from({ length: 600 }, (_, i) => {
    const id = `A${i}`;
    const product = PRODUCTS[rng.int(0, PRODUCTS.length - 1)]!;
    const account = makeAccount({
      account_id: id,
      product,
      days_past_due: rng.int(1, 200),
      amount_overdue: Math.round(rng.next() * 3000) + 10,
      balance: Math.round(rng.next() * 20_000) + 100,
      months_on_book: rng.int(1, 120),
      age: rng.int(19, 85),
      monthly_income: rng.bernoulli(0.2) ? null : 800 + Math.round(rng.next() * 8000),
      employment_status: EMPLOYMENT[rng.int(0, EMPLOYMENT.length - 1)]!,
      preferred_channel: PREFERRED_CHANNELS[rng.int(0, PREFERRED_CHANNELS.length - 1)]!,
      hardship_flag: rng.bernoulli(0.05),
    });
    const contacts = Array.from({ length: rng.int(0, 6) }, () =>
      makeContact({
        account_id: id,
        ts: new Date(Date.parse('2026-10-31T12:00:00Z') - rng.next() * 80 * 86_400_000).toISOString(),
        outcome: OUTCOMES[rng.int(0, OUTCOMES.length - 1)]!,
      }),
    );
    return {
      account,
      installments: makeInstallments('2026-11-01', rng.int(0, 6), 50 + rng.int(0, 400)),
      contacts,
    };
  });
}

/** "feature (+0.12)": the wording DESIGN §6 gives a driver. */
const text = (feature: string, c: number) => `${feature} (${c >= 0 ? '+' : ''}${c.toFixed(2)})`;

/** The reference drivers of row `row`: exact values, largest |value| first, ties in feature order. */
function referenceDrivers(f: Fitted, x: ReturnType<typeof archiveFeatures>, row: number): string[] {
  if (f.kind !== 'gbdt')
    return f
      .explain(x, row)
      .slice(0, DRIVER_COUNT)
      .map((c) => text(c.feature, c.contribution));
  const phi = new Float64Array(x.cols);
  const values = x.data.subarray(row * x.cols, (row + 1) * x.cols);
  for (const t of (f as FittedGbdt).trees) treeShap(t, values, phi);
  return f.features
    .map((feature, j) => ({ name: feature.name, c: phi[j]! }))
    .sort((a, b) => Math.abs(b.c) - Math.abs(a.c))
    .slice(0, DRIVER_COUNT)
    .map((d) => text(d.name, d.c));
}

describe('scoreArchives drivers (the committed champion)', () => {
  let state: LiveState;
  let batch: AccountArchive[];
  beforeAll(async () => {
    state = await committedState();
    batch = archives();
  });

  it('names, for every account of a batch, the drivers of the reference Shapley values', () => {
    const scores = scoreArchives(batch, state.champion);
    const x = archiveFeatures(batch);
    const kinds = new Set<string>();
    for (const name of ['willingness', 'ability'] as const) {
      const f = state.champion[name].fitted;
      kinds.add(f.kind);
      for (let i = 0; i < batch.length; i++)
        expect(scores[i]!.drivers![name], `${name}, account ${i}`).toEqual(referenceDrivers(f, x, i));
    }
    expect(kinds.has('gbdt')).toBe(true); // the champion's gbdt is what the block path explains tree by tree
  });

  it('gives each account of a batch exactly what scoring it alone gives', () => {
    const scores = scoreArchives(batch, state.champion);
    for (const i of [0, 1, 255, 256, 257, 511, 512, 599])
      expect(scoreArchives([batch[i]!], state.champion)[0], `account ${i}`).toEqual(scores[i]);
    // What scoring keeps between calls (the feature matrix, the history buffer, the explanation blocks) leaks
    // nothing into the next call, of any size; a few rows take the forest's node-link walk.
    expect(scoreArchives(batch.slice(10, 13), state.champion)).toEqual(scores.slice(10, 13));
    expect(scoreArchives(batch, state.champion)).toEqual(scores);
  });

  it('explains a block of rows bit for bit as row by row, for both of the champion`s models', () => {
    const x = archiveFeatures(batch);
    for (const name of ['willingness', 'ability'] as const) {
      const f = state.champion[name].fitted;
      if (!f.explainRowsInto || !f.explainInto) continue;
      const block = new Float64Array(100 * x.cols);
      f.explainRowsInto(x, 250, 350, block);
      for (let r = 250; r < 350; r++) {
        const one = new Float64Array(x.cols);
        f.explainInto(x, r, one);
        for (let j = 0; j < x.cols; j++)
          expect(Object.is(block[(r - 250) * x.cols + j], one[j]), `${name}, row ${r}, feature ${j}`).toBe(
            true,
          );
      }
    }
  });
});
