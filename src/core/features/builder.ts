import { EMPLOYMENT_STATUSES, PREFERRED_CHANNELS, PRODUCTS } from '../schema/enums.ts';
import { ARCHIVE_LOOKBACK, FEATURE_INDEX, FEATURES } from './definitions.ts';
import { CHANNEL_CODE, isoDay, OUTCOME_CODE, type PreparedHistory } from './history.ts';
import type { LookbackKey } from './lookback.ts';

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

/**
 * The window (days) a feature declares for a table; the builder has no window of its own, so a feature can read
 * only what its definition says (and the archive the API asks for covers it).
 */
function declared(name: string, key: LookbackKey): number {
  const def = FEATURES[FEATURE_INDEX.get(name) ?? -1];
  const days = def?.lookback[key];
  if (days === undefined)
    throw new Error(`feature ${name} declares no ${key} lookback, but the builder reads it`);
  return days;
}

/** Days of instalments (by due date) each instalment feature reads. */
const INS_FROM = {
  ratio3: declared('paid_ratio_3m', 'installmentsDays'),
  ratio6: declared('paid_ratio_6m', 'installmentsDays'),
  ratio12: declared('paid_ratio_12m', 'installmentsDays'),
  missed: declared('missed_12m', 'installmentsDays'),
  worstLate: declared('worst_days_late_12m', 'installmentsDays'),
  onTime: declared('on_time_share_12m', 'installmentsDays'),
  early: declared('mean_days_early_12m', 'installmentsDays'),
  late: declared('mean_days_late_12m', 'installmentsDays'),
  first: declared('mean_days_to_first_payment_12m', 'installmentsDays'),
  partPaid: declared('part_paid_12m', 'installmentsDays'),
  lastPaid: declared('months_since_last_payment_12m', 'installmentsDays'),
  seen: declared('installments_seen_12m', 'installmentsDays'),
  promisePayments: sharedWindow('promises_kept_12m', 'promises_broken_12m', 'installmentsDays'),
};

/** Days of contacts (by timestamp) each contact feature reads. */
const CON_FROM = {
  contacts: declared('contacts_90d', 'contactsDays'),
  calls: declared('calls_90d', 'contactsDays'),
  rpcRate: declared('rpc_rate_90d', 'contactsDays'),
  promises: declared('promises_12m', 'contactsDays'),
  keptBroken: sharedWindow('promises_kept_12m', 'promises_broken_12m', 'contactsDays'),
  refusals: declared('refusals_12m', 'contactsDays'),
  lastContact: declared('days_since_last_contact_12m', 'contactsDays'),
  lastRpc: declared('days_since_last_rpc_12m', 'contactsDays'),
};

/** Kept and broken promises split the same promises in one pass, so they must declare the same window. */
function sharedWindow(a: string, b: string, key: LookbackKey): number {
  const da = declared(a, key);
  const db = declared(b, key);
  if (da !== db) throw new Error(`features ${a} and ${b} must declare the same ${key} (${da} vs ${db})`);
  return da;
}

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
 * future cannot leak in, whatever the history holds. Bounded: each feature reads only the window its definition
 * declares (definitions.ts, `lookback`), so an archive cut to ARCHIVE_LOOKBACK gives the same features as the
 * whole history. The same function serves training, batch and API scoring.
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

  // Instalments due in the instalment windows: each feature counts only rows due on or after its own start day.
  const w = INS_FROM;
  const ratio3 = asOf - w.ratio3;
  const ratio6 = asOf - w.ratio6;
  const ratio12 = asOf - w.ratio12;
  const missedFrom = asOf - w.missed;
  const worstFrom = asOf - w.worstLate;
  const onTimeFrom = asOf - w.onTime;
  const earlyFrom = asOf - w.early;
  const lateFrom = asOf - w.late;
  const firstFrom = asOf - w.first;
  const partFrom = asOf - w.partPaid;
  const lastPaidFrom = asOf - w.lastPaid;
  const seenFrom = asOf - w.seen;
  const promisePayFrom = asOf - w.promisePayments;
  const insFrom = asOf - ARCHIVE_LOOKBACK.installmentsDays;
  let due3 = 0;
  let paid3 = 0;
  let due6 = 0;
  let paid6 = 0;
  let due12 = 0;
  let paid12 = 0;
  let missed = 0;
  let worstLate = 0;
  let onTime = 0;
  let onTimeOf = 0;
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
    if (due < insFrom) continue;
    const paidDay = h.paid[i]!;
    const paidBy = paidDay >= 0 && paidDay < asOf;
    const firstDay = h.firstPaid[i]!;
    // The first payment (full or partial) is fixed once made, so it is safe point-in-time evidence of paying.
    const firstBy = firstDay >= 0 && firstDay < asOf;
    const amountDue = h.amountDue[i]!;
    const paid = paidBy ? h.amountPaid[i]! : 0;
    const full = paidBy && paid >= amountDue - 0.005;
    if (due >= ratio3) {
      due3 += amountDue;
      paid3 += paid;
    }
    if (due >= ratio6) {
      due6 += amountDue;
      paid6 += paid;
    }
    if (due >= ratio12) {
      due12 += amountDue;
      paid12 += paid;
    }
    if (due >= missedFrom && (!full || paidDay - due > MONTH_DAYS)) missed++;
    if (due >= worstFrom) {
      const late = full ? paidDay - due : asOf - due;
      if (late > worstLate) worstLate = late;
    }
    if (due >= onTimeFrom) {
      onTimeOf++;
      if (full && paidDay <= due) onTime++;
    }
    if (due >= earlyFrom && full && paidDay <= due) {
      earlySum += due - paidDay;
      earlyN++;
    }
    if (due >= lateFrom && full && paidDay > due) {
      lateSum += paidDay - due;
      lateN++;
    }
    if (due >= firstFrom && firstBy) {
      firstSum += firstDay - due;
      firstN++;
    }
    if (due >= partFrom && firstBy && !full) partPaid++;
    if (due >= lastPaidFrom) {
      if (firstBy && firstDay > lastPaid) lastPaid = firstDay;
      if (paidBy && paidDay > lastPaid) lastPaid = paidDay;
    }
    if (due >= seenFrom) seen++;
    if (due >= promisePayFrom) {
      if (firstBy) paidDays.push(firstDay);
      if (paidBy) paidDays.push(paidDay);
    }
  }
  out[k++] = ratio(paid3, due3);
  out[k++] = ratio(paid6, due6);
  out[k++] = ratio(paid12, due12);
  out[k++] = missed;
  out[k++] = worstLate;
  out[k++] = onTimeOf > 0 ? onTime / onTimeOf : Number.NaN;
  out[k++] = earlyN > 0 ? earlySum / earlyN : Number.NaN;
  out[k++] = lateN > 0 ? lateSum / lateN : Number.NaN;
  out[k++] = firstN > 0 ? firstSum / firstN : Number.NaN;
  out[k++] = partPaid;
  out[k++] = lastPaid >= 0 ? (asOf - lastPaid) / MONTH_DAYS : Number.NaN;
  out[k++] = seen;

  // Contacts made in the contact windows before the snapshot's midnight (UTC), each feature in its own window.
  const c = CON_FROM;
  const contactsFrom = asOfMs - c.contacts * DAY_MS;
  const callsFrom = asOfMs - c.calls * DAY_MS;
  const rpcRateFrom = asOfMs - c.rpcRate * DAY_MS;
  const promisesFrom = asOfMs - c.promises * DAY_MS;
  const keptBrokenFrom = asOfMs - c.keptBroken * DAY_MS;
  const refusalsFrom = asOfMs - c.refusals * DAY_MS;
  const lastContactFrom = asOfMs - c.lastContact * DAY_MS;
  const lastRpcFrom = asOfMs - c.lastRpc * DAY_MS;
  const conFrom = asOfMs - ARCHIVE_LOOKBACK.contactsDays * DAY_MS;
  let contacts = 0;
  let calls = 0;
  let rateCalls = 0;
  let rateRpc = 0;
  let promises = 0;
  let kept = 0;
  let broken = 0;
  let refusals = 0;
  let lastContact = Number.NaN;
  let lastRpc = Number.NaN;
  for (let i = 0; i < h.contacts; i++) {
    const ms = h.contactMs[i]!;
    if (ms >= asOfMs) break;
    if (ms < conFrom) continue;
    const outcome = h.outcome[i]!;
    const isRpc = RPC.has(outcome);
    const isCall = h.channel[i] === CALL;
    if (ms >= contactsFrom) contacts++;
    if (ms >= callsFrom && isCall) calls++;
    if (ms >= rpcRateFrom && isCall) {
      rateCalls++;
      if (isRpc) rateRpc++;
    }
    if (ms >= lastContactFrom) lastContact = ms;
    if (ms >= lastRpcFrom && isRpc) lastRpc = ms;
    if (ms >= refusalsFrom && outcome === REFUSED) refusals++;
    if (outcome !== PROMISE) continue;
    if (ms >= promisesFrom) promises++;
    const by = h.promiseDay[i]!;
    if (ms >= keptBrokenFrom && by >= 0 && by + 3 < asOf) {
      const madeDay = Math.floor(ms / DAY_MS);
      if (paidDays.some((d) => d >= madeDay && d <= by + 3)) kept++;
      else broken++;
    }
  }
  out[k++] = contacts;
  out[k++] = calls;
  out[k++] = rateCalls > 0 ? rateRpc / rateCalls : Number.NaN;
  out[k++] = promises;
  out[k++] = kept;
  out[k++] = broken;
  out[k++] = refusals;
  out[k++] = Number.isNaN(lastContact) ? Number.NaN : (asOfMs - lastContact) / DAY_MS;
  out[k++] = Number.isNaN(lastRpc) ? Number.NaN : (asOfMs - lastRpc) / DAY_MS;
  if (k - offset !== FEATURE_COUNT)
    throw new Error(`feature builder wrote ${k - offset} of ${FEATURE_COUNT} features`);
}
