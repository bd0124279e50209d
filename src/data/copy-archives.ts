import { ARCHIVE_LOOKBACK } from '../core/features/definitions.ts';
import type { ContactLike, PreparedHistory } from '../core/features/history.ts';
import { applyPaymentsFrom } from '../core/features/payments.ts';
import { CONTACT_CHANNELS, CONTACT_OUTCOMES } from '../core/schema/enums.ts';
import type { AccountRow } from '../core/schema/tables.ts';
import type { AccountArchive } from '../core/scoring/score.ts';
import { isoOf } from '../core/time/dates.ts';
import { isTimeZone } from '../core/time/timezone.ts';
import { COPY_ACCOUNT_COLUMNS, type CopyDay } from './history-copy.ts';

/*
 * Archives of one snapshot date of the history copy, built straight from its typed columns: the snapshot row and
 * contact rows the policy reads, and the prepared history the features read — the instalments due inside the
 * features' lookback before the date (views into the copy's arrays, no copy), every contact of the account, and,
 * with a payments table, paid status derived from the payments in the window (`applyPaymentsFrom`). Exactly what
 * the history store hands the CSV path for the same date (history-store.ts, `accounts` with `contactRows` and
 * `textColumns`), value for value.
 */

const CHANNELS: readonly string[] = CONTACT_CHANNELS;
const OUTCOMES: readonly string[] = CONTACT_OUTCOMES;
const TIMEZONE = COPY_ACCOUNT_COLUMNS.findIndex((c) => c.name === 'timezone');

/** Archives of a copy's date: row `r` (0-based, account order) on demand, from any thread holding the CopyDay. */
export class CopyArchives {
  private readonly tzOk: Uint8Array;

  /** Row `r`'s snapshot as the contract row the CSV path gives (see `rowBuilder`). */
  private readonly row: (r: number, id: string) => Record<string, unknown>;

  constructor(private readonly d: CopyDay) {
    this.row = rowBuilder(d);
    const dict = d.cols[TIMEZONE]!.dict!;
    this.tzOk = Uint8Array.from(dict, (tz) => (isTimeZone(tz) ? 1 : 0));
  }

  /**
   * Why row `r` cannot be scored, or null when it can: its time zone must be an IANA zone (the message names
   * `accountsFile`, as the CSV path's does).
   */
  check(r: number, accountsFile: string): string | null {
    const code = (this.d.cols[TIMEZONE]!.data as Int32Array)[r]!;
    if (code >= 0 && this.tzOk[code] === 1) return null;
    const tz = code >= 0 ? this.d.cols[TIMEZONE]!.dict![code]! : null;
    return `${accountsFile}: account ${this.d.ids[this.d.key[r]!]} (${this.d.asOf}): timezone: expected an IANA time zone (e.g. America/Chicago) (got ${JSON.stringify(tz)})`;
  }

  /** The archive of row `r`: a standalone object (its history views the copy's memory, read-only). */
  archive(r: number): AccountArchive {
    const k = this.d.key[r]!;
    const id = this.d.ids[k]!;
    const account = this.row(r, id);
    return {
      account: account as unknown as AccountRow,
      installments: [],
      contacts: this.contactRows(k, id),
      history: this.history(k),
    };
  }

  private contactRows(k: number, id: string): ContactLike[] {
    const c = this.d.contacts;
    const ts = c.cols.ts as Float64Array;
    const channel = c.cols.channel as Uint8Array;
    const outcome = c.cols.outcome as Uint8Array;
    const amount = c.cols.promise_amount as Float64Array;
    const promise = c.cols.promise_date as Int32Array;
    const agent = c.cols.agent_id as Int32Array;
    const agents = c.dicts.agent_id!;
    const out: ContactLike[] = [];
    const channels = CHANNELS;
    const outcomes = OUTCOMES;
    for (let i = c.start[k]!; i < c.start[k + 1]!; i++) {
      const a = amount[i]!;
      const p = promise[i]!;
      const g = agent[i]!;
      out.push({
        account_id: id,
        ts: new Date(ts[i]!).toISOString(),
        channel: channels[channel[i]!] ?? null,
        outcome: outcomes[outcome[i]!] ?? null,
        promise_amount: Number.isNaN(a) ? null : a,
        promise_date: p === -1 ? null : isoOf(p),
        agent_id: g < 0 ? null : agents[g]!,
      } as unknown as ContactLike);
    }
    return out;
  }

  private history(k: number): PreparedHistory {
    const d = this.d;
    const ins = d.installments;
    const due = ins.cols.due_date as Int32Array;
    const from = d.day - ARCHIVE_LOOKBACK.installmentsDays;
    // Sorted by due date within the account: the window [from, day) is one run.
    let a = ins.start[k]!;
    const end = ins.start[k + 1]!;
    while (a < end && due[a]! < from) a++;
    let b = a;
    while (b < end && due[b]! < d.day) b++;
    const c = d.contacts;
    const c0 = c.start[k]!;
    const c1 = c.start[k + 1]!;
    const view = <T extends Int32Array | Float64Array | Uint8Array>(x: unknown, p: number, q: number) =>
      (x as T).subarray(p, q) as T;
    const h: PreparedHistory = {
      n: b - a,
      due: view<Int32Array>(due, a, b),
      paid: view<Int32Array>(ins.cols.paid_date, a, b),
      firstPaid: view<Int32Array>(ins.cols.first_paid_date, a, b),
      amountDue: view<Float64Array>(ins.cols.amount_due, a, b),
      amountPaid: view<Float64Array>(ins.cols.amount_paid, a, b),
      contacts: c1 - c0,
      contactMs: view<Float64Array>(c.cols.ts, c0, c1),
      channel: view<Uint8Array>(c.cols.channel, c0, c1),
      outcome: view<Uint8Array>(c.cols.outcome, c0, c1),
      promiseDay: view<Int32Array>(c.cols.promise_date, c0, c1),
    };
    const pay = d.payments;
    if (!pay) return h;
    // Paid status from the payments in the window: written into copies, never into the shared columns.
    const days = pay.cols.paid_at as Int32Array;
    let p = pay.start[k]!;
    const pEnd = pay.start[k + 1]!;
    while (p < pEnd && days[p]! < from) p++;
    let q = p;
    while (q < pEnd && days[q]! < d.day) q++;
    const own: PreparedHistory = {
      ...h,
      paid: h.paid.slice(),
      firstPaid: h.firstPaid.slice(),
      amountPaid: h.amountPaid.slice(),
    };
    applyPaymentsFrom(own, days.subarray(p, q), (pay.cols.amount as Float64Array).subarray(p, q), from);
    return own;
  }
}

/**
 * A function building a snapshot row from the copy's columns: one object literal with every contract column in
 * order (the shape the CSV path's rows have), compiled once per date from the contract — not a loop over the
 * columns with a switch per cell, which cost more than a third of building an archive.
 */
function rowBuilder(d: CopyDay): (r: number, id: string) => Record<string, unknown> {
  const fields = COPY_ACCOUNT_COLUMNS.map((c, j) => {
    const v = `c${j}[r]`;
    let e: string;
    switch (c.kind.type) {
      case 'id':
      case 'text':
        e = `${v} < 0 ? null : dict[${j}][${v}]`;
        break;
      case 'number':
      case 'int':
        e = `Number.isNaN(${v}) ? null : ${v}`;
        break;
      case 'bool':
        e = `${v} === 1`;
        break;
      case 'enum':
        e = `enums[${j}][${v}] ?? null`;
        break;
      case 'date':
        e = `${v} === -1 ? null : isoOf(${v})`;
        break;
      case 'timestamp':
        e = `Number.isNaN(${v}) ? null : new Date(${v}).toISOString()`;
        break;
    }
    return `${JSON.stringify(c.name)}: ${e}`;
  });
  const make = new Function(
    'cols',
    'dict',
    'enums',
    'isoOf',
    `${COPY_ACCOUNT_COLUMNS.map((_, j) => `const c${j} = cols[${j}];`).join('\n')}
return (r, id) => ({ account_id: id, ${fields.join(', ')} });`,
  ) as (
    cols: unknown[],
    dict: unknown[],
    enums: unknown[],
    iso: typeof isoOf,
  ) => (r: number, id: string) => Record<string, unknown>;
  return make(
    d.cols.map((c) => c.data),
    d.cols.map((c) => c.dict),
    COPY_ACCOUNT_COLUMNS.map((c) => (c.kind.type === 'enum' ? c.kind.values : null)),
    isoOf,
  );
}
