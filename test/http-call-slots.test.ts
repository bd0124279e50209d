import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../src/core/policy/load.ts';
import { createApp } from '../src/http/app.ts';
import type { CallSlotLimit, DecisionRecord, StoredAnswer } from '../src/ledger/contract.ts';
import { LedgerError } from '../src/ledger/open.ts';
import type { LiveState } from '../src/service/live-types.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  MemoryLedger,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';

/**
 * The score route when another writer (another process on the same PostgreSQL) spends the call slots it counted
 * on: the ledger refuses the append (`call_slots_taken`, nothing written) and the route decides again with what is
 * left, so the account spills to its next-best treatment as when the day is full.
 */

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

/** A ledger where, just before each of the first `races` limited appends, another writer takes a call slot. */
class RacedLedger extends MemoryLedger {
  limited = 0;
  constructor(private races: number) {
    super();
  }
  override async appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void> {
    if (limit) {
      this.limited++;
      if (this.races > 0) {
        this.races--;
        const other = {
          ...rows[0]!,
          decision_id: `other-${this.races}`,
          account_id: 'OTHER',
          call_team: 'all',
        };
        await super.appendDecisions([other]);
      }
    }
    return super.appendDecisions(rows, answer, limit);
  }
}

async function scoreWith(ledger: MemoryLedger, slots: number) {
  const policy = parsePolicyText(`version: slots-${slots}\ncapacity: { total_slots: ${slots} }\n`, 'p.yaml');
  const app = await createApp({
    live: new FakeLive({ ...state, policy }),
    ledger,
    keys: testKeys(),
    now: () => Date.parse(T0),
    newId: counterIds('d'),
  });
  const r = await app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: bearer(PLAIN.all),
    payload: scoreBody({ account_id: 'K1' }) as object,
  });
  await app.close();
  return r;
}

describe('a call slot taken by another writer between the read and the append', () => {
  it('the account a call was chosen for gets one while a slot is left', async () => {
    const ledger = new RacedLedger(0);
    const r = await scoreWith(ledger, 1);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ treatment: 'human_call', call_team: 'all' });
  });

  it('the request decides again and spills to the next-best treatment; the other writer keeps its slot', async () => {
    const ledger = new RacedLedger(1);
    const r = await scoreWith(ledger, 1);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.treatment).not.toBe('human_call');
    expect(body.call_team).toBeNull();
    expect(ledger.limited).toBe(2);
    expect(ledger.decisions.filter((d) => d.call_team !== null).map((d) => d.account_id)).toEqual(['OTHER']);
    expect(ledger.decisions.filter((d) => d.account_id === 'K1')).toHaveLength(1);
  });

  it('after five refusals it decides with no slot left, which records', async () => {
    // Every limited append that takes a slot is refused, as if other writers always got there first.
    class AlwaysTaken extends MemoryLedger {
      limited = 0;
      override async appendDecisions(
        rows: readonly DecisionRecord[],
        answer?: StoredAnswer,
        limit?: CallSlotLimit,
      ): Promise<void> {
        if (limit) this.limited++;
        if (limit && rows.some((r) => r.call_team !== null))
          throw new LedgerError('call_slots_taken', 'taken by another writer');
        return super.appendDecisions(rows, answer, limit);
      }
    }
    const ledger = new AlwaysTaken();
    const r = await scoreWith(ledger, 10);
    expect(r.statusCode).toBe(200);
    expect(r.json().treatment).not.toBe('human_call');
    expect(ledger.limited).toBe(6);
    expect(ledger.decisions.map((d) => [d.account_id, d.call_team])).toEqual([['K1', null]]);
  });
});
