import type { ContactChannel, ContactOutcome } from '../schema/enums.ts';
import { CONTACT_CHANNELS, CONTACT_OUTCOMES } from '../schema/enums.ts';
import { daysFromCivil, digitsAt, instantMs } from '../time/instant.ts';
import type { PreparedBuffer } from './prepared-buffer.ts';

/** Day number (days since 1970-01-01) of an ISO date or the UTC day of an ISO timestamp; fast path for dates. */
export function isoDay(iso: string): number {
  if (iso.length === 10) {
    // Digits read in place: slicing and Number() cost ~200 ns a date, and a request parses dozens.
    const y = digitsAt(iso, 0, 4);
    const m = digitsAt(iso, 5, 7);
    const d = digitsAt(iso, 8, 10);
    if (y >= 100 && m >= 1 && m <= 12 && d >= 0) return daysFromCivil(y, m, d);
    return Math.floor(
      Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / 86_400_000,
    );
  }
  return Math.floor(instantMs(iso) / 86_400_000);
}

/** The instalment fields the feature builder reads (a subset of the installments table). */
export interface InstallmentLike {
  due_date: string;
  amount_due: number;
  first_paid_date: string | null;
  paid_date: string | null;
  amount_paid: number;
}

/** The contact fields the feature builder reads (a subset of the contacts table). */
export interface ContactLike {
  ts: string;
  channel: ContactChannel | string;
  outcome: ContactOutcome | string;
  promise_amount: number | null;
  promise_date: string | null;
}

/**
 * An account's repayment and contact history in columnar typed arrays, sorted by date, so the feature builder
 * can scan it for each snapshot without parsing dates again. Build it once per account.
 */
export interface PreparedHistory {
  n: number;
  due: Int32Array;
  /** Day the instalment was paid in full, or -1. */
  paid: Int32Array;
  /** Day of the first payment towards it (full or partial), or -1. */
  firstPaid: Int32Array;
  amountDue: Float64Array;
  amountPaid: Float64Array;
  contacts: number;
  /** Contact instant in ms since the epoch. */
  contactMs: Float64Array;
  channel: Uint8Array;
  outcome: Uint8Array;
  promiseDay: Int32Array;
}

const CH = new Map<string, number>(CONTACT_CHANNELS.map((c, i) => [c, i]));
const OUT = new Map<string, number>(CONTACT_OUTCOMES.map((c, i) => [c, i]));

/** Indexes of channels and outcomes as coded in PreparedHistory. */
export const CHANNEL_CODE = Object.fromEntries(CONTACT_CHANNELS.map((c, i) => [c, i])) as Record<
  ContactChannel,
  number
>;
export const OUTCOME_CODE = Object.fromEntries(CONTACT_OUTCOMES.map((c, i) => [c, i])) as Record<
  ContactOutcome,
  number
>;

/**
 * Sorts and encodes an account's instalments and contacts (any order in, date order out). With `into`, the
 * columns are written into that buffer (emptied first) and it is returned: a caller that builds features and drops
 * the history allocates nothing (a small Float64Array costs ~400 ns to allocate: it lives outside V8's heap).
 */
export function prepareHistory(
  installments: readonly InstallmentLike[],
  contacts: readonly ContactLike[],
  into?: PreparedBuffer,
): PreparedHistory {
  const ins = inDueOrder(installments)
    ? installments
    : [...installments].sort((a, b) => (a.due_date < b.due_date ? -1 : a.due_date > b.due_date ? 1 : 0));
  const c = contacts.length;
  const ms = new Array<number>(c);
  let ordered = true;
  for (let i = 0; i < c; i++) {
    ms[i] = instantMs(contacts[i]!.ts);
    // NaN never comes from a validated time; compared as the sort below would not, it takes the sorting path.
    if (i > 0 && !(ms[i]! >= ms[i - 1]!)) ordered = false;
  }
  // The stable sort keeps contacts of one instant in the order given, as the identity order does.
  const order = ordered ? null : [...ms.keys()].sort((a, b) => ms[a]! - ms[b]!);
  const n = ins.length;
  let h: PreparedHistory;
  if (into) {
    into.reset();
    into.reserveInstallments(n);
    into.reserveContacts(c);
    into.n = n;
    into.contacts = c;
    h = into;
  } else
    h = {
      n,
      due: new Int32Array(n),
      paid: new Int32Array(n),
      firstPaid: new Int32Array(n),
      amountDue: new Float64Array(n),
      amountPaid: new Float64Array(n),
      contacts: c,
      contactMs: new Float64Array(c),
      channel: new Uint8Array(c),
      outcome: new Uint8Array(c),
      promiseDay: new Int32Array(c),
    };
  for (let i = 0; i < n; i++) {
    const r = ins[i]!;
    h.due[i] = isoDay(r.due_date);
    h.paid[i] = r.paid_date === null ? -1 : isoDay(r.paid_date);
    h.firstPaid[i] = r.first_paid_date == null ? -1 : isoDay(r.first_paid_date);
    h.amountDue[i] = r.amount_due;
    h.amountPaid[i] = r.amount_paid;
  }
  for (let i = 0; i < c; i++) {
    const k = order === null ? i : order[i]!;
    const x = contacts[k]!;
    h.contactMs[i] = ms[k]!;
    h.channel[i] = CH.get(x.channel) ?? 255;
    h.outcome[i] = OUT.get(x.outcome) ?? 255;
    h.promiseDay[i] = x.promise_date === null ? -1 : isoDay(x.promise_date);
  }
  return h;
}

/** True when the instalments are already in due-date order (as an archive usually lists them). */
function inDueOrder(rows: readonly InstallmentLike[]): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i]!.due_date < rows[i - 1]!.due_date) return false;
  return true;
}
