import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../src/core/policy/load.ts';
import { createApp } from '../src/http/app.ts';
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
 * The day's field-visit capacity through the score API: every request decides with the visit slots the ledger says
 * are left today (not the whole day's), so single-account requests, and requests to several instances sharing one
 * ledger, together visit no more accounts in a day than the policy's `visit_capacity` allows.
 */

const DAY_MS = 86_400_000;

// Field visits enabled and chosen first for every segment, two visit slots a day.
const POLICY = `version: visits-2
treatments:
  field_visit: { enabled: true }
matrix:
  high_willingness_high_ability: [field_visit, gentle_nudge]
  high_willingness_low_ability: [field_visit, gentle_nudge]
  low_willingness_high_ability: [field_visit, gentle_nudge]
  low_willingness_low_ability: [field_visit, gentle_nudge]
visit_capacity: { slots: 2 }
`;

let state: LiveState;
beforeAll(async () => {
  state = { ...(await committedState()), policy: parsePolicyText(POLICY, 'visits.yaml') };
});

async function appOn(ledger: MemoryLedger, clock: { now: number }, ids: string) {
  return createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys(),
    now: () => clock.now,
    newId: counterIds(ids),
  });
}

async function score(app: Awaited<ReturnType<typeof appOn>>, accountId: string) {
  const r = await app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: bearer(PLAIN.all),
    payload: scoreBody({ account_id: accountId }) as object,
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { account_id: string; treatment: string; reason_codes: string[] };
}

describe("the score API holds the day's visit slots across requests", () => {
  it('three single-account requests on two visit slots visit two; the third spills; the next UTC day has slots again', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: Date.parse(T0) };
    const app = await appOn(ledger, clock, 'd');
    try {
      const first = await score(app, 'V1');
      const second = await score(app, 'V2');
      const third = await score(app, 'V3');
      expect([first.treatment, second.treatment]).toEqual(['field_visit', 'field_visit']);
      expect(first.reason_codes).toContain('VISIT_SLOT');
      expect(third.treatment).not.toBe('field_visit');
      expect(third.reason_codes).toContain('CAPACITY_SPILL');
      expect(ledger.decisions.filter((d) => d.treatment === 'field_visit').map((d) => d.account_id)).toEqual([
        'V1',
        'V2',
      ]);

      // Later the same UTC day: still none left.
      clock.now = Date.parse(T0) + 3 * 3_600_000;
      expect((await score(app, 'V4')).treatment).not.toBe('field_visit');

      // The next UTC day counts from zero again.
      clock.now = Date.parse(T0) + DAY_MS;
      const nextDay = await score(app, 'V3');
      expect(nextDay.treatment).toBe('field_visit');
      expect(nextDay.reason_codes).toContain('VISIT_SLOT');
    } finally {
      await app.close();
    }
  });

  it('two instances on one ledger, answering at once, visit exactly as many accounts as the day has slots', async () => {
    const ledger = new MemoryLedger();
    const clock = { now: Date.parse(T0) };
    const a = await appOn(ledger, clock, 'a');
    const b = await appOn(ledger, clock, 'b');
    try {
      const ids = Array.from({ length: 8 }, (_, i) => `W${i}`);
      // Each instance takes its own turns only; the ledger's limited append is what holds them to the day's slots.
      const answers = await Promise.all(ids.map((id, i) => score(i % 2 ? a : b, id)));
      const visited = answers.filter((x) => x.treatment === 'field_visit');
      expect(visited).toHaveLength(2);
      for (const x of answers)
        if (x.treatment !== 'field_visit') expect(x.reason_codes).toContain('CAPACITY_SPILL');
      expect(ledger.decisions.filter((d) => d.treatment === 'field_visit')).toHaveLength(2);
      expect(ledger.decisions).toHaveLength(8);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
