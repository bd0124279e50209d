import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_INDEX } from '../src/core/features/definitions.ts';
import type { Matrix } from '../src/core/models/contract.ts';
import type { ContactRow } from '../src/core/schema/tables.ts';
import { createApp } from '../src/http/app.ts';
import type { CallSlotLimit, DecisionRecord, StoredAnswer } from '../src/ledger/contract.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { contactHistorySince, ownWindows } from '../src/service/score-request.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  MemoryLedger,
  makeInstallments,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';

/**
 * Concurrent single-account POST /v1/score requests are decided in micro-batches (src/http/micro-batch.ts): the
 * answers must be the ones each request gets alone, each decision recorded once with its own request's id, and an
 * account the model cannot score fails only its own request.
 */

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

/** A memory ledger that counts its decision appends. */
class CountingLedger extends MemoryLedger {
  appends = 0;
  override async appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void> {
    this.appends++;
    return super.appendDecisions(rows, answer, limit);
  }
}

const NOW = Date.parse(T0);
/** An income the broken champion below cannot score. */
const SENTINEL = 123_456.789;

/** Twenty accounts that differ where the decision turns: arrears, income, flags, channel, region, history. */
function bodies() {
  return Array.from({ length: 20 }, (_, i) => {
    const b = scoreBody({
      account_id: `MB${i}`,
      days_past_due: [3, 15, 35, 65, 95, 140][i % 6]!,
      amount_overdue: 150 + 90 * i,
      monthly_income: 800 + 350 * i,
      do_not_call: i % 7 === 3,
      hardship_flag: i % 5 === 2,
      dispute_open: i === 11,
      vulnerable_flag: i % 9 === 4,
      preferred_channel: (['sms', 'email', 'call', 'app'] as const)[i % 4]!,
      // Snapshots of different days: the batch reads the ledger's contacts from the earliest one's window.
      as_of_date: i % 3 === 0 ? '2026-08-01' : '2026-11-01',
    });
    if (i % 3 === 0) b.installments = makeInstallments('2026-08-01');
    // Three earlier calls on some accounts (the contact caps and features see them).
    if (i % 4 === 1)
      b.contacts = [1, 2, 3].map((d) => ({
        ts: new Date(NOW - d * 86_400_000).toISOString(),
        channel: 'call',
        outcome: 'no_answer',
        promise_amount: null,
        promise_date: null,
        agent_id: 'agent-1',
      }));
    return b;
  });
}

async function build(live: FakeLive) {
  const ledger = new CountingLedger();
  const app = await createApp({
    live,
    ledger,
    keys: testKeys(),
    now: () => NOW,
    newId: counterIds('d'),
  });
  // Contacts recorded through the API for a few accounts: merged from the ledger on every decision.
  const recorded = await app.inject({
    method: 'POST',
    url: '/v1/contacts',
    headers: bearer(PLAIN.all),
    payload: {
      contacts: [2, 6, 10].map((i) => ({
        account_id: `MB${i}`,
        ts: new Date(NOW - 3_600_000).toISOString(),
        channel: 'call',
        outcome: 'right_party',
        promise_amount: null,
        promise_date: null,
        agent_id: 'agent-2',
      })),
    },
  });
  expect(recorded.statusCode).toBe(201);
  return { app, ledger };
}

const score = (app: FastifyInstance, body: object, i: number) =>
  app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(PLAIN.all), 'x-request-id': `req-${i}` },
    payload: body,
  });

/** An answer without its decision id (ids are handed out in arrival order, which concurrency may change). */
const withoutId = (body: Record<string, unknown>) => ({ ...body, decision_id: undefined });

describe('micro-batched single-account scoring', () => {
  it('answers concurrent requests as it answers each alone, in fewer appends, each record with its request id', async () => {
    const list = bodies();
    const alone = await build(new FakeLive(state));
    const one: Record<string, unknown>[] = [];
    for (const [i, b] of list.entries()) {
      const r = await score(alone.app, b, i);
      expect(r.statusCode, `account ${i} alone`).toBe(200);
      one.push(r.json());
    }
    expect(alone.ledger.appends, 'one append per request when they come one at a time').toBe(list.length);
    // Not one treatment for all: the accounts reach different parts of the policy.
    expect(new Set(one.map((a) => a.treatment)).size).toBeGreaterThan(2);

    const together = await build(new FakeLive(state));
    const rs = await Promise.all(list.map((b, i) => score(together.app, b, i)));
    rs.forEach((r, i) => {
      expect(r.statusCode, `account ${i} concurrent`).toBe(200);
      expect(withoutId(r.json()), `account ${i}`).toEqual(withoutId(one[i]!));
    });
    expect(together.ledger.appends, 'concurrent requests share appends').toBeLessThan(list.length);
    expect(together.ledger.decisions).toHaveLength(list.length);
    for (const [i, r] of rs.entries()) {
      const rec = together.ledger.decisions.find((d) => d.decision_id === r.json().decision_id)!;
      expect([rec.account_id, rec.request_id]).toEqual([`MB${i}`, `req-${i}`]);
    }
    const metrics = await together.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: bearer(PLAIN.admin),
    });
    expect(metrics.body).toContain(`repayrisk_score_micro_batch_size_sum ${list.length}`);
  });

  it('an account the model cannot score fails its own request only (400 unscorable), the others are decided', async () => {
    const col = FEATURE_INDEX.get('log_income')!;
    const real = state.champion.ability.fitted;
    const broken = Object.create(real, {
      predictProba: {
        value: (x: Matrix) => {
          const p = real.predictProba(x);
          for (let i = 0; i < x.rows; i++)
            if (x.data[i * x.cols + col] === Math.log1p(SENTINEL)) p[i] = Number.NaN;
          return p;
        },
      },
    });
    const { app, ledger } = await build(
      new FakeLive({
        ...state,
        champion: { ...state.champion, ability: { ...state.champion.ability, fitted: broken } },
      }),
    );
    const list = bodies().slice(0, 6);
    list[2] = scoreBody({ account_id: 'ODD', monthly_income: SENTINEL });
    const rs = await Promise.all(list.map((b, i) => score(app, b, i)));
    expect(rs.map((r) => r.statusCode)).toEqual([200, 200, 400, 200, 200, 200]);
    expect(rs[2]!.json().error).toBe('unscorable');
    expect(ledger.decisions.map((d) => d.account_id).sort()).toEqual(['MB0', 'MB1', 'MB3', 'MB4', 'MB5']);
  });

  it('an unexpected fault deciding one account fails its own request only (500), the others are decided', async () => {
    const col = FEATURE_INDEX.get('log_income')!;
    const real = state.champion.ability.fitted;
    const faulty = Object.create(real, {
      predictProba: {
        value: (x: Matrix) => {
          for (let i = 0; i < x.rows; i++)
            if (x.data[i * x.cols + col] === Math.log1p(SENTINEL)) throw new TypeError('a bug in the model');
          return real.predictProba(x);
        },
      },
    });
    const { app, ledger } = await build(
      new FakeLive({
        ...state,
        champion: { ...state.champion, ability: { ...state.champion.ability, fitted: faulty } },
      }),
    );
    const list = bodies().slice(0, 6);
    list[4] = scoreBody({ account_id: 'BUG', monthly_income: SENTINEL });
    const rs = await Promise.all(list.map((b, i) => score(app, b, i)));
    expect(rs.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 500, 200]);
    expect(ledger.decisions.map((d) => d.account_id).sort()).toEqual(['MB0', 'MB1', 'MB2', 'MB3', 'MB5']);
  });

  it('two requests for one account in flight together are both decided and recorded', async () => {
    const { app, ledger } = await build(new FakeLive(state));
    const b = bodies()[0]!;
    const rs = await Promise.all([score(app, b, 1), score(app, b, 2)]);
    expect(rs.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(withoutId(rs[0]!.json())).toEqual(withoutId(rs[1]!.json()));
    expect(ledger.decisions.map((d) => d.request_id).sort()).toEqual(['req-1', 'req-2']);
  });

  it('gives each account of a batch the ledger contacts of its own window, not the earliest one of the batch', () => {
    const recent = { account_id: 'NEW', as_of_date: '2026-11-01' };
    const early = { account_id: 'OLD', as_of_date: '2025-02-01' };
    const batchSince = contactHistorySince(state.policy, [recent.as_of_date, early.as_of_date], NOW);
    const ownSince = contactHistorySince(state.policy, [recent.as_of_date], NOW);
    expect(batchSince, 'the earlier snapshot widens the batch read').toBeLessThan(ownSince);
    const row = (ms: number): ContactRow => ({
      account_id: 'x',
      ts: new Date(ms).toISOString(),
      channel: 'call',
      outcome: 'no_answer',
      promise_amount: null,
      promise_date: null,
      agent_id: null,
    });
    const between = [row(batchSince + 86_400_000), row(ownSince), row(NOW - 86_400_000)];
    const read = new Map([
      ['NEW', between],
      ['OLD', between],
    ]);
    const mine = ownWindows(read, [recent, early], state.policy, NOW, batchSince);
    // What the recent account alone reads: from its own window on (the boundary contact included).
    expect(mine.get('NEW')).toEqual(between.slice(1));
    expect(mine.get('OLD')).toEqual(between);
  });
});
