import type { Rules } from '../policy/schema.ts';
import type { Treatment } from '../schema/enums.ts';
import type { AccountRow, ContactRow, PaymentRow } from '../schema/tables.ts';
import { dayOf } from '../time/dates.ts';
import { localClock } from '../time/timezone.ts';
import { matchPromises } from './match.ts';

/** Outcomes that mean the customer was reached after a promise broke: the follow-up has happened. */
const REACHED = new Set(['delivered', 'right_party', 'promise_to_pay', 'refused', 'dispute']);

/** The follow-up a broken promise asks for today: the treatments to try first and the reason text. */
export interface FollowUp {
  treatments: readonly Treatment[];
  reason: string;
}

/**
 * The broken-promise rule (docs/policy.md, `promises`): when the account's latest broken promise broke within the
 * last `broken_promise_follow_up_days` days (the day it broke counts as day 1), no promise is still open and no
 * contact has reached the customer since it broke, the decision tries the policy's `follow_up` treatments first.
 * Guardrails are not consulted here: `decide` still checks each treatment, so a follow-up happens only where lawful.
 * Without the account's payments nothing can be known broken, and the rule does not apply (null).
 * @param graceDays the account's `promise_grace_days` (its rule pack's guardrails).
 */
export function brokenPromiseFollowUp(
  account: Pick<AccountRow, 'timezone'>,
  contacts: readonly ContactRow[],
  payments: readonly PaymentRow[] | undefined,
  now: number,
  rules: Rules['promises'],
  graceDays: number,
): FollowUp | null {
  // Without payments (the score API today) nothing more is read: the hot path pays one comparison.
  if (!payments) return null;
  const days = rules.broken_promise_follow_up_days;
  if (days === 0) return null;
  const matched = matchPromises(contacts, payments, { graceDays, now, timezone: account.timezone });
  let broken: (typeof matched)[number] | null = null;
  for (const p of matched) {
    if (p.status === 'open') return null;
    if (p.status === 'broken' && (!broken || p.settled_on! > broken.settled_on!)) broken = p;
  }
  if (!broken) return null;
  const brokeDay = dayOf(broken.settled_on!);
  const today = localClock(account.timezone, now).day;
  const age = today - brokeDay;
  if (age >= days) return null;
  for (const c of contacts) {
    const ms = Date.parse(c.ts);
    if (ms <= now && REACHED.has(c.outcome) && localClock(account.timezone, ms).day >= brokeDay) return null;
  }
  const promised = broken.amount === null ? 'a payment' : broken.amount.toFixed(2);
  return {
    treatments: rules.follow_up,
    reason:
      `a promise to pay ${promised} by ${broken.promise_date ?? broken.made_on} broke on ${broken.settled_on} ` +
      `(${broken.covered.toFixed(2)} paid in time): follow up within ${days} days with ${rules.follow_up.join(', then ')}`,
  };
}

/** `ranked` with the follow-up treatments moved to the front, in their order (each treatment once). */
export function followUpFirst(ranked: readonly Treatment[], follow: readonly Treatment[]): Treatment[] {
  return [...follow, ...ranked.filter((t) => !follow.includes(t))];
}
