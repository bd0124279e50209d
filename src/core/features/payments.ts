import { isoDay, type PreparedHistory } from './history.ts';

/**
 * Paid status of an account's instalments derived from its payments, one entry per instalment in the order given
 * (the `PreparedHistory` order: by due date).
 */
export interface PaymentAllocation {
  /** Day (days since 1970-01-01) of the first payment that reached the instalment, or -1. */
  firstPaid: Int32Array;
  /** Day the instalment was paid in full, or -1 if the payments never cover it. */
  paid: Int32Array;
  /** Amount allocated to the instalment by the last payment given (currency; its amount due once paid in full). */
  amountPaid: Float64Array;
  /** Money paid beyond what was due and billed on its day (currency): it reduces the balance, no instalment shows it. */
  surplus: number;
}

/** Cents of a money amount: allocation runs on integers so 0.1 + 0.2 pays an instalment of 0.30 exactly. */
const cents = (x: number) => Math.round(x * 100);

/** How payments are allocated. */
export interface AllocationOptions {
  /**
   * An instalment can take money from this many days before its due date: the day its bill (statement) is out.
   * Default 25, a common statement-to-due grace period (US card statements must leave at least 21 days).
   */
  billedDaysBeforeDue?: number;
}

/** Default of `AllocationOptions.billedDaysBeforeDue`. */
export const BILLED_DAYS_BEFORE_DUE = 25;

/**
 * Allocates payments to instalments oldest due first (a waterfall) and returns, per instalment, the day of its
 * first payment, the day it was paid in full and the amount paid.
 *
 * The rule, payment day by payment day (payments of one day are summed; their order within the day does not
 * matter): the money fills the oldest instalment not yet paid in full, then the next, among the instalments
 * billed by then — due on or before the payment day, or within `billedDaysBeforeDue` days after it (paying a
 * billed instalment before its due date is paying on time, early). What is left after that is `surplus`: it
 * reduces the balance and is never carried to instalments billed later, which stay due as scheduled (no "paid
 * ahead": a card's next minimum payment is still due after a large payment). Each day's allocation depends only on payments up to that day, so
 * a later payment can never change what an earlier day's view holds — the point-in-time property the feature
 * builder needs. An instalment of 0 due counts as paid, first and in full, on the first payment day it is
 * reached.
 *
 * @param due instalment due days, non-decreasing.
 * @param amountDue instalment amounts due (currency, >= 0).
 * @param payDay payment days (any order).
 * @param amount payment amounts (currency, >= 0), aligned with `payDay`.
 * @throws RangeError when the instalments are not in due order, the arrays differ in length, or an amount is
 *   negative or not finite.
 */
export function allocatePayments(
  due: Int32Array,
  amountDue: Float64Array,
  payDay: Int32Array,
  amount: Float64Array,
  opts: AllocationOptions = {},
): PaymentAllocation {
  const lead = opts.billedDaysBeforeDue ?? BILLED_DAYS_BEFORE_DUE;
  const n = due.length;
  const m = payDay.length;
  if (amountDue.length !== n) throw new RangeError(`amountDue has ${amountDue.length} entries, due has ${n}`);
  if (amount.length !== m) throw new RangeError(`amount has ${amount.length} entries, payDay has ${m}`);
  const left = new Float64Array(n); // cents still owed
  for (let i = 0; i < n; i++) {
    if (i > 0 && due[i]! < due[i - 1]!)
      throw new RangeError(`instalments must be in due order: day ${due[i]} follows day ${due[i - 1]}`);
    const a = amountDue[i]!;
    if (!(a >= 0) || !Number.isFinite(a)) throw new RangeError(`amountDue[${i}] must be >= 0, got ${a}`);
    left[i] = cents(a);
  }
  const out: PaymentAllocation = {
    firstPaid: new Int32Array(n).fill(-1),
    paid: new Int32Array(n).fill(-1),
    amountPaid: new Float64Array(n),
    surplus: 0,
  };
  const order = paymentOrder(payDay);
  let surplus = 0;
  let open = 0; // oldest instalment not paid in full
  let lim = 0; // instalments [open, lim) may take today's money
  for (let k = 0; k < m; ) {
    const d = payDay[order[k]!]!;
    let money = 0;
    for (; k < m && payDay[order[k]!] === d; k++) {
      const a = amount[order[k]!]!;
      if (!(a >= 0) || !Number.isFinite(a))
        throw new RangeError(`amount[${order[k]}] must be >= 0, got ${a}`);
      money += cents(a);
    }
    while (lim < n && due[lim]! <= d + lead) lim++;
    while (open < lim) {
      const need = left[open]!;
      const pay = Math.min(need, money);
      if (pay > 0 || need === 0) {
        if (out.firstPaid[open] === -1) out.firstPaid[open] = d;
        left[open] = need - pay;
        money -= pay;
      }
      if (left[open]! > 0) break;
      out.paid[open] = d;
      open++;
    }
    surplus += money;
  }
  // Amounts from whole cents once, at the end, so a paid instalment shows exactly its amount due.
  for (let i = 0; i < n; i++)
    out.amountPaid[i] = out.paid[i]! >= 0 ? amountDue[i]! : (cents(amountDue[i]!) - left[i]!) / 100;
  out.surplus = surplus / 100;
  return out;
}

function paymentOrder(day: Int32Array): Uint32Array {
  const order = new Uint32Array(day.length);
  let sorted = true;
  for (let k = 0; k < day.length; k++) {
    order[k] = k;
    if (k > 0 && day[k]! < day[k - 1]!) sorted = false;
  }
  return sorted ? order : order.sort((a, b) => day[a]! - day[b]! || a - b);
}

/**
 * Replaces an account's `paid`, `firstPaid` and `amountPaid` columns with the status its payments give
 * (`allocatePayments`), for histories that come with a payments table: `paid_date` / `first_paid_date` /
 * `amount_paid` as stored are then not read at all.
 */
export function applyPayments(
  history: PreparedHistory,
  paymentDays: Int32Array,
  amounts: Float64Array,
  opts: AllocationOptions = {},
): void {
  const a = allocatePayments(
    history.due.subarray(0, history.n),
    history.amountDue.subarray(0, history.n),
    paymentDays,
    amounts,
    opts,
  );
  history.paid.set(a.paid);
  history.firstPaid.set(a.firstPaid);
  history.amountPaid.set(a.amountPaid);
}

/**
 * `applyPayments` as of one snapshot, over its instalment window only: instalments due on or after `fromDay` (the
 * window's first day, `as_of_date - ARCHIVE_LOOKBACK.installmentsDays`) receive the payments made on or after it,
 * oldest due first. Arrears older than the window and the payments before it are not read, so an archive cut to
 * the declared lookback gives the same paid status as the whole history: the batch path and the API call this
 * with the same window (test/feature-parity.test.ts). Instalments before the window keep their columns; the
 * feature builder never reads them for this snapshot.
 */
export function applyPaymentsFrom(
  history: PreparedHistory,
  paymentDays: Int32Array,
  amounts: Float64Array,
  fromDay: number,
  opts: AllocationOptions = {},
): void {
  let lo = 0;
  while (lo < history.n && history.due[lo]! < fromDay) lo++;
  let m = 0;
  for (let i = 0; i < paymentDays.length; i++) if (paymentDays[i]! >= fromDay) m++;
  const days = new Int32Array(m);
  const amt = new Float64Array(m);
  m = 0;
  for (let i = 0; i < paymentDays.length; i++)
    if (paymentDays[i]! >= fromDay) {
      days[m] = paymentDays[i]!;
      amt[m++] = amounts[i]!;
    }
  const a = allocatePayments(
    history.due.subarray(lo, history.n),
    history.amountDue.subarray(lo, history.n),
    days,
    amt,
    opts,
  );
  history.paid.set(a.paid, lo);
  history.firstPaid.set(a.firstPaid, lo);
  history.amountPaid.set(a.amountPaid, lo);
}

/** The payment fields the allocation reads (a subset of the payments table). */
export interface PaymentLike {
  paid_at: string;
  amount: number;
}

/** Payment rows as the columns `applyPayments` takes (days since 1970-01-01 and amounts). */
export function paymentColumns(payments: readonly PaymentLike[]): {
  days: Int32Array;
  amounts: Float64Array;
} {
  const days = new Int32Array(payments.length);
  const amounts = new Float64Array(payments.length);
  payments.forEach((p, i) => {
    days[i] = isoDay(p.paid_at);
    amounts[i] = p.amount;
  });
  return { days, amounts };
}
