// The plain-language explanation of a recorded decision (src/core/policy/explain.ts) and the review-state rule
// (src/core/policy/human-review.ts): pure, table-driven, no service.
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_FEATURES } from '../src/core/features/schema.ts';
import {
  type ExplainableDecision,
  explainDecision,
  FEATURE_PHRASES,
  GUARDRAIL_WORDS,
  REASON_WORDS,
} from '../src/core/policy/explain.ts';
import { GUARDRAILS } from '../src/core/policy/guardrails.ts';
import { type ReviewEventLike, reviewStateAt } from '../src/core/policy/human-review.ts';
import { builtinPacks } from '../src/core/policy/packs/catalog.ts';
import { REASON_CODES } from '../src/core/policy/reasons.ts';

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('explanation vocabulary', () => {
  // A code, guardrail or feature added without words would reach a customer as a bare name.
  it('has words for every reason code, every guardrail and every model feature, and none for what is gone', () => {
    expect(sorted(Object.keys(REASON_WORDS))).toEqual(sorted(Object.keys(REASON_CODES)));
    expect(sorted(Object.keys(GUARDRAIL_WORDS))).toEqual(sorted(GUARDRAILS));
    expect(sorted(Object.keys(FEATURE_PHRASES))).toEqual(sorted(SNAPSHOT_FEATURES.map((f) => f.name)));
  });

  it('words contain no code or feature name', () => {
    const names = [...Object.keys(REASON_CODES), ...GUARDRAILS, ...SNAPSHOT_FEATURES.map((f) => f.name)];
    const words = [
      ...Object.values(REASON_WORDS).filter((w): w is string => w !== null),
      ...Object.values(GUARDRAIL_WORDS),
      ...Object.values(FEATURE_PHRASES),
    ];
    for (const w of words) for (const n of names.filter((x) => x.includes('_'))) expect(w).not.toContain(n);
  });
});

function decision(over: Partial<ExplainableDecision> = {}): ExplainableDecision {
  return {
    decision_id: 'd-1',
    decided_at: '2026-11-25T15:00:00.000Z',
    account_id: 'A1',
    model_version: 'v3d86fbcce3c3',
    policy_version: 'default@3',
    treatment: 'plan_offer',
    channel: 'sms',
    earliest_contact_at: '2026-11-25T09:00:00-06:00',
    offer: { monthly_payment: 87.5, term_months: 6 },
    reason_codes: ['WILLINGNESS_HIGH', 'ABILITY_LOW', 'WILLINGNESS_DRIVER', 'MATRIX_CELL', 'PLAN_SIZED'],
    reasons: ['willingness 0.700 ≥ 0.6', 'ability 0.300 < 0.5', 'x', 'segment …', 'terms'],
    guardrails: [],
    drivers: {
      willingness: ['paid_ratio_3m (+0.61)', 'product=card (-0.20)'],
      ability: ['log_income (0.00)'],
    },
    rule_pack: 'uk-conc',
    rule_pack_version: builtinPacks().get('uk-conc')!.version,
    ...over,
  };
}

describe('explainDecision', () => {
  it('says the plan in figures and words, the reasons that mean something to the customer, and the drivers', () => {
    const e = explainDecision(decision(), builtinPacks().get('uk-conc')!);
    expect(e.decision).toEqual({
      treatment: 'plan_offer',
      automated: true,
      summary:
        'We will offer you a repayment plan of 87.50 a month for 6 months, by text message, not before 2026-11-25 09:00 (your local time, UTC-06:00).',
    });
    // Working details (the matrix cell, the driver lines) are left out; the rest in order.
    expect(e.reasons.map((r) => r.code)).toEqual(['WILLINGNESS_HIGH', 'ABILITY_LOW', 'PLAN_SIZED']);
    // A one-hot column speaks as its feature; a driver that moved nothing is not a driver.
    expect(e.drivers).toEqual([
      {
        score: 'willingness',
        feature: 'paid_ratio_3m',
        phrase: FEATURE_PHRASES.paid_ratio_3m,
        effect: 'raised',
        contribution: 0.61,
      },
      {
        score: 'willingness',
        feature: 'product=card',
        phrase: FEATURE_PHRASES.product,
        effect: 'lowered',
        contribution: -0.2,
      },
    ]);
    expect(e.rights.basis).toBe('UK GDPR art. 22');
    expect(e.rules.pack?.clauses.map((c) => c.source)).toContain('CONC 7.3.4R');
    expect(e.text[0]).toBe(
      'On 2026-11-25 15:00 UTC we decided what to do next about the overdue payments on account A1. ' +
        e.decision.summary,
    );
    expect(e.text.at(-1)).toBe(
      'This decision was made under policy default@3 with model v3d86fbcce3c3; its reference is d-1.',
    );
  });

  it('cites the clause behind a fired guardrail when the pack has the rule, and none when it does not', () => {
    const e = explainDecision(
      decision({
        treatment: 'hold',
        channel: null,
        offer: null,
        guardrails: ['cap_connected_calls', 'deceased'],
      }),
      builtinPacks().get('cn-2025')!,
    );
    expect(e.rules.applied).toEqual([
      {
        guardrail: 'cap_connected_calls',
        text: GUARDRAIL_WORDS.cap_connected_calls,
        source: builtinPacks().get('cn-2025')!.rules.connected_calls_per_day!.source,
      },
      { guardrail: 'deceased', text: GUARDRAIL_WORDS.deceased, source: null },
    ]);
  });

  it('says when the pack changed since the decision, and copes with a decision that recorded no drivers or pack', () => {
    const changed = explainDecision(
      decision({ rule_pack_version: '2020.1' }),
      builtinPacks().get('uk-conc')!,
    );
    expect(changed.rules.pack).toMatchObject({
      version: '2020.1',
      current_version: builtinPacks().get('uk-conc')!.version,
    });
    const old = explainDecision(decision({ drivers: null, rule_pack: null, rule_pack_version: null }), null);
    expect(old.drivers).toEqual([]);
    expect(old.rules.pack).toBeNull();
    expect(old.rights.basis).toBeNull();
    expect(old.text.some((p) => p.includes('weighed most'))).toBe(false);
  });

  it('explains a human_review as a person deciding, from the time the customer asked', () => {
    const e = explainDecision(
      decision({
        treatment: 'human_review',
        channel: null,
        earliest_contact_at: null,
        offer: null,
        reason_codes: ['WILLINGNESS_LOW', 'HUMAN_REVIEW_REQUESTED'],
        reasons: [
          'willingness 0.373 < 0.6',
          'human decision requested at 2026-11-25T14:00:00.000Z: no automated treatment (the strategy would try legal)',
        ],
      }),
      null,
    );
    expect(e.decision.automated).toBe(false);
    expect(e.decision.summary).toBe(
      'As you asked on 2026-11-25 14:00 UTC, a member of our staff, not an automated system, will decide what happens next; until then we take no automated collection step.',
    );
    expect(e.text.join(' ')).not.toContain('legal');
  });

  it('names an unknown treatment and reason plainly instead of failing (a decision recorded by a later build)', () => {
    const e = explainDecision(
      decision({ treatment: 'mediation', reason_codes: ['NEW_RULE'], reasons: ['…'] }),
      null,
    );
    expect(e.decision.summary).toBe('The step decided was "mediation".');
    expect(e.reasons).toEqual([{ code: 'NEW_RULE', text: 'A further rule of our policy applied.' }]);
  });
});

describe('reviewStateAt', () => {
  const at = (s: string) => Date.parse(`2026-11-25T${s}:00.000Z`);
  const ev = (id: string, kind: 'requested' | 'resolved', time: string): ReviewEventLike => ({
    event_id: id,
    kind,
    ts: `2026-11-25T${time}:00.000Z`,
  });
  const cases: [string, ReviewEventLike[], string, string[]][] = [
    ['no events', [], '12:00', []],
    ['a request before now stands', [ev('a', 'requested', '10:00')], '12:00', ['a']],
    ['a request after now does not yet', [ev('a', 'requested', '13:00')], '12:00', []],
    ['a request stands from its own instant', [ev('a', 'requested', '12:00')], '12:00', ['a']],
    [
      'a resolution closes every request at or before it, the same instant included',
      [ev('a', 'requested', '10:00'), ev('b', 'requested', '11:00'), ev('z', 'resolved', '11:00')],
      '12:00',
      [],
    ],
    [
      'a request after a resolution stands again',
      [ev('a', 'requested', '09:00'), ev('r', 'resolved', '10:00'), ev('b', 'requested', '11:00')],
      '12:00',
      ['b'],
    ],
    [
      'a resolution after now has not happened yet',
      [ev('a', 'requested', '09:00'), ev('r', 'resolved', '12:30')],
      '12:00',
      ['a'],
    ],
    [
      'events in any order',
      [ev('b', 'requested', '11:00'), ev('r', 'resolved', '10:00'), ev('a', 'requested', '09:00')],
      '12:00',
      ['b'],
    ],
  ];
  it.each(cases)('%s', (_name, events, now, open) => {
    const s = reviewStateAt(events, at(now));
    expect(s.open_requests.map((e) => e.event_id)).toEqual(open);
    expect(s.open).toBe(open.length > 0);
    expect(s.open_since).toBe(open.length ? events.find((e) => e.event_id === open[0])!.ts : null);
  });
});
