import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../src/core/policy/decide.ts';
import { GUARDRAILS } from '../src/core/policy/guardrails.ts';
import { type Policy, parsePolicy } from '../src/core/policy/load.ts';
import { builtinPacks } from '../src/core/policy/packs/catalog.ts';
import type { Pack } from '../src/core/policy/packs/schema.ts';
import { floorsOf } from '../src/core/policy/packs/select.ts';
import { REASON_CODES } from '../src/core/policy/reasons.ts';
import {
  CHANNELS_FOR,
  type Guardrails,
  POLICY_CHANNELS,
  type Rules,
  SEGMENTS,
} from '../src/core/policy/schema.ts';
import type { Decision, Scores } from '../src/core/policy/types.ts';
import {
  CONTACT_CHANNELS,
  CONTACT_OUTCOMES,
  PREFERRED_CHANNELS,
  PRODUCTS,
  TREATMENTS,
  type Treatment,
} from '../src/core/schema/enums.ts';
import type { AccountRow, ContactRow } from '../src/core/schema/tables.ts';
import { isoInZone, localClock, localToUtcMs, offsetMinutes } from '../src/core/time/timezone.ts';
import { makeAccount, makeContact } from './helpers/account.ts';

/**
 * Property-based tests of `decide` over random accounts, contact histories, instants, scores and valid policies.
 * The oracle (`violations`) is written from DESIGN §6 and the policy's own parameters, not from guardrails.ts:
 * only the time-zone primitives of src/core/time/timezone.ts and Date.parse are shared with the code under test.
 * Every property has its own fixed seed, so a counterexample is replayed by running this file again.
 */

const DAY = 86_400_000;
const YEAR_START = Date.UTC(2026, 0, 1);
const YEAR_END = Date.UTC(2027, 0, 1);
const DAY0 = YEAR_START / DAY;

const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'America/Phoenix',
  'Pacific/Honolulu',
  'Europe/London',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Asia/Shanghai',
] as const;

/** The local dates of 2026's DST transitions in the zones above (US, UK, Lord Howe). */
const DST_DAYS = ['2026-03-08', '2026-11-01', '2026-03-29', '2026-10-25', '2026-04-05', '2026-10-04'].map(
  (d) => Date.parse(`${d}T00:00:00Z`) / DAY,
);

type Contactable = Exclude<Treatment, 'hold'>;
const SUPPRESSION_FLAGS = ['deceased_flag', 'bankruptcy_flag', 'dispute_open', 'cease_and_desist'] as const;
const CONVERSATION_OUTCOMES: readonly string[] = ['right_party', 'promise_to_pay', 'refused', 'dispute'];
const CAPPED_CHANNELS = ['call', 'sms', 'email', 'app', 'letter', 'visit'] as const;

// ---------------------------------------------------------------------------------------------------------
// Small independent helpers: calendar days and clock strings.

/** Day number (days since 1970-01-01) of an ISO date `YYYY-MM-DD`. */
const dayNumber = (iso: string): number => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / DAY;
/** ISO date of a day number. */
const isoDate = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);
const pad2 = (n: number): string => String(n).padStart(2, '0');
/** HH:MM of minutes after midnight. */
const clockText = (minute: number): string => `${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}`;
/** Minutes after midnight of HH:MM. */
const clockMinute = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The parts of an ISO 8601 timestamp with a numeric offset, read from the text itself. */
function readIso(
  iso: string,
): { day: number; minute: number; second: number; ms: number; offset: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?([+-])(\d{2}):(\d{2})$/.exec(
    iso,
  );
  if (!m) return null;
  const n = (i: number) => Number(m[i]);
  return {
    day: Date.UTC(n(1), n(2) - 1, n(3)) / DAY,
    minute: n(4) * 60 + n(5),
    second: n(6),
    ms: m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0')),
    offset: (m[8] === '-' ? -1 : 1) * (n(9) * 60 + n(10)),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The oracle: DESIGN §6 rules checked against one decision.

/** What besides the guardrails the oracle needs: the arm's rules and whether call capacity was spent. */
interface ArmContext {
  rules: Rules;
  callCapacityExhausted: boolean;
  /** Today's field-visit slots are spent (`visitCapacityExhausted`). */
  visitCapacityExhausted?: boolean;
}

/**
 * Every rule of DESIGN §6 that `decision` breaks for `account` with history `contacts` at instant `now` under
 * guardrail parameters `g` (empty when the decision is lawful). Written from the rules, not from guardrails.ts.
 */
function violations(
  account: AccountRow,
  contacts: readonly ContactRow[],
  now: number,
  g: Guardrails,
  decision: Decision,
  arm: ArmContext,
): string[] {
  const out: string[] = [];
  const { treatment: t, channel: ch } = decision;
  const tz = account.timezone;
  const local = localClock(tz, now);
  const today = local.day;
  const past = contacts.map((c) => ({ ...c, at: Date.parse(c.ts) })).filter((c) => c.at <= now);

  // Shape: hold (and a human review) has no channel and no time; a contact has both.
  if (t === 'hold' || t === 'human_review') {
    if (ch !== null) out.push(`hold with channel ${ch}`);
    if (decision.earliest_contact_at !== null) out.push('hold with an earliest_contact_at');
    return out;
  }
  if (ch === null) out.push(`${t} without a channel`);
  if (decision.earliest_contact_at === null) out.push(`${t} without an earliest_contact_at`);

  // Suppression: no collection contact at all.
  for (const f of SUPPRESSION_FLAGS) if (account[f]) out.push(`${f}: ${t} on ${ch} instead of hold`);

  // An open promise: its date (or, undated, the local day it was made) plus the grace days is not past.
  const openPromise = past.find((c) => {
    if (c.outcome !== 'promise_to_pay') return false;
    const due = c.promise_date === null ? localClock(tz, c.at).day : dayNumber(c.promise_date);
    return due + g.promise_grace_days >= today;
  });

  if (t === 'legal') {
    if (account.vulnerable_flag) out.push('legal for a vulnerable customer');
    if (account.hardship_flag) out.push('legal for a hardship customer');
    if (account.days_past_due < g.legal.min_days_past_due)
      out.push(`legal at ${account.days_past_due} dpd < ${g.legal.min_days_past_due}`);
    if (account.amount_overdue < g.legal.min_overdue)
      out.push(`legal at overdue ${account.amount_overdue} < ${g.legal.min_overdue}`);
    if (account.legal_notice_date === null) out.push('legal without a legal notice');
    else if (today - dayNumber(account.legal_notice_date) < g.legal.notice_min_age_days)
      out.push(
        `legal with a notice of ${account.legal_notice_date}, local today ${isoDate(today)} (${g.legal.notice_min_age_days} days needed)`,
      );
    if (account.complaint_open) out.push('legal with an open complaint');
    if (openPromise)
      out.push(`legal while a promise is open (${openPromise.ts}, ${openPromise.promise_date})`);
  }
  if (t === 'human_call' && openPromise)
    out.push(`human_call while a promise is open (${openPromise.ts}, ${openPromise.promise_date})`);
  if (t === 'human_call' && arm.callCapacityExhausted) out.push('human_call with call capacity exhausted');

  // The staged flow (docs/policy.md): a visit never to the vulnerable or hardship, never during a promise, only
  // inside the visit window and the contact hours both; a placement from its days past due, never for the
  // vulnerable, with an open complaint or during a promise, and always with the record handed over.
  if (t === 'field_visit') {
    if (account.vulnerable_flag) out.push('field_visit for a vulnerable customer');
    if (account.hardship_flag) out.push('field_visit for a hardship customer');
    if (openPromise) out.push(`field_visit while a promise is open (${openPromise.ts})`);
    if (arm.visitCapacityExhausted) out.push('field_visit with visit capacity exhausted');
    const [ws, we] = visitSpan(g);
    if (ws >= we) out.push(`field_visit with no minute inside both the window and the hours`);
  }
  if (t === 'agency_placement') {
    if (account.days_past_due < g.agency_placement.min_days_past_due)
      out.push(`agency_placement at ${account.days_past_due} dpd < ${g.agency_placement.min_days_past_due}`);
    if (account.vulnerable_flag) out.push('agency_placement for a vulnerable customer');
    if (account.complaint_open) out.push('agency_placement with an open complaint');
    if (openPromise) out.push(`agency_placement while a promise is open (${openPromise.ts})`);
    const h = decision.handover;
    if (!h) out.push('agency_placement without a handover');
    else {
      const sent = Object.values(h.contacts_by_channel).reduce((a, b) => a + b, 0);
      if (sent !== past.length) out.push(`handover counts ${sent} contacts, the history has ${past.length}`);
      for (const o of past.filter((c) => c.outcome === 'opt_out' && c.channel !== 'legal'))
        if (!h.blocked_channels.some((b) => b.channel === o.channel && b.guardrails.includes('opt_out')))
          out.push(`handover leaves out the opt-out of ${o.channel} at ${o.ts}`);
      if (account.do_not_call !== h.flags.do_not_call) out.push('handover misstates do_not_call');
    }
  } else if (decision.handover) out.push(`${t} with a handover`);

  if (ch === null) return out;
  if (!arm.rules.treatments[t].channels.includes(ch))
    out.push(`channel ${ch} is not a channel of ${t} (${arm.rules.treatments[t].channels.join(', ')})`);
  if (ch === 'call' && account.do_not_call) out.push('call for a do_not_call customer');
  if (ch === 'call' && !account.phone_valid) out.push('call to an invalid phone');
  if (ch === 'sms' && !account.phone_valid) out.push('sms to an invalid phone');
  if (ch === 'email' && !account.email_valid) out.push('email to an invalid address');
  for (const capped of CAPPED_CHANNELS) {
    if (ch !== capped) continue;
    const cap = g.caps[capped];
    const used = past.filter((c) => c.channel === capped && c.at > now - cap.days * DAY).length;
    if (used >= cap.attempts)
      out.push(`${capped}: ${used} attempt(s) in ${cap.days} days, cap ${cap.attempts}`);
  }
  if (ch === 'call') {
    const talk = past.find(
      (c) => CONVERSATION_OUTCOMES.includes(c.outcome) && c.at > now - g.conversation_cooldown_days * DAY,
    );
    if (talk)
      out.push(
        `call within ${g.conversation_cooldown_days} days of a conversation (${talk.ts}, ${talk.outcome})`,
      );
  }

  // Timing: the first instant at or after now inside the local contact hours (for a visit, inside the visit
  // window too), with the zone's real offset.
  const iso = decision.earliest_contact_at;
  if (iso === null) return out;
  const wall = readIso(iso);
  const at = Date.parse(iso);
  if (!wall || Number.isNaN(at)) return [...out, `earliest_contact_at ${iso} is not ISO 8601 with an offset`];
  const [start, end] =
    t === 'field_visit'
      ? visitSpan(g)
      : [clockMinute(g.contact_hours.start), clockMinute(g.contact_hours.end)];
  if (at < now) out.push(`earliest_contact_at ${iso} is before now ${new Date(now).toISOString()}`);
  if (wall.minute < start || wall.minute >= end)
    out.push(`earliest_contact_at ${iso} is outside ${clockText(start)}–${clockText(end)}`);
  const real = offsetMinutes(tz, at);
  if (wall.offset !== real)
    out.push(`earliest_contact_at ${iso} has offset ${wall.offset}, ${tz} has ${real}`);
  if (local.minute >= start && local.minute < end) {
    if (at !== now)
      out.push(`now ${new Date(now).toISOString()} is inside the hours but earliest_contact_at is ${iso}`);
  } else {
    const day = local.minute < start ? today : today + 1;
    if (wall.day !== day || wall.minute !== start || wall.second !== 0 || wall.ms !== 0)
      out.push(
        `now is ${isoDate(today)} ${clockText(local.minute)} local: expected the first contact at ${isoDate(day)} ` +
          `${clockText(start)}, got ${iso}`,
      );
  }
  return out;
}

/** The local minutes a visit may happen in: the contact hours and the visit window both (docs/policy.md). */
function visitSpan(g: Guardrails): [number, number] {
  return [
    Math.max(clockMinute(g.contact_hours.start), clockMinute(g.field_visit.window.start)),
    Math.min(clockMinute(g.contact_hours.end), clockMinute(g.field_visit.window.end)),
  ];
}

/**
 * The staged-flow rule (docs/policy.md "The staged flow"), written from the rule: a decision's treatment in stage
 * k > 0 needs stage k − 1 tried (a contact on its `tried_by` channels within `tried_within_days`, up to now) or
 * ruled out today — every channel of every treatment of it breaks a rule `violations` or `packViolations` names —
 * and reached itself.
 * The oracle's policies always state `tried_by`.
 */
function stagingViolations(
  account: AccountRow,
  contacts: readonly ContactRow[],
  now: number,
  g: Guardrails,
  decision: Decision,
  rules: Rules,
  pack: Pack,
): string[] {
  const staging = rules.staging;
  const t = decision.treatment;
  if (!staging || t === 'hold' || t === 'human_review') return [];
  const stages = staging.stages;
  const k = stages.findIndex((s) => (s.treatments as string[]).includes(t));
  if (k <= 0) return [];
  const tried = (j: number) =>
    contacts.some((c) => {
      const at = Date.parse(c.ts);
      return (
        at <= now && at > now - staging.tried_within_days * DAY && stages[j]!.tried_by!.includes(c.channel)
      );
    });
  const usable = (u: Contactable) =>
    rules.treatments[u].channels.some((ch) => {
      const hypo = {
        ...decision,
        treatment: u,
        channel: ch,
        earliest_contact_at: null,
        offer: null,
        handover: null,
      };
      const broken = [
        ...violations(account, contacts, now, g, hypo, { rules, callCapacityExhausted: false }),
        ...packViolations(account, contacts, now, pack, hypo),
      ];
      return broken.every(
        (v) => v.includes('without an earliest_contact_at') || v.includes('without a handover'),
      );
    });
  const reached = (j: number): boolean =>
    j === 0 || tried(j - 1) || (!stages[j - 1]!.treatments.some(usable) && reached(j - 1));
  return reached(k)
    ? []
    : [`${t} in stage ${k + 1}, which is not reached (stage ${k} neither tried nor ruled out)`];
}

/** The channels that reach the number or address a `wrong_party` contact on `channel` reached (docs/policy.md). */
const REACHES: Record<string, readonly string[]> = {
  call: ['call', 'sms'],
  sms: ['call', 'sms'],
  email: ['email'],
  app: ['app'],
  letter: ['letter', 'visit'],
  visit: ['letter', 'visit'],
  legal: [],
};

/**
 * Every rule of the account's rule pack (policies/packs/*.yaml, read as data) that `decision` breaks, whatever the
 * policy's own guardrails say: the pack is the law, the policy may only be stricter. Written from the pack's rules
 * and docs/policy.md, not from guardrails.ts; opt-outs are honoured under every pack.
 */
function packViolations(
  account: AccountRow,
  contacts: readonly ContactRow[],
  now: number,
  pack: Pack,
  decision: Decision,
): string[] {
  const out: string[] = [];
  const r = pack.rules;
  const { treatment: t, channel: ch } = decision;
  const tz = account.timezone;
  const today = localClock(tz, now).day;
  const past = contacts.map((c) => ({ ...c, at: Date.parse(c.ts) })).filter((c) => c.at <= now);
  const name = (rule: string) => `${pack.pack} ${rule}`;
  if (t === 'hold') return out;
  if (r.capacity_hold && account.vulnerable_flag)
    out.push(`${name('capacity_hold')}: ${t} for a vulnerable customer`);
  if (r.dispute_hold && account.dispute_open) out.push(`${name('dispute_hold')}: ${t} with an open dispute`);
  if (r.hardship_no_legal && account.hardship_flag && t === 'legal')
    out.push(`${name('hardship_no_legal')}: legal`);
  if (ch === null) return out;
  // A customer opts out of a medium of communication; legal process is none (docs/policy.md).
  const optedOut = ch !== 'legal' && past.find((c) => c.outcome === 'opt_out' && c.channel === ch);
  if (optedOut) out.push(`opt_out: ${ch} after an opt-out of it at ${optedOut.ts}`);
  if (r.third_party_ban) {
    const third = past.find((c) => c.outcome === 'wrong_party' && REACHES[c.channel]!.includes(ch));
    if (third)
      out.push(
        `${name('third_party_ban')}: ${ch} after a third party answered ${third.channel} at ${third.ts}`,
      );
  }
  if (ch === 'call') {
    const calls = past.filter((c) => c.channel === 'call');
    if (r.call_attempts) {
      const n = calls.filter((c) => c.at > now - r.call_attempts!.days * DAY).length;
      if (n >= r.call_attempts.max)
        out.push(`${name('call_attempts')}: a call after ${n} in ${r.call_attempts.days} days`);
    }
    const talks = past.filter((c) => CONVERSATION_OUTCOMES.includes(c.outcome));
    if (r.conversation_cooldown) {
      const talk = talks.find((c) => c.at > now - r.conversation_cooldown!.days * DAY);
      if (talk) out.push(`${name('conversation_cooldown')}: a call after a conversation at ${talk.ts}`);
    }
    if (r.connected_calls_per_day) {
      const n = talks.filter((c) => c.channel === 'call' && localClock(tz, c.at).day === today).length;
      if (n >= r.connected_calls_per_day.max)
        out.push(`${name('connected_calls_per_day')}: a call after ${n} connected today (local)`);
    }
  }
  const iso = decision.earliest_contact_at;
  const wall = iso === null ? null : readIso(iso);
  if (r.contact_hours && wall) {
    const [start, end] = [clockMinute(r.contact_hours.start), clockMinute(r.contact_hours.end)];
    if (wall.minute < start || wall.minute >= end)
      out.push(
        `${name('contact_hours')}: contact at ${iso}, outside ${r.contact_hours.start}–${r.contact_hours.end}`,
      );
  }
  return out;
}

/** The pack an account's region selects under a raw policy, read from the raw policy itself. */
function packOfRaw(
  raw: { packs?: { default?: string; regions?: Record<string, string> } },
  region: string,
): Pack {
  const name = raw.packs?.regions?.[region] ?? raw.packs?.default ?? 'us-reg-f';
  return builtinPacks().get(name)!;
}

// ---------------------------------------------------------------------------------------------------------
// Generators. A scenario is a plain description; `build` turns it into decide's inputs, resolving the parts
// that depend on one another (local dates around now, contact hours of the policy) after generation.

const money = (max: number) =>
  fc.oneof(fc.double({ min: 0, max, noNaN: true }), fc.integer({ min: 0, max }), fc.constant(0));
const probability = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 0.6, 1));
/** True with probability about 1 / n. */
const rarely = (n: number) => fc.integer({ min: 1, max: n }).map((x) => x === 1);
/** Mostly a collection treatment: a matrix full of hold would leave the contact rules untested. */
const treatmentArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant('hold' as const) },
  { weight: 8, arbitrary: fc.constantFrom(...TREATMENTS.filter((t) => t !== 'hold')) },
);
const cellArb = fc.oneof(treatmentArb, fc.array(treatmentArb, { minLength: 1, maxLength: 4 }));

const matrixArb = fc.record(
  Object.fromEntries(SEGMENTS.map((s) => [s, cellArb])) as Record<(typeof SEGMENTS)[number], typeof cellArb>,
  { requiredKeys: [] },
);
const segmentsArb = fc.record(
  { willingness_high: probability, ability_high: probability },
  { requiredKeys: [] },
);
const modeArb = fc.constantFrom('matrix', 'expected_value');

function treatmentArbOf(t: Contactable) {
  return fc.record(
    {
      channels: fc.shuffledSubarray([...CHANNELS_FOR[t]], { minLength: 1 }),
      cost: fc.oneof({ weight: 3, arbitrary: money(10) }, { weight: 1, arbitrary: money(300) }),
      fallback: fc.array(fc.constantFrom(...TREATMENTS.filter((x) => x !== t)), { maxLength: 4 }),
    },
    { requiredKeys: [] },
  );
}
/** The staged flow's treatments are always enabled here (a disabled one in a matrix is refused at load). */
const optionalTreatmentArbOf = (t: 'field_visit' | 'agency_placement') =>
  treatmentArbOf(t).map((x) => ({ ...x, enabled: true }));
const treatmentsArb = fc.record(
  {
    gentle_nudge: treatmentArbOf('gentle_nudge'),
    plan_offer: treatmentArbOf('plan_offer'),
    human_call: treatmentArbOf('human_call'),
    legal: treatmentArbOf('legal'),
    field_visit: optionalTreatmentArbOf('field_visit'),
    agency_placement: optionalTreatmentArbOf('agency_placement'),
  },
  { requiredKeys: ['field_visit', 'agency_placement'] },
);
/** Staging: a shuffled partition of some treatments into 2–4 stages, each with the channels that show it tried. */
const stagingArb = fc
  .record({
    order: fc.shuffledSubarray([...TREATMENTS.filter((t) => t !== 'hold')], { minLength: 2 }),
    cuts: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
    triedBy: fc.array(fc.shuffledSubarray([...CONTACT_CHANNELS], { minLength: 1, maxLength: 3 }), {
      minLength: 4,
      maxLength: 4,
    }),
    tried_within_days: fc.integer({ min: 1, max: 90 }),
  })
  .map(({ order, cuts, triedBy, tried_within_days }) => {
    const at = [...new Set(cuts.map((c) => Math.min(c, order.length - 1)))].sort((a, b) => a - b);
    const bounds = [0, ...at, order.length];
    const stages = bounds
      .slice(1)
      .map((b, k) => ({ treatments: order.slice(bounds[k], b), tried_by: triedBy[k]! }));
    return { stages, tried_within_days };
  });
const channelCostArb = fc.record({
  cost: money(10),
  reach: fc.oneof(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.constant(1)),
});
const channelsArb = fc.record(
  {
    sms: channelCostArb,
    email: channelCostArb,
    app: channelCostArb,
    call: channelCostArb,
    letter: channelCostArb,
    legal: channelCostArb,
    visit: channelCostArb,
    agency: channelCostArb,
  },
  { requiredKeys: [] },
);

const capArb = (minDays: number, maxAttempts: number) =>
  fc.record({
    attempts: fc.integer({ min: 0, max: maxAttempts }),
    days: fc.integer({ min: minDays, max: 30 }),
  });
const guardrailsArb = fc.record(
  {
    contact_hours: fc
      .uniqueArray(fc.integer({ min: 8 * 60, max: 21 * 60 }), { minLength: 2, maxLength: 2 })
      .map(([a, b]) => ({ start: clockText(Math.min(a!, b!)), end: clockText(Math.max(a!, b!)) })),
    caps: fc.record(
      {
        call: capArb(7, 7),
        sms: capArb(1, 5),
        email: capArb(1, 5),
        app: capArb(1, 5),
        letter: capArb(1, 5),
        visit: capArb(1, 3),
      },
      { requiredKeys: [] },
    ),
    field_visit: fc.record({
      window: fc
        .uniqueArray(fc.integer({ min: 6 * 60, max: 23 * 60 }), { minLength: 2, maxLength: 2 })
        .map(([a, b]) => ({ start: clockText(Math.min(a!, b!)), end: clockText(Math.max(a!, b!)) })),
    }),
    agency_placement: fc.record({ min_days_past_due: fc.integer({ min: 30, max: 200 }) }),
    conversation_cooldown_days: fc.integer({ min: 7, max: 21 }),
    promise_grace_days: fc.integer({ min: 0, max: 10 }),
    legal: fc.record(
      {
        min_days_past_due: fc.integer({ min: 90, max: 200 }),
        min_overdue: money(2000),
        notice_min_age_days: fc.integer({ min: 14, max: 60 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const PACK_NAMES = ['us-reg-f', 'cn-2025', 'uk-conc'] as const;
const REGIONS = ['IL', 'CN-31', 'GB-LND'] as const;
/** cn-2025's own section: anything within the pack (08:00–22:00, no cooldown floor, at most 3 connected calls). */
const cnSectionArb = fc.record(
  {
    contact_hours: fc
      .uniqueArray(fc.integer({ min: 8 * 60, max: 22 * 60 }), { minLength: 2, maxLength: 2 })
      .map(([a, b]) => ({ start: clockText(Math.min(a!, b!)), end: clockText(Math.max(a!, b!)) })),
    conversation_cooldown_days: fc.integer({ min: 0, max: 14 }),
    connected_calls_per_day: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    // cn-2025 caps connected calls, not attempts: any attempt cap is within the pack.
    caps: fc.record({ call: capArb(1, 50) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const packsArb = fc.record(
  {
    default: fc.constantFrom(...PACK_NAMES),
    regions: fc.record(
      Object.fromEntries(REGIONS.map((r) => [r, fc.constantFrom(...PACK_NAMES)])) as Record<
        (typeof REGIONS)[number],
        fc.Arbitrary<(typeof PACK_NAMES)[number]>
      >,
      { requiredKeys: [] },
    ),
    guardrails: fc.record({ 'cn-2025': cnSectionArb }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const experimentArb = fc.record(
  {
    name: fc.string({ minLength: 1, maxLength: 12 }),
    salt: fc.string({ minLength: 1, maxLength: 12 }),
    challenger_share: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
    challenger: fc.record(
      {
        mode: modeArb,
        segments: segmentsArb,
        matrix: matrixArb,
        treatments: treatmentsArb,
        staging: stagingArb,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name', 'challenger_share', 'challenger'] },
);

/** A raw policy object inside the limits (parsePolicy must accept every one). */
const rawPolicyArb = (withExperiment: 'maybe' | 'always') =>
  fc.record(
    {
      version: fc.string({ minLength: 1, maxLength: 20 }),
      mode: modeArb,
      min_days_past_due: fc.integer({ min: 0, max: 60 }),
      segments: segmentsArb,
      matrix: matrixArb,
      channels: channelsArb,
      treatments: treatmentsArb,
      staging: stagingArb,
      response: fc.record({ partial_recovery: probability }, { requiredKeys: [] }),
      guardrails: guardrailsArb,
      packs: packsArb,
      experiment: experimentArb,
    },
    {
      requiredKeys:
        withExperiment === 'always' ? ['version', 'treatments', 'experiment'] : ['version', 'treatments'],
    },
  );

const accountArb = fc.record({
  account_id: fc.stringMatching(/^A[0-9]{1,6}$/),
  region: fc.constantFrom(...REGIONS),
  product: fc.constantFrom(...PRODUCTS),
  term_months: fc.integer({ min: 6, max: 72 }),
  months_on_book: fc.integer({ min: 0, max: 80 }),
  balance_extra: money(20000),
  amount_overdue: money(5000),
  installment_amount: money(800),
  days_past_due: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.constantFrom(0, 1, 89, 90, 91)),
  monthly_income: fc.option(fc.double({ min: 1, max: 20000, noNaN: true }), { nil: null }),
  timezone: fc.constantFrom(...ZONES),
  preferred_channel: fc.constantFrom(...PREFERRED_CHANNELS),
  phone_valid: rarely(8).map((x) => !x),
  email_valid: rarely(8).map((x) => !x),
  do_not_call: rarely(8),
  hardship_flag: rarely(6),
  dispute_open: rarely(40),
  bankruptcy_flag: rarely(40),
  deceased_flag: rarely(40),
  vulnerable_flag: rarely(6),
  cease_and_desist: rarely(40),
  complaint_open: rarely(6),
  /** Days before the customer's local today the legal notice was sent (negative: in the future); null: none. */
  notice_age: fc.option(fc.oneof(fc.integer({ min: -10, max: 120 }), fc.integer({ min: 12, max: 62 })), {
    nil: null,
    freq: 4,
  }),
});

/** The decision instant: anywhere in 2026, around a DST transition, or around a contact-hours edge. */
const nowArb = fc.oneof(
  fc.record({ kind: fc.constant('any' as const), ms: fc.integer({ min: YEAR_START, max: YEAR_END - 1 }) }),
  fc.record({
    kind: fc.constant('dst' as const),
    day: fc.constantFrom(...DST_DAYS),
    ms: fc.integer({ min: -36 * 3_600_000, max: 36 * 3_600_000 }),
  }),
  fc.record({
    kind: fc.constant('edge' as const),
    day: fc.oneof(fc.integer({ min: DAY0, max: DAY0 + 364 }), fc.constantFrom(...DST_DAYS)),
    edge: fc.constantFrom('start', 'end'),
    ms: fc.constantFrom(-60_000, -1000, -1, 0, 1, 1000, 60_000),
  }),
);

/** A contact `age` ms before now (negative: after now), landing on cap and cooldown window edges often. */
const contactArb = fc.record({
  age: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 30 * DAY }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom(-1000, -1, 0, 1, 1000))
        .map(([k, d]) => k * DAY + d),
    },
    { weight: 1, arbitrary: fc.constant(0) },
  ),
  channel: fc.constantFrom(...CONTACT_CHANNELS),
  outcome: fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constantFrom(...CONTACT_OUTCOMES.filter((o) => !CONVERSATION_OUTCOMES.includes(o))),
    },
    { weight: 2, arbitrary: fc.constantFrom('right_party', 'refused', 'dispute') },
    { weight: 1, arbitrary: fc.constant('promise_to_pay') },
  ),
  /** Promise date relative to the customer's local today; null: a promise without a date. */
  promise_in: fc.option(fc.integer({ min: -14, max: 12 }), { nil: null, freq: 3 }),
  /** Timestamps are written in UTC or with the customer's local offset. */
  local_offset: fc.boolean(),
});
const futureContactArb = contactArb.map((c) => ({ ...c, age: -1 - (c.age % (3 * DAY)) }));

const scoresArb = fc.record(
  {
    willingness: probability,
    ability: probability,
    byTreatment: fc.record(
      Object.fromEntries(TREATMENTS.map((t) => [t, fc.record({ pPay: probability, pCover: probability })])),
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['willingness', 'ability'] },
);

const scenarioArb = (withExperiment: 'maybe' | 'always' = 'maybe') =>
  fc.record({
    policy: rawPolicyArb(withExperiment),
    account: accountArb,
    now: nowArb,
    /** Seconds-resolution instants unless a property asks for milliseconds. */
    contacts: fc.array(contactArb, { maxLength: 20, size: 'max' }),
    future: fc.array(futureContactArb, { maxLength: 3 }),
    scores: scoresArb,
    callCapacityExhausted: rarely(5),
    visitCapacityExhausted: rarely(5),
  });
type Scenario = ReturnType<typeof scenarioArb> extends fc.Arbitrary<infer S> ? S : never;

interface Inputs {
  policy: Policy;
  account: AccountRow;
  scores: Scores;
  now: number;
  contacts: ContactRow[];
  callCapacityExhausted: boolean;
  visitCapacityExhausted: boolean;
  /** The account's rule pack, as the raw policy selects it by region. */
  pack: Pack;
}

/** The concrete inputs of a scenario; `wholeSeconds` floors now to a second (the ISO output's resolution). */
function build(s: Scenario, wholeSeconds = true): Inputs {
  const policy = parsePolicy(s.policy, 'property-test');
  const a = s.account;
  const tz = a.timezone;
  const hours = floorsOf(policy.packs, { region: a.region }).guardrails.contact_hours;
  const start = clockMinute(hours.start);
  const end = clockMinute(hours.end);
  let now: number;
  if (s.now.kind === 'any') now = s.now.ms;
  else if (s.now.kind === 'dst') now = s.now.day * DAY + s.now.ms;
  else now = localToUtcMs(tz, s.now.day, s.now.edge === 'start' ? start : end) + s.now.ms;
  if (wholeSeconds) now = Math.floor(now / 1000) * 1000;
  const today = localClock(tz, now).day;
  const loan = a.product !== 'card';
  const account = makeAccount({
    account_id: a.account_id,
    region: a.region,
    product: a.product,
    principal: loan ? a.amount_overdue + a.balance_extra : null,
    credit_limit: loan ? null : a.amount_overdue + a.balance_extra + 1000,
    term_months: loan ? a.term_months : null,
    months_on_book: a.months_on_book,
    balance: a.amount_overdue + a.balance_extra,
    amount_overdue: a.amount_overdue,
    installment_amount: a.installment_amount,
    days_past_due: a.days_past_due,
    monthly_income: a.monthly_income,
    timezone: tz,
    preferred_channel: a.preferred_channel,
    phone_valid: a.phone_valid,
    email_valid: a.email_valid,
    do_not_call: a.do_not_call,
    hardship_flag: a.hardship_flag,
    dispute_open: a.dispute_open,
    bankruptcy_flag: a.bankruptcy_flag,
    deceased_flag: a.deceased_flag,
    vulnerable_flag: a.vulnerable_flag,
    cease_and_desist: a.cease_and_desist,
    complaint_open: a.complaint_open,
    legal_notice_date: a.notice_age === null ? null : isoDate(today - a.notice_age),
  });
  const contacts = [...s.contacts, ...s.future].map((c) => {
    const ts = now - c.age;
    const promise = c.outcome === 'promise_to_pay';
    return makeContact({
      account_id: a.account_id,
      ts: c.local_offset ? isoInZone(tz, ts) : new Date(ts).toISOString(),
      channel: c.channel,
      outcome: c.outcome,
      promise_amount: promise ? 100 : null,
      promise_date: promise && c.promise_in !== null ? isoDate(today + c.promise_in) : null,
      agent_id: c.channel === 'call' || c.channel === 'visit' ? 'agent-7' : null,
    });
  });
  const scores: Scores = { willingness: s.scores.willingness, ability: s.scores.ability };
  if (s.scores.byTreatment) scores.byTreatment = s.scores.byTreatment;
  return {
    policy,
    account,
    scores,
    now,
    contacts,
    callCapacityExhausted: s.callCapacityExhausted,
    visitCapacityExhausted: s.visitCapacityExhausted,
    pack: packOfRaw(s.policy, a.region),
  };
}

/** The guardrails the policy gives the account's pack (the policy-wide ones with the pack's section merged). */
const accountGuardrails = (i: Inputs): Guardrails => floorsOf(i.policy.packs, i.account).guardrails;

function run(i: Inputs): Decision {
  return decide(
    i.account,
    i.scores,
    {
      now: i.now,
      contacts: i.contacts,
      callCapacityExhausted: i.callCapacityExhausted,
      visitCapacityExhausted: i.visitCapacityExhausted,
    },
    i.policy,
  );
}

const armRules = (policy: Policy, d: Decision): Rules =>
  d.experiment_arm === 'challenger' && policy.challenger ? policy.challenger : policy.champion;

// ---------------------------------------------------------------------------------------------------------

describe('the oracle', () => {
  // A lawful decision, then one bent rule at a time: the oracle must name each, or property (1) proves nothing.
  const policy = parsePolicy({ version: 'oracle' }, 'oracle-test');
  const g = policy.guardrails;
  const now = Date.parse('2026-03-10T15:00:00Z'); // 10:00 in Chicago, on CDT since 8 March
  const account = makeAccount({ preferred_channel: 'call', days_past_due: 30 });
  const arm = { rules: policy.champion, callCapacityExhausted: false };
  const lawful = decide(account, { willingness: 0.1, ability: 0.9 }, { now, contacts: [] }, policy);
  const daysAgo = (n: number) => new Date(now - n * DAY).toISOString();

  it('accepts a lawful decision', () => {
    expect([lawful.treatment, lawful.channel, lawful.earliest_contact_at]).toEqual([
      'human_call',
      'call',
      '2026-03-10T10:00:00-05:00',
    ]);
    expect(violations(account, [], now, g, lawful, arm)).toEqual([]);
  });

  const today = localClock('America/Chicago', now).day;
  const calls = Array.from({ length: 7 }, (_, k) => makeContact({ ts: daysAgo(k + 0.5) }));
  const talk = makeContact({ ts: daysAgo(6.9), channel: 'sms', outcome: 'right_party' });
  const promise = makeContact({
    ts: daysAgo(9),
    outcome: 'promise_to_pay',
    promise_date: isoDate(today - g.promise_grace_days),
  });
  it.each([
    ['deceased_flag', { deceased_flag: true }, [], {}, {}],
    ['do_not_call', { do_not_call: true }, [], {}, {}],
    ['invalid phone', { phone_valid: false }, [], {}, {}],
    ['cap 7', {}, calls, {}, {}],
    ['within 7 days of a conversation', {}, [talk], {}, {}],
    ['promise is open', {}, [promise], {}, {}],
    ['capacity exhausted', {}, [], {}, { callCapacityExhausted: true }],
    ['legal at 30 dpd', {}, [], { treatment: 'legal', channel: 'legal' }, {}],
    ['not a channel of human_call', {}, [], { channel: 'sms' }, {}],
    ['inside the hours but', {}, [], { earliest_contact_at: '2026-03-10T10:01:00-05:00' }, {}],
    ['has offset -360', {}, [], { earliest_contact_at: '2026-03-10T09:00:00-06:00' }, {}],
    ['hold with channel', {}, [], { treatment: 'hold' }, {}],
  ] as const)(
    'names a decision that breaks the rule: %s',
    (rule, accountChange, contacts, change, armChange) => {
      const d = { ...lawful, ...change };
      const broken = violations({ ...account, ...accountChange }, contacts, now, g, d, {
        ...arm,
        ...armChange,
      });
      expect(broken.join('\n')).toContain(rule);
    },
  );
});

// ---------------------------------------------------------------------------------------------------------

describe('the pack oracle', () => {
  // A lawful decision for a Shanghai account under cn-2025, then one bent pack rule at a time.
  const policy = parsePolicy(
    {
      version: 'pack-oracle',
      packs: {
        regions: { 'CN-31': 'cn-2025', 'GB-LND': 'uk-conc' },
        guardrails: { 'cn-2025': { contact_hours: { end: '22:00' }, conversation_cooldown_days: 0 } },
      },
    },
    'pack-oracle',
  );
  const packs = builtinPacks();
  const now = Date.parse('2026-11-25T10:00:00+08:00');
  const account = makeAccount({
    region: 'CN-31',
    timezone: 'Asia/Shanghai',
    preferred_channel: 'call',
    days_past_due: 30,
  });
  const lawful = decide(account, { willingness: 0.1, ability: 0.9 }, { now, contacts: [] }, policy);
  const cn = packs.get('cn-2025')!;
  const at = (local: string) => `2026-11-25T${local}:00+08:00`;
  const talk = (local: string) => makeContact({ ts: at(local), outcome: 'right_party' });

  it('accepts a lawful decision', () => {
    expect([lawful.treatment, lawful.channel]).toEqual(['human_call', 'call']);
    expect(packViolations(account, [], now, cn, lawful)).toEqual([]);
    expect(packViolations(account, [talk('08:10'), talk('09:10')], now, cn, lawful)).toEqual([]);
  });

  it.each([
    ['cn-2025 connected_calls_per_day', cn, {}, [talk('08:10'), talk('09:10'), talk('09:50')], {}],
    ['cn-2025 contact_hours', cn, {}, [], { earliest_contact_at: '2026-11-25T22:00:00+08:00' }],
    [
      'cn-2025 third_party_ban',
      cn,
      {},
      [makeContact({ ts: at('09:00'), channel: 'sms', outcome: 'wrong_party' })],
      {},
    ],
    ['opt_out', cn, {}, [makeContact({ ts: at('09:59'), outcome: 'opt_out' })], {}],
    ['uk-conc capacity_hold', packs.get('uk-conc')!, { vulnerable_flag: true }, [], {}],
    ['us-reg-f conversation_cooldown', packs.get('us-reg-f')!, {}, [talk('08:10')], {}],
  ] as const)('names a decision that breaks the rule: %s', (rule, pack, accountChange, contacts, change) => {
    const broken = packViolations({ ...account, ...accountChange }, contacts, now, pack, {
      ...lawful,
      ...change,
    });
    expect(broken.join('\n')).toContain(rule);
  });
});

describe('the staged-flow oracle', () => {
  // Lawful staged-flow decisions, then one bent rule at a time: the oracle must name each.
  const policy = parsePolicy(
    {
      version: 'staged-oracle',
      treatments: { field_visit: { enabled: true }, agency_placement: { enabled: true } },
      matrix: {
        low_willingness_high_ability: ['field_visit'],
        low_willingness_low_ability: ['agency_placement'],
      },
      staging: {
        stages: [
          { treatments: ['human_call'], tried_by: ['call'] },
          { treatments: ['field_visit'], tried_by: ['visit'] },
          { treatments: ['agency_placement'], tried_by: ['legal'] },
        ],
      },
    },
    'staged-oracle',
  );
  const g = policy.guardrails;
  const now = Date.parse('2026-03-10T15:00:00Z'); // 10:00 in Chicago
  const account = makeAccount({ days_past_due: 150 });
  const rules = policy.champion;
  const arm = { rules, callCapacityExhausted: false };
  const pack = builtinPacks().get('us-reg-f')!;
  const history = [
    makeContact({ ts: '2026-03-01T15:00:00Z', channel: 'call', outcome: 'no_answer' }),
    makeContact({ ts: '2026-03-05T15:00:00Z', channel: 'visit', outcome: 'no_answer' }),
  ];
  const visit = decide(account, { willingness: 0.1, ability: 0.9 }, { now, contacts: history }, policy);
  const placement = decide(account, { willingness: 0.1, ability: 0.1 }, { now, contacts: history }, policy);

  it('accepts lawful decisions', () => {
    expect([visit.treatment, placement.treatment]).toEqual(['field_visit', 'agency_placement']);
    for (const d of [visit, placement]) {
      expect(violations(account, history, now, g, d, arm)).toEqual([]);
      expect(stagingViolations(account, history, now, g, d, rules, pack)).toEqual([]);
    }
  });

  it.each([
    ['field_visit for a vulnerable customer', 'visit', { vulnerable_flag: true }, {}],
    ['field_visit for a hardship customer', 'visit', { hardship_flag: true }, {}],
    ['is outside 09:00–20:00', 'visit', {}, { earliest_contact_at: '2026-03-10T20:00:00-05:00' }],
    ['agency_placement at 100 dpd < 120', 'placement', { days_past_due: 100 }, {}],
    ['agency_placement with an open complaint', 'placement', { complaint_open: true }, {}],
    ['agency_placement without a handover', 'placement', {}, { handover: null }],
  ] as const)('names a decision that breaks the rule: %s', (rule, which, accountChange, change) => {
    const d = { ...(which === 'visit' ? visit : placement), ...change };
    expect(violations({ ...account, ...accountChange }, history, now, g, d, arm).join('\n')).toContain(rule);
  });

  it('names an escalation past a stage neither tried nor ruled out', () => {
    // Without the call of 1 March, the call stage was not tried, and a call is lawful: no visit.
    const d = { ...visit };
    expect(stagingViolations(account, history.slice(1), now, g, d, rules, pack).join('\n')).toContain(
      'not reached',
    );
  });
});

describe('decide: properties over random accounts, histories, instants and valid policies', () => {
  it('(1) no decision breaks a guardrail of DESIGN §6, and every treatment and channel is reached', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const i = build(s);
        const d = run(i);
        seen.add(d.treatment);
        if (d.channel) seen.add(`channel:${d.channel}`);
        for (const r of d.reasons) {
          if (r.includes('was tried:')) seen.add('stage:tried');
          if (r.includes('but ruled out today')) seen.add('stage:ruled out');
        }
        for (const code of d.reason_codes) if (code.startsWith('STAGE_')) seen.add(code);
        if (d.treatment !== 'hold')
          seen.add(d.earliest_contact_at === isoInZone(i.account.timezone, i.now) ? 'now' : 'later');
        const broken = violations(i.account, i.contacts, i.now, accountGuardrails(i), d, {
          rules: armRules(i.policy, d),
          callCapacityExhausted: i.callCapacityExhausted,
          visitCapacityExhausted: i.visitCapacityExhausted,
        });
        broken.push(...packViolations(i.account, i.contacts, i.now, i.pack, d));
        broken.push(
          ...stagingViolations(
            i.account,
            i.contacts,
            i.now,
            accountGuardrails(i),
            d,
            armRules(i.policy, d),
            i.pack,
          ),
        );
        expect(broken, `decision ${JSON.stringify(d)}`).toEqual([]);
      }),
      { seed: 20260601, numRuns: 8000 },
    );
    // The generators must reach every treatment, channel and both timings, or property (1) says little.
    for (const x of [...TREATMENTS, ...POLICY_CHANNELS.map((c) => `channel:${c}`)])
      expect(seen, `never reached ${x}`).toContain(x);
    expect(seen).toContain('now');
    expect(seen).toContain('later');
    for (const x of ['STAGE_ESCALATED', 'STAGE_NOT_REACHED', 'stage:tried', 'stage:ruled out'])
      expect(seen, `never reached ${x}`).toContain(x);
  });

  it('(2) a decision names the policy version, known guardrails, one reason per code, and its arm rules', () => {
    const known: readonly string[] = GUARDRAILS;
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const i = build(s);
        const d = run(i);
        const rules = armRules(i.policy, d);
        expect(d.policy_version).toBe(i.policy.version);
        expect(d.account_id).toBe(i.account.account_id);
        expect(d.decided_at).toBe(new Date(i.now).toISOString());
        expect(d.guardrails.filter((g) => !known.includes(g))).toEqual([]);
        expect(new Set(d.guardrails).size).toBe(d.guardrails.length);
        expect(d.reason_codes.length).toBe(d.reasons.length);
        expect(d.reason_codes.length).toBeGreaterThan(0);
        expect(d.reason_codes.filter((c) => !(c in REASON_CODES))).toEqual([]);
        expect(d.experiment_arm === null).toBe(i.policy.experiment === null);
        expect(d.mode).toBe(rules.mode);
        const w = i.scores.willingness >= rules.segments.willingness_high ? 'high' : 'low';
        const a = i.scores.ability >= rules.segments.ability_high ? 'high' : 'low';
        expect(d.segment).toBe(`${w}_willingness_${a}_ability`);
        expect(d.offer === null).toBe(d.treatment !== 'plan_offer');
      }),
      { seed: 20260602, numRuns: 1500 },
    );
  });

  it('(3) decide is deterministic and does not mutate its inputs', () => {
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const i = build(s);
        const before = structuredClone(i);
        const first = run(i);
        const second = run(i);
        expect(second).toEqual(first);
        expect(i).toEqual(before);
        expect(run(structuredClone(i))).toEqual(first);
      }),
      { seed: 20260603, numRuns: 1000 },
    );
  });

  it('(4) the experiment arm is a function of account_id alone (for a given policy)', () => {
    fc.assert(
      fc.property(rawPolicyArb('always'), scenarioArb(), scenarioArb(), (raw, s1, s2) => {
        const a = build({ ...s1, policy: raw });
        const b = build({ ...s2, policy: raw });
        b.account = { ...b.account, account_id: a.account.account_id };
        const da = run(a);
        const db = run(b);
        expect(da.experiment_arm).not.toBeNull();
        expect(db.experiment_arm).toBe(da.experiment_arm);
      }),
      { seed: 20260604, numRuns: 1000 },
    );
  });

  it('(5) adding a suppression flag to any account turns any decision into hold', () => {
    fc.assert(
      fc.property(scenarioArb(), fc.constantFrom(...SUPPRESSION_FLAGS), (s, flag) => {
        const i = build(s);
        const d = run({ ...i, account: { ...i.account, [flag]: true } });
        expect([d.treatment, d.channel, d.earliest_contact_at, d.offer]).toEqual(['hold', null, null, null]);
      }),
      { seed: 20260605, numRuns: 1500 },
    );
  });

  it('(6) a contact decision’s expected value: net = recovery − cost, recovery within [0, overdue]', () => {
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const i = build(s);
        const d = run(i);
        if (d.treatment === 'hold' || d.treatment === 'human_review' || d.channel === null) return;
        const rules = armRules(i.policy, d);
        const { recovery, cost, net } = d.expected;
        expect(net).toBe(recovery - cost);
        expect(recovery).toBeGreaterThanOrEqual(0);
        expect(recovery).toBeLessThanOrEqual(i.account.amount_overdue);
        expect(cost).toBe(rules.treatments[d.treatment].cost + rules.channels[d.channel].cost);
      }),
      { seed: 20260606, numRuns: 3000 },
    );
  });

  it('(7) earliest_contact_at is never before now, also for instants with milliseconds', () => {
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const i = build(s, false);
        const d = run(i);
        if (d.earliest_contact_at === null) return;
        expect(Date.parse(d.earliest_contact_at)).toBeGreaterThanOrEqual(i.now);
      }),
      { seed: 20260607, numRuns: 1000 },
    );
  });

  it('(8) an undated promise holds off legal and human calls for promise_grace_days local days', () => {
    // Property (1) meets this case rarely (an undated promise made on the last local day of its grace, in a
    // zone ahead of UTC), so here every scenario gets one, made around that day, on an account otherwise ready
    // for legal action.
    const ready = fc.record({
      overdue: fc.integer({ min: 2000, max: 5000 }),
      age: fc.integer({ min: -DAY, max: 2 * DAY }),
    });
    fc.assert(
      fc.property(scenarioArb(), ready, fc.constantFrom(...CONTACT_CHANNELS), (s, r, channel) => {
        const i = build(s);
        const g = accountGuardrails(i);
        i.account = {
          ...i.account,
          days_past_due: Math.max(i.account.days_past_due, 200),
          amount_overdue: r.overdue,
          legal_notice_date: isoDate(localClock(i.account.timezone, i.now).day - 60),
          vulnerable_flag: false,
          hardship_flag: false,
          complaint_open: false,
        };
        const ts = i.now - Math.max(0, g.promise_grace_days * DAY + r.age);
        i.contacts.push(
          makeContact({
            account_id: i.account.account_id,
            ts: new Date(ts).toISOString(),
            channel,
            outcome: 'promise_to_pay',
          }),
        );
        const d = run(i);
        const broken = violations(i.account, i.contacts, i.now, g, d, {
          rules: armRules(i.policy, d),
          callCapacityExhausted: i.callCapacityExhausted,
          visitCapacityExhausted: i.visitCapacityExhausted,
        });
        broken.push(...packViolations(i.account, i.contacts, i.now, i.pack, d));
        expect(broken, `decision ${JSON.stringify(d)}`).toEqual([]);
      }),
      { seed: 20260608, numRuns: 2000 },
    );
  });

  it("(9) no decision breaks its account's rule pack (connected calls today, hours, opt-outs, third parties, holds)", () => {
    // Property (1) meets connected calls of the same local day, opt-outs and third parties only now and then, so
    // here every scenario adds a few contacts of the last hours and days, calls made by the lender or an agency.
    const recent = fc.record({
      minutesAgo: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 16 * 60 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 9 * 24 * 60 }) },
      ),
      channel: fc.oneof(
        { weight: 3, arbitrary: fc.constant('call' as const) },
        { weight: 2, arbitrary: fc.constantFrom(...CONTACT_CHANNELS) },
      ),
      outcome: fc.constantFrom(
        'right_party',
        'right_party',
        'no_answer',
        'opt_out',
        'wrong_party',
        'refused',
      ),
      agency: fc.boolean(),
    });
    /** Half the time cn-2025 accounts get the pack's own floors (no cooldown), so its connected-call cap binds. */
    const cnFloors = (raw: Scenario['policy']): Scenario['policy'] => ({
      ...raw,
      packs: {
        ...raw.packs,
        regions: { ...raw.packs?.regions, 'CN-31': 'cn-2025' },
        guardrails: {
          'cn-2025': {
            ...raw.packs?.guardrails?.['cn-2025'],
            conversation_cooldown_days: 0,
            // cn-2025 has no cap on attempts, only on connected calls: let that one bind.
            caps: { call: { attempts: 50, days: 1 } },
          },
        },
      },
    });
    /**
     * A scenario where a call is what the strategy wants: cn-2025's own floors, a reluctant but able customer
     * whose cell is a human call, reachable by phone, with only the recent contacts as history.
     */
    const callReady = (s: Scenario): Scenario => {
      // No staging (in either arm): a call must not wait for an earlier stage here.
      const { staging: _staging, ...raw } = cnFloors(s.policy);
      if (raw.experiment) {
        const { staging: _armStaging, ...challenger } = raw.experiment.challenger;
        raw.experiment = { ...raw.experiment, challenger };
      }
      return {
        ...s,
        policy: {
          ...raw,
          mode: 'matrix',
          matrix: { ...raw.matrix, low_willingness_high_ability: 'human_call' },
        },
        account: { ...s.account, phone_valid: true, do_not_call: false, preferred_channel: 'call' },
        scores: { willingness: 0.1, ability: 0.9 },
        contacts: [],
        callCapacityExhausted: false,
      };
    };
    const fired = new Set<string>();
    const packs = new Set<string>();
    fc.assert(
      fc.property(scenarioArb(), fc.array(recent, { maxLength: 8 }), fc.boolean(), (s, extra, cn) => {
        // With the pack's own floors, the history is the recent contacts alone (an older promise or many old
        // calls would rule calls out before the connected-call cap could).
        const i = build(cn ? callReady(s) : s);
        for (const c of extra)
          i.contacts.push(
            makeContact({
              account_id: i.account.account_id,
              ts: new Date(i.now - c.minutesAgo * 60_000).toISOString(),
              channel: c.channel,
              outcome: c.outcome,
              agent_id: c.channel === 'call' ? (c.agency ? 'agency-2' : 'lender-1') : null,
            }),
          );
        const d = run(i);
        for (const g of d.guardrails) fired.add(g);
        packs.add(i.pack.pack);
        const broken = violations(i.account, i.contacts, i.now, accountGuardrails(i), d, {
          rules: armRules(i.policy, d),
          callCapacityExhausted: i.callCapacityExhausted,
          visitCapacityExhausted: i.visitCapacityExhausted,
        });
        broken.push(...packViolations(i.account, i.contacts, i.now, i.pack, d));
        broken.push(
          ...stagingViolations(
            i.account,
            i.contacts,
            i.now,
            accountGuardrails(i),
            d,
            armRules(i.policy, d),
            i.pack,
          ),
        );
        expect(broken, `pack ${i.pack.pack}, decision ${JSON.stringify(d)}`).toEqual([]);
      }),
      { seed: 20260609, numRuns: 3000 },
    );
    // The scenarios must reach every pack and make every pack guardrail fire, or the property says little.
    expect([...packs].sort()).toEqual(['cn-2025', 'uk-conc', 'us-reg-f']);
    for (const g of [
      'cap_connected_calls',
      'opt_out',
      'third_party',
      'capacity_hold',
      'outside_contact_hours',
    ])
      expect(fired, `never fired: ${g}`).toContain(g);
  });
});

describe('counterexamples found by the properties, as plain examples', () => {
  const policy = parsePolicy({ version: 'examples' }, 'examples');
  const low = { willingness: 0.1, ability: 0.1 }; // low/low: legal, then human_call, then their fallbacks

  it('an undated promise made on local 3 January is open on local 6 January in Lord Howe (grace 3 days)', () => {
    // 2026-01-05T22:00Z is 09:00 on 6 January in Lord Howe (+11:00); the promise, 2026-01-02T22:00Z, was made at
    // 09:00 on 3 January there, on 2 January in UTC. Found by property (8).
    const account = makeAccount({
      timezone: 'Australia/Lord_Howe',
      days_past_due: 200,
      amount_overdue: 2000,
      legal_notice_date: '2025-11-01',
    });
    const promise = makeContact({ ts: '2026-01-02T22:00:00Z', channel: 'sms', outcome: 'promise_to_pay' });
    const d = decide(account, low, { now: Date.parse('2026-01-05T22:00:00Z'), contacts: [promise] }, policy);
    expect(['legal', 'human_call']).not.toContain(d.treatment);
    expect(d.guardrails).toContain('promise_pending');
  });

  it('earliest_contact_at keeps the milliseconds of a now inside the contact hours', () => {
    // 10:00:00.250 in Chicago: contact may happen now, not 250 ms before it. Found by property (7).
    const now = Date.parse('2026-03-10T15:00:00.250Z');
    const d = decide(makeAccount({ days_past_due: 30 }), low, { now, contacts: [] }, policy);
    expect(d.treatment).not.toBe('hold');
    expect(Date.parse(d.earliest_contact_at!)).toBeGreaterThanOrEqual(now);
  });
});
