import type { Treatment } from '../schema/enums.ts';
import type { AccountRow, ContactRow } from '../schema/tables.ts';
import { dayOf, isoOf } from '../time/dates.ts';
import { instantMs } from '../time/instant.ts';
import { localClock, localToUtcMs } from '../time/timezone.ts';
import { clockAt, localDayStartAt } from './instant-memo.ts';
import { connectedCallCap } from './packs/floors.ts';
import type { Pack } from './packs/schema.ts';
import { type Guardrails, minuteOf, type PolicyChannel } from './schema.ts';

/**
 * Guardrails (DESIGN §6): the rules that protect borrowers. They are computed from the account, its contact
 * history and the clock, before any strategy, and `decide` never picks what they block.
 */

/** Every guardrail by name; docs/policy.md explains each. */
export const GUARDRAILS = [
  'deceased',
  'bankruptcy',
  'dispute_open',
  'cease_and_desist',
  'vulnerable_no_legal',
  'hardship_no_legal',
  'legal_days_past_due',
  'legal_min_overdue',
  'legal_notice',
  'complaint_open',
  'promise_pending',
  'do_not_call',
  'phone_invalid',
  'email_invalid',
  'cap_call',
  'cap_sms',
  'cap_email',
  'cap_app',
  'cap_letter',
  'conversation_cooldown',
  'outside_contact_hours',
  // The staged flow's treatments (docs/policy.md "The staged flow").
  'vulnerable_no_visit',
  'hardship_no_visit',
  'visit_hours',
  'cap_visit',
  'placement_days_past_due',
  'vulnerable_no_placement',
  'cap_connected_calls',
  'opt_out',
  'third_party',
  'capacity_hold',
  // Offer rules of a rule pack (plan-offer.ts): they shape a plan offer's terms rather than block a treatment.
  'forbearance',
  'no_lump_sum',
  // A customer's standing request for a human decision: no automated treatment (decide.ts, docs/policy.md).
  'human_review',
] as const;
export type GuardrailName = (typeof GUARDRAILS)[number];

/** One guardrail that applies to the account now, with what it found. */
export interface GuardrailHit {
  name: GuardrailName;
  detail: string;
}

/** What the guardrails allow for one account at one instant. */
export interface Constraints {
  /** Non-empty: no collection contact at all (route to specialist review). */
  suppressed: GuardrailHit[];
  /** Guardrails forbidding a treatment outright. */
  treatment: Partial<Record<Treatment, GuardrailHit[]>>;
  /** Guardrails forbidding a channel. */
  channel: Partial<Record<PolicyChannel, GuardrailHit[]>>;
  /** First allowed contact instant (epoch ms): now when inside the contact hours, else the next window. */
  earliestMs: number;
  /** Set when now is outside the contact hours. */
  outsideHours: GuardrailHit | null;
  /**
   * A field visit's timing, worked out on demand (most decisions are no visit, and it costs a time-zone
   * conversion): its first allowed instant inside both the contact hours and the policy's visit window (now when
   * inside both, else the next instant that is; NaN when no minute lies inside both), and the hit when now is
   * outside them (a visit is then scheduled).
   */
  visitTiming: () => { earliestMs: number; outside: GuardrailHit | null };
}

const DAY_MS = 86_400_000;
/** Outcomes that mean the customer was spoken to (they start the conversation cooldown). */
const CONVERSATION = new Set(['right_party', 'promise_to_pay', 'refused', 'dispute']);
const CAPPED: readonly (keyof Guardrails['caps'])[] = ['call', 'sms', 'email', 'app', 'letter', 'visit'];
/**
 * Channels a customer can opt out of (12 CFR 1006.14(h)), a visit in person included; legal process is not a
 * medium they choose.
 */
const OPT_OUT: ReadonlySet<string> = new Set(['call', 'sms', 'email', 'app', 'letter', 'visit']);
/**
 * The channels that reach the same number or address as a contact on a channel: a third party who answered a
 * call also gets that number's SMS; a visit and a letter go to one address.
 */
const SAME_POINT: Readonly<Record<string, readonly PolicyChannel[]>> = {
  call: ['call', 'sms'],
  sms: ['call', 'sms'],
  email: ['email'],
  app: ['app'],
  letter: ['letter', 'visit'],
  visit: ['letter', 'visit'],
  legal: [],
};

/** Like `add`, but once per guardrail and key: one opt-out of a channel is enough to name. */
function addOnce<K extends string>(
  map: Partial<Record<K, GuardrailHit[]>>,
  key: K,
  name: GuardrailName,
  detail: string,
): void {
  if (!map[key]?.some((h) => h.name === name)) add(map, key, name, detail);
}

function add<K extends string>(
  map: Partial<Record<K, GuardrailHit[]>>,
  key: K,
  name: GuardrailName,
  detail: string,
): void {
  const hit = { name, detail };
  const list = map[key];
  if (list) list.push(hit);
  else map[key] = [hit];
}

/**
 * The constraints on `account` at instant `now` given its `contacts` (contacts after `now` are ignored).
 * Caps count attempts in the half-open window (now − days, now]. Dates (legal notice, promise) are compared
 * with the customer's local date of `now`. `account.timezone` must be an IANA zone (validated at the boundary).
 * `g` are the guardrails of the account's rule pack `pack` (packs/select.ts `floorsOf`); without a pack only the
 * policy's own guardrails and the rules every pack shares apply.
 */
export function constraintsFor(
  account: AccountRow,
  contacts: readonly ContactRow[],
  now: number,
  g: Guardrails,
  pack: Pack | null = null,
): Constraints {
  const c: Constraints = {
    suppressed: [],
    treatment: {},
    channel: {},
    earliestMs: now,
    outsideHours: null,
    visitTiming: () => ({ earliestMs: now, outside: null }),
  };
  if (account.deceased_flag) c.suppressed.push({ name: 'deceased', detail: 'customer reported deceased' });
  if (account.bankruptcy_flag) c.suppressed.push({ name: 'bankruptcy', detail: 'bankruptcy proceedings' });
  if (account.dispute_open) c.suppressed.push({ name: 'dispute_open', detail: 'the debt is disputed' });
  if (account.cease_and_desist)
    c.suppressed.push({ name: 'cease_and_desist', detail: 'written cease-and-desist request' });
  const capacity = pack?.rules.capacity_hold;
  if (capacity && account.vulnerable_flag)
    c.suppressed.push({
      name: 'capacity_hold',
      detail: `a mental-capacity concern is flagged (vulnerable_flag): recovery suspended (${pack.pack}: ${capacity.source})`,
    });

  const clock = clockAt(account.timezone, now);
  legalPrerequisites(account, clock.day, g, c);
  visitAndPlacementPrerequisites(account, g, c);

  if (account.do_not_call) add(c.channel, 'call', 'do_not_call', 'customer asked not to be called');
  if (!account.phone_valid) {
    add(c.channel, 'call', 'phone_invalid', 'no valid phone number');
    add(c.channel, 'sms', 'phone_invalid', 'no valid phone number');
  }
  if (!account.email_valid) add(c.channel, 'email', 'email_invalid', 'no valid email address');

  contactHistory(contacts, now, clock.day, account.timezone, g, c, pack);

  const start = minuteOf(g.contact_hours.start);
  const end = minuteOf(g.contact_hours.end);
  if (clock.minute < start || clock.minute >= end) {
    c.earliestMs = localToUtcMs(account.timezone, clock.minute < start ? clock.day : clock.day + 1, start);
    c.outsideHours = {
      name: 'outside_contact_hours',
      detail: `local time ${hhmm(clock.minute)} is outside ${hhmm(start)}–${hhmm(end)}`,
    };
  }
  visitWindow(account.timezone, clock, start, end, g, c);
  return c;
}

/**
 * A visit happens inside the contact hours and the policy's visit window both: the window can only narrow the
 * hours. Outside, the visit is scheduled for the next minute inside both; with none, visits are ruled out.
 */
function visitWindow(
  tz: string,
  clock: { day: number; minute: number },
  hoursStart: number,
  hoursEnd: number,
  g: Guardrails,
  c: Constraints,
): void {
  const ws = Math.max(hoursStart, minuteOf(g.field_visit.window.start));
  const we = Math.min(hoursEnd, minuteOf(g.field_visit.window.end));
  if (ws >= we) {
    c.visitTiming = () => ({ earliestMs: Number.NaN, outside: null });
    add(
      c.treatment,
      'field_visit',
      'visit_hours',
      `the visit window ${g.field_visit.window.start}–${g.field_visit.window.end} and the contact hours ${hhmm(hoursStart)}–${hhmm(hoursEnd)} share no minute`,
    );
    return;
  }
  if (clock.minute < ws || clock.minute >= we)
    c.visitTiming = () => ({
      earliestMs: localToUtcMs(tz, clock.minute < ws ? clock.day : clock.day + 1, ws),
      outside: {
        name: 'visit_hours',
        detail: `local time ${hhmm(clock.minute)} is outside the visit window ${hhmm(ws)}–${hhmm(we)} (inside the contact hours)`,
      },
    });
}

/**
 * Field visits and agency placement (the staged flow, docs/policy.md): a visit never for a vulnerable or hardship
 * customer; a placement only from the policy's days past due, never for a vulnerable customer or with an open
 * complaint (open promises hold both, in `contactHistory`).
 */
function visitAndPlacementPrerequisites(account: AccountRow, g: Guardrails, c: Constraints): void {
  if (account.vulnerable_flag)
    add(c.treatment, 'field_visit', 'vulnerable_no_visit', 'customer is vulnerable: no visit to their home');
  if (account.hardship_flag)
    add(
      c.treatment,
      'field_visit',
      'hardship_no_visit',
      'customer declared hardship: no visit to their home',
    );
  const min = g.agency_placement.min_days_past_due;
  if (account.days_past_due < min)
    add(
      c.treatment,
      'agency_placement',
      'placement_days_past_due',
      `${account.days_past_due} days past due, ${min} needed`,
    );
  if (account.vulnerable_flag)
    add(
      c.treatment,
      'agency_placement',
      'vulnerable_no_placement',
      'customer is vulnerable: the lender keeps the account',
    );
  if (account.complaint_open)
    add(c.treatment, 'agency_placement', 'complaint_open', 'the customer has an open complaint');
}

function legalPrerequisites(account: AccountRow, today: number, g: Guardrails, c: Constraints): void {
  if (account.vulnerable_flag) add(c.treatment, 'legal', 'vulnerable_no_legal', 'customer is vulnerable');
  if (account.hardship_flag) add(c.treatment, 'legal', 'hardship_no_legal', 'customer declared hardship');
  if (account.days_past_due < g.legal.min_days_past_due)
    add(
      c.treatment,
      'legal',
      'legal_days_past_due',
      `${account.days_past_due} days past due, ${g.legal.min_days_past_due} needed`,
    );
  if (account.amount_overdue < g.legal.min_overdue)
    add(
      c.treatment,
      'legal',
      'legal_min_overdue',
      `overdue ${account.amount_overdue.toFixed(2)}, ${g.legal.min_overdue} needed`,
    );
  if (account.legal_notice_date === null) add(c.treatment, 'legal', 'legal_notice', 'no legal notice sent');
  else {
    const age = today - dayOf(account.legal_notice_date);
    if (age < g.legal.notice_min_age_days)
      add(
        c.treatment,
        'legal',
        'legal_notice',
        `legal notice sent ${age} days ago, ${g.legal.notice_min_age_days} needed`,
      );
  }
  if (account.complaint_open)
    add(c.treatment, 'legal', 'complaint_open', 'the customer has an open complaint');
}

function contactHistory(
  contacts: readonly ContactRow[],
  now: number,
  today: number,
  tz: string,
  g: Guardrails,
  c: Constraints,
  pack: Pack | null,
): void {
  const counts = [0, 0, 0, 0, 0, 0]; // attempts in each capped channel's window, CAPPED order
  // Connected calls are counted in the customer's local day, whoever made them (the lender or an agency).
  const connectedCap = pack ? connectedCallCap(g, pack) : g.connected_calls_per_day;
  // `today` is the local day of `now` (constraintsFor), so its start is the memo's.
  const dayStart = connectedCap === null ? 0 : localDayStartAt(tz, now);
  const thirdPartyBan = pack?.rules.third_party_ban;
  let connected = 0;
  const cooldownFrom = now - g.conversation_cooldown_days * DAY_MS;
  let lastConversation = Number.NEGATIVE_INFINITY;
  let promiseUntil = Number.NEGATIVE_INFINITY;
  for (const contact of contacts) {
    const ts = instantMs(contact.ts);
    if (ts > now) continue;
    const k = CAPPED.indexOf(contact.channel as (typeof CAPPED)[number]);
    if (k >= 0 && ts > now - g.caps[CAPPED[k]!].days * DAY_MS) counts[k]!++;
    if (CONVERSATION.has(contact.outcome)) {
      if (ts > lastConversation) lastConversation = ts;
      if (connectedCap !== null && contact.channel === 'call' && ts >= dayStart) connected++;
    }
    // An opt-out holds from its instant on (the customer's request, 12 CFR 1006.14(h)), under every pack.
    if (contact.outcome === 'opt_out' && OPT_OUT.has(contact.channel))
      addOnce(
        c.channel,
        contact.channel as PolicyChannel,
        'opt_out',
        `the customer opted out of ${contact.channel} at ${contact.ts}`,
      );
    if (thirdPartyBan && contact.outcome === 'wrong_party')
      for (const ch of SAME_POINT[contact.channel] ?? [])
        addOnce(
          c.channel,
          ch,
          'third_party',
          `a ${contact.channel} contact at ${contact.ts} reached a third party: that number or address is not used again (${pack!.pack}: ${thirdPartyBan.source})`,
        );
    if (contact.outcome === 'promise_to_pay') {
      // A promise without a date is held open for the grace period after it was made.
      const due = contact.promise_date === null ? localClock(tz, ts).day : dayOf(contact.promise_date);
      promiseUntil = Math.max(promiseUntil, due + g.promise_grace_days);
    }
  }
  CAPPED.forEach((ch, k) => {
    const cap = g.caps[ch];
    if (counts[k]! >= cap.attempts)
      add(
        c.channel,
        ch,
        `cap_${ch}`,
        `${counts[k]} ${ch} attempt(s) in the last ${cap.days} days, at most ${cap.attempts}`,
      );
  });
  if (connectedCap !== null && connected >= connectedCap)
    add(
      c.channel,
      'call',
      'cap_connected_calls',
      `${connected} connected call(s) today (local day), at most ${connectedCap} by the lender and its agencies together` +
        (pack?.rules.connected_calls_per_day
          ? ` (${pack.pack}: ${pack.rules.connected_calls_per_day.source})`
          : ''),
    );
  if (lastConversation > cooldownFrom)
    add(
      c.channel,
      'call',
      'conversation_cooldown',
      `spoke with the customer ${Math.floor((now - lastConversation) / DAY_MS)} day(s) ago; no call for ${g.conversation_cooldown_days} days after a conversation`,
    );
  if (promiseUntil >= today) {
    const detail = `a promise to pay is open until ${isoOf(promiseUntil)} (grace included)`;
    // No phone call of any kind (a plan offer by phone included), no visit, no placement and no legal while the
    // customer keeps a promise.
    add(c.treatment, 'human_call', 'promise_pending', detail);
    add(c.treatment, 'legal', 'promise_pending', detail);
    add(c.treatment, 'field_visit', 'promise_pending', detail);
    add(c.treatment, 'agency_placement', 'promise_pending', detail);
    add(c.channel, 'call', 'promise_pending', detail);
  }
}

function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
