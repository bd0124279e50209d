import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/core/policy/decide.ts';
import { explainDecision } from '../src/core/policy/explain.ts';
import { constraintsFor, GUARDRAILS } from '../src/core/policy/guardrails.ts';
import { type Policy, parsePolicy } from '../src/core/policy/load.ts';
import { builtinPacks } from '../src/core/policy/packs/catalog.ts';
import { RULE_GUARDRAIL, RULE_KINDS, type RuleKind } from '../src/core/policy/packs/schema.ts';
import { floorsOf } from '../src/core/policy/packs/select.ts';
import type { Decision, Scores } from '../src/core/policy/types.ts';
import type { AccountRow, ContactRow } from '../src/core/schema/tables.ts';
import { makeAccount, makeContact } from './helpers/account.ts';

/**
 * One table per kind of pack rule, with its edges, through `decide` (what a collector sees). Expected values
 * follow from the rules (docs/policy.md, policies/packs/*.yaml) by hand. Accounts: a Chicago card account
 * (region IL → us-reg-f), one in Shanghai (CN-31 → cn-2025) and one in London (GB-LND → uk-conc); all 95 days
 * past due with every legal prerequisite met, valid phone and email.
 */

const POLICY = parsePolicy(
  {
    version: 'packs-test',
    packs: {
      regions: { 'CN-31': 'cn-2025', 'GB-LND': 'uk-conc' },
      // The cn-2025 floors themselves: its hours, no cooldown (the pack has none; 3 connected calls a day instead).
      guardrails: {
        'cn-2025': { contact_hours: { start: '08:00', end: '22:00' }, conversation_cooldown_days: 0 },
      },
    },
  },
  'packs-test.yaml',
);
/** Stated nothing for cn-2025: the policy-wide 08:00–21:00 and 7-day cooldown, tighter than the pack. */
const PLAIN = parsePolicy({ version: 'plain', packs: { regions: { 'CN-31': 'cn-2025' } } }, 'plain.yaml');
/** Tightens cn-2025's connected calls to 2 a day. */
const TWO = parsePolicy(
  {
    version: 'two',
    packs: {
      regions: { 'CN-31': 'cn-2025' },
      guardrails: { 'cn-2025': { conversation_cooldown_days: 0, connected_calls_per_day: 2 } },
    },
  },
  'two.yaml',
);

type PackName = 'us-reg-f' | 'cn-2025' | 'uk-conc';
const ACCOUNT: Record<PackName, Partial<AccountRow>> = {
  'us-reg-f': { region: 'IL', timezone: 'America/Chicago' },
  'cn-2025': { region: 'CN-31', timezone: 'Asia/Shanghai' },
  'uk-conc': { region: 'GB-LND', timezone: 'Europe/London' },
};

const HH: Scores = { willingness: 0.8, ability: 0.8 }; // gentle_nudge (sms, email, app)
const LH: Scores = { willingness: 0.3, ability: 0.8 }; // human_call
const LL: Scores = { willingness: 0.3, ability: 0.2 }; // legal, then human_call
const HL: Scores = { willingness: 0.8, ability: 0.1 }; // plan_offer
/** 3000 on a card at 24 %: the most generous default plan asks 99.64 a month; an income of 100 judges 6.50. */
const SQUEEZED: Partial<AccountRow> = { monthly_income: 100 };
/** A loan in its last month whose balance the capacity (510) covers at once: one payment of 306. */
const LAST_MONTH: Partial<AccountRow> = {
  product: 'personal_loan',
  term_months: 36,
  months_on_book: 35,
  balance: 300,
  amount_overdue: 150,
};

/** Wednesday 2026-11-25 10:00 in Shanghai (+08:00). */
const CN_NOW = '2026-11-25T10:00:00+08:00';
/** Wednesday 2026-11-25 10:01 in Chicago (−06:00). */
const US_NOW = '2026-11-25T10:01:00-06:00';

const connected = (ts: string, agent: string): ContactRow =>
  makeContact({ ts, channel: 'call', outcome: 'right_party', agent_id: agent });

interface Case {
  name: string;
  pack: PackName;
  now: string;
  scores: Scores;
  account?: Partial<AccountRow>;
  contacts?: ContactRow[];
  policy?: Policy;
  /** The customer's standing request for a human decision, ISO 8601. */
  humanReview?: string;
  expect: {
    treatment?: Decision['treatment'];
    channel?: Decision['channel'];
    /** The channel is not this one. */
    notChannel?: Decision['channel'];
    earliest?: string;
    /** Guardrails that must fire; with `exactly`, the whole list. */
    fired?: string[];
    exactly?: boolean;
    notFired?: string[];
  };
}

const CASES: Record<RuleKind, Case[]> = {
  automated_decision_rights: [
    {
      name: 'cn-2025: a standing request turns the legal step the strategy wants into human_review, citing PIPL art. 24',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: { willingness: 0.1, ability: 0.1 },
      humanReview: '2026-11-24T10:00:00+08:00',
      expect: { treatment: 'human_review', fired: ['human_review'], exactly: true },
    },
    {
      name: 'cn-2025: no request, the same account is decided automatically',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: { willingness: 0.1, ability: 0.1 },
      expect: { notFired: ['human_review'] },
    },
    {
      name: 'uk-conc: a standing request gives human_review at night too (nothing scheduled), UK GDPR art. 22',
      pack: 'uk-conc',
      now: '2026-11-25T23:30:00Z',
      scores: { willingness: 0.8, ability: 0.8 },
      humanReview: '2026-11-25T09:00:00Z',
      expect: { treatment: 'human_review', fired: ['human_review'], exactly: true },
    },
  ],
  connected_calls_per_day: [
    {
      name: '2 connected calls today (lender, agency): the 3rd is allowed',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [
        connected('2026-11-25T08:30:00+08:00', 'lender-7'),
        connected('2026-11-25T09:00:00+08:00', 'agency-x-12'),
      ],
      expect: { treatment: 'human_call', channel: 'call', notFired: ['cap_connected_calls'] },
    },
    {
      name: '3 connected calls today (2 lender, 1 agency): the 4th is refused',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [
        connected('2026-11-25T08:30:00+08:00', 'lender-7'),
        connected('2026-11-25T09:00:00+08:00', 'agency-x-12'),
        connected('2026-11-25T09:30:00+08:00', 'lender-7'),
      ],
      expect: { treatment: 'plan_offer', notChannel: 'call', fired: ['cap_connected_calls'] },
    },
    {
      name: 'one of the 3 at 23:59 yesterday, Shanghai time (UTC today): not today, call allowed',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [
        connected('2026-11-24T23:59:00+08:00', 'agency-x-12'),
        connected('2026-11-25T08:30:00+08:00', 'lender-7'),
        connected('2026-11-25T09:00:00+08:00', 'lender-7'),
      ],
      expect: { treatment: 'human_call', channel: 'call' },
    },
    {
      name: 'one of the 3 at 00:00 today, Shanghai time (UTC yesterday): counted, refused',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [
        connected('2026-11-24T16:00:00Z', 'agency-x-12'),
        connected('2026-11-25T08:30:00+08:00', 'lender-7'),
        connected('2026-11-25T09:00:00+08:00', 'lender-7'),
      ],
      expect: { notChannel: 'call', fired: ['cap_connected_calls'] },
    },
    {
      name: '3 calls today without an answer are not connected: call allowed',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: ['08:30', '09:00', '09:30'].map((t) =>
        makeContact({ ts: `2026-11-25T${t}:00+08:00`, outcome: 'no_answer' }),
      ),
      expect: { treatment: 'human_call', channel: 'call' },
    },
    {
      name: 'a policy that tightens the cap to 2: the 3rd is refused',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      policy: TWO,
      account: { preferred_channel: 'call' },
      contacts: [
        connected('2026-11-25T08:30:00+08:00', 'lender-7'),
        connected('2026-11-25T09:00:00+08:00', 'agency-x-12'),
      ],
      expect: { notChannel: 'call', fired: ['cap_connected_calls'] },
    },
  ],
  contact_hours: [
    {
      name: '21:59 in Shanghai: contact now',
      pack: 'cn-2025',
      now: '2026-11-25T21:59:00+08:00',
      scores: LH,
      expect: { earliest: '2026-11-25T21:59:00+08:00', notFired: ['outside_contact_hours'] },
    },
    {
      name: '22:00 in Shanghai: refused, scheduled for 08:00 the next day',
      pack: 'cn-2025',
      now: '2026-11-25T22:00:00+08:00',
      scores: LH,
      expect: { earliest: '2026-11-26T08:00:00+08:00', fired: ['outside_contact_hours'] },
    },
    {
      name: '07:59 in Shanghai: scheduled for 08:00',
      pack: 'cn-2025',
      now: '2026-11-25T07:59:00+08:00',
      scores: LH,
      expect: { earliest: '2026-11-25T08:00:00+08:00', fired: ['outside_contact_hours'] },
    },
    {
      name: '21:30 in Shanghai under a policy that keeps 21:00 for every pack: scheduled',
      pack: 'cn-2025',
      now: '2026-11-25T21:30:00+08:00',
      scores: LH,
      policy: PLAIN,
      expect: { earliest: '2026-11-26T08:00:00+08:00', fired: ['outside_contact_hours'] },
    },
    {
      name: '21:30 in Chicago: us-reg-f ends at 21:00',
      pack: 'us-reg-f',
      now: '2026-11-25T21:30:00-06:00',
      scores: LH,
      expect: { earliest: '2026-11-26T08:00:00-06:00', fired: ['outside_contact_hours'] },
    },
    {
      name: '21:00 in London: uk-conc ends at 21:00',
      pack: 'uk-conc',
      now: '2026-11-25T21:00:00+00:00',
      scores: LH,
      expect: { earliest: '2026-11-26T08:00:00+00:00', fired: ['outside_contact_hours'] },
    },
  ],
  electronic_opt_out: [
    {
      name: 'SMS opt-out at 10:00, SMS decision at 10:01: refused, email still allowed',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: HH,
      contacts: [
        makeContact({ ts: '2026-11-25T10:00:00-06:00', channel: 'sms', outcome: 'opt_out', agent_id: null }),
      ],
      expect: { treatment: 'gentle_nudge', channel: 'email', fired: ['opt_out'], exactly: true },
    },
    {
      name: 'SMS opt-out at 10:02 (after the decision at 10:01): SMS still used',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: HH,
      contacts: [
        makeContact({ ts: '2026-11-25T10:02:00-06:00', channel: 'sms', outcome: 'opt_out', agent_id: null }),
      ],
      expect: { treatment: 'gentle_nudge', channel: 'sms', fired: [], exactly: true },
    },
    {
      name: 'an email opt-out leaves SMS alone',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: HH,
      contacts: [
        makeContact({
          ts: '2026-11-20T10:00:00-06:00',
          channel: 'email',
          outcome: 'opt_out',
          agent_id: null,
        }),
      ],
      expect: { channel: 'sms', fired: [], exactly: true },
    },
    {
      name: 'opted out of SMS, email and app: no lawful channel for a nudge, hold',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: HH,
      contacts: (['sms', 'email', 'app'] as const).map((channel) =>
        makeContact({ ts: '2026-11-20T10:00:00-06:00', channel, outcome: 'opt_out', agent_id: null }),
      ),
      expect: { treatment: 'hold', fired: ['opt_out'], exactly: true },
    },
    {
      name: 'uk-conc: an SMS opt-out is honoured the same way',
      pack: 'uk-conc',
      now: '2026-11-25T10:01:00+00:00',
      scores: HH,
      contacts: [
        makeContact({ ts: '2026-11-25T10:00:00+00:00', channel: 'sms', outcome: 'opt_out', agent_id: null }),
      ],
      expect: { channel: 'email', fired: ['opt_out'] },
    },
  ],
  third_party_ban: [
    {
      name: 'cn-2025: a call answered by a third party: no call and no SMS to that number',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [makeContact({ ts: '2026-11-20T10:00:00+08:00', channel: 'call', outcome: 'wrong_party' })],
      expect: { treatment: 'plan_offer', channel: 'email', fired: ['third_party'] },
    },
    {
      name: 'uk-conc: an email that reached a third party: that address is not used, the app is',
      pack: 'uk-conc',
      now: '2026-11-25T10:00:00+00:00',
      scores: HH,
      account: { preferred_channel: 'email' },
      contacts: [
        makeContact({ ts: '2026-11-20T10:00:00Z', channel: 'email', outcome: 'wrong_party', agent_id: null }),
      ],
      expect: { treatment: 'gentle_nudge', channel: 'app', fired: ['third_party'] },
    },
    {
      name: 'us-reg-f has no such rule: the call goes ahead',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [makeContact({ ts: '2026-11-10T10:00:00-06:00', channel: 'call', outcome: 'wrong_party' })],
      expect: { treatment: 'human_call', channel: 'call', fired: [], exactly: true },
    },
  ],
  capacity_hold: [
    {
      name: 'uk-conc: a capacity concern (vulnerable_flag) suspends recovery',
      pack: 'uk-conc',
      now: '2026-11-25T10:00:00+00:00',
      scores: LH,
      account: { vulnerable_flag: true },
      expect: { treatment: 'hold', fired: ['capacity_hold'], exactly: true },
    },
    {
      name: 'us-reg-f: a vulnerable customer is not held, only never taken to court',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: LL,
      account: { vulnerable_flag: true },
      expect: { treatment: 'plan_offer', fired: ['vulnerable_no_legal'], notFired: ['capacity_hold'] },
    },
  ],
  dispute_hold: [
    {
      name: 'us-reg-f: an open dispute stops collection',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: LH,
      account: { dispute_open: true },
      expect: { treatment: 'hold', fired: ['dispute_open'], exactly: true },
    },
  ],
  hardship_no_legal: [
    {
      name: 'uk-conc: declared hardship, every legal prerequisite met: a plan offer, not legal',
      pack: 'uk-conc',
      now: '2026-11-25T10:00:00+00:00',
      scores: LL,
      account: { hardship_flag: true },
      expect: { treatment: 'plan_offer', fired: ['hardship_no_legal'] },
    },
  ],
  forbearance: [
    {
      name: 'uk-conc: the most generous plan exceeds the capacity: a token payment instead',
      pack: 'uk-conc',
      now: '2026-11-25T10:00:00+00:00',
      scores: HL,
      account: SQUEEZED,
      expect: { treatment: 'plan_offer', fired: ['forbearance'], exactly: true },
    },
    {
      name: 'us-reg-f: the same account is offered the plan above its capacity, as before',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: HL,
      account: SQUEEZED,
      expect: { treatment: 'plan_offer', fired: [], exactly: true },
    },
  ],
  no_lump_sum: [
    {
      name: 'uk-conc: a loan in its last month is spread over 2 payments, not asked at once',
      pack: 'uk-conc',
      now: '2026-11-25T10:00:00+00:00',
      scores: { willingness: 0.8, ability: 0.8 },
      account: { ...LAST_MONTH, preferred_channel: 'email' },
      policy: parsePolicy(
        {
          version: 'plans-first',
          packs: { regions: { 'GB-LND': 'uk-conc' } },
          matrix: { high_willingness_high_ability: 'plan_offer' },
        },
        'plans-first.yaml',
      ),
      expect: { treatment: 'plan_offer', fired: ['no_lump_sum'], exactly: true },
    },
    {
      name: 'cn-2025: the same loan is asked in one payment, as before',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: { willingness: 0.8, ability: 0.8 },
      account: { ...LAST_MONTH, preferred_channel: 'email' },
      policy: parsePolicy(
        {
          version: 'plans-first',
          packs: { regions: { 'CN-31': 'cn-2025' } },
          matrix: { high_willingness_high_ability: 'plan_offer' },
        },
        'plans-first.yaml',
      ),
      expect: { treatment: 'plan_offer', fired: [], exactly: true },
    },
  ],
  call_attempts: [
    {
      name: 'us-reg-f: 7 call attempts in 7 days, the 8th refused',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: Array.from({ length: 7 }, (_, k) =>
        makeContact({ ts: `2026-11-${String(19 + k).padStart(2, '0')}T09:00:00-06:00` }),
      ),
      expect: { notChannel: 'call', fired: ['cap_call'] },
    },
    {
      name: 'us-reg-f: 6 call attempts in 7 days, the 7th allowed',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: Array.from({ length: 6 }, (_, k) =>
        makeContact({ ts: `2026-11-${String(20 + k).padStart(2, '0')}T09:00:00-06:00` }),
      ),
      expect: { treatment: 'human_call', channel: 'call' },
    },
  ],
  conversation_cooldown: [
    {
      name: 'us-reg-f: a conversation 6 days ago: no call',
      pack: 'us-reg-f',
      now: US_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [makeContact({ ts: '2026-11-19T10:02:00-06:00', outcome: 'right_party' })],
      expect: { notChannel: 'call', fired: ['conversation_cooldown'] },
    },
    {
      name: 'cn-2025 with the pack’s own floors (no cooldown): a call the next day',
      pack: 'cn-2025',
      now: CN_NOW,
      scores: LH,
      account: { preferred_channel: 'call' },
      contacts: [connected('2026-11-24T10:00:00+08:00', 'lender-7')],
      expect: { treatment: 'human_call', channel: 'call' },
    },
  ],
};

function run(c: Case): Decision {
  const account = makeAccount({ days_past_due: 95, ...ACCOUNT[c.pack], ...c.account });
  return decide(
    account,
    c.scores,
    {
      now: Date.parse(c.now),
      contacts: c.contacts ?? [],
      ...(c.humanReview ? { humanReview: { requested_at: c.humanReview } } : {}),
    },
    c.policy ?? POLICY,
  );
}

describe.each(RULE_KINDS)('pack rule %s', (kind) => {
  it.each(CASES[kind].map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const policy = c.policy ?? POLICY;
    expect(floorsOf(policy.packs, { region: ACCOUNT[c.pack].region! }).pack.pack).toBe(c.pack);
    const d = run(c);
    const e = c.expect;
    const seen = JSON.stringify(d);
    if (e.treatment) expect(d.treatment, seen).toBe(e.treatment);
    if (e.channel) expect(d.channel, seen).toBe(e.channel);
    if (e.notChannel) expect(d.channel, seen).not.toBe(e.notChannel);
    if (e.earliest) expect(d.earliest_contact_at, seen).toBe(e.earliest);
    if (e.fired && e.exactly) expect(d.guardrails, seen).toEqual(e.fired);
    else for (const g of e.fired ?? []) expect(d.guardrails, seen).toContain(g);
    for (const g of e.notFired ?? []) expect(d.guardrails, seen).not.toContain(g);
  });
});

describe('the reasons name the pack and its clause', () => {
  it('a refused 4th connected call says how many, the cap and the clause', () => {
    const d = run(CASES.connected_calls_per_day[1]!);
    const why = d.reasons.find((r) => r.includes('cap_connected_calls'));
    expect(why).toContain(
      '3 connected call(s) today (local day), at most 3 by the lender and its agencies together',
    );
    expect(why).toContain('cn-2025: 2025 national standard on collection for internet consumer credit');
  });

  it('an opt-out names the channel and its instant', () => {
    // Opted out of every channel of a nudge: the FALLBACK reason lists each with what the guardrail found.
    const d = run(CASES.electronic_opt_out[3]!);
    const why = d.reasons.find((r) => r.startsWith('gentle_nudge has no lawful channel'));
    expect(why).toContain('opt_out: the customer opted out of sms at 2026-11-20T10:00:00-06:00');
    expect(why).toContain('opt_out: the customer opted out of email at 2026-11-20T10:00:00-06:00');
  });

  it('a capacity hold routes to specialist review citing CONC 7.10.1R', () => {
    const d = run(CASES.capacity_hold[0]!);
    expect(d.reason_codes).toContain('SUPPRESSED');
    expect(d.reasons.join('\n')).toContain('uk-conc: CONC 7.10.1R');
  });

  it('a visit that found a third party rules out letters and visits to that address (cn-2025)', () => {
    const floors = floorsOf(POLICY.packs, { region: 'CN-31' });
    const c = constraintsFor(
      makeAccount(ACCOUNT['cn-2025']),
      [makeContact({ ts: '2026-11-20T10:00:00+08:00', channel: 'visit', outcome: 'wrong_party' })],
      Date.parse(CN_NOW),
      floors.guardrails,
      floors.pack,
    );
    expect(Object.keys(c.channel)).toEqual(['letter', 'visit']);
    expect(c.channel.letter!.map((h) => h.name)).toEqual(['third_party']);
    expect(c.channel.visit!.map((h) => h.name)).toEqual(['third_party']);
  });
});

describe('every pack rule is enforced by a guardrail that has a test, and docs/policy.md cites every clause', () => {
  const packs = [...builtinPacks().values()];

  it.each(packs.map((p) => [p.pack, p] as const))(
    '%s: each rule has a case above where its guardrail fires',
    (_n, p) => {
      for (const kind of Object.keys(p.rules) as RuleKind[]) {
        const guardrail = RULE_GUARDRAIL[kind];
        expect(GUARDRAILS as readonly string[]).toContain(guardrail);
        const cases = CASES[kind].filter((c) => c.pack === p.pack && c.expect.fired?.includes(guardrail));
        expect(cases.length, `${p.pack}.${kind} (${guardrail}) has no case where it fires`).toBeGreaterThan(
          0,
        );
      }
    },
  );

  const doc = readFileSync('docs/policy.md', 'utf8');
  const rules = packs.flatMap((p) =>
    Object.entries(p.rules).map(([kind, r]) => ({ pack: p.pack, kind, source: r!.source })),
  );
  const pending = packs.flatMap((p) => p.pending.map((x) => ({ pack: p.pack, source: x.source })));

  it('every rule and pending clause of every pack is named in docs/policy.md', () => {
    for (const r of [...rules, ...pending]) expect(doc, `${r.pack}: ${r.source}`).toContain(r.source);
  });

  it("the clauses docs/policy.md lists as not enforced yet are exactly the packs' pending ones", () => {
    const table = doc.split('Not enforced yet')[1]!.split('\n\n')[1]!.split('\n').slice(2);
    const rows = table.map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((r) => `${r[1]!.replaceAll('`', '')}: ${r[2]}`).sort()).toEqual(
      pending.map((x) => `${x.pack}: ${x.source}`).sort(),
    );
  });

  it('every clause named in docs/policy.md is a rule of a pack file (or listed there as pending)', () => {
    const patterns = [
      /12 CFR 1006\.\d+(?:\([a-z0-9]+\))*/g,
      /CONC \d+\.\d+(?:\.\d+[RG])?/g,
      /PIPL art\. \d+/g,
      /credit-card measures art\. \d+/g,
      /NIFA 2024 guidelines(?: \([^)]*\))?/g,
      /Consumer Duty(?: \(PRIN 2A\))?/g,
    ];
    const named = new Set(patterns.flatMap((re) => doc.match(re) ?? []));
    expect(named.size).toBeGreaterThan(10);
    const enforced = rules.map((r) => r.source);
    const listed = pending.map((r) => r.source);
    // Rule notes may name related clauses (CONC 7.9.6R beside 7.9.10R); the clause itself must be a source.
    for (const clause of named) {
      const where = [...enforced, ...listed].filter((s) => s.includes(clause));
      expect(
        where.length,
        `${clause} is named in docs/policy.md but is no pack rule's source`,
      ).toBeGreaterThan(0);
    }
  });
});

describe('a human_review decision explains itself with the clause of the pack that has the rule', () => {
  it.each([
    ['cn-2025', 'PIPL art. 24'],
    ['uk-conc', 'UK GDPR art. 22'],
    ['us-reg-f', null],
  ] as const)('%s', (pack, clause) => {
    const d = run({
      name: pack,
      pack,
      now: pack === 'cn-2025' ? CN_NOW : '2026-11-25T18:00:00Z',
      scores: { willingness: 0.1, ability: 0.1 },
      humanReview: '2026-11-20T00:00:00Z',
      expect: {},
    });
    expect(d.treatment).toBe('human_review');
    expect(d.guardrails).toEqual(['human_review']);
    const p = builtinPacks().get(pack)!;
    const e = explainDecision(
      {
        ...d,
        decision_id: 'd-1',
        model_version: 'm',
        drivers: null,
        rule_pack: pack,
        rule_pack_version: p.version,
      },
      p,
    );
    expect(e.rules.applied).toEqual([expect.objectContaining({ guardrail: 'human_review', source: clause })]);
    expect(e.rights.basis).toBe(clause);
  });
});
