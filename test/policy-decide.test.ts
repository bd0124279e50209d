import { describe, expect, it } from 'vitest';
import { RepayriskError } from '../src/core/errors.ts';
import { decide, scoreVersus } from '../src/core/policy/decide.ts';
import { armOf, stableFraction } from '../src/core/policy/experiment.ts';
import { type Policy, parsePolicy } from '../src/core/policy/load.ts';
import { sizePlan } from '../src/core/policy/plan-offer.ts';
import type { Decision, Scores } from '../src/core/policy/types.ts';
import type { Treatment } from '../src/core/schema/enums.ts';
import type { AccountRow } from '../src/core/schema/tables.ts';
import { makeAccount } from './helpers/account.ts';
import { CAPTURED_LIFTS } from './helpers/captured-lifts.ts';

/**
 * The strategy of DESIGN §6: matrix, expected value, channel choice, plan sizing, champion/challenger. Every
 * expected value is worked out from the rule in the test, never taken from the code under test.
 */

/** Wednesday 2026-11-25 12:00 in Chicago: inside the contact hours. */
const NOW = Date.parse('2026-11-25T18:00:00Z');
const DEFAULT = parsePolicy({ version: 'decide-test' }, 'test');
// Expected-value tests state their lifts (the shipped ones are re-estimated from fitted artifacts).
const EV = parsePolicy(
  { version: 'ev-test', mode: 'expected_value', response: { lifts: CAPTURED_LIFTS } },
  'test',
);

const HH: Scores = { willingness: 0.8, ability: 0.8 };
const HL: Scores = { willingness: 0.8, ability: 0.2 };
const LH: Scores = { willingness: 0.3, ability: 0.8 };
const LL: Scores = { willingness: 0.3, ability: 0.2 };

function run(overrides: Partial<AccountRow>, scores: Scores, policy: Policy = DEFAULT, now = NOW): Decision {
  return decide(makeAccount(overrides), scores, { now, contacts: [] }, policy);
}

describe('the willingness × ability matrix (default policy)', () => {
  // The fixture prefers SMS and meets every legal prerequisite (95 days, 600 overdue, notice 2026-10-01).
  const rows: [string, Scores, Treatment, string, string[]][] = [
    [
      'high_willingness_high_ability',
      HH,
      'gentle_nudge',
      'sms',
      ['WILLINGNESS_HIGH', 'ABILITY_HIGH', 'MATRIX_CELL', 'PREFERRED_CHANNEL', 'CONTACT_NOW'],
    ],
    [
      'high_willingness_low_ability',
      HL,
      'plan_offer',
      'sms',
      ['WILLINGNESS_HIGH', 'ABILITY_LOW', 'MATRIX_CELL', 'PREFERRED_CHANNEL', 'PLAN_SIZED', 'CONTACT_NOW'],
    ],
    [
      'low_willingness_high_ability',
      LH,
      'human_call',
      'call',
      ['WILLINGNESS_LOW', 'ABILITY_HIGH', 'MATRIX_CELL', 'CHEAPEST_CHANNEL', 'CONTACT_NOW'],
    ],
    [
      'low_willingness_low_ability',
      LL,
      'legal',
      'legal',
      ['WILLINGNESS_LOW', 'ABILITY_LOW', 'MATRIX_CELL', 'CHEAPEST_CHANNEL', 'CONTACT_NOW'],
    ],
  ];
  it.each(rows)('%s → %s by %s', (segment, scores, treatment, channel, codes) => {
    const d = run({}, scores);
    expect(d.segment).toBe(segment);
    expect(d.mode).toBe('matrix');
    expect(d.treatment).toBe(treatment);
    expect(d.first_choice).toBe(treatment);
    expect(d.channel).toBe(channel);
    expect(d.reason_codes).toEqual(codes);
    expect(d.reasons).toHaveLength(codes.length);
    expect(d.guardrails).toEqual([]);
    expect(d.earliest_contact_at).toBe('2026-11-25T12:00:00-06:00');
    expect(d.offer === null).toBe(treatment !== 'plan_offer');
  });

  const thresholds: [string, Scores, string][] = [
    [
      'willingness exactly 0.6 and ability exactly 0.5 are high',
      { willingness: 0.6, ability: 0.5 },
      'high_willingness_high_ability',
    ],
    [
      'willingness just under 0.6 is low',
      { willingness: 0.5999999, ability: 0.5 },
      'low_willingness_high_ability',
    ],
    [
      'ability just under 0.5 is low',
      { willingness: 0.6, ability: 0.4999999 },
      'high_willingness_low_ability',
    ],
    ['0 and 0', { willingness: 0, ability: 0 }, 'low_willingness_low_ability'],
    ['1 and 1', { willingness: 1, ability: 1 }, 'high_willingness_high_ability'],
  ];
  it.each(thresholds)('thresholds are inclusive: %s', (_name, scores, segment) => {
    expect(run({}, scores).segment).toBe(segment);
  });

  it('takes the thresholds and cells of a custom matrix from the policy', () => {
    const custom = parsePolicy(
      {
        version: 'custom',
        segments: { willingness_high: 0.9, ability_high: 0.1 },
        matrix: {
          high_willingness_high_ability: 'plan_offer',
          low_willingness_high_ability: ['gentle_nudge', 'human_call'],
          low_willingness_low_ability: ['human_call'],
        },
      },
      'test',
    );
    // 0.8 < 0.9 is now low willingness; 0.2 ≥ 0.1 is high ability.
    const d = run({}, HL, custom);
    expect(d.segment).toBe('low_willingness_high_ability');
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.policy_version).toBe('custom');
    expect(run({}, { willingness: 0.95, ability: 0.5 }, custom).treatment).toBe('plan_offer');
    expect(run({}, { willingness: 0.3, ability: 0.05 }, custom).treatment).toBe('human_call');
    // No phone: the call has no lawful channel and falls back to the plan offer.
    expect(run({ phone_valid: false }, { willingness: 0.3, ability: 0.05 }, custom).treatment).toBe(
      'plan_offer',
    );
  });
});

/** The four treatments of the matrix and hold (the staged flow's are off in these policies). */
type Logged = Exclude<Treatment, 'field_visit' | 'agency_placement'>;

describe('expected-value mode', () => {
  const PARTIAL = 0.55;
  /** overdue × pPay × (pCover + (1 − pCover) × 0.55) − cost. */
  const net = (overdue: number, r: { pPay: number; pCover: number }, cost: number) =>
    overdue * r.pPay * (r.pCover + (1 - r.pCover) * PARTIAL) - cost;
  /**
   * Default cost of each treatment on its cheapest effective channel (cost / reach): nudge and plan by email
   * (0.01 / 0.6), call 6 + 4, legal 250 + 0.
   */
  const COST: Record<Logged, number> = {
    hold: 0,
    gentle_nudge: 0 + 0.01,
    plan_offer: 3 + 0.01,
    human_call: 6 + 4,
    legal: 250 + 0,
  };
  const TS: Logged[] = ['hold', 'gentle_nudge', 'plan_offer', 'human_call', 'legal'];
  const argmax = (
    overdue: number,
    by: Record<Logged, { pPay: number; pCover: number }>,
    skip: Logged[] = [],
  ) =>
    TS.filter((t) => !skip.includes(t)).reduce((best, t) =>
      net(overdue, by[t], COST[t]) > net(overdue, by[best], COST[best]) ? t : best,
    );

  const CALL_BEST: Record<Logged, { pPay: number; pCover: number }> = {
    hold: { pPay: 0.2, pCover: 0.5 }, //     1000 × 0.2 × 0.775 − 0      = 155
    gentle_nudge: { pPay: 0.25, pCover: 0.5 }, // 1000 × 0.25 × 0.775 − 0.01 = 193.74
    plan_offer: { pPay: 0.4, pCover: 0.2 }, // 1000 × 0.4 × 0.64 − 3.01   = 252.99
    human_call: { pPay: 0.45, pCover: 0.4 }, // 1000 × 0.45 × 0.73 − 10   = 318.5
    legal: { pPay: 0.6, pCover: 0.7 }, //      1000 × 0.6 × 0.865 − 250  = 269
  };

  it('picks the treatment with the largest expected net recovery and reports its value', () => {
    expect(argmax(1000, CALL_BEST)).toBe('human_call');
    const d = run({ amount_overdue: 1000 }, { ...LH, byTreatment: CALL_BEST }, EV);
    expect(d.mode).toBe('expected_value');
    expect(d.treatment).toBe('human_call');
    expect(d.first_choice).toBe('human_call');
    expect(d.channel).toBe('call');
    expect(d.reason_codes).toContain('EXPECTED_VALUE_BEST');
    expect(d.expected.recovery).toBeCloseTo(328.5, 9);
    expect(d.expected.cost).toBeCloseTo(10, 9);
    expect(d.expected.net).toBeCloseTo(318.5, 9);
    expect(d.expected.net).toBeCloseTo(net(1000, CALL_BEST.human_call, COST.human_call), 9);
  });

  it('when the best is blocked, takes the next-best lawful treatment (do_not_call → legal)', () => {
    expect(argmax(1000, CALL_BEST, ['human_call'])).toBe('legal');
    const d = run({ amount_overdue: 1000, do_not_call: true }, { ...LH, byTreatment: CALL_BEST }, EV);
    expect(d.first_choice).toBe('human_call');
    expect(d.treatment).toBe('legal');
    expect(d.channel).toBe('legal');
    expect(d.guardrails).toEqual(['do_not_call']);
    expect(d.reason_codes).toContain('FALLBACK');
    expect(d.expected.net).toBeCloseTo(269, 9);
    expect(d.expected.net).toBeCloseTo(net(1000, CALL_BEST.legal, COST.legal), 9);
  });

  it('when the best and second-best are blocked, takes the third (no call, no legal → plan offer)', () => {
    const d = run(
      { amount_overdue: 1000, do_not_call: true, complaint_open: true },
      { ...LH, byTreatment: CALL_BEST },
      EV,
    );
    expect(d.first_choice).toBe('human_call');
    expect(d.treatment).toBe('plan_offer');
    expect([...d.guardrails].sort()).toEqual(['complaint_open', 'do_not_call']);
    // Plan offer by the preferred SMS: 3 + 0.05.
    expect(d.expected.net).toBeCloseTo(net(1000, CALL_BEST.plan_offer, 3.05), 9);
  });

  it('a legal-prerequisite block falls to the next-best by value', () => {
    const legalBest = { ...CALL_BEST, legal: { pPay: 0.9, pCover: 0.9 } }; // 1000 × 0.9 × 0.955 − 250 = 609.5
    expect(argmax(1000, legalBest)).toBe('legal');
    const d = run({ amount_overdue: 1000, days_past_due: 89 }, { ...LL, byTreatment: legalBest }, EV);
    expect(d.first_choice).toBe('legal');
    expect(d.treatment).toBe('human_call');
    expect(d.guardrails).toEqual(['legal_days_past_due']);
    expect(d.expected.net).toBeCloseTo(318.5, 9);
    const allowed = run({ amount_overdue: 1000 }, { ...LL, byTreatment: legalBest }, EV);
    expect(allowed.treatment).toBe('legal');
    expect(allowed.expected.net).toBeCloseTo(609.5, 9);
  });

  it('the chosen treatment is costed on the channel actually used', () => {
    const nudgeBest: Record<Logged, { pPay: number; pCover: number }> = {
      hold: { pPay: 0.3, pCover: 0.5 },
      gentle_nudge: { pPay: 0.5, pCover: 0.6 }, // 1000 × 0.5 × 0.82 = 410
      plan_offer: { pPay: 0.5, pCover: 0.6 },
      human_call: { pPay: 0.5, pCover: 0.6 },
      legal: { pPay: 0.5, pCover: 0.6 },
    };
    expect(argmax(1000, nudgeBest)).toBe('gentle_nudge');
    const byEmail = run(
      { amount_overdue: 1000, preferred_channel: 'email' },
      { ...HH, byTreatment: nudgeBest },
      EV,
    );
    expect(byEmail.treatment).toBe('gentle_nudge');
    expect(byEmail.channel).toBe('email');
    expect(byEmail.expected.cost).toBeCloseTo(0.01, 9);
    expect(byEmail.expected.net).toBeCloseTo(409.99, 9);
    const bySms = run({ amount_overdue: 1000 }, { ...HH, byTreatment: nudgeBest }, EV);
    expect(bySms.channel).toBe('sms');
    expect(bySms.expected.cost).toBeCloseTo(0.05, 9);
    expect(bySms.expected.net).toBeCloseTo(409.95, 9);
  });

  it('without treatment estimates, uses the policy lifts on the logit scale', () => {
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    const logit = (p: number) => Math.log(p / (1 - p));
    // The EV policy's lifts of the low-willingness / high-ability cell.
    const lifts = CAPTURED_LIFTS.low_willingness_high_ability;
    const by = Object.fromEntries(
      TS.map((t) => [
        t,
        {
          pPay: sigmoid(logit(LH.willingness) + lifts[t].pay),
          pCover: sigmoid(logit(LH.ability) + lifts[t].cover),
        },
      ]),
    ) as Record<Logged, { pPay: number; pCover: number }>;
    const best = argmax(600, by);
    expect(best).toBe('human_call');
    const d = run({}, LH, EV);
    expect(d.treatment).toBe(best);
    expect(d.expected.net).toBeCloseTo(net(600, by.human_call, COST.human_call), 9);
  });
});

describe('channel choice', () => {
  const pricey = parsePolicy({ version: 'p', channels: { email: { cost: 0.5, reach: 0.6 } } }, 'test');
  const smsOnly = parsePolicy({ version: 's', treatments: { gentle_nudge: { channels: ['sms'] } } }, 'test');
  // Default cost / reach: email 0.01/0.6 ≈ 0.017 < app 0.02/0.5 = 0.04 < sms 0.05/0.9 ≈ 0.056 < letter 1.26.
  const rows: [string, AccountRow['preferred_channel'], Scores, Policy, string, string][] = [
    ['preferred SMS nudge', 'sms', HH, DEFAULT, 'sms', 'PREFERRED_CHANNEL'],
    ['preferred email nudge', 'email', HH, DEFAULT, 'email', 'PREFERRED_CHANNEL'],
    ['preferred app nudge', 'app', HH, DEFAULT, 'app', 'PREFERRED_CHANNEL'],
    [
      'preferred call for a nudge → cheapest effective: email',
      'call',
      HH,
      DEFAULT,
      'email',
      'CHEAPEST_CHANNEL',
    ],
    [
      'preferred letter for a nudge (not a nudge channel) → email',
      'letter',
      HH,
      DEFAULT,
      'email',
      'CHEAPEST_CHANNEL',
    ],
    ['preferred letter for a plan offer', 'letter', HL, DEFAULT, 'letter', 'PREFERRED_CHANNEL'],
    [
      'preferred call for a plan offer (not a plan channel) → email',
      'call',
      HL,
      DEFAULT,
      'email',
      'CHEAPEST_CHANNEL',
    ],
    ['preferred email for a human call → call', 'email', LH, DEFAULT, 'call', 'CHEAPEST_CHANNEL'],
    [
      'email made dear (0.5 / 0.6): preferred call for a nudge → app',
      'call',
      HH,
      pricey,
      'app',
      'CHEAPEST_CHANNEL',
    ],
    ['a nudge policy with SMS only: preferred email → sms', 'email', HH, smsOnly, 'sms', 'CHEAPEST_CHANNEL'],
  ];
  it.each(rows)('%s', (_name, preferred, scores, policy, channel, code) => {
    const d = run({ preferred_channel: preferred }, scores, policy);
    expect(d.channel).toBe(channel);
    expect(d.reason_codes).toContain(code);
    expect(d.reason_codes).not.toContain(
      code === 'PREFERRED_CHANNEL' ? 'CHEAPEST_CHANNEL' : 'PREFERRED_CHANNEL',
    );
  });
});

describe('plan offers', () => {
  const PLAN = DEFAULT.champion.plan;

  /** Months paying `pay` each month takes to clear `amount` at `apr` (simulated); Infinity past 50 years. */
  function monthsToClear(amount: number, apr: number, pay: number): number {
    let b = amount;
    for (let m = 1; m <= 600; m++) {
      b = b * (1 + apr / 12) - pay;
      if (b <= 1e-9) return m;
    }
    return Number.POSITIVE_INFINITY;
  }
  /** Balance left after paying `pay` for `n` months (negative: overpaid). */
  function balanceAfter(amount: number, apr: number, pay: number, n: number): number {
    let b = amount;
    for (let m = 0; m < n; m++) b = b * (1 + apr / 12) - pay;
    return b;
  }

  /** A personal loan with `remaining` months of its term left. */
  const loan = (balance: number, apr: number, remaining: number, more: Partial<AccountRow> = {}) =>
    makeAccount({
      product: 'personal_loan',
      term_months: 36,
      months_on_book: 36 - remaining,
      balance,
      amount_overdue: 300,
      apr,
      monthly_income: 3000,
      ...more,
    });

  it.each([
    [3000, 0, 150],
    [3000, 0.25, 262.5],
    [3000, 0.5, 375],
    [3000, 1, 600],
    [200, 0, 20], // 10 a month is below the minimum payment of 20
  ])('capacity = income × (0.05 + 0.15 × ability): income %s, ability %s → %s', (income, ability, cap) => {
    expect(sizePlan(makeAccount({ monthly_income: income }), ability, PLAN).capacity).toBeCloseTo(cap, 9);
  });

  it.each([
    [null, 0, 75],
    [null, 0.4, 105],
    [null, 1, 150],
    [0, 0.4, 105],
  ])(
    'without a declared income (%s): a share of the 150 instalment, ability %s → %s',
    (income, ability, cap) => {
      const offer = sizePlan(makeAccount({ monthly_income: income }), ability, PLAN);
      expect(offer.capacity_basis).toBe('contractual_instalment');
      expect(offer.capacity).toBeCloseTo(cap, 9);
    },
  );

  it('a near-zero APR (1e-17) amortises like an interest-free loan, not a division by zero', () => {
    const offer = sizePlan(loan(2000, 1e-17, 10), 0.5, PLAN);
    expect(offer.monthly_payment).toBe(200);
    expect(offer.term_months).toBe(10);
  });

  it('a loan with 10 months left that fits without extension', () => {
    // capacity 3000 × 0.125 = 375; 2000 at 1 % a month over 10 months = 20 / (1 − 1.01^−10) = 211.16.
    const offer = sizePlan(loan(2000, 0.12, 10), 0.5, PLAN);
    expect(offer).toEqual({
      monthly_payment: 211.16,
      term_months: 10,
      term_extension_months: 0,
      interest_relief: 0,
      apr: 0.12,
      amount: 2000,
      capacity: 375,
      capacity_basis: 'declared_income',
      affordable: true,
      forbearance: null,
      debt_advice_referral: false,
    });
    expect(Math.abs(balanceAfter(2000, 0.12, offer.monthly_payment, 10))).toBeLessThan(0.5);
  });

  it('a loan that needs a term extension gets the fewest months that fit', () => {
    const offer = sizePlan(loan(5000, 0.12, 10), 0.5, PLAN);
    let fewest = 10;
    while (balanceAfter(5000, 0.12, 375, fewest) > 0) fewest++;
    expect(fewest).toBe(15); // 50 / (1 − 1.01^−15) = 360.62 ≤ 375 < 384.50 over 14 months
    expect(offer.term_months).toBe(fewest);
    expect(offer.term_extension_months).toBe(fewest - 10);
    expect(offer.interest_relief).toBe(0);
    expect(offer.apr).toBe(0.12);
    expect(offer.monthly_payment).toBe(360.62);
    expect(offer.monthly_payment).toBeLessThanOrEqual(offer.capacity);
    expect(offer.affordable).toBe(true);
    expect(Math.abs(balanceAfter(5000, 0.12, offer.monthly_payment, offer.term_months))).toBeLessThan(0.5);
  });

  it('a loan that needs interest relief: the extension is capped at 24 months, then relief by 10 % steps', () => {
    const offer = sizePlan(loan(10_000, 0.24, 10), 0.5, PLAN);
    // The least relief (in tenths of the APR) with which 375 a month clears 10 000 within 10 + 24 months.
    let tenths = 0;
    while (tenths <= 5 && monthsToClear(10_000, 0.24 * (1 - tenths / 10), 375) > 34) tenths++;
    expect(tenths).toBe(3);
    expect(offer.interest_relief).toBeCloseTo(0.3, 9);
    expect(offer.apr).toBeCloseTo(0.168, 9);
    expect(offer.term_months).toBe(34);
    expect(offer.term_extension_months).toBe(24);
    expect(offer.affordable).toBe(true);
    expect(offer.monthly_payment).toBeLessThanOrEqual(375);
    expect(Math.abs(balanceAfter(10_000, 0.168, offer.monthly_payment, 34))).toBeLessThan(0.5);
  });

  it('a loan that cannot be afforded even at the most generous terms', () => {
    // Half the APR waived (12 %), 34 months: 120 / (1 − 1.01^−34) = 418.08 > 375.
    expect(monthsToClear(12_000, 0.12, 375)).toBeGreaterThan(34);
    const offer = sizePlan(loan(12_000, 0.24, 10), 0.5, PLAN);
    expect(offer).toEqual({
      monthly_payment: 418.08,
      term_months: 34,
      term_extension_months: 24,
      interest_relief: 0.5,
      apr: 0.12,
      amount: 12_000,
      capacity: 375,
      capacity_basis: 'declared_income',
      affordable: false,
      forbearance: null,
      debt_advice_referral: false,
    });
    expect(Math.abs(balanceAfter(12_000, 0.12, offer.monthly_payment, 34))).toBeLessThan(0.5);
  });

  it('a card is planned over 12 months; without income the capacity is a share of the instalment', () => {
    // capacity 150 × (0.5 + 0.5 × 0.4) = 105; 1000 at 2 % a month over 12 months = 20 / (1 − 1.02^−12) = 94.56.
    const offer = sizePlan(
      makeAccount({ monthly_income: null, balance: 1000, amount_overdue: 300 }),
      0.4,
      PLAN,
    );
    expect(offer).toEqual({
      monthly_payment: 94.56,
      term_months: 12,
      term_extension_months: 0,
      interest_relief: 0,
      apr: 0.24,
      amount: 1000,
      capacity: 105,
      capacity_basis: 'contractual_instalment',
      affordable: true,
      forbearance: null,
      debt_advice_referral: false,
    });
  });

  it('plans at least the overdue amount when it exceeds the balance', () => {
    expect(sizePlan(makeAccount({ balance: 100, amount_overdue: 400 }), 0.5, PLAN).amount).toBe(400);
  });

  it('a small balance is not spread so thin that the payment drops below the minimum payment (20)', () => {
    // 100 over the 10 months left would be 10.56 a month: shorten the plan, but never below 20 a month.
    // The longest term whose level payment is still ≥ 20: 5 months (20.60; 6 months would be 17.25).
    let longest = 1;
    while (balanceAfter(100, 0.12, 20, longest + 1) >= 0) longest++;
    expect(longest).toBe(5);
    const offer = sizePlan(loan(100, 0.12, 10, { amount_overdue: 50 }), 0.5, PLAN);
    expect(offer.monthly_payment).toBeGreaterThanOrEqual(20);
    expect(offer.term_months).toBe(longest);
  });

  it('through decide: a plan that fits is sized and explained (PLAN_SIZED)', () => {
    // High willingness, ability 0.2: capacity 3000 × (0.05 + 0.15 × 0.2) = 240.
    const d = decide(loan(2000, 0.12, 10), HL, { now: NOW, contacts: [] }, DEFAULT);
    expect(d.treatment).toBe('plan_offer');
    expect(d.offer).toEqual({
      monthly_payment: 211.16,
      term_months: 10,
      term_extension_months: 0,
      interest_relief: 0,
      apr: 0.12,
      amount: 2000,
      capacity: 240,
      capacity_basis: 'declared_income',
      affordable: true,
      forbearance: null,
      debt_advice_referral: false,
    });
    expect(d.reason_codes).toContain('PLAN_SIZED');
    expect(d.reason_codes).not.toContain('PLAN_ABOVE_CAPACITY');
  });

  it('through decide: an unaffordable plan offers the most generous terms and says so', () => {
    const d = decide(loan(12_000, 0.24, 10), HL, { now: NOW, contacts: [] }, DEFAULT);
    expect(d.treatment).toBe('plan_offer');
    expect(d.offer?.affordable).toBe(false);
    expect(d.offer?.interest_relief).toBe(0.5);
    expect(d.offer?.term_extension_months).toBe(24);
    expect(d.offer?.monthly_payment).toBe(418.08);
    expect(d.offer?.capacity).toBe(240);
    expect(d.reason_codes).toContain('PLAN_ABOVE_CAPACITY');
    expect(d.reason_codes).not.toContain('PLAN_SIZED');
  });

  it('no offer on any other treatment', () => {
    for (const s of [HH, LH, LL]) expect(run({}, s).offer).toBeNull();
  });
});

describe('champion / challenger', () => {
  const SHARE = 0.2;
  const experiment = parsePolicy(
    {
      version: 'exp-1',
      experiment: {
        name: 'plan-first',
        challenger_share: SHARE,
        challenger: { matrix: { low_willingness_high_ability: ['plan_offer', 'human_call'] } },
      },
    },
    'test',
  );
  const ids = Array.from({ length: 10_000 }, (_, i) => `ACC-${String(i).padStart(6, '0')}`);
  const decisions = ids.map((id) => run({ account_id: id }, LH, experiment));

  it('sends about challenger_share of 10 000 accounts to the challenger (within 4 standard errors)', () => {
    const n = decisions.filter((d) => d.experiment_arm === 'challenger').length;
    const se = Math.sqrt(ids.length * SHARE * (1 - SHARE)); // 40
    expect(Math.abs(n - ids.length * SHARE)).toBeLessThan(4 * se);
    expect(decisions.every((d) => d.experiment_arm === 'challenger' || d.experiment_arm === 'champion')).toBe(
      true,
    );
  });

  it('changes the decision for challenger accounts only', () => {
    for (const d of decisions) {
      expect(d.treatment).toBe(d.experiment_arm === 'challenger' ? 'plan_offer' : 'human_call');
      expect(d.policy_version).toBe('exp-1');
    }
    // Cells the challenger does not change decide alike in both arms.
    for (const id of ids.slice(0, 200))
      expect(run({ account_id: id }, LL, experiment).treatment).toBe('legal');
  });

  it('the same id always lands in the same arm', () => {
    for (const [i, id] of ids.slice(0, 500).entries()) {
      expect(run({ account_id: id }, HH, experiment).experiment_arm).toBe(decisions[i]!.experiment_arm);
      expect(armOf(id, 'plan-first', SHARE)).toBe(decisions[i]!.experiment_arm);
    }
  });

  it('the hash spreads sequential account ids evenly (chi-square over 10 bins, p = 0.001)', () => {
    const bins = new Array<number>(10).fill(0);
    for (const id of ids) bins[Math.floor(stableFraction(`plan-first:${id}`) * 10)]!++;
    const chi2 = bins.reduce((s, o) => s + (o - 1000) ** 2 / 1000, 0);
    expect(chi2).toBeLessThan(27.88); // the 0.999 quantile of chi-square with 9 degrees of freedom
  });

  it('the arm depends only on salt and id: a policy parsed again assigns the same arms', () => {
    const again = parsePolicy(
      { version: 'exp-1-again', experiment: { name: 'plan-first', challenger_share: SHARE, challenger: {} } },
      'test',
    );
    for (const [i, id] of ids.slice(0, 500).entries())
      expect(run({ account_id: id }, HH, again).experiment_arm).toBe(decisions[i]!.experiment_arm);
  });

  it('a different salt reshuffles the arms', () => {
    const moved = ids.filter(
      (id) => armOf(id, 'plan-first', SHARE) !== armOf(id, 'other-salt', SHARE),
    ).length;
    // Independent assignments disagree for 2 × 0.2 × 0.8 = 32 % of accounts.
    expect(moved).toBeGreaterThan(2500);
  });

  it('records no arm without an experiment', () => {
    expect(run({}, LH).experiment_arm).toBeNull();
  });
});

describe('determinism and provenance', () => {
  const cases: [string, Partial<AccountRow>, Scores, Policy][] = [
    ['nudge', {}, HH, DEFAULT],
    ['plan', {}, HL, DEFAULT],
    ['call', {}, LH, DEFAULT],
    ['legal', {}, LL, DEFAULT],
    ['fallback', { days_past_due: 89, do_not_call: true }, LL, DEFAULT],
    ['suppressed', { deceased_flag: true }, LH, DEFAULT],
    ['not delinquent', { days_past_due: 0 }, LH, DEFAULT],
    ['expected value', {}, LH, EV],
  ];
  it.each(cases)(
    '%s: the same inputs twice give deep-equal decisions carrying the policy version',
    (_n, o, s, p) => {
      const a = run(o, s, p);
      const b = run(o, s, p);
      expect(b).toEqual(a);
      expect(a.policy_version).toBe(p.version);
      expect(a.decided_at).toBe('2026-11-25T18:00:00.000Z');
      expect(a.account_id).toBe('A0001');
      expect(a.reasons).toHaveLength(a.reason_codes.length);
    },
  );
});

describe('bad inputs are refused with the field named', () => {
  const rows: [string, Scores, Partial<AccountRow>, number, RegExp][] = [
    ['willingness 1.2', { willingness: 1.2, ability: 0.5 }, {}, NOW, /^scores\.willingness: .*1\.2/],
    ['willingness NaN', { willingness: Number.NaN, ability: 0.5 }, {}, NOW, /^scores\.willingness: .*NaN/],
    ['willingness −0.1', { willingness: -0.1, ability: 0.5 }, {}, NOW, /^scores\.willingness/],
    ['ability 1.2', { willingness: 0.5, ability: 1.2 }, {}, NOW, /^scores\.ability: .*1\.2/],
    ['ability NaN', { willingness: 0.5, ability: Number.NaN }, {}, NOW, /^scores\.ability/],
    [
      'unknown time zone',
      HH,
      { timezone: 'Mars/Olympus_Mons' },
      NOW,
      /^account\.timezone: .*Mars\/Olympus_Mons/,
    ],
    ['a UTC offset is not a zone name', HH, { timezone: 'UTC-6' }, NOW, /^account\.timezone/],
    ['now is NaN', HH, {}, Number.NaN, /^context\.now/],
  ];
  it.each(rows)('%s', (_name, scores, overrides, now, message) => {
    let err: unknown;
    try {
      run(overrides, scores, DEFAULT, now);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RepayriskError);
    expect((err as RepayriskError).code).toBe('invalid_argument');
    expect((err as RepayriskError).message).toMatch(message);
  });
});

describe('reason texts compare scores truthfully', () => {
  it('prints as many decimals as it takes for the printed score to sit on the stated side', () => {
    for (const [score, threshold] of [
      [0.5998, 0.6],
      [0.59999, 0.6],
      [0.6, 0.6],
      [0.6004, 0.6],
      [0.3, 0.45],
      [0.4499999, 0.45],
    ] as const) {
      const text = scoreVersus(score, threshold);
      const [printed, sign] = text.split(' ');
      expect(sign).toBe(score >= threshold ? '≥' : '<');
      expect(Number(printed) >= threshold).toBe(score >= threshold);
      expect(printed!.split('.')[1]!.length).toBeGreaterThanOrEqual(3);
    }
  });
});
