import { createRng, type Rng } from '../../core/random.ts';
import type { ContactChannel, ContactOutcome, Product, Treatment } from '../../core/schema/enums.ts';
import { TREATMENTS } from '../../core/schema/enums.ts';
import { addMonthsFirst, isoOf } from '../../core/time/dates.ts';
import { localToUtcMs } from '../../core/time/timezone.ts';
import {
  ability,
  type Customer,
  declareIncome,
  drawCustomer,
  pad7,
  stepCustomer,
  willingness,
} from './customer.ts';
import { KNOBS } from './knobs.ts';
import { loggingPolicy } from './logging-policy.ts';
import {
  expectedRecovery,
  LOGGED_TREATMENT_COUNT,
  type ResponseProfile,
  sigmoid,
  trueResponse,
} from './response.ts';

/** A cell as the generator emits it; money and probabilities arrive pre-formatted as strings. */
export type Cell = string | number | boolean | null;

/** Where simulated rows go, one positional row per call, in the column order of the table specs. */
export interface RowSink {
  accounts(row: Cell[]): void;
  installments(row: Cell[]): void;
  contacts(row: Cell[]): void;
  treatments(row: Cell[]): void;
  outcomes(row: Cell[]): void;
  truth(row: Cell[]): void;
  /** Every payment as it happened; when absent the world is written without a payments table. */
  payments?(row: Cell[]): void;
}

export interface WorldConfig {
  /** Number of customers (each holds one account at a time; paid-off accounts may be renewed). */
  accounts: number;
  /** Number of monthly snapshots written. */
  months: number;
  seed: number;
  /** First snapshot date (ISO, first of a month). */
  start: string;
  /**
   * How treatments work (RESPONSE_PROFILES); default 'standard'. Absent and 'standard' give the same world, so
   * worlds generated before the knob existed are unchanged for their seed.
   */
  response?: ResponseProfile;
}

/** Formats integer cents as a currency amount with two decimals. */
export function money(cents: number): string {
  const c = Math.round(cents);
  const neg = c < 0;
  const a = neg ? -c : c;
  const frac = a % 100;
  return `${neg ? '-' : ''}${(a - frac) / 100}.${frac < 10 ? '0' : ''}${frac}`;
}

function prob(p: number): string {
  return p.toFixed(6);
}

interface Installment {
  no: number;
  due: number;
  amountDue: number;
  paid: number;
  paidDay: number;
  /** Day of the first payment towards it, or -1. */
  firstPaidDay: number;
}

interface Account {
  id: string;
  product: Product;
  openedDay: number;
  principal: number | null;
  limit: number | null;
  apr: number;
  term: number | null;
  annuity: number;
  dueDay: number;
  balance: number;
  installments: Installment[];
  /** Index of the oldest installment not fully paid. */
  firstOpen: number;
  payments: { day: number; cents: number }[];
  hardship: boolean;
  disputeMonths: number;
  complaintMonths: number;
  bankrupt: boolean;
  ceaseAndDesist: boolean;
  legalNoticeDay: number | null;
  /** True once a snapshot of the account has been written; history of never-seen accounts is not written. */
  observed: boolean;
  /** Contact rows, in time order, written when the account closes. */
  contactRows: Cell[][];
  /** Snapshots needing an outcomes row: day and overdue cents. */
  pending: { day: number; overdue: number }[];
}

const PRODUCTS: readonly Product[] = ['card', 'personal_loan', 'bnpl', 'auto'];

function openAccount(rng: Rng, c: Customer, seq: number, day: number): Account {
  const mix = KNOBS.productMix;
  const product = PRODUCTS[rng.categorical([mix.card, mix.personal_loan, mix.bnpl, mix.auto])]!;
  declareIncome(rng, c, product);
  const inc = c.usualIncome;
  let principal: number | null = null;
  let limit: number | null = null;
  let apr: number;
  let term: number | null = null;
  let balance: number;
  switch (product) {
    case 'card':
      limit = Math.max(500, Math.round((inc * (0.5 + 2.5 * rng.next())) / 100) * 100) * 100;
      apr = 0.16 + 0.13 * rng.next();
      balance = Math.round(limit * (0.1 + 0.7 * rng.next()));
      break;
    case 'personal_loan':
      principal =
        Math.min(40_000, Math.max(1000, Math.round((inc * (0.5 + 3.5 * rng.next())) / 100) * 100)) * 100;
      apr = 0.07 + 0.17 * rng.next();
      term = [12, 24, 36, 48, 60][rng.int(0, 4)]!;
      balance = principal;
      break;
    case 'bnpl':
      principal = Math.round(50 + 1450 * rng.next() ** 2) * 100;
      apr = 0;
      term = [3, 4, 6, 12][rng.int(0, 3)]!;
      balance = principal;
      break;
    case 'auto':
      principal = Math.round(8000 + 37_000 * rng.next()) * 100;
      apr = 0.04 + 0.08 * rng.next();
      term = [36, 48, 60, 72][rng.int(0, 3)]!;
      balance = principal;
      break;
  }
  const r = apr / 12;
  const annuity =
    term === null || principal === null
      ? 0
      : Math.ceil(r === 0 ? principal / term : (principal * r) / (1 - (1 + r) ** -term));
  return {
    id: seq === 1 ? `A${pad7(c.index + 1)}` : `A${pad7(c.index + 1)}-${seq}`,
    product,
    openedDay: day,
    principal,
    limit,
    apr,
    term,
    annuity,
    dueDay: rng.int(16, 28),
    balance,
    installments: [],
    firstOpen: 0,
    payments: [],
    hardship: false,
    disputeMonths: 0,
    complaintMonths: 0,
    bankrupt: false,
    ceaseAndDesist: false,
    legalNoticeDay: null,
    observed: false,
    contactRows: [],
    pending: [],
  };
}

/** Unpaid cents of instalments due before `day`, and the due day of the oldest of them (or -1). */
function overdueAt(acc: Account, day: number): { cents: number; oldestDue: number } {
  let cents = 0;
  let oldestDue = -1;
  for (let i = acc.firstOpen; i < acc.installments.length; i++) {
    const ins = acc.installments[i]!;
    if (ins.due >= day) break;
    const left = ins.amountDue - ins.paid;
    if (left > 0) {
      cents += left;
      if (oldestDue < 0) oldestDue = ins.due;
    }
  }
  return { cents, oldestDue };
}

/** Applies a payment to the oldest open instalments first; any rest reduces the balance only. */
function applyPayment(acc: Account, day: number, cents: number): void {
  let left = cents;
  for (let i = acc.firstOpen; i < acc.installments.length && left > 0; i++) {
    const ins = acc.installments[i]!;
    const need = ins.amountDue - ins.paid;
    if (need <= 0) continue;
    const pay = Math.min(need, left);
    ins.paid += pay;
    // paid_date is the day the instalment was paid in full: a later payment never rewrites an earlier date,
    // so the history seen at a snapshot cannot depend on what is paid after it.
    if (ins.firstPaidDay < 0) ins.firstPaidDay = day;
    if (ins.paid >= ins.amountDue) ins.paidDay = day;
    left -= pay;
  }
  while (acc.firstOpen < acc.installments.length) {
    const ins = acc.installments[acc.firstOpen]!;
    if (ins.paid < ins.amountDue) break;
    acc.firstOpen++;
  }
  acc.balance = Math.max(0, acc.balance - cents);
  acc.payments.push({ day, cents });
}

function paymentsBetween(acc: Account, fromExcl: number, toIncl: number): number {
  let s = 0;
  for (const p of acc.payments) if (p.day > fromExcl && p.day <= toIncl) s += p.cents;
  return s;
}

const CHANNEL_COST_ORDER: readonly ContactChannel[] = ['sms', 'email', 'app'];

/**
 * Simulates one customer over the burn-in and observed months and emits its rows. Everything random comes from
 * a stream of its own (seed, customer index), so customers can be simulated in any order or in parallel.
 */
export function simulateCustomer(
  index: number,
  cfg: WorldConfig,
  firstSnapshotDay: number,
  sink: RowSink,
): void {
  const rng = createRng(cfg.seed, index + 1);
  const c = drawCustomer(rng, index);
  const totalMonths = KNOBS.burnInMonths + cfg.months;
  const simStart = addMonthsFirst(firstSnapshotDay, -KNOBS.burnInMonths);
  const endDay = addMonthsFirst(simStart, totalMonths);
  let seq = 1;
  let acc: Account | null = null;
  let gap = 0;
  // Accounts opened before the history starts: months on book up to 8 years.
  const preOpenMonths = rng.int(1, 96);
  let firstOpen = true;

  const monthContacts: Cell[][] = [];
  const flushContacts = () => {
    monthContacts.sort((x, y) =>
      (x[1] as string) < (y[1] as string) ? -1 : (x[1] as string) > (y[1] as string) ? 1 : 0,
    );
    for (const row of monthContacts) acc!.contactRows.push(row);
    monthContacts.length = 0;
  };
  const contact = (
    day: number,
    channel: ContactChannel,
    outcome: ContactOutcome,
    promise: { cents: number; day: number } | null,
    agent: string | null,
  ) => {
    const minute = rng.int(8 * 60, 20 * 60 + 59);
    const ms = localToUtcMs(c.tz, day, minute) + rng.int(0, 59) * 1000;
    const ts = `${new Date(ms).toISOString().slice(0, 19)}Z`;
    monthContacts.push([
      acc!.id,
      ts,
      channel,
      outcome,
      promise ? money(promise.cents) : null,
      promise ? isoOf(promise.day) : null,
      agent,
    ]);
  };

  const closeAccount = () => {
    if (!acc) return;
    if (!acc.observed) {
      acc = null;
      return;
    }
    for (const row of acc.contactRows) sink.contacts(row);
    if (sink.payments) for (const p of acc.payments) sink.payments([acc.id, isoOf(p.day), money(p.cents)]);
    for (const ins of acc.installments) {
      sink.installments([
        acc.id,
        ins.no,
        isoOf(ins.due),
        money(ins.amountDue),
        ins.firstPaidDay >= 0 ? isoOf(ins.firstPaidDay) : null,
        ins.paid >= ins.amountDue ? isoOf(ins.paidDay) : null,
        money(ins.paid),
      ]);
    }
    for (const p of acc.pending) {
      const p90 = p.day + 90 <= endDay ? money(paymentsBetween(acc, p.day, p.day + 90)) : null;
      sink.outcomes([acc.id, isoOf(p.day), money(paymentsBetween(acc, p.day, p.day + 30)), p90]);
    }
    acc = null;
  };

  for (let m = 0; m < totalMonths; m++) {
    const s = addMonthsFirst(simStart, m);
    const observed = m >= KNOBS.burnInMonths;
    if (m > 0) stepCustomer(rng, c);
    if (!acc) {
      if (gap > 0) {
        gap--;
        continue;
      }
      acc = openAccount(rng, c, seq, firstOpen ? addMonthsFirst(s, -preOpenMonths) : s);
      if (firstOpen && acc.term !== null) {
        // An instalment account opened before the history: it has run part of its term already.
        const ran = Math.min(preOpenMonths, acc.term - 1);
        acc.openedDay = addMonthsFirst(s, -ran);
        const r = acc.apr / 12;
        for (let k = 0; k < ran; k++)
          acc.balance = Math.max(0, Math.round(acc.balance * (1 + r)) - acc.annuity);
      }
      firstOpen = false;
    }
    const a0 = acc;
    const age = c.birthAge + Math.floor(m / 12);
    // State at the snapshot.
    const od = overdueAt(a0, s);
    const dpd = od.oldestDue >= 0 ? s - od.oldestDue : 0;
    if (dpd > KNOBS.exitDaysPastDue) {
      closeAccount();
      if (!rng.bernoulli(0.3)) break;
      seq++;
      gap = 6;
      continue;
    }
    // This month's instalment (none once charged off at 180+ days past due, or once the term has run out).
    const scheduled = a0.balance - od.cents;
    let due = 0;
    if (dpd < 180 && scheduled > 0) {
      if (a0.product === 'card') due = Math.min(scheduled, Math.max(2500, Math.round(a0.balance * 0.03)));
      else if (a0.term !== null && a0.installments.length < a0.term + 24)
        due = Math.min(scheduled, a0.annuity);
      if (a0.product !== 'card' && scheduled - due < 100) due = scheduled;
    }
    const dueDay = s + a0.dueDay - 1;
    if (due > 0)
      a0.installments.push({
        no: a0.installments.length + 1,
        due: dueDay,
        amountDue: due,
        paid: 0,
        paidDay: 0,
        firstPaidDay: -1,
      });
    const w = willingness(c);
    const a = ability(c, od.cents + due);
    if (!c.deceased && rng.bernoulli(0.00005 * Math.exp((age - 40) / 10))) c.deceased = true;
    const deceased = c.deceased;
    const suppressed = deceased || a0.bankrupt || a0.disputeMonths > 0 || a0.ceaseAndDesist;

    if (observed) {
      a0.observed = true;
      const mob = monthsBetween(a0.openedDay, s);
      sink.accounts([
        a0.id,
        c.customerId,
        isoOf(s),
        a0.product,
        a0.principal === null ? null : money(a0.principal),
        a0.limit === null ? null : money(a0.limit),
        a0.apr.toFixed(4),
        a0.term,
        mob,
        money(a0.balance),
        money(od.cents),
        money(due),
        dpd,
        age,
        c.declaredIncome === null ? null : money(c.declaredIncome * 100),
        c.incomeVerified,
        c.status,
        c.region,
        c.tz,
        c.preferredChannel,
        c.phoneValid,
        c.emailValid,
        c.doNotCall || a0.ceaseAndDesist,
        a0.hardship,
        a0.disputeMonths > 0,
        a0.bankrupt,
        deceased,
        c.vulnerable,
        a0.ceaseAndDesist,
        a0.complaintMonths > 0,
        a0.legalNoticeDay === null ? null : isoOf(a0.legalNoticeDay),
      ]);
    }

    let missed = false;
    if (dpd === 0) {
      // A current account: the instalment is paid on time, late within the month, or missed.
      if (due > 0) {
        const pOnTime = sigmoid(KNOBS.onTime.intercept + KNOBS.onTime.bW * w + KNOBS.onTime.bA * a);
        let payDay = -1;
        // Timing reveals willingness: the willing pay days ahead of the due date, the reluctant at the last minute.
        if (rng.bernoulli(pOnTime)) payDay = Math.max(s + 1, dueDay - daysEarly(rng, w));
        else if (rng.bernoulli(KNOBS.lateWithinMonth) && dueDay < s + 27) {
          payDay = Math.min(s + 27, dueDay + 1 + Math.max(0, Math.round(6 - 3 * w + 2 * rng.normal())));
        }
        if (payDay >= 0) {
          let amount = due;
          if (a0.product === 'card' && rng.bernoulli(0.35))
            amount += Math.round((a0.balance - due) * rng.next());
          applyPayment(a0, payDay, amount);
        } else missed = true;
      }
    } else {
      // A delinquent account: the logging policy picks a treatment; the response is drawn from the truth.
      const resp = trueResponse(
        {
          w,
          a,
          dpd,
          deceased,
          bankrupt: a0.bankrupt,
          disputeOpen: a0.disputeMonths > 0,
        },
        cfg.response,
      );
      const canCall = c.phoneValid && !c.doNotCall && !a0.ceaseAndDesist;
      const legalEligible =
        dpd >= 90 &&
        od.cents >= 20_000 &&
        a0.legalNoticeDay !== null &&
        s - a0.legalNoticeDay >= 14 &&
        !c.vulnerable &&
        !a0.hardship &&
        a0.complaintMonths === 0;
      const pi = loggingPolicy({
        dpd,
        recentPaidShare: recentPaidShare(a0, s),
        unemployed: c.status === 'unemployed',
        hardship: a0.hardship,
        vulnerable: c.vulnerable,
        suppressed,
        canCall,
        canMessage: c.phoneValid || c.emailValid,
        legalEligible,
      });
      const t = rng.categorical(pi);
      const treatment = TREATMENTS[t]!;
      const pays = rng.bernoulli(resp.pPay[t]!);
      const covers = pays && rng.bernoulli(resp.pCover[t]!);
      let amount = 0;
      if (covers) amount = od.cents + (rng.bernoulli(KNOBS.coverIncludesCurrent) ? due : 0);
      else if (pays)
        amount = Math.max(1, Math.min(od.cents - 1, Math.round(od.cents * (0.15 + 0.8 * rng.next()))));
      const payDay = s + Math.min(28, Math.max(1, Math.round(12 - 5 * w + 4 * rng.normal())));
      if (amount > 0) applyPayment(a0, payDay, amount);
      else missed = due > 0;
      if (observed) {
        sink.treatments([a0.id, isoOf(s), treatment, prob(pi[t]!)]);
        let mixPay = 0;
        let mixPayCover = 0;
        let mixRec = 0;
        const per: Cell[] = [];
        // The truth table has the logged treatments' columns only (the staged flow's are priced by staged-truth.ts).
        for (let k = 0; k < LOGGED_TREATMENT_COUNT; k++) {
          const pp = resp.pPay[k]!;
          const pc = resp.pCover[k]!;
          const er = expectedRecovery(od.cents, pp, pc);
          mixPay += pi[k]! * pp;
          mixPayCover += pi[k]! * pp * pc;
          mixRec += pi[k]! * er;
          per.push(prob(pp), prob(pc), money(er));
        }
        sink.truth([
          a0.id,
          isoOf(s),
          w.toFixed(6),
          a.toFixed(6),
          prob(mixPay),
          prob(mixPayCover / mixPay),
          money(mixRec),
          ...per,
        ]);
        a0.pending.push({ day: s, overdue: od.cents });
      }
      treatmentContacts(treatment, rng, c, a0, s, pays, amount, payDay, contact);
      // Formal notice before legal action, sent by the old policy from 60 days past due.
      if (
        dpd >= 60 &&
        a0.legalNoticeDay === null &&
        !c.vulnerable &&
        !a0.hardship &&
        !suppressed &&
        rng.bernoulli(0.7)
      ) {
        const d = s + rng.int(1, 26);
        a0.legalNoticeDay = d;
        contact(d, 'letter', 'delivered', null, null);
      }
      if (dpd >= 61 && a < -1 && !a0.bankrupt && rng.bernoulli(0.006)) a0.bankrupt = true;
    }

    flushContacts();
    // Balance moves on: interest, fees, card spending.
    a0.balance = Math.round(a0.balance * (1 + a0.apr / 12));
    if (missed) a0.balance += KNOBS.lateFee * 100;
    if (a0.product === 'card' && dpd === 0 && !missed && a0.limit !== null) {
      a0.balance = Math.min(a0.limit, a0.balance + Math.round(a0.limit * 0.1 * rng.next()));
    }
    if (a0.disputeMonths > 0) a0.disputeMonths--;
    if (a0.complaintMonths > 0) a0.complaintMonths--;
    if (a0.hardship && c.status !== 'unemployed' && dpd === 0) a0.hardship = false;
    if (dpd > 0 && !a0.disputeMonths && rng.bernoulli(0.001)) a0.disputeMonths = rng.int(1, 3);

    // A paid-off instalment account closes; the customer may come back for another.
    const od2 = overdueAt(a0, addMonthsFirst(s, 1));
    if (
      a0.product !== 'card' &&
      a0.balance < 100 &&
      od2.cents === 0 &&
      a0.firstOpen >= a0.installments.length
    ) {
      closeAccount();
      if (!rng.bernoulli(KNOBS.renewal)) break;
      seq++;
      gap = rng.int(1, 3) - 1;
    }
  }
  closeAccount();
}

/** Days ahead of the due date an on-time payer pays: about 5 + 3.5 w, with noise. */
function daysEarly(rng: Rng, w: number): number {
  return Math.min(
    20,
    Math.max(0, Math.round(KNOBS.timing.early + KNOBS.timing.earlyPerW * w + KNOBS.timing.sd * rng.normal())),
  );
}

function monthsBetween(fromDay: number, toDay: number): number {
  const a = new Date(fromDay * 86_400_000);
  const b = new Date(toDay * 86_400_000);
  return Math.max(0, (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth());
}

function recentPaidShare(acc: Account, day: number): number {
  let n = 0;
  let paid = 0;
  for (let i = acc.installments.length - 1; i >= 0 && n < 6; i--) {
    const ins = acc.installments[i]!;
    if (ins.due >= day) continue;
    n++;
    if (ins.paid >= ins.amountDue && ins.paidDay < day) paid++;
  }
  return n === 0 ? 0.5 : paid / n;
}

/** The contact attempts a treatment makes in the window, with outcomes consistent with what the customer does. */
function treatmentContacts(
  t: Treatment,
  rng: Rng,
  c: Customer,
  acc: Account,
  s: number,
  pays: boolean,
  amount: number,
  payDay: number,
  contact: (
    day: number,
    ch: ContactChannel,
    out: ContactOutcome,
    promise: { cents: number; day: number } | null,
    agent: string | null,
  ) => void,
): void {
  const hw = sigmoid(1.5 * willingness(c));
  const messageChannel = (): ContactChannel | null => {
    const pref = c.preferredChannel;
    if ((pref === 'sms' || pref === 'app') && c.phoneValid) return pref;
    if (pref === 'email' && c.emailValid) return 'email';
    for (const ch of CHANNEL_COST_ORDER) if (ch === 'email' ? c.emailValid : c.phoneValid) return ch;
    return null;
  };
  const calls = (attempts: number) => {
    const agent = `AG${String(rng.int(1, 240)).padStart(3, '0')}`;
    let day = s + rng.int(1, 6);
    for (let i = 0; i < attempts && day <= s + 26; i++) {
      let outcome: ContactOutcome;
      let promise: { cents: number; day: number } | null = null;
      if (!c.phoneValid) outcome = rng.bernoulli(0.5) ? 'wrong_party' : 'no_answer';
      else if (rng.bernoulli(0.28 + 0.15 * hw)) {
        const u = rng.next();
        if (pays && u < 0.75 && payDay > day) {
          outcome = 'promise_to_pay';
          promise = { cents: amount, day: payDay };
        } else if (!pays && u < 0.35 * hw) {
          outcome = 'promise_to_pay';
          promise = { cents: Math.round(amount || 5000), day: Math.min(day + rng.int(3, 14), s + 28) };
        } else if (!pays && u < 0.35 * hw + 0.4 * (1 - hw)) outcome = 'refused';
        else if (rng.bernoulli(0.02)) outcome = 'dispute';
        else outcome = 'right_party';
        if (outcome === 'dispute') acc.disputeMonths = rng.int(1, 3);
        if (!acc.hardship && (c.status === 'unemployed' || ability(c, 0) < -1) && rng.bernoulli(0.4)) {
          acc.hardship = true;
          if (rng.bernoulli(0.15)) c.vulnerable = true;
        }
        contact(day, 'call', outcome, promise, agent);
        return;
      } else outcome = 'no_answer';
      contact(day, 'call', outcome, promise, agent);
      day += rng.int(1, 3);
    }
  };
  switch (t) {
    case 'hold':
      return;
    case 'gentle_nudge': {
      const ch = messageChannel();
      if (!ch) return;
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) contact(s + rng.int(1, 26), ch, 'delivered', null, null);
      return;
    }
    case 'plan_offer': {
      contact(s + rng.int(1, 5), c.emailValid ? 'email' : 'letter', 'delivered', null, null);
      if (c.phoneValid && !c.doNotCall && !acc.ceaseAndDesist) calls(rng.int(1, 3));
      return;
    }
    case 'human_call':
      calls(rng.int(2, 7));
      if (willingness(c) < -0.8 && rng.bernoulli(0.015)) acc.ceaseAndDesist = true;
      if (rng.bernoulli(0.01)) acc.complaintMonths = rng.int(1, 2);
      return;
    case 'legal':
      contact(s + rng.int(1, 10), 'legal', 'delivered', null, null);
      contact(s + rng.int(11, 26), 'letter', 'delivered', null, null);
      if (rng.bernoulli(0.01)) acc.complaintMonths = rng.int(1, 2);
      return;
  }
}
