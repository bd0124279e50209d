import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/core/policy/decide.ts';
import { type Policy, PolicyError, parsePolicy } from '../src/core/policy/load.ts';
import { builtinPacks } from '../src/core/policy/packs/catalog.ts';
import { offerFloorsOf } from '../src/core/policy/packs/floors.ts';
import { PackError, parsePackText } from '../src/core/policy/packs/schema.ts';
import { NO_OFFER_FLOORS, type PlanOffer, sizeOffer, sizePlan } from '../src/core/policy/plan-offer.ts';
import type { Decision, Scores } from '../src/core/policy/types.ts';
import type { AccountRow } from '../src/core/schema/tables.ts';
import { makeAccount } from './helpers/account.ts';
import { planOf, randomPlanCases } from './helpers/plan-cases.ts';

/**
 * Forbearance in plan offers (issue 16 item 5; docs/policy.md "Forbearance"): under uk-conc a plan above the
 * customer's capacity becomes a token or reduced payment with interest frozen, every offer refers to free debt
 * advice (CONC 7.3.5G) and none asks for the amount in one payment (CONC 7.3.10R); other packs are unchanged.
 * Expected figures are worked by hand from the rules in docs/policy.md.
 */

const PACKS = builtinPacks();
const UK = PACKS.get('uk-conc')!;
const US = PACKS.get('us-reg-f')!;
const CN = PACKS.get('cn-2025')!;
const DEFAULT_PLAN = planOf({});
/** 10:00 in London, 04:00 in Chicago, 18:00 in Shanghai: a contact may be scheduled (outside_contact_hours). */
const NOW = Date.parse('2026-11-25T10:00:00Z');
/** The guardrails that fired, but the contact-hours one no single instant can avoid in three time zones. */
const firedBut = (d: Decision) => d.guardrails.filter((g) => g !== 'outside_contact_hours');

/** Plans first in every cell, so the decision under test is a plan offer; London → uk-conc, Shanghai → cn-2025. */
function policyWith(raw: Record<string, unknown> = {}): Policy {
  return parsePolicy(
    {
      version: 'forbearance-test',
      matrix: Object.fromEntries(
        [
          'high_willingness_high_ability',
          'high_willingness_low_ability',
          'low_willingness_high_ability',
          'low_willingness_low_ability',
        ].map((s) => [s, 'plan_offer']),
      ),
      packs: { regions: { 'GB-LND': 'uk-conc', 'CN-31': 'cn-2025' } },
      ...raw,
    },
    'forbearance-test.yaml',
  );
}
const POLICY = policyWith();
const LONDON: Partial<AccountRow> = { region: 'GB-LND', timezone: 'Europe/London' };
const CHICAGO: Partial<AccountRow> = { region: 'IL', timezone: 'America/Chicago' };
const SHANGHAI: Partial<AccountRow> = { region: 'CN-31', timezone: 'Asia/Shanghai' };

function decideFor(account: Partial<AccountRow>, ability: number, policy: Policy = POLICY): Decision {
  const scores: Scores = { willingness: 0.8, ability };
  return decide(
    makeAccount({ preferred_channel: 'email', ...account }),
    scores,
    { now: NOW, contacts: [] },
    policy,
  );
}

function policyError(f: () => unknown): PolicyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return e as PolicyError;
  }
  throw new Error('expected a PolicyError, nothing was thrown');
}

const FORBEARANCE_CODES = [
  'FORBEARANCE_TOKEN_PAYMENT',
  'FORBEARANCE_INTEREST_FREEZE',
  'NO_LUMP_SUM',
  'DEBT_ADVICE_REFERRAL',
];

describe('accounts outside uk-conc get the plan offers they got before forbearance', () => {
  // Captured from the sizing before this change by scripts/capture-plan-golden.ts (SEED 20261204, 600 cases).
  const golden: Omit<PlanOffer, 'forbearance' | 'debt_advice_referral'>[] = JSON.parse(
    readFileSync('test/golden/plan-offers-us.json', 'utf8'),
  );
  const cases = randomPlanCases(20_261_204, 600);
  const priorOffer = (k: number): PlanOffer => ({
    ...golden[k]!,
    forbearance: null,
    debt_advice_referral: false,
  });

  it('the random cases cover plans that fit, extend, need relief, exceed the capacity and run one month', () => {
    expect(golden).toHaveLength(cases.length);
    expect(golden.filter((o) => !o.affordable).length).toBeGreaterThan(100);
    expect(golden.filter((o) => o.affordable && o.term_extension_months > 0).length).toBeGreaterThan(30);
    expect(golden.filter((o) => o.interest_relief > 0).length).toBeGreaterThan(100);
    expect(golden.filter((o) => o.term_months === 1).length).toBeGreaterThan(50);
  });

  it('sizePlan without offer rules, and with those of us-reg-f and cn-2025: every field as before', () => {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k]!;
      const plan = planOf(c.plan);
      expect(sizePlan(c.account, c.ability, plan), `case ${k}`).toStrictEqual(priorOffer(k));
      for (const pack of [US, CN]) {
        expect(offerFloorsOf(plan, pack)).toBe(NO_OFFER_FLOORS);
        expect(sizeOffer(c.account, c.ability, plan, offerFloorsOf(plan, pack))).toStrictEqual({
          offer: priorOffer(k),
          minTermRaised: false,
        });
      }
    }
  });

  it('decide: a Chicago or Shanghai account’s offer is as before, with no forbearance reason or guardrail', () => {
    for (let k = 0; k < 150; k++) {
      const c = cases[k]!;
      const policy = policyWith({ plan: c.plan });
      for (const where of [CHICAGO, SHANGHAI]) {
        const d = decide(
          { ...c.account, ...where },
          { willingness: 0.8, ability: c.ability },
          { now: NOW, contacts: [] },
          policy,
        );
        expect(d.treatment, `case ${k}`).toBe('plan_offer');
        expect(d.offer, `case ${k}`).toStrictEqual(priorOffer(k));
        expect(d.reason_codes.filter((r) => FORBEARANCE_CODES.includes(r))).toEqual([]);
        expect(d.reason_codes).toContain(golden[k]!.affordable ? 'PLAN_SIZED' : 'PLAN_ABOVE_CAPACITY');
        expect(firedBut(d)).toEqual([]);
      }
    }
  });
});

describe('uk-conc plan offers on the same random accounts', () => {
  const cases = randomPlanCases(20_261_204, 600);
  const uk = (k: number) => {
    const c = cases[k]!;
    const plan = planOf(c.plan);
    return {
      c,
      plan,
      ordinary: sizePlan(c.account, c.ability, plan),
      ...sizeOffer(c.account, c.ability, plan, offerFloorsOf(plan, UK)),
    };
  };

  it('every offer refers to free debt advice and asks for at least 2 payments', () => {
    for (let k = 0; k < cases.length; k++) {
      const { offer } = uk(k);
      expect(offer.debt_advice_referral, `case ${k}`).toBe(true);
      expect(offer.term_months, `case ${k}`).toBeGreaterThanOrEqual(2);
      // Never the whole amount at once (a cent is a cent: two payments of 0.005 round to 0.01 each).
      if (offer.amount > 0.02) expect(offer.monthly_payment, `case ${k}`).toBeLessThan(offer.amount);
    }
  });

  it('never an unaffordable plan: an offer either fits the capacity or is forbearance', () => {
    for (let k = 0; k < cases.length; k++) {
      const { offer } = uk(k);
      if (offer.forbearance === null) expect(offer.affordable, `case ${k}`).toBe(true);
    }
  });

  it('decide: a London account gets that offer, its reasons and guardrails, never PLAN_ABOVE_CAPACITY', () => {
    for (let k = 0; k < 150; k++) {
      const { c, offer, minTermRaised } = uk(k);
      const d = decide(
        { ...c.account, ...LONDON },
        { willingness: 0.8, ability: c.ability },
        { now: NOW, contacts: [] },
        policyWith({ plan: c.plan }),
      );
      expect(d.offer, `case ${k}`).toStrictEqual(offer);
      expect(d.reason_codes).toContain('DEBT_ADVICE_REFERRAL');
      expect(d.reason_codes).not.toContain('PLAN_ABOVE_CAPACITY');
      const fired = [
        ...(offer.forbearance ? ['forbearance'] : []),
        ...(minTermRaised ? ['no_lump_sum'] : []),
      ];
      expect(firedBut(d), `case ${k}`).toEqual(fired);
    }
  });

  it('a plan that fits is the ordinary plan, only spread to 2 payments where it was one', () => {
    let raised = 0;
    for (let k = 0; k < cases.length; k++) {
      const { ordinary, offer, minTermRaised } = uk(k);
      if (!ordinary.affordable) continue;
      expect(offer.forbearance, `case ${k}`).toBeNull();
      if (ordinary.term_months >= 2) {
        expect(offer, `case ${k}`).toStrictEqual({ ...ordinary, debt_advice_referral: true });
        expect(minTermRaised).toBe(false);
      } else {
        raised++;
        expect(minTermRaised).toBe(true);
        expect(offer.term_months).toBe(2);
        expect([offer.interest_relief, offer.apr, offer.amount]).toEqual([
          ordinary.interest_relief,
          ordinary.apr,
          ordinary.amount,
        ]);
        // Two level payments at the plan's monthly rate repay the amount (to the cent of rounding each).
        const i = offer.apr / 12;
        const left = (offer.amount * (1 + i) - offer.monthly_payment) * (1 + i) - offer.monthly_payment;
        expect(Math.abs(left)).toBeLessThanOrEqual(0.02);
      }
    }
    expect(raised).toBeGreaterThan(50);
  });

  it('a plan above the capacity becomes forbearance: interest frozen, within the judged capacity, bounded', () => {
    let token = 0;
    let freeze = 0;
    for (let k = 0; k < cases.length; k++) {
      const { c, plan, ordinary, offer } = uk(k);
      if (ordinary.affordable) continue;
      const f = offer.forbearance!;
      expect(f, `case ${k}`).not.toBeNull();
      // The most generous plan it replaced is the one uk-conc allows: at least 2 payments.
      if (ordinary.term_months >= 2) expect(f.plan_payment).toBe(ordinary.monthly_payment);
      else expect(f.plan_payment).toBeLessThan(ordinary.monthly_payment);
      expect(f.source).toBe('uk-conc: CONC 7.3.5G');
      expect([offer.apr, offer.interest_relief, offer.term_extension_months]).toEqual([0, 1, 0]);
      // The judged capacity, before the plan's min_payment floor.
      const income = c.account.monthly_income;
      const byIncome = income !== null && income > 0;
      const share = byIncome ? plan.income_share : plan.instalment_share_without_income;
      const judged =
        (byIncome ? income : c.account.installment_amount) *
        (share.min + (share.max - share.min) * c.ability);
      expect(offer.capacity).toBeCloseTo(judged, 2);
      const fb = plan.forbearance;
      if (f.kind === 'token_payment') {
        token++;
        expect(judged).toBeLessThanOrEqual(fb.token_payment.max);
        expect(offer.monthly_payment).toBeGreaterThanOrEqual(fb.token_payment.min);
        expect(offer.monthly_payment).toBeLessThanOrEqual(fb.token_payment.max);
        expect(offer.term_months).toBeLessThanOrEqual(Math.max(fb.token_payment.months, 2));
      } else {
        freeze++;
        expect(judged).toBeGreaterThan(fb.token_payment.max);
        expect(offer.term_months).toBeLessThanOrEqual(Math.max(fb.interest_freeze.months, 2));
      }
      expect(offer.affordable).toBe(offer.monthly_payment <= offer.capacity);
      if (!offer.affordable) expect(offer.monthly_payment).toBe(fb.token_payment.min);
      // Frozen interest: the payments over the term clear the amount exactly when they say so, else fall short.
      const paid = offer.monthly_payment * offer.term_months;
      if (f.clears_balance)
        expect(Math.abs(paid - offer.amount)).toBeLessThanOrEqual(0.005 * offer.term_months);
      else expect(paid).toBeLessThan(offer.amount);
    }
    expect(token).toBeGreaterThan(20);
    expect(freeze).toBeGreaterThan(20);
  });
});

describe('uk-conc: forbearance, debt advice and no lump sum, through decide', () => {
  /** A 3000 card at 24 % (default plan): the most generous plan is 50 % relief over 12 + 24 months,
   * 3000 × 0.01 / (1 − 1.01^−36) = 99.64 a month. */
  const CARD: Partial<AccountRow> = { ...LONDON, balance: 3000, amount_overdue: 600, apr: 0.24 };

  interface Row {
    name: string;
    account: Partial<AccountRow>;
    ability: number;
    policy?: Policy;
    offer: Partial<PlanOffer>;
    kind: 'token_payment' | 'interest_freeze' | null;
    codes: string[];
    fired: string[];
    text?: string;
  }
  const rows: Row[] = [
    {
      name: 'low ability, income 100: judged 100 × (0.05 + 0.15 × 0.1) = 6.50 ≤ 10, a token payment for 3 months',
      account: { ...CARD, monthly_income: 100 },
      ability: 0.1,
      offer: {
        monthly_payment: 6.5,
        term_months: 3,
        apr: 0,
        interest_relief: 1,
        capacity: 6.5,
        affordable: true,
        debt_advice_referral: true,
      },
      kind: 'token_payment',
      codes: ['FORBEARANCE_TOKEN_PAYMENT', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
      text: "a token payment of 6.50 a month for 3 months with interest and charges frozen, then a review: the policy's most generous plan asks 99.64 a month, above the capacity of 6.50 from declared income (uk-conc: CONC 7.3.5G)",
    },
    {
      name: 'capacity exactly the token maximum (200 × 0.05 = 10.00): still a token payment',
      account: { ...CARD, monthly_income: 200 },
      ability: 0,
      offer: { monthly_payment: 10, term_months: 3, capacity: 10, affordable: true },
      kind: 'token_payment',
      codes: ['FORBEARANCE_TOKEN_PAYMENT', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
    },
    {
      name: 'capacity just above it (200 × 0.0515 = 10.30): a reduced payment, interest frozen for 12 months',
      account: { ...CARD, monthly_income: 200 },
      ability: 0.01,
      offer: { monthly_payment: 10.3, term_months: 12, apr: 0, capacity: 10.3, affordable: true },
      kind: 'interest_freeze',
      codes: ['FORBEARANCE_INTEREST_FREEZE', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
      text: 'a reduced payment of 10.30 a month for 12 months with interest and charges frozen, then a review',
    },
    {
      name: 'capacity below the least token (10 × 0.05 = 0.50): the least token, 1.00, said to exceed it',
      account: { ...CARD, monthly_income: 10 },
      ability: 0,
      offer: { monthly_payment: 1, term_months: 3, capacity: 0.5, affordable: false },
      kind: 'token_payment',
      codes: ['FORBEARANCE_TOKEN_PAYMENT', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
      text: "and the policy's least token payment is above it",
    },
    {
      name: 'a 300 % APR no relief can fit, but frozen interest clears 1000 at 100 a month in 10 months',
      // 2000 × 0.05 = 100 a month; at half the APR, 12.5 % a month, the interest alone is 125.
      account: { ...LONDON, balance: 1000, amount_overdue: 300, apr: 3, monthly_income: 2000 },
      ability: 0,
      offer: { monthly_payment: 100, term_months: 10, apr: 0, amount: 1000, affordable: true },
      kind: 'interest_freeze',
      codes: ['FORBEARANCE_INTEREST_FREEZE', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
      text: 'clearing the balance',
    },
    {
      name: 'a plan that fits (income 3000, ability 0.5: 375 ≥ 3000 over 12 months at 2 %, 283.68): the plan, with the referral',
      account: { ...CARD, monthly_income: 3000 },
      ability: 0.5,
      offer: {
        monthly_payment: 283.68,
        term_months: 12,
        apr: 0.24,
        affordable: true,
        forbearance: null,
        debt_advice_referral: true,
      },
      kind: null,
      codes: ['PLAN_SIZED', 'DEBT_ADVICE_REFERRAL'],
      fired: [],
      text: 'the customer is referred to free debt advice (uk-conc: CONC 7.3.5G)',
    },
    {
      name: 'a loan in its last month, 300 at 24 %: two payments of 6 / (1 − 1.02^−2) = 154.51, not 306 at once',
      account: {
        ...LONDON,
        product: 'personal_loan',
        term_months: 36,
        months_on_book: 35,
        balance: 300,
        amount_overdue: 150,
      },
      ability: 0.8,
      offer: {
        monthly_payment: 154.51,
        term_months: 2,
        term_extension_months: 1,
        apr: 0.24,
        forbearance: null,
      },
      kind: null,
      codes: ['PLAN_SIZED', 'NO_LUMP_SUM', 'DEBT_ADVICE_REFERRAL'],
      fired: ['no_lump_sum'],
      text: 'spread over 2 payments: never the whole 300.00 in fewer than 2 payments (uk-conc: CONC 7.3.10R)',
    },
    {
      name: 'a policy with wider token bounds (max 50 for 6 months): income 300 judges 19.50, a token of 19.50',
      account: { ...CARD, monthly_income: 300 },
      ability: 0.1,
      policy: policyWith({ plan: { forbearance: { token_payment: { max: 50, months: 6 } } } }),
      offer: { monthly_payment: 19.5, term_months: 6, capacity: 19.5 },
      kind: 'token_payment',
      codes: ['FORBEARANCE_TOKEN_PAYMENT', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
    },
    {
      name: 'us-reg-f with accounts: all: a Chicago account gets the token too, with no lump-sum floor',
      account: { ...CARD, ...CHICAGO, monthly_income: 100 },
      ability: 0.1,
      policy: policyWith({ plan: { forbearance: { accounts: 'all' } } }),
      offer: { monthly_payment: 6.5, term_months: 3, debt_advice_referral: true },
      kind: 'token_payment',
      codes: ['FORBEARANCE_TOKEN_PAYMENT', 'DEBT_ADVICE_REFERRAL'],
      fired: ['forbearance'],
      text: '(policy: plan.forbearance.accounts all)',
    },
    {
      name: 'us-reg-f: the same low-ability account as the first row keeps the plan above its capacity',
      account: { ...CARD, ...CHICAGO, monthly_income: 100 },
      ability: 0.1,
      offer: {
        monthly_payment: 99.64,
        term_months: 36,
        interest_relief: 0.5,
        capacity: 20,
        affordable: false,
        forbearance: null,
        debt_advice_referral: false,
      },
      kind: null,
      codes: ['PLAN_ABOVE_CAPACITY'],
      fired: [],
    },
  ];

  it.each(rows.map((r) => [r.name, r] as const))('%s', (_n, r) => {
    const d = decideFor(r.account, r.ability, r.policy);
    const seen = JSON.stringify(d);
    expect(d.treatment, seen).toBe('plan_offer');
    expect(d.offer, seen).toMatchObject(r.offer);
    expect(d.offer!.forbearance?.kind ?? null, seen).toBe(r.kind);
    const offerCodes = d.reason_codes.filter((c) =>
      [...FORBEARANCE_CODES, 'PLAN_SIZED', 'PLAN_ABOVE_CAPACITY'].includes(c),
    );
    expect(offerCodes, seen).toEqual(r.codes);
    expect(firedBut(d), seen).toEqual(r.fired);
    if (r.text) expect(d.reasons.join('\n'), seen).toContain(r.text);
  });

  it('a forbearance offer names the unaffordable plan it replaced, never as the terms asked', () => {
    const d = decideFor({ ...CARD, monthly_income: 100 }, 0.1);
    expect(d.offer!.forbearance).toEqual({
      kind: 'token_payment',
      clears_balance: false,
      plan_payment: 99.64,
      source: 'uk-conc: CONC 7.3.5G',
    });
    expect(d.reason_codes).not.toContain('PLAN_ABOVE_CAPACITY');
  });
});

describe('a policy cannot switch off what uk-conc requires, and its bounds are checked', () => {
  const rows: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'accounts: none while uk-conc is selected',
      { plan: { forbearance: { accounts: 'none' } } },
      'plan.forbearance.accounts',
      /^expected "required" or "all": forbearance in plan offers cannot be switched off \(the floor of rule pack uk-conc, CONC 7\.3\.5G\) \(got "none"\)$/,
    ],
    [
      'a challenger arm with accounts: none',
      {
        experiment: {
          name: 'x',
          challenger_share: 0.5,
          challenger: { plan: { forbearance: { accounts: 'none' } } },
        },
      },
      'experiment.challenger.plan.forbearance.accounts',
      /CONC 7\.3\.5G\) \(got "none"\)$/,
    ],
    [
      'a token maximum below its minimum',
      { plan: { forbearance: { token_payment: { min: 5, max: 2 } } } },
      'plan.forbearance.token_payment.max',
      /^expected at least token_payment\.min \(5\) \(got 2\)$/,
    ],
    [
      'a token period over 12 months',
      { plan: { forbearance: { token_payment: { months: 13 } } } },
      'plan.forbearance.token_payment.months',
      /<=12.*\(got 13\)/,
    ],
    [
      'a token of nothing',
      { plan: { forbearance: { token_payment: { min: 0 } } } },
      'plan.forbearance.token_payment.min',
      />0.*\(got 0\)/,
    ],
    [
      'an interest freeze of 0 months',
      { plan: { forbearance: { interest_freeze: { months: 0 } } } },
      'plan.forbearance.interest_freeze.months',
      />=1.*\(got 0\)/,
    ],
    [
      'an unknown accounts value',
      { plan: { forbearance: { accounts: 'some' } } },
      'plan.forbearance.accounts',
      /"required"\|"all"\|"none".*\(got "some"\)/,
    ],
    [
      'an unknown forbearance field',
      { plan: { forbearance: { payment_holiday: { months: 2 } } } },
      'plan.forbearance.payment_holiday',
      /unknown field/,
    ],
  ];
  it.each(rows)('%s: refused, naming %s', (_n, raw, path, message) => {
    const e = policyError(() => policyWith(raw));
    const issue = e.issues.find((i) => i.path === path);
    expect(issue, e.message).toBeDefined();
    expect(`${issue!.message}${issue!.got === undefined ? '' : ` (got ${issue!.got})`}`).toMatch(message);
  });

  it('accounts: none is accepted where no selected pack requires forbearance, and changes nothing there', () => {
    const none = parsePolicy({ version: 'v', plan: { forbearance: { accounts: 'none' } } }, 'v.yaml');
    const account = { ...CHICAGO, balance: 3000, monthly_income: 100 };
    const d = decide(
      makeAccount(account),
      { willingness: 0.8, ability: 0.1 },
      { now: NOW, contacts: [] },
      none,
    );
    expect(d.offer).toStrictEqual(sizePlan(makeAccount(account), 0.1, DEFAULT_PLAN));
  });

  it('accounts: required and all are accepted beside uk-conc', () => {
    expect(() => policyWith({ plan: { forbearance: { accounts: 'required' } } })).not.toThrow();
    expect(() => policyWith({ plan: { forbearance: { accounts: 'all' } } })).not.toThrow();
  });

  it('the pack file refuses a lump-sum floor of one payment (that is a lump sum)', () => {
    const text = readFileSync('policies/packs/uk-conc.yaml', 'utf8').replace(
      'min_months: 2',
      'min_months: 1',
    );
    expect(() => parsePackText(text, 'policies/packs/uk-conc.yaml')).toThrow(PackError);
    expect(() => parsePackText(text, 'policies/packs/uk-conc.yaml')).toThrow(
      /rules\.no_lump_sum\.min_months: .*\(got 1\)/,
    );
  });
});
