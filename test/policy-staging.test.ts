import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideBatch } from '../src/core/policy/batch.ts';
import { decide } from '../src/core/policy/decide.ts';
import { parsePolicy } from '../src/core/policy/load.ts';
import type { Decision } from '../src/core/policy/types.ts';
import type { AccountRow, ContactRow } from '../src/core/schema/tables.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';
import { makeAccount, makeContact } from './helpers/account.ts';
import { CAPTURED_LIFTS } from './helpers/captured-lifts.ts';
import { randomDecideCases } from './helpers/decide-cases.ts';

// Must match scripts/capture-decide-golden.ts, which wrote the golden file with the decide of commit 29207a3
// (before the staged flow).
const SEED = 20_261_216;
const N = 1000;

describe('a policy without staging decides exactly as before the staged flow', () => {
  const golden = JSON.parse(readFileSync('test/golden/decide-unstaged.json', 'utf8')) as Record<
    string,
    unknown
  >[];
  const cases = randomDecideCases(SEED, N);

  it('has one golden decision per generated case, and the cases cover every treatment and both modes', () => {
    expect(golden).toHaveLength(N);
    const treatments = new Set(golden.map((d) => d.treatment));
    expect([...treatments].sort()).toEqual(['gentle_nudge', 'hold', 'human_call', 'legal', 'plan_offer']);
    expect(new Set(golden.map((d) => d.mode))).toEqual(new Set(['matrix', 'expected_value']));
  });

  it('gives every field of every golden decision unchanged, and no handover', () => {
    const differences: string[] = [];
    cases.forEach((c, k) => {
      const d = decide(
        c.account,
        c.scores,
        {
          now: c.now,
          contacts: c.contacts,
          payments: c.payments,
          callCapacityExhausted: c.callCapacityExhausted,
        },
        parsePolicy(c.policy, String(c.policy.version)),
      );
      const before = golden[k]!;
      const now = d as unknown as Record<string, unknown>;
      for (const key of Object.keys(before)) {
        // An offer gained fields of its own since (forbearance); the ones it had must not move.
        const was = before[key];
        const is =
          key === 'offer' && was && now.offer
            ? Object.fromEntries(Object.keys(was).map((f) => [f, (now.offer as Record<string, unknown>)[f]]))
            : now[key];
        if (JSON.stringify(is) !== JSON.stringify(was))
          differences.push(`case ${k} ${key}: was ${JSON.stringify(was)}, is ${JSON.stringify(is)}`);
      }
      if ((d as Decision).handover !== null) differences.push(`case ${k}: a handover on ${d.treatment}`);
    });
    expect(differences.slice(0, 5)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The staged flow's guardrails, table-driven: each case is an account, history and instant, and what must come out.

const VISIT_AND_PLACEMENT = parsePolicy(
  {
    version: 'staged-guardrails',
    treatments: { field_visit: { enabled: true }, agency_placement: { enabled: true } },
    matrix: {
      low_willingness_high_ability: ['field_visit', 'human_call'],
      low_willingness_low_ability: ['agency_placement', 'human_call'],
    },
    guardrails: {
      field_visit: { window: { start: '09:00', end: '20:00' } },
      agency_placement: { min_days_past_due: 120 },
    },
  },
  'staged-guardrails',
);
const VISIT = { willingness: 0.1, ability: 0.9 }; // low willingness, high ability: field_visit first
const PLACE = { willingness: 0.1, ability: 0.1 }; // low willingness, low ability: agency_placement first
/** Local wall time in Chicago on 10 March 2026 (CDT, −05:00). */
const chicago = (hhmm: string) => Date.parse(`2026-03-10T${hhmm}:00-05:00`);

interface GuardCase {
  name: string;
  guardrail: string;
  scores: { willingness: number; ability: number };
  account?: Partial<AccountRow>;
  contacts?: ContactRow[];
  now?: number;
  expect: { treatment: string; earliest?: string; fired: boolean };
}

const GUARD_CASES: GuardCase[] = [
  // visit_hours: inside 09:00–20:00 local (and the contact hours 08:00–21:00) now; else the next 09:00.
  {
    name: 'a visit at 08:59 waits for 09:00',
    guardrail: 'visit_hours',
    scores: VISIT,
    now: chicago('08:59'),
    expect: { treatment: 'field_visit', earliest: '2026-03-10T09:00:00-05:00', fired: true },
  },
  {
    name: 'a visit at 09:00 is now',
    guardrail: 'visit_hours',
    scores: VISIT,
    now: chicago('09:00'),
    expect: { treatment: 'field_visit', earliest: '2026-03-10T09:00:00-05:00', fired: false },
  },
  {
    name: 'a visit at 19:59 is now',
    guardrail: 'visit_hours',
    scores: VISIT,
    now: chicago('19:59'),
    expect: { treatment: 'field_visit', earliest: '2026-03-10T19:59:00-05:00', fired: false },
  },
  {
    name: 'a visit at 20:00 waits for 09:00 the next day',
    guardrail: 'visit_hours',
    scores: VISIT,
    now: chicago('20:00'),
    expect: { treatment: 'field_visit', earliest: '2026-03-11T09:00:00-05:00', fired: true },
  },
  {
    name: 'a call at 20:00 is still now (the visit window is the visit’s only)',
    guardrail: 'visit_hours',
    scores: VISIT,
    now: chicago('20:00'),
    account: { hardship_flag: true },
    expect: { treatment: 'human_call', earliest: '2026-03-10T20:00:00-05:00', fired: false },
  },
  // vulnerable_no_visit, hardship_no_visit
  {
    name: 'no visit to a vulnerable customer',
    guardrail: 'vulnerable_no_visit',
    scores: VISIT,
    account: { vulnerable_flag: true },
    expect: { treatment: 'human_call', fired: true },
  },
  {
    name: 'no visit to a hardship customer',
    guardrail: 'hardship_no_visit',
    scores: VISIT,
    account: { hardship_flag: true },
    expect: { treatment: 'human_call', fired: true },
  },
  // cap_visit: 2 in 14 days
  {
    name: 'a third visit in 14 days is refused',
    guardrail: 'cap_visit',
    scores: VISIT,
    contacts: [visitAt('2026-03-01T15:00:00Z'), visitAt('2026-03-05T15:00:00Z')],
    expect: { treatment: 'human_call', fired: true },
  },
  {
    name: 'a visit 14 days after the first of two is allowed',
    guardrail: 'cap_visit',
    scores: VISIT,
    contacts: [visitAt('2026-02-24T15:00:00Z'), visitAt('2026-03-05T15:00:00Z')],
    expect: { treatment: 'field_visit', fired: false },
  },
  // placement_days_past_due: at 120, not at 119
  {
    name: 'no placement at 119 days past due',
    guardrail: 'placement_days_past_due',
    scores: PLACE,
    account: { days_past_due: 119 },
    expect: { treatment: 'human_call', fired: true },
  },
  {
    name: 'a placement at 120 days past due',
    guardrail: 'placement_days_past_due',
    scores: PLACE,
    account: { days_past_due: 120 },
    expect: { treatment: 'agency_placement', fired: false },
  },
  // vulnerable_no_placement, complaint_open, promise_pending
  {
    name: 'no placement of a vulnerable customer',
    guardrail: 'vulnerable_no_placement',
    scores: PLACE,
    account: { days_past_due: 150, vulnerable_flag: true },
    expect: { treatment: 'human_call', fired: true },
  },
  {
    name: 'no placement with an open complaint',
    guardrail: 'complaint_open',
    scores: PLACE,
    account: { days_past_due: 150, complaint_open: true },
    expect: { treatment: 'human_call', fired: true },
  },
  {
    name: 'no placement while a promise is open',
    guardrail: 'promise_pending',
    scores: PLACE,
    account: { days_past_due: 150 },
    contacts: [promise('2026-03-12')],
    expect: { treatment: 'plan_offer', fired: true },
  },
  {
    name: 'no visit while a promise is open',
    guardrail: 'promise_pending',
    scores: VISIT,
    contacts: [promise('2026-03-12')],
    expect: { treatment: 'plan_offer', fired: true },
  },
  // opt_out and third_party reach the visit channel
  {
    name: 'no visit after an opt-out of visits',
    guardrail: 'opt_out',
    scores: VISIT,
    contacts: [makeContact({ ts: '2026-03-09T15:00:00Z', channel: 'visit', outcome: 'opt_out' })],
    expect: { treatment: 'human_call', fired: true },
  },
];

function visitAt(ts: string): ContactRow {
  return makeContact({ ts, channel: 'visit', outcome: 'no_answer' });
}
function promise(date: string): ContactRow {
  return makeContact({
    ts: '2026-03-09T15:00:00Z',
    channel: 'sms',
    outcome: 'promise_to_pay',
    promise_amount: 50,
    promise_date: date,
  });
}

describe('the staged flow’s guardrails, case by case', () => {
  it.each(GUARD_CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const account = makeAccount({ days_past_due: 95, preferred_channel: 'call', ...c.account });
    const d = decide(
      account,
      c.scores,
      { now: c.now ?? chicago('10:00'), contacts: c.contacts ?? [] },
      VISIT_AND_PLACEMENT,
    );
    expect(d.treatment).toBe(c.expect.treatment);
    if (c.expect.earliest) expect(d.earliest_contact_at).toBe(c.expect.earliest);
    expect(d.guardrails.includes(c.guardrail), d.guardrails.join(', ')).toBe(c.expect.fired);
    expect(d.handover === null).toBe(d.treatment !== 'agency_placement');
  });

  it('a visit window and contact hours that share no minute rule visits out', () => {
    const policy = parsePolicy(
      {
        version: 'no-window',
        treatments: { field_visit: { enabled: true } },
        matrix: { low_willingness_high_ability: ['field_visit', 'human_call'] },
        guardrails: {
          contact_hours: { start: '08:00', end: '12:00' },
          field_visit: { window: { start: '13:00', end: '18:00' } },
        },
      },
      'no-window',
    );
    const d = decide(
      makeAccount({ preferred_channel: 'call' }),
      VISIT,
      { now: chicago('10:00'), contacts: [] },
      policy,
    );
    expect(d.treatment).toBe('human_call');
    expect(d.guardrails).toContain('visit_hours');
    expect(d.reasons.join('\n')).toContain('share no minute');
  });

  it('a placement hands over the record an agency needs', () => {
    const contacts = [
      makeContact({ ts: '2026-03-01T15:00:00Z', channel: 'call', outcome: 'right_party' }),
      makeContact({ ts: '2026-03-02T15:00:00Z', channel: 'sms', outcome: 'opt_out' }),
      makeContact({ ts: '2026-03-03T15:00:00Z', channel: 'call', outcome: 'no_answer' }),
      makeContact({ ts: '2026-03-20T15:00:00Z', channel: 'call', outcome: 'no_answer' }), // after now: not handed over
    ];
    const account = makeAccount({ days_past_due: 150, do_not_call: true, hardship_flag: true });
    const d = decide(account, PLACE, { now: chicago('10:00'), contacts }, VISIT_AND_PLACEMENT);
    expect(d.treatment).toBe('agency_placement');
    expect(d.channel).toBe('agency');
    const h = d.handover!;
    expect([h.rule_pack, h.days_past_due, h.amount_overdue]).toEqual(['us-reg-f', 150, 600]);
    expect(h.flags).toMatchObject({ do_not_call: true, hardship: true, vulnerable: false });
    expect(h.contacts_by_channel).toEqual({ call: 2, sms: 1 });
    expect(h.last_contacts.map((c) => c.ts)).toEqual([
      '2026-03-03T15:00:00Z',
      '2026-03-02T15:00:00Z',
      '2026-03-01T15:00:00Z',
    ]);
    expect(h.last_conversation_at).toBe('2026-03-01T15:00:00Z');
    expect(h.blocked_channels).toEqual(
      expect.arrayContaining([
        { channel: 'call', guardrails: ['do_not_call'] },
        { channel: 'sms', guardrails: ['opt_out'] },
      ]),
    );
    expect(h.open_promises).toEqual([]);
  });

  it('docs/policy.md names every guardrail of the staged flow, and each has a case above where it fires', () => {
    const doc = readFileSync('docs/policy.md', 'utf8');
    const section = doc.split('## The staged flow')[1]!.split('\n## ')[0]!;
    const table = section.split('| rule | guardrail | source |')[1]!.split('\n\n')[0]!;
    const named = [...table.matchAll(/\| `([a-z_]+)`(?:, `([a-z_]+)`)? \|/g)].flatMap(
      (m) => [m[1]!, m[2]].filter(Boolean) as string[],
    );
    expect(named).toEqual(
      expect.arrayContaining([
        'vulnerable_no_visit',
        'hardship_no_visit',
        'visit_hours',
        'cap_visit',
        'placement_days_past_due',
        'vulnerable_no_placement',
      ]),
    );
    const fires = new Set(GUARD_CASES.filter((c) => c.expect.fired).map((c) => c.guardrail));
    // dispute_open and third_party are tested where they were introduced (policy-guardrails, policy-packs).
    for (const g of named.filter((x) => !['dispute_open', 'third_party'].includes(x)))
      expect(fires, `${g} has no case where it fires`).toContain(g);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Staging: escalation allowed and refused.

const STAGED = parsePolicy(
  {
    version: 'staged-test',
    treatments: { field_visit: { enabled: true }, agency_placement: { enabled: true } },
    matrix: { low_willingness_high_ability: ['field_visit', 'human_call', 'gentle_nudge'] },
    staging: {
      tried_within_days: 30,
      stages: [
        ['gentle_nudge'],
        ['human_call', 'plan_offer'],
        { name: 'visit', treatments: ['field_visit'] },
        ['agency_placement', 'legal'],
      ],
    },
  },
  'staged-test',
);
const at = (iso: string, channel: ContactRow['channel'], outcome: ContactRow['outcome'] = 'no_answer') =>
  makeContact({ ts: iso, channel, outcome });

describe('staging: a stage only after the one before was tried or is ruled out', () => {
  const now = chicago('10:00');
  const account = makeAccount({ days_past_due: 95, preferred_channel: 'call' });
  // A reminder 5 days ago: the first stage was tried, so calls and plan offers are reached.
  const reminder = at('2026-03-05T16:00:00Z', 'sms', 'delivered');

  it.each([
    [
      'no call tried: the visit waits, the call goes out',
      [],
      {},
      'human_call',
      'STAGE_NOT_REACHED',
      'stage 2 (human_call+plan_offer) not tried within 30 days (no call/letter contact) and not ruled out today',
    ],
    [
      'a call 10 days ago: the visit goes out',
      [at('2026-02-28T16:00:00Z', 'call')],
      {},
      'field_visit',
      'STAGE_ESCALATED',
      'was tried: call at 2026-02-28T16:00:00Z',
    ],
    [
      'a call 31 days ago is too old',
      [at('2026-02-07T16:00:00Z', 'call')],
      {},
      'human_call',
      'STAGE_NOT_REACHED',
      'not tried within 30 days',
    ],
    [
      'a call exactly 30 days ago is too old (half-open window)',
      [at('2026-02-08T15:00:00Z', 'call')],
      {},
      'human_call',
      'STAGE_NOT_REACHED',
      'not tried within 30 days',
    ],
    [
      'an SMS does not count as a tried plan offer',
      [at('2026-03-01T16:00:00Z', 'sms')],
      {},
      'human_call',
      'STAGE_NOT_REACHED',
      'not tried',
    ],
    [
      'calls and plans ruled out (no phone, no email, opt-outs of letters and the app in January): the visit goes out',
      [at('2026-01-15T16:00:00Z', 'letter', 'opt_out'), at('2026-01-15T16:00:00Z', 'app', 'opt_out')],
      { phone_valid: false, email_valid: false },
      'field_visit',
      'STAGE_ESCALATED',
      'ruled out today: human_call: no lawful channel (phone_invalid',
    ],
  ] as const)('%s', (_n, contacts, change, treatment, code, text) => {
    const d = decide({ ...account, ...change }, VISIT, { now, contacts: [reminder, ...contacts] }, STAGED);
    expect(d.treatment).toBe(treatment);
    expect(d.reason_codes).toContain(code);
    expect(d.reasons[d.reason_codes.indexOf(code)]).toContain(text);
  });

  it('a stage ruled out but never reached itself does not open the next', () => {
    // Calls and plan offers are ruled out, but no reminder was tried and reminders are lawful: no visit.
    const policy = parsePolicy(
      {
        version: 'staged-chain',
        treatments: { field_visit: { enabled: true } },
        matrix: { low_willingness_high_ability: ['field_visit', 'gentle_nudge'] },
        staging: { stages: [['gentle_nudge'], ['human_call'], ['field_visit']] },
      },
      'staged-chain',
    );
    const d = decide(makeAccount({ do_not_call: true }), VISIT, { now, contacts: [] }, policy);
    expect(d.treatment).toBe('gentle_nudge');
    expect(d.reasons[d.reason_codes.indexOf('STAGE_NOT_REACHED')]).toContain(
      'ruled out today (human_call: no lawful channel (do_not_call)) but not itself reached',
    );
  });

  it('evidence from replayed decisions counts as a try, for staging only', () => {
    const d = decide(
      account,
      VISIT,
      { now, contacts: [], stageEvidence: [{ ts: '2026-03-01T16:00:00Z', channel: 'call' }] },
      STAGED,
    );
    expect(d.treatment).toBe('field_visit');
  });

  it('refuses a stage or a cell naming a treatment that is not enabled, a treatment in two stages, and a stage no contact can show tried', () => {
    expect(() =>
      parsePolicy({ version: 'x', matrix: { low_willingness_low_ability: ['agency_placement'] } }, 'x.yaml'),
    ).toThrow(
      /matrix\.low_willingness_low_ability\.0: agency_placement is not enabled: set treatments\.agency_placement\.enabled to true/,
    );
    expect(() =>
      parsePolicy({ version: 'x', staging: { stages: [['gentle_nudge'], ['field_visit']] } }, 'x.yaml'),
    ).toThrow(/staging\.stages\.1\.treatments\.0: field_visit is not enabled/);
    expect(() =>
      parsePolicy(
        { version: 'x', staging: { stages: [['gentle_nudge', 'human_call'], ['human_call']] } },
        'x.yaml',
      ),
    ).toThrow(
      /staging\.stages\.1\.treatments\.0: expected each treatment in one stage only; human_call is already in stage 1/,
    );
    expect(() =>
      parsePolicy(
        {
          version: 'x',
          treatments: { agency_placement: { enabled: true } },
          staging: { stages: [['agency_placement'], ['legal']] },
        },
        'x.yaml',
      ),
    ).toThrow(/staging\.stages\.0\.tried_by: expected a contact channel that shows stage 1 was tried/);
    expect(() =>
      parsePolicy({ version: 'x', guardrails: { agency_placement: { min_days_past_due: 29 } } }, 'x.yaml'),
    ).toThrow(
      /guardrails\.agency_placement\.min_days_past_due: expected at least 30 days \(the house floor\)/,
    );
  });

  it('the shipped policies load; staged.yaml stages four steps and enables both treatments', async () => {
    for (const f of ['default', 'challenger-plan-first', 'learned-ev']) {
      const p = await readPolicyFile(`policies/${f}.yaml`);
      expect(p.champion.staging, f).toBeUndefined();
      expect(
        [p.champion.treatments.field_visit.enabled, p.champion.treatments.agency_placement.enabled],
        f,
      ).toEqual([false, false]);
    }
    const staged = await readPolicyFile('policies/staged.yaml');
    expect(staged.champion.staging!.stages.map((s) => s.name)).toEqual([
      'reminder',
      'call',
      'visit',
      'agency_or_legal',
    ]);
    expect([
      staged.champion.treatments.field_visit.enabled,
      staged.champion.treatments.agency_placement.enabled,
    ]).toEqual([true, true]);
    expect(staged.visitCapacity).toEqual({ slots: 40 });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Visit capacity in a batch.

describe('visit capacity: the day’s visit slots go where a visit adds most', () => {
  const policy = parsePolicy(
    {
      version: 'visit-slots',
      treatments: { field_visit: { enabled: true } },
      matrix: { low_willingness_high_ability: ['field_visit', 'gentle_nudge'] },
      visit_capacity: { slots: 2 },
      // Lifts under which a visit adds more than a reminder (slots go by that gain), stated here.
      response: { lifts: CAPTURED_LIFTS },
    },
    'visit-slots',
  );
  const now = chicago('10:00');
  const items = [100, 5000, 300, 2000].map((overdue, k) => ({
    account: makeAccount({ account_id: `V${k}`, amount_overdue: overdue, balance: overdue + 1000 }),
    scores: VISIT,
    contacts: [],
  }));

  it('the two largest overdue amounts get the visits, the others spill to a reminder', () => {
    const out = decideBatch(items, now, policy);
    expect(out.map((d) => d.treatment)).toEqual([
      'gentle_nudge',
      'field_visit',
      'gentle_nudge',
      'field_visit',
    ]);
    expect(out[1]!.reason_codes).toContain('VISIT_SLOT');
    expect(out[0]!.reasons[out[0]!.reason_codes.indexOf('CAPACITY_SPILL')]).toContain(
      'no field-visit slot left today',
    );
  });

  it('with slots enough every visit keeps its slot; without capacity nothing changes', () => {
    const all = parsePolicy({ ...policy.document, visit_capacity: { slots: 9 } }, 'all');
    expect(decideBatch(items, now, all).every((d) => d.treatment === 'field_visit')).toBe(true);
    const none = parsePolicy({ ...policy.document, visit_capacity: undefined }, 'none');
    expect(decideBatch(items, now, none).map((d) => d.reason_codes.includes('VISIT_SLOT'))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
