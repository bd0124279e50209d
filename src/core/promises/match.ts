import type { ContactRow, PaymentRow } from '../schema/tables.ts';
import { dayOf, isoOf } from '../time/dates.ts';
import { localClock } from '../time/timezone.ts';

/**
 * Promises to pay matched to payments (DESIGN §6, issue 16). Payments are allocated to the open promises oldest
 * first, as collections systems do (Oracle's and Pega's promise matching): a payment covers the oldest open
 * promise's remaining amount and the rest goes on to the next. The one source of "kept" and "broken" for the policy's
 * follow-up rule and the backtest's promise-kept rates.
 *
 * Days are day numbers (core/time/dates.ts) in the customer's own zone for the day a promise was made; payment and
 * promise dates are calendar dates as the data contract writes them. Money is added in whole cents, so a promise of
 * 10.10 paid 5.05 + 5.05 is kept exactly.
 */

/** Where a promise stands as of the matching instant. */
export type PromiseStatus = 'kept' | 'broken' | 'open';

/** One promise to pay with what the payments made of it. */
export interface MatchedPromise {
  /** When the promise was made (the contact's `ts`). */
  made_at: string;
  /** Date the promise was made, in the customer's zone (payments dated before it do not count). */
  made_on: string;
  /** The promised date; null when the contact gave none (then the promise is due the day it was made). */
  promise_date: string | null;
  /** Last date a payment keeps the promise: its date (or the day it was made) plus the grace days. */
  deadline: string;
  /** Amount promised; null when the contact gave none (then any payment in its window keeps it). */
  amount: number | null;
  /** Amount allocated to the promise so far (currency units, exact to the cent). */
  covered: number;
  status: PromiseStatus;
  /**
   * Kept: the date of the payment that covered it fully. Broken: the first day after its deadline (the day it
   * could no longer be kept). Open: null.
   */
  settled_on: string | null;
}

/** Options of `matchPromises`. */
export interface MatchOptions {
  /** Days after the promised date a payment still keeps the promise (the policy's `promise_grace_days`). */
  graceDays: number;
  /** The matching instant (epoch ms): contacts after it and payments dated on or after its local day are unknown. */
  now: number;
  /** The customer's IANA zone: the day a promise was made and "today" are local days. */
  timezone: string;
}

interface Open {
  out: MatchedPromise;
  madeDay: number;
  deadlineDay: number;
  /** Remaining amount in cents; -1 for a promise without an amount. */
  remaining: number;
  order: number;
  madeMs: number;
}

const cents = (x: number) => Math.round(x * 100);

/**
 * Matches an account's promises (its `promise_to_pay` contacts, any order) to its payments (any order), as known
 * at `o.now`. A payment counts for a promise when it is dated from the day the promise was made to its deadline;
 * it goes to the oldest such promise first (by the time the promise was made; same instant: input order), and what
 * is left over goes on to the next. A promise without an amount is kept by any payment in its window and takes none
 * of the money. Payments dated "today" (the local day of `now`) are not yet known, so a promise is broken only once
 * its deadline is before today. Returns the promises oldest first.
 */
export function matchPromises(
  contacts: readonly ContactRow[],
  payments: readonly PaymentRow[],
  o: MatchOptions,
): MatchedPromise[] {
  const today = Number.isFinite(o.now) ? localClock(o.timezone, o.now).day : Number.POSITIVE_INFINITY;
  const promises: Open[] = [];
  contacts.forEach((c, order) => {
    if (c.outcome !== 'promise_to_pay') return;
    const madeMs = Date.parse(c.ts);
    if (madeMs > o.now) return;
    const madeDay = localClock(o.timezone, madeMs).day;
    const dueDay = c.promise_date === null ? madeDay : dayOf(c.promise_date);
    const deadlineDay = dueDay + o.graceDays;
    promises.push({
      out: {
        made_at: c.ts,
        made_on: isoOf(madeDay),
        promise_date: c.promise_date,
        deadline: isoOf(deadlineDay),
        amount: c.promise_amount,
        covered: 0,
        status: 'open',
        settled_on: null,
      },
      madeDay,
      deadlineDay,
      remaining: c.promise_amount === null ? -1 : cents(c.promise_amount),
      order,
      madeMs,
    });
  });
  promises.sort((a, b) => a.madeMs - b.madeMs || a.order - b.order);
  const paid = payments
    .map((p) => ({ day: dayOf(p.paid_at), amount: cents(p.amount) }))
    .filter((p) => p.day < today)
    .sort((a, b) => a.day - b.day);
  const covered = new Map<Open, number>();
  for (const p of paid) {
    let left = p.amount;
    for (const x of promises) {
      if (x.out.status !== 'open' || p.day < x.madeDay || p.day > x.deadlineDay) continue;
      if (x.remaining < 0) {
        keep(x, p.day);
        continue;
      }
      if (left <= 0) continue;
      const take = Math.min(left, x.remaining);
      left -= take;
      x.remaining -= take;
      covered.set(x, (covered.get(x) ?? 0) + take);
      if (x.remaining === 0) keep(x, p.day);
    }
  }
  return promises.map((x) => {
    x.out.covered = (covered.get(x) ?? 0) / 100;
    if (x.out.status === 'open' && x.deadlineDay < today) {
      x.out.status = 'broken';
      x.out.settled_on = isoOf(x.deadlineDay + 1);
    }
    return x.out;
  });
}

function keep(x: Open, day: number): void {
  x.out.status = 'kept';
  x.out.settled_on = isoOf(day);
}
