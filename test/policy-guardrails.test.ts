import { describe, expect, it } from 'vitest';
import { decide, matrixOrder } from '../src/core/policy/decide.ts';
import { constraintsFor, GUARDRAILS } from '../src/core/policy/guardrails.ts';
import { type Policy, parsePolicy } from '../src/core/policy/load.ts';
import type { Decision, Scores } from '../src/core/policy/types.ts';
import type { AccountRow, ContactRow } from '../src/core/schema/tables.ts';
import { makeAccount, makeContact } from './helpers/account.ts';

/**
 * Every guardrail of DESIGN §6, one table per family, through `decide` (what a collector sees) and
 * `constraintsFor` where the raw constraint is clearer. Expected values follow from the rules by hand.
 *
 * The fixture account (test/helpers/account.ts) is a Chicago card account 95 days past due with 600 overdue, a
 * legal notice from 2026-10-01, valid phone and email, preferring SMS: every legal prerequisite holds.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Wednesday 2026-11-25 12:00 in Chicago (CST, −06:00): inside the contact hours, local date 2026-11-25. */
const NOW = Date.parse('2026-11-25T18:00:00Z');

/** The four quadrants of the default matrix (willingness high ≥ 0.6, ability high ≥ 0.5). */
const HH: Scores = { willingness: 0.8, ability: 0.8 }; // gentle_nudge
const HL: Scores = { willingness: 0.8, ability: 0.2 }; // plan_offer
const LH: Scores = { willingness: 0.3, ability: 0.8 }; // human_call
const LL: Scores = { willingness: 0.3, ability: 0.2 }; // legal, then human_call

const DEFAULT = parsePolicy({ version: 'guardrails-test' }, 'test');

interface Run {
  now?: number;
  contacts?: ContactRow[];
  callCapacityExhausted?: boolean;
  policy?: Policy;
}

function run(overrides: Partial<AccountRow>, scores: Scores, r: Run = {}): Decision {
  const ctx = {
    now: r.now ?? NOW,
    contacts: r.contacts ?? [],
    callCapacityExhausted: r.callCapacityExhausted,
  };
  return decide(makeAccount(overrides), scores, ctx, r.policy ?? DEFAULT);
}

/** ISO instant `hours` before NOW (negative: after). */
const ago = (hours: number) => new Date(NOW - hours * HOUR).toISOString();
/** `n` contacts on `channel`, one every 12 hours starting `startHours` before NOW. */
function attempts(n: number, channel: ContactRow['channel'], startHours = 1): ContactRow[] {
  return Array.from({ length: n }, (_, k) => makeContact({ ts: ago(startHours + 12 * k), channel }));
}

describe('guardrail names', () => {
  it('every guardrail a decision can name is in GUARDRAILS, once', () => {
    expect(new Set(GUARDRAILS).size).toBe(GUARDRAILS.length);
    expect(GUARDRAILS).toHaveLength(34);
  });
});

describe('suppression: no collection contact at all', () => {
  const rows: [string, Partial<AccountRow>, string[]][] = [
    ['deceased', { deceased_flag: true }, ['deceased']],
    ['bankruptcy', { bankruptcy_flag: true }, ['bankruptcy']],
    ['dispute open', { dispute_open: true }, ['dispute_open']],
    ['cease and desist', { cease_and_desist: true }, ['cease_and_desist']],
    [
      'all four flags at once',
      { deceased_flag: true, bankruptcy_flag: true, dispute_open: true, cease_and_desist: true },
      ['bankruptcy', 'cease_and_desist', 'deceased', 'dispute_open'],
    ],
    ['bankruptcy and dispute', { bankruptcy_flag: true, dispute_open: true }, ['bankruptcy', 'dispute_open']],
  ];
  const quadrants: [string, Scores][] = [
    ['high/high', HH],
    ['high/low', HL],
    ['low/high', LH],
    ['low/low', LL],
  ];
  describe.each(quadrants)('scores %s', (_q, scores) => {
    it.each(rows)('%s → hold, every flag named, SUPPRESSED', (_name, flags, names) => {
      const d = run(flags, scores);
      expect(d.treatment).toBe('hold');
      expect(d.channel).toBeNull();
      expect(d.earliest_contact_at).toBeNull();
      expect(d.offer).toBeNull();
      expect([...d.guardrails].sort()).toEqual(names);
      expect(d.reason_codes).toContain('SUPPRESSED');
      expect(d.reason_codes).not.toContain('MATRIX_CELL');
    });
  });

  it('beats the expected-value strategy too', () => {
    const ev = parsePolicy({ version: 'ev', mode: 'expected_value' }, 'test');
    const d = run({ cease_and_desist: true }, LH, { policy: ev });
    expect(d.treatment).toBe('hold');
    expect(d.guardrails).toEqual(['cease_and_desist']);
  });

  it('at night names only the suppression (no contact to schedule)', () => {
    const d = run({ deceased_flag: true }, HH, { now: Date.parse('2026-11-26T04:30:00Z') });
    expect(d.guardrails).toEqual(['deceased']);
    expect(d.reason_codes).not.toContain('SCHEDULED');
  });

  it('constraintsFor lists every suppression flag', () => {
    const c = constraintsFor(
      makeAccount({ deceased_flag: true, cease_and_desist: true }),
      [],
      NOW,
      DEFAULT.guardrails,
    );
    expect(c.suppressed.map((h) => h.name)).toEqual(['deceased', 'cease_and_desist']);
  });
});

describe('vulnerable and hardship customers: never legal, a plan offer first', () => {
  const rows: [string, Partial<AccountRow>, string[]][] = [
    ['vulnerable', { vulnerable_flag: true }, ['vulnerable_no_legal']],
    ['hardship', { hardship_flag: true }, ['hardship_no_legal']],
    [
      'vulnerable and hardship',
      { vulnerable_flag: true, hardship_flag: true },
      ['hardship_no_legal', 'vulnerable_no_legal'],
    ],
  ];
  it.each(rows)('%s, low/low with every legal prerequisite → plan_offer', (_name, flags, names) => {
    const d = run(flags, LL);
    expect(d.first_choice).toBe('legal');
    expect(d.treatment).toBe('plan_offer');
    expect(d.channel).toBe('sms');
    expect(d.offer).not.toBeNull();
    expect(d.reason_codes).toEqual(expect.arrayContaining(['FALLBACK', 'HARDSHIP_PLAN']));
    expect([...d.guardrails].sort()).toEqual(names);
  });

  it.each(rows)('%s: constraintsFor forbids legal only', (_name, flags, names) => {
    const c = constraintsFor(makeAccount(flags), [], NOW, DEFAULT.guardrails);
    expect((c.treatment.legal ?? []).map((h) => h.name).sort()).toEqual(names);
    expect(c.treatment.human_call).toBeUndefined();
    expect(c.treatment.plan_offer).toBeUndefined();
    expect(c.suppressed).toEqual([]);
  });

  it('a plan offer comes before the human call even in expected-value mode where legal ranks first', () => {
    const ev = parsePolicy({ version: 'ev', mode: 'expected_value' }, 'test');
    const byTreatment = {
      hold: { pPay: 0.05, pCover: 0 },
      gentle_nudge: { pPay: 0.1, pCover: 0 },
      plan_offer: { pPay: 0.5, pCover: 0.2 },
      human_call: { pPay: 0.6, pCover: 0.3 },
      legal: { pPay: 0.95, pCover: 0.95 },
    };
    const d = run({ vulnerable_flag: true, amount_overdue: 5000 }, { ...LL, byTreatment }, { policy: ev });
    expect(d.first_choice).toBe('legal');
    expect(d.treatment).toBe('plan_offer');
    expect(d.reason_codes).toContain('HARDSHIP_PLAN');
    expect(d.guardrails).toEqual(['vulnerable_no_legal']);
  });
  it('a plan offer is tried next even when the policy’s lists leave it out', () => {
    const noPlan = parsePolicy(
      {
        version: 'no-plan',
        matrix: { low_willingness_low_ability: ['legal'] },
        treatments: {
          legal: { fallback: ['human_call', 'hold'] },
          human_call: { fallback: ['gentle_nudge', 'hold'] },
        },
      },
      'test',
    );
    expect(matrixOrder(noPlan.champion, 'low_willingness_low_ability')).not.toContain('plan_offer');
    expect(run({}, LL, { policy: noPlan }).treatment).toBe('legal');
    const d = run({ hardship_flag: true }, LL, { policy: noPlan });
    expect(d.treatment).toBe('plan_offer');
    expect(d.reason_codes).toContain('HARDSHIP_PLAN');
  });
});

describe('legal prerequisites (low/low account: legal, else human_call)', () => {
  const strict = parsePolicy(
    { version: 'strict', guardrails: { legal: { min_days_past_due: 120, min_overdue: 1000 } } },
    'test',
  );
  /** 20:00 in Chicago on 2026-11-25 is already 2026-11-26 in UTC. */
  const evening = Date.parse('2026-11-26T02:00:00Z');
  const rows: [string, Partial<AccountRow>, Run, string | null][] = [
    ['days past due exactly 90', { days_past_due: 90 }, {}, null],
    ['days past due 89', { days_past_due: 89 }, {}, 'legal_days_past_due'],
    ['overdue exactly at min_overdue (500)', { amount_overdue: 500 }, {}, null],
    ['overdue 499.99', { amount_overdue: 499.99 }, {}, 'legal_min_overdue'],
    ['notice exactly 14 days before today', { legal_notice_date: '2026-11-11' }, {}, null],
    ['notice 13 days before today', { legal_notice_date: '2026-11-12' }, {}, 'legal_notice'],
    ['notice sent today', { legal_notice_date: '2026-11-25' }, {}, 'legal_notice'],
    ['no notice', { legal_notice_date: null }, {}, 'legal_notice'],
    ['notice dated in the future', { legal_notice_date: '2026-12-20' }, {}, 'legal_notice'],
    ['open complaint', { complaint_open: true }, {}, 'complaint_open'],
    // The notice age counts local dates: 14 days by the UTC date, 13 by the customer's.
    [
      'notice 13 local days old (14 by UTC date)',
      { legal_notice_date: '2026-11-12' },
      { now: evening },
      'legal_notice',
    ],
    [
      'notice 14 local days old (15 by UTC date)',
      { legal_notice_date: '2026-11-11' },
      { now: evening },
      null,
    ],
    [
      'stricter policy: 119 days past due of 120',
      { days_past_due: 119, amount_overdue: 1000 },
      { policy: strict },
      'legal_days_past_due',
    ],
    [
      'stricter policy: 999.99 overdue of 1000',
      { days_past_due: 120, amount_overdue: 999.99 },
      { policy: strict },
      'legal_min_overdue',
    ],
    ['stricter policy: both met', { days_past_due: 120, amount_overdue: 1000 }, { policy: strict }, null],
  ];
  it.each(rows)('%s', (_name, overrides, r, blockedBy) => {
    const d = run(overrides, LL, r);
    expect(d.first_choice).toBe('legal');
    if (blockedBy === null) {
      expect(d.treatment).toBe('legal');
      expect(d.channel).toBe('legal');
      expect(d.guardrails).toEqual([]);
      expect(d.reason_codes).not.toContain('FALLBACK');
    } else {
      expect(d.treatment).toBe('human_call');
      expect(d.channel).toBe('call');
      expect(d.guardrails).toEqual([blockedBy]);
      expect(d.reason_codes).toContain('FALLBACK');
    }
  });

  it('names every unmet prerequisite at once', () => {
    const d = run(
      { days_past_due: 30, amount_overdue: 100, legal_notice_date: null, complaint_open: true },
      LL,
    );
    expect(d.treatment).toBe('human_call');
    expect([...d.guardrails].sort()).toEqual([
      'complaint_open',
      'legal_days_past_due',
      'legal_min_overdue',
      'legal_notice',
    ]);
  });
});

describe('calls, SMS and email need a lawful channel', () => {
  const rows: [string, Partial<AccountRow>, Scores, Decision['treatment'], string, string, string[]][] = [
    // [case, account, scores, treatment, channel, channel reason, guardrails]
    [
      'do_not_call: a would-be call becomes a plan offer',
      { do_not_call: true },
      LH,
      'plan_offer',
      'sms',
      'PREFERRED_CHANNEL',
      ['do_not_call'],
    ],
    [
      'do_not_call does not touch a nudge (preferred call → email)',
      { do_not_call: true, preferred_channel: 'call' },
      HH,
      'gentle_nudge',
      'email',
      'CHEAPEST_CHANNEL',
      [],
    ],
    [
      'phone invalid: no call, and the plan offer skips SMS for email',
      { phone_valid: false },
      LH,
      'plan_offer',
      'email',
      'CHEAPEST_CHANNEL',
      ['phone_invalid'],
    ],
    [
      'phone invalid: preferred SMS nudge goes by email',
      { phone_valid: false },
      HH,
      'gentle_nudge',
      'email',
      'CHEAPEST_CHANNEL',
      ['phone_invalid'],
    ],
    [
      'phone and email invalid: preferred SMS nudge goes by app',
      { phone_valid: false, email_valid: false },
      HH,
      'gentle_nudge',
      'app',
      'CHEAPEST_CHANNEL',
      ['phone_invalid', 'email_invalid'],
    ],
    [
      'email invalid: preferred email nudge goes by app',
      { email_valid: false, preferred_channel: 'email' },
      HH,
      'gentle_nudge',
      'app',
      'CHEAPEST_CHANNEL',
      ['email_invalid'],
    ],
    [
      'email invalid: preferred email plan offer goes by app',
      { email_valid: false, preferred_channel: 'email' },
      HL,
      'plan_offer',
      'app',
      'CHEAPEST_CHANNEL',
      ['email_invalid'],
    ],
    [
      'email invalid does not touch a preferred SMS',
      { email_valid: false },
      HH,
      'gentle_nudge',
      'sms',
      'PREFERRED_CHANNEL',
      [],
    ],
  ];
  it.each(rows)('%s', (_name, overrides, scores, treatment, channel, code, names) => {
    const d = run(overrides, scores);
    expect(d.treatment).toBe(treatment);
    expect(d.channel).toBe(channel);
    expect(d.reason_codes).toContain(code);
    expect(d.guardrails).toEqual(names);
    if (treatment !== d.first_choice) expect(d.reason_codes).toContain('FALLBACK');
  });

  it('constraintsFor: an invalid phone blocks call and SMS, an invalid email blocks email', () => {
    const c = constraintsFor(
      makeAccount({ phone_valid: false, email_valid: false, do_not_call: true }),
      [],
      NOW,
      DEFAULT.guardrails,
    );
    expect(c.channel.call?.map((h) => h.name)).toEqual(['do_not_call', 'phone_invalid']);
    expect(c.channel.sms?.map((h) => h.name)).toEqual(['phone_invalid']);
    expect(c.channel.email?.map((h) => h.name)).toEqual(['email_invalid']);
    expect(c.channel.app).toBeUndefined();
    expect(c.channel.letter).toBeUndefined();
  });

  it('holds when no channel of any fallback is lawful', () => {
    const d = run({ phone_valid: false, email_valid: false }, HH, { contacts: attempts(3, 'app') });
    expect(d.treatment).toBe('hold');
    expect(d.channel).toBeNull();
    expect(d.reason_codes).toContain('ALL_BLOCKED');
    expect([...d.guardrails].sort()).toEqual(['cap_app', 'email_invalid', 'phone_invalid']);
  });
});

describe('contact caps: attempts in the window (now − days, now]', () => {
  const rows: [string, ContactRow[], Scores, Decision['treatment'], string, string[]][] = [
    ['6 calls in 7 days → the 7th is allowed', attempts(6, 'call'), LH, 'human_call', 'call', []],
    ['7 calls in 7 days → the 8th is blocked', attempts(7, 'call'), LH, 'plan_offer', 'sms', ['cap_call']],
    [
      '6 calls + one exactly 7×24 h ago (outside the window)',
      [...attempts(6, 'call'), makeContact({ ts: ago(7 * 24) })],
      LH,
      'human_call',
      'call',
      [],
    ],
    [
      '6 calls + one 7×24 h − 1 min ago (inside the window)',
      [...attempts(6, 'call'), makeContact({ ts: new Date(NOW - 7 * DAY + 60_000).toISOString() })],
      LH,
      'plan_offer',
      'sms',
      ['cap_call'],
    ],
    [
      '6 calls + one at exactly now (inside the window)',
      [...attempts(6, 'call'), makeContact({ ts: ago(0) })],
      LH,
      'plan_offer',
      'sms',
      ['cap_call'],
    ],
    [
      '6 calls + two dated after now (ignored)',
      [...attempts(6, 'call'), makeContact({ ts: ago(-1) }), makeContact({ ts: ago(-30) })],
      LH,
      'human_call',
      'call',
      [],
    ],
    // 96 h, 108 h, ..., 204 h ago: six of them (96–156 h) inside the last 168 h.
    ['10 calls, only 6 inside the last 7 days', attempts(10, 'call', 96), LH, 'human_call', 'call', []],
    [
      '3 SMS in 7 days → preferred SMS blocked, email instead',
      attempts(3, 'sms'),
      HH,
      'gentle_nudge',
      'email',
      ['cap_sms'],
    ],
    ['2 SMS in 7 days → SMS allowed', attempts(2, 'sms'), HH, 'gentle_nudge', 'sms', []],
    [
      '2 SMS + one exactly 7×24 h ago → SMS allowed',
      [...attempts(2, 'sms'), makeContact({ ts: ago(7 * 24), channel: 'sms' })],
      HH,
      'gentle_nudge',
      'sms',
      [],
    ],
    ['calls do not count against the SMS cap', attempts(6, 'call'), HH, 'gentle_nudge', 'sms', []],
  ];
  it.each(rows)('%s', (_name, contacts, scores, treatment, channel, names) => {
    const d = run({}, scores, { contacts });
    expect(d.treatment).toBe(treatment);
    expect(d.channel).toBe(channel);
    expect(d.guardrails).toEqual(names);
  });

  it('counts the attempts in the window exactly (constraintsFor)', () => {
    // Attempts 1 h, 13 h, ..., 73 h ago: all seven inside the last 7 days.
    const c = constraintsFor(makeAccount(), attempts(7, 'call'), NOW, DEFAULT.guardrails);
    expect(c.channel.call).toEqual([
      { name: 'cap_call', detail: '7 call attempt(s) in the last 7 days, at most 7' },
    ]);
  });

  it('a policy may tighten the SMS cap (1 in 7 days)', () => {
    const tight = parsePolicy(
      { version: 't', guardrails: { caps: { sms: { attempts: 1, days: 7 } } } },
      'test',
    );
    const d = run({}, HH, { contacts: attempts(1, 'sms', 100), policy: tight });
    expect(d.channel).toBe('email');
    expect(d.guardrails).toEqual(['cap_sms']);
  });
});

describe('conversation cooldown and promises to pay', () => {
  const talk = (hoursAgo: number, outcome: ContactRow['outcome']) =>
    makeContact({ ts: ago(hoursAgo), outcome });
  const rows: [string, ContactRow[], Decision['treatment'], string[]][] = [
    [
      'right-party call 6 days ago → no call',
      [talk(6 * 24, 'right_party')],
      'plan_offer',
      ['conversation_cooldown'],
    ],
    ['right-party call 8 days ago → call', [talk(8 * 24, 'right_party')], 'human_call', []],
    ['right-party call exactly 7×24 h ago → call', [talk(7 * 24, 'right_party')], 'human_call', []],
    ['refusal 2 days ago → no call', [talk(48, 'refused')], 'plan_offer', ['conversation_cooldown']],
    [
      'dispute raised on a call 2 days ago → no call',
      [talk(48, 'dispute')],
      'plan_offer',
      ['conversation_cooldown'],
    ],
    ['wrong party 2 days ago is no conversation → call', [talk(48, 'wrong_party')], 'human_call', []],
    ['no answer 2 days ago is no conversation → call', [talk(48, 'no_answer')], 'human_call', []],
    ['a conversation dated after now is ignored → call', [talk(-2, 'right_party')], 'human_call', []],
  ];
  it.each(rows)('%s (low/high)', (_name, contacts, treatment, names) => {
    const d = run({}, LH, { contacts });
    expect(d.first_choice).toBe('human_call');
    expect(d.treatment).toBe(treatment);
    expect(d.guardrails).toEqual(names);
  });

  /** A promise made `madeDaysAgo` days before NOW for local date `promiseDate`. */
  const promise = (madeDaysAgo: number, promiseDate: string | null) =>
    makeContact({
      ts: ago(madeDaysAgo * 24),
      outcome: 'promise_to_pay',
      promise_date: promiseDate,
      promise_amount: 100,
    });

  it('a promise made yesterday for 5 days from now: no call and no legal', () => {
    const contacts = [promise(1, '2026-11-30')];
    const c = constraintsFor(makeAccount(), contacts, NOW, DEFAULT.guardrails);
    expect(c.treatment.legal?.map((h) => h.name)).toEqual(['promise_pending']);
    expect(c.treatment.human_call?.map((h) => h.name)).toEqual(['promise_pending']);
    expect(c.channel.call?.map((h) => h.name)).toEqual(['conversation_cooldown', 'promise_pending']);

    const low = run({}, LL, { contacts });
    expect(low.first_choice).toBe('legal');
    expect(low.treatment).toBe('plan_offer');
    expect(low.guardrails).toContain('promise_pending');
    expect(low.reason_codes).toContain('FALLBACK');

    const reluctant = run({}, LH, { contacts });
    expect(reluctant.treatment).toBe('plan_offer');
    expect(reluctant.guardrails).toContain('promise_pending');
  });

  // The promise is open through its date + 3 grace days (local dates); today is 2026-11-25.
  const promiseRows: [string, ContactRow[], Decision['treatment'], string[]][] = [
    ['made 12 days ago for 10 days ago (grace over) → legal again', [promise(12, '2026-11-15')], 'legal', []],
    ['made 10 days ago, date + 3 = yesterday → legal again', [promise(10, '2026-11-21')], 'legal', []],
    [
      'made 10 days ago, date + 3 = today → still pending',
      [promise(10, '2026-11-22')],
      'plan_offer',
      ['promise_pending'],
    ],
    [
      'made 10 days ago for 20 days from now → pending (cooldown over)',
      [promise(10, '2026-12-15')],
      'plan_offer',
      ['promise_pending'],
    ],
  ];
  it.each(promiseRows)('%s (low/low)', (_name, contacts, treatment, names) => {
    const d = run({}, LL, { contacts });
    expect(d.treatment).toBe(treatment);
    expect(d.guardrails).toEqual(names);
  });

  it('a kept-and-expired promise with the conversation over 7 days ago allows a call again', () => {
    const d = run({}, LH, { contacts: [promise(12, '2026-11-15')] });
    expect(d.treatment).toBe('human_call');
    expect(d.channel).toBe('call');
    expect(d.guardrails).toEqual([]);
  });
});

describe('contact hours in the customer’s own time zone', () => {
  const nineToFive = parsePolicy(
    { version: 'office', guardrails: { contact_hours: { start: '09:00', end: '17:00' } } },
    'test',
  );
  // [case, zone, now (UTC instant), earliest contact (local ISO), outside the hours?]
  const rows: [string, string, string, string, boolean][] = [
    [
      'Chicago 22:30 → 08:00 next day',
      'America/Chicago',
      '2026-11-26T04:30:00Z',
      '2026-11-26T08:00:00-06:00',
      true,
    ],
    [
      'Chicago 07:59 → 08:00 same day',
      'America/Chicago',
      '2026-11-25T13:59:00Z',
      '2026-11-25T08:00:00-06:00',
      true,
    ],
    [
      'Chicago exactly 08:00 → now',
      'America/Chicago',
      '2026-11-25T14:00:00Z',
      '2026-11-25T08:00:00-06:00',
      false,
    ],
    ['Chicago 20:59 → now', 'America/Chicago', '2026-11-26T02:59:00Z', '2026-11-25T20:59:00-06:00', false],
    [
      'Chicago exactly 21:00 → 08:00 next day',
      'America/Chicago',
      '2026-11-26T03:00:00Z',
      '2026-11-26T08:00:00-06:00',
      true,
    ],
    [
      'Chicago 00:30 → 08:00 same day',
      'America/Chicago',
      '2026-11-26T06:30:00Z',
      '2026-11-26T08:00:00-06:00',
      true,
    ],
    [
      'Chicago summer (CDT) 22:30 → 08:00 next day',
      'America/Chicago',
      '2026-07-16T03:30:00Z',
      '2026-07-16T08:00:00-05:00',
      true,
    ],
    [
      'New York 22:30 → 08:00 next day',
      'America/New_York',
      '2026-11-26T03:30:00Z',
      '2026-11-26T08:00:00-05:00',
      true,
    ],
    [
      'New York 07:59 → 08:00 same day',
      'America/New_York',
      '2026-11-25T12:59:00Z',
      '2026-11-25T08:00:00-05:00',
      true,
    ],
    [
      'New York exactly 08:00 → now',
      'America/New_York',
      '2026-11-25T13:00:00Z',
      '2026-11-25T08:00:00-05:00',
      false,
    ],
    [
      'New York exactly 21:00 → 08:00 next day',
      'America/New_York',
      '2026-11-26T02:00:00Z',
      '2026-11-26T08:00:00-05:00',
      true,
    ],
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 07:30Z is 03:30 EDT (02:30 does not exist).
    [
      'New York spring-forward night, 07:30Z',
      'America/New_York',
      '2026-03-08T07:30:00Z',
      '2026-03-08T08:00:00-04:00',
      true,
    ],
    [
      'New York spring-forward night, 01:30 EST',
      'America/New_York',
      '2026-03-08T06:30:00Z',
      '2026-03-08T08:00:00-04:00',
      true,
    ],
    [
      'New York 22:30 EST the evening before spring-forward',
      'America/New_York',
      '2026-03-08T03:30:00Z',
      '2026-03-08T08:00:00-04:00',
      true,
    ],
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    [
      'New York fall-back night, first 01:30 (EDT)',
      'America/New_York',
      '2026-11-01T05:30:00Z',
      '2026-11-01T08:00:00-05:00',
      true,
    ],
    [
      'New York fall-back night, second 01:30 (EST)',
      'America/New_York',
      '2026-11-01T06:30:00Z',
      '2026-11-01T08:00:00-05:00',
      true,
    ],
    [
      'New York 22:30 EDT the evening before fall-back',
      'America/New_York',
      '2026-11-01T02:30:00Z',
      '2026-11-01T08:00:00-05:00',
      true,
    ],
    [
      'Kolkata (+05:30) 22:30 → 08:00 next day',
      'Asia/Kolkata',
      '2026-11-25T17:00:00Z',
      '2026-11-26T08:00:00+05:30',
      true,
    ],
    [
      'Kolkata 07:59 → 08:00 same day',
      'Asia/Kolkata',
      '2026-11-25T02:29:00Z',
      '2026-11-25T08:00:00+05:30',
      true,
    ],
    [
      'Kolkata exactly 08:00 → now',
      'Asia/Kolkata',
      '2026-11-25T02:30:00Z',
      '2026-11-25T08:00:00+05:30',
      false,
    ],
    [
      'Lord Howe winter (+10:30) 22:30 → 08:00 next day',
      'Australia/Lord_Howe',
      '2026-06-15T12:00:00Z',
      '2026-06-16T08:00:00+10:30',
      true,
    ],
    [
      'Lord Howe winter 07:59 → 08:00 same day',
      'Australia/Lord_Howe',
      '2026-06-14T21:29:00Z',
      '2026-06-15T08:00:00+10:30',
      true,
    ],
    [
      'Lord Howe summer (+11:00) 22:30 → 08:00 next day',
      'Australia/Lord_Howe',
      '2026-11-25T11:30:00Z',
      '2026-11-26T08:00:00+11:00',
      true,
    ],
    // 2026-10-04 02:00 +10:30 → 02:30 +11:00; 2026-04-05 02:00 +11:00 → 01:30 +10:30 (half-hour DST).
    [
      'Lord Howe DST-start night 02:45 (+11:00)',
      'Australia/Lord_Howe',
      '2026-10-03T15:45:00Z',
      '2026-10-04T08:00:00+11:00',
      true,
    ],
    [
      'Lord Howe DST-end night 01:45 (+11:00)',
      'Australia/Lord_Howe',
      '2026-04-04T14:45:00Z',
      '2026-04-05T08:00:00+10:30',
      true,
    ],
  ];
  it.each(rows)('%s', (_name, timezone, nowIso, earliest, outside) => {
    const d = run({ timezone }, HH, { now: Date.parse(nowIso) });
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.earliest_contact_at).toBe(earliest);
    if (outside) {
      expect(d.guardrails).toEqual(['outside_contact_hours']);
      expect(d.reason_codes).toContain('SCHEDULED');
      expect(d.reason_codes).not.toContain('CONTACT_NOW');
    } else {
      expect(d.guardrails).toEqual([]);
      expect(d.reason_codes).toContain('CONTACT_NOW');
      expect(d.reason_codes).not.toContain('SCHEDULED');
    }
  });

  it.each(rows)('%s: constraintsFor gives the same instant', (_name, timezone, nowIso, earliest, outside) => {
    const now = Date.parse(nowIso);
    const c = constraintsFor(makeAccount({ timezone }), [], now, DEFAULT.guardrails);
    expect(c.earliestMs).toBe(Date.parse(earliest));
    expect(c.outsideHours?.name ?? null).toBe(outside ? 'outside_contact_hours' : null);
  });

  const officeRows: [string, string, string, boolean][] = [
    ['08:30 → 09:00 same day', '2026-11-25T14:30:00Z', '2026-11-25T09:00:00-06:00', true],
    ['exactly 09:00 → now', '2026-11-25T15:00:00Z', '2026-11-25T09:00:00-06:00', false],
    ['16:59 → now', '2026-11-25T22:59:00Z', '2026-11-25T16:59:00-06:00', false],
    ['exactly 17:00 → 09:00 next day', '2026-11-25T23:00:00Z', '2026-11-26T09:00:00-06:00', true],
    [
      '20:00 (inside the legal hours) → 09:00 next day',
      '2026-11-26T02:00:00Z',
      '2026-11-26T09:00:00-06:00',
      true,
    ],
  ];
  it.each(officeRows)('a 09:00–17:00 policy, Chicago %s', (_name, nowIso, earliest, outside) => {
    const d = run({}, HH, { now: Date.parse(nowIso), policy: nineToFive });
    expect(d.earliest_contact_at).toBe(earliest);
    expect(d.guardrails).toEqual(outside ? ['outside_contact_hours'] : []);
  });

  it('the reason states the local time the customer is at (Lord Howe, half-hour DST change)', () => {
    // 15:10Z is 01:40 at +10:30; 15:45Z, after the 15:30Z change, is 02:45 at +11:00. Same UTC hour.
    const before = run({ timezone: 'Australia/Lord_Howe' }, HH, { now: Date.parse('2026-10-03T15:10:00Z') });
    const after = run({ timezone: 'Australia/Lord_Howe' }, HH, { now: Date.parse('2026-10-03T15:45:00Z') });
    expect(before.reasons.join(' ')).toContain('local time 01:40');
    expect(after.reasons.join(' ')).toContain('local time 02:45');
  });

  it('a legal action is scheduled into the contact hours too', () => {
    const d = run({}, LL, { now: Date.parse('2026-11-26T04:30:00Z') });
    expect(d.treatment).toBe('legal');
    expect(d.earliest_contact_at).toBe('2026-11-26T08:00:00-06:00');
  });
});

describe('accounts not in collections', () => {
  it.each([
    ['high/high', HH],
    ['high/low', HL],
    ['low/high', LH],
    ['low/low', LL],
  ] as [string, Scores][])('0 days past due, %s → hold, NOT_DELINQUENT, no guardrails', (_q, scores) => {
    const d = run({ days_past_due: 0, amount_overdue: 0 }, scores);
    expect(d.treatment).toBe('hold');
    expect(d.channel).toBeNull();
    expect(d.earliest_contact_at).toBeNull();
    expect(d.reason_codes).toEqual(['NOT_DELINQUENT']);
    expect(d.guardrails).toEqual([]);
  });

  it.each([
    [29, 'hold'],
    [30, 'gentle_nudge'],
  ] as const)('a policy starting collections at 30 days: %i days past due → %s', (dpd, treatment) => {
    const late = parsePolicy({ version: 'late', min_days_past_due: 30 }, 'test');
    expect(run({ days_past_due: dpd }, HH, { policy: late }).treatment).toBe(treatment);
  });
});

describe('human-call capacity spent for the day', () => {
  const rows: [
    string,
    Partial<AccountRow>,
    Scores,
    Decision['treatment'],
    Decision['treatment'],
    string[],
  ][] = [
    ['a would-be human call spills to a plan offer', {}, LH, 'human_call', 'plan_offer', ['CAPACITY_SPILL']],
    ['legal is not a call: unaffected', {}, LL, 'legal', 'legal', []],
    [
      'legal blocked, then no call slot → plan offer',
      { days_past_due: 89 },
      LL,
      'legal',
      'plan_offer',
      ['FALLBACK', 'CAPACITY_SPILL'],
    ],
    ['a nudge is unaffected', {}, HH, 'gentle_nudge', 'gentle_nudge', []],
  ];
  it.each(rows)('%s', (_name, overrides, scores, first, treatment, codes) => {
    const d = run(overrides, scores, { callCapacityExhausted: true });
    expect(d.first_choice).toBe(first);
    expect(d.treatment).toBe(treatment);
    expect(d.reason_codes).toEqual(expect.arrayContaining(codes));
    if (!codes.includes('CAPACITY_SPILL')) expect(d.reason_codes).not.toContain('CAPACITY_SPILL');
  });

  it('with capacity left the same account is called', () => {
    expect(run({}, LH, { callCapacityExhausted: false }).treatment).toBe('human_call');
  });
});
