import { EMPLOYMENT_STATUSES, PREFERRED_CHANNELS, PRODUCTS } from '../schema/enums.ts';
import { FEATURES } from './definitions.ts';
import { CHANNEL_CODE, isoDay, OUTCOME_CODE, type PreparedHistory } from './history.ts';

/** The snapshot fields the feature builder reads (a subset of the accounts table). */
export interface SnapshotLike {
  as_of_date: string;
  product: string;
  principal: number | null;
  credit_limit: number | null;
  apr: number;
  months_on_book: number;
  balance: number;
  amount_overdue: number;
  installment_amount: number;
  days_past_due: number;
  age: number;
  monthly_income: number | null;
  income_verified: boolean;
  employment_status: string;
  preferred_channel: string;
  phone_valid: boolean;
  email_valid: boolean;
  hardship_flag: boolean;
  dispute_open: boolean;
  bankruptcy_flag: boolean;
  deceased_flag: boolean;
  vulnerable_flag: boolean;
  cease_and_desist: boolean;
  complaint_open: boolean;
  legal_notice_date: string | null;
}

const code = (values: readonly string[]) => {
  const m = new Map(values.map((v, i) => [v, i]));
  return (v: string) => m.get(v) ?? Number.NaN;
};
const productCode = code(PRODUCTS);
const employmentCode = code(EMPLOYMENT_STATUSES);
const channelCode = code(PREFERRED_CHANNELS);

const DAY_MS = 86_400_000;
const MONTH_DAYS = 30.4375;
const CALL = CHANNEL_CODE.call;
const RPC = new Set([
  OUTCOME_CODE.right_party,
  OUTCOME_CODE.promise_to_pay,
  OUTCOME_CODE.refused,
  OUTCOME_CODE.dispute,
]);
const PROMISE = OUTCOME_CODE.promise_to_pay;
const REFUSED = OUTCOME_CODE.refused;

/** Number of feature columns. */
export const FEATURE_COUNT = FEATURES.length;

/** A value that overflowed (a denormal income makes a ratio infinite) is missing, not infinite. */
const finite = (x: number) => (Number.isFinite(x) ? x : Number.NaN);
const ratio = (a: number, b: number) => (b > 0 ? finite(a / b) : Number.NaN);
const flag = (b: boolean) => (b ? 1 : 0);

/**
 * Writes the features of one snapshot into `out[offset .. offset + FEATURE_COUNT)`, in FEATURES order.
 *
 * Point-in-time: only instalments due strictly before `as_of_date` are read, a payment counts only when its
 * `paid_date` is before it, and only contacts made before its midnight (UTC) are read — so rows from the
 * future cannot leak in, whatever the history holds. The same function serves training, batch and API scoring.
 */
export function buildFeatures(s: SnapshotLike, h: PreparedHistory, out: Float64Array, offset = 0): void {
  const asOf = isoDay(s.as_of_date);
  const asOfMs = asOf * DAY_MS;
  const income = s.monthly_income;
  let k = offset;
  // Snapshot.
  out[k++] = s.days_past_due;
  out[k++] = Math.log1p(s.amount_overdue);
  out[k++] = ratio(s.amount_overdue, s.installment_amount);
  out[k++] = Math.log1p(s.balance);
  out[k++] = s.credit_limit === null ? Number.NaN : ratio(s.balance, s.credit_limit);
  out[k++] = s.principal === null ? Number.NaN : ratio(s.balance, s.principal);
  out[k++] = s.apr;
  out[k++] = s.months_on_book;
  out[k++] = productCode(s.product);
  out[k++] = s.age;
  out[k++] = income === null ? Number.NaN : Math.log1p(income);
  out[k++] = flag(s.income_verified);
  out[k++] = income === null ? Number.NaN : ratio(s.installment_amount + s.amount_overdue, income);
  out[k++] =
    income === null || income <= 0
      ? Number.NaN
      : finite(Math.log((s.installment_amount + s.amount_overdue + 1) / income));
  out[k++] = income === null ? Number.NaN : ratio(s.installment_amount, income);
  out[k++] = employmentCode(s.employment_status);
  out[k++] = channelCode(s.preferred_channel);
  out[k++] = flag(s.phone_valid);
  out[k++] = flag(s.email_valid);
  out[k++] = flag(s.hardship_flag);
  out[k++] = flag(s.vulnerable_flag);
  out[k++] = flag(s.dispute_open);
  out[k++] = flag(s.deceased_flag || s.bankruptcy_flag || s.cease_and_desist);
  out[k++] = flag(s.complaint_open);
  out[k++] = s.legal_notice_date === null ? Number.NaN : asOf - isoDay(s.legal_notice_date);

  // Instalments due before the snapshot.
  const windows = [asOf - 91, asOf - 183, asOf - 365];
  const dueW = [0, 0, 0];
  const paidW = [0, 0, 0];
  let missed = 0;
  let worstLate = 0;
  let onTime = 0;
  let earlySum = 0;
  let earlyN = 0;
  let lateSum = 0;
  let lateN = 0;
  let seen = 0;
  let partPaid = 0;
  let firstSum = 0;
  let firstN = 0;
  let lastPaid = -1;
  const paidDays: number[] = [];
  for (let i = 0; i < h.n; i++) {
    const due = h.due[i]!;
    if (due >= asOf) break;
    const paidDay = h.paid[i]!;
    const paidBy = paidDay >= 0 && paidDay < asOf;
    const firstDay = h.firstPaid[i]!;
    const firstBy = firstDay >= 0 && firstDay < asOf;
    if (firstBy) {
      // The first payment (full or partial) is fixed once made, so it is safe point-in-time evidence of paying.
      if (firstDay > lastPaid) lastPaid = firstDay;
      paidDays.push(firstDay);
    }
    if (paidBy) {
      if (paidDay > lastPaid) lastPaid = paidDay;
      paidDays.push(paidDay);
    }
    if (due < windows[2]!) continue;
    const amountDue = h.amountDue[i]!;
    const paid = paidBy ? h.amountPaid[i]! : 0;
    for (let w = 0; w < 3; w++) {
      if (due >= windows[w]!) {
        dueW[w]! += amountDue;
        paidW[w]! += paid;
      }
    }
    seen++;
    if (firstBy) {
      firstSum += firstDay - due;
      firstN++;
    }
    const full = paidBy && paid >= amountDue - 0.005;
    const late = full ? paidDay - due : asOf - due;
    if (late > worstLate) worstLate = late;
    if (!full || paidDay - due > MONTH_DAYS) missed++;
    if (firstBy && !full) partPaid++;
    if (full && paidDay <= due) {
      onTime++;
      earlySum += due - paidDay;
      earlyN++;
    } else if (full) {
      lateSum += paidDay - due;
      lateN++;
    }
  }
  out[k++] = ratio(paidW[0]!, dueW[0]!);
  out[k++] = ratio(paidW[1]!, dueW[1]!);
  out[k++] = ratio(paidW[2]!, dueW[2]!);
  out[k++] = missed;
  out[k++] = worstLate;
  out[k++] = seen > 0 ? onTime / seen : Number.NaN;
  out[k++] = earlyN > 0 ? earlySum / earlyN : Number.NaN;
  out[k++] = lateN > 0 ? lateSum / lateN : Number.NaN;
  out[k++] = firstN > 0 ? firstSum / firstN : Number.NaN;
  out[k++] = partPaid;
  out[k++] = lastPaid >= 0 ? (asOf - lastPaid) / MONTH_DAYS : Number.NaN;
  out[k++] = seen;

  // Contacts before the snapshot.
  let contacts90 = 0;
  let calls90 = 0;
  let rpc90 = 0;
  let promises = 0;
  let kept = 0;
  let broken = 0;
  let refusals = 0;
  let lastContact = Number.NaN;
  let lastRpc = Number.NaN;
  const from90 = asOfMs - 90 * DAY_MS;
  const from365 = asOfMs - 365 * DAY_MS;
  for (let i = 0; i < h.contacts; i++) {
    const ms = h.contactMs[i]!;
    if (ms >= asOfMs) break;
    const outcome = h.outcome[i]!;
    const isRpc = RPC.has(outcome);
    lastContact = ms;
    if (isRpc) lastRpc = ms;
    if (ms >= from90) {
      contacts90++;
      if (h.channel[i] === CALL) {
        calls90++;
        if (isRpc) rpc90++;
      }
    }
    if (ms < from365) continue;
    if (outcome === REFUSED) refusals++;
    if (outcome === PROMISE) {
      promises++;
      const by = h.promiseDay[i]!;
      if (by >= 0 && by + 3 < asOf) {
        const madeDay = Math.floor(ms / DAY_MS);
        if (paidDays.some((d) => d >= madeDay && d <= by + 3)) kept++;
        else broken++;
      }
    }
  }
  out[k++] = contacts90;
  out[k++] = calls90;
  out[k++] = calls90 > 0 ? rpc90 / calls90 : Number.NaN;
  out[k++] = promises;
  out[k++] = kept;
  out[k++] = broken;
  out[k++] = refusals;
  out[k++] = Number.isNaN(lastContact) ? Number.NaN : (asOfMs - lastContact) / DAY_MS;
  out[k++] = Number.isNaN(lastRpc) ? Number.NaN : (asOfMs - lastRpc) / DAY_MS;
  if (k - offset !== FEATURE_COUNT)
    throw new Error(`feature builder wrote ${k - offset} of ${FEATURE_COUNT} features`);
}
