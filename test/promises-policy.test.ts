import { describe, expect, it } from 'vitest';
import { PolicyReplay } from '../src/core/backtest/replay.ts';
import { decide } from '../src/core/policy/decide.ts';
import { type Policy, parsePolicy } from '../src/core/policy/load.ts';
import type { Decision, Scores } from '../src/core/policy/types.ts';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import type { AccountRow, ContactRow, PaymentRow } from '../src/core/schema/tables.ts';
import { makeAccount } from './helpers/account.ts';

/**
 * The broken-promise follow-up (docs/policy.md, `promises`): after a promise to pay broke, for
 * broken_promise_follow_up_days the decision tries the policy's follow-up first, where the guardrails allow it.
 * Dates below are worked out by hand: a promise dated D with grace 3 breaks on D + 4 unless paid by D + 3.
 */

/** Wednesday 2026-11-25 12:00 in Chicago: inside the contact hours. */
const NOW = Date.parse('2026-11-25T18:00:00Z');
const DEFAULT = parsePolicy({ version: 'promises-test' }, 'test');
/** High willingness, high ability: the matrix alone says gentle_nudge. */
const HH: Scores = { willingness: 0.8, ability: 0.8 };

const promise = (ts: string, amount: number | null, date: string | null): ContactRow => ({
  account_id: 'A0001',
  ts,
  channel: 'call',
  outcome: 'promise_to_pay',
  promise_amount: amount,
  promise_date: date,
  agent_id: 'ag1',
});
const contact = (ts: string, channel: ContactRow['channel'], outcome: ContactRow['outcome']): ContactRow => ({
  account_id: 'A0001',
  ts,
  channel,
  outcome,
  promise_amount: null,
  promise_date: null,
  agent_id: null,
});
const pay = (paid_at: string, amount: number): PaymentRow => ({ account_id: 'A0001', paid_at, amount });

/** Promised 2026-11-10 to pay 200 by 2026-11-18: unpaid, it broke on 2026-11-22 (3 days ago). */
const BROKEN = promise('2026-11-10T16:00:00Z', 200, '2026-11-18');

function run(
  contacts: ContactRow[],
  payments: PaymentRow[] | undefined,
  o: { account?: Partial<AccountRow>; policy?: Policy; scores?: Scores } = {},
): Decision {
  return decide(
    makeAccount(o.account),
    o.scores ?? HH,
    { now: NOW, contacts, ...(payments ? { payments } : {}) },
    o.policy ?? DEFAULT,
  );
}

describe('broken-promise follow-up', () => {
  it('a promise broken 3 days ago is followed up with a human call before the matrix’s nudge', () => {
    const d = run([BROKEN], []);
    expect(d.treatment).toBe('human_call');
    expect(d.channel).toBe('call');
    expect(d.first_choice).toBe('human_call');
    expect(d.reason_codes).toContain('BROKEN_PROMISE_FOLLOW_UP');
    const text = d.reasons[d.reason_codes.indexOf('BROKEN_PROMISE_FOLLOW_UP')]!;
    expect(text).toContain('200.00 by 2026-11-18 broke on 2026-11-22');
  });

  it('a kept promise is not followed up: the matrix decides', () => {
    const d = run([BROKEN], [pay('2026-11-15', 200)]);
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.reason_codes).not.toContain('BROKEN_PROMISE_FOLLOW_UP');
  });

  it('a partial payment does not keep it', () => {
    const d = run([BROKEN], [pay('2026-11-15', 199.99)]);
    expect(d.treatment).toBe('human_call');
    expect(d.reasons.join(' ')).toContain('199.99 paid in time');
  });

  it('without the account’s payments nothing is known broken: no follow-up', () => {
    const d = run([BROKEN], undefined);
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.reason_codes).not.toContain('BROKEN_PROMISE_FOLLOW_UP');
  });

  // Broken on day 1 .. days-1 after it broke: followed up; from day `days` on: not.
  it.each([
    ['2026-11-15', '2026-11-19', true], // broke 6 days ago: the 7th day of the window
    ['2026-11-14', '2026-11-18', false], // broke 7 days ago: the window of 7 days is over
    ['2026-11-21', '2026-11-25', true], // broke today
    ['2026-11-22', null, false], // deadline 2026-11-25 is today: still open (promise_pending holds calls)
  ])('promise dated %s (broke %s): followed up %s', (date, _broke, follows) => {
    const d = run([promise('2026-11-08T16:00:00Z', 100, date)], []);
    expect(d.reason_codes.includes('BROKEN_PROMISE_FOLLOW_UP')).toBe(follows);
  });

  it('guardrails decide first: with do_not_call the follow-up is the reminder', () => {
    const d = run([BROKEN], [], { account: { do_not_call: true } });
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.first_choice).toBe('human_call');
    expect(d.guardrails).toContain('do_not_call');
    expect(d.reason_codes).toEqual(expect.arrayContaining(['BROKEN_PROMISE_FOLLOW_UP', 'FALLBACK']));
  });

  it('a suppressed account is not followed up', () => {
    const d = run([BROKEN], [], { account: { dispute_open: true } });
    expect(d.treatment).toBe('hold');
    expect(d.reason_codes).not.toContain('BROKEN_PROMISE_FOLLOW_UP');
  });

  it('no follow-up once the customer was reached after it broke; a missed call does not count', () => {
    expect(run([BROKEN, contact('2026-11-23T16:00:00Z', 'sms', 'delivered')], []).reason_codes).not.toContain(
      'BROKEN_PROMISE_FOLLOW_UP',
    );
    expect(run([BROKEN, contact('2026-11-23T16:00:00Z', 'call', 'no_answer')], []).treatment).toBe(
      'human_call',
    );
  });

  it('no follow-up while a newer promise is open', () => {
    const d = run([BROKEN, promise('2026-11-24T16:00:00Z', 100, '2026-11-30')], []);
    expect(d.reason_codes).not.toContain('BROKEN_PROMISE_FOLLOW_UP');
    expect(d.treatment).not.toBe('human_call');
  });

  it('the policy chooses the follow-up and its window; 0 days turns it off', () => {
    const reminder = parsePolicy({ version: 'p', promises: { follow_up: ['gentle_nudge'] } }, 'test');
    const d = run([BROKEN], [], { scores: { willingness: 0.3, ability: 0.8 }, policy: reminder });
    // The matrix alone would call (low willingness, high ability); the policy's follow-up is a reminder.
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.reason_codes).toContain('BROKEN_PROMISE_FOLLOW_UP');
    const off = parsePolicy({ version: 'p', promises: { broken_promise_follow_up_days: 0 } }, 'test');
    expect(run([BROKEN], [], { policy: off }).treatment).toBe('gentle_nudge');
  });

  it('the grace comes from the account’s guardrails', () => {
    // Grace 6: the promise dated 2026-11-18 is open until 2026-11-24, broke on 2026-11-25 (today).
    const g6 = parsePolicy({ version: 'p', guardrails: { promise_grace_days: 6 } }, 'test');
    const d = run([BROKEN], [pay('2026-11-23', 200)], { policy: g6 });
    expect(d.reason_codes).not.toContain('BROKEN_PROMISE_FOLLOW_UP');
    expect(run([BROKEN], [], { policy: g6 }).reasons.join(' ')).toContain('broke on 2026-11-25');
  });

  it('a follow-up the policy file cannot name is refused at load', () => {
    expect(() => parsePolicy({ version: 'p', promises: { follow_up: ['legal'] } }, 'test')).toThrow(
      /promises\.follow_up/,
    );
  });
});

describe('the backtest replays the follow-up', () => {
  const replay = (payments: PaymentRow[] | undefined) => {
    const r = new PolicyReplay(DEFAULT, DEFAULT.champion, () => NOW);
    r.add([
      {
        account: makeAccount({ as_of_date: '2026-11-25' }),
        contacts: [BROKEN],
        ...(payments ? { payments } : {}),
        scores: HH,
        logged: null,
        paid30: Number.NaN,
        truth: null,
      },
    ]);
    r.finish();
    return TREATMENTS[r.tape.treatment[0]!];
  };

  it('with the account’s payments a broken promise is called; a payment dated the decision day is not known yet', () => {
    expect(replay([])).toBe('human_call');
    expect(replay([pay('2026-11-25', 200)])).toBe('human_call');
    expect(replay([pay('2026-11-16', 200)])).toBe('gentle_nudge');
    expect(replay(undefined)).toBe('gentle_nudge');
  });
});
