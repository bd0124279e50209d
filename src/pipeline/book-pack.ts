import type { ContactLike, PreparedHistory } from '../core/features/history.ts';
import type { ColumnSpec } from '../core/schema/columns.ts';
import { type AccountRow, TABLES } from '../core/schema/tables.ts';
import type { AccountArchive } from '../core/scoring/score.ts';

/*
 * A chunk of a book's archives packed for a worker thread: a few typed arrays (transferred, not copied) and one
 * list of strings. Structured cloning the archives themselves — ten small typed arrays and two dozen keyed
 * objects per account — cost the reading thread more than the scoring it handed off (77 µs per account).
 */

/** Rows of one contract table, column by column kind; keys in the rows' own order. */
interface PackedRows {
  keys: string[];
  /** Per key: 0 number (NaN = null), 1 flag, 2 text (or null). */
  kinds: Uint8Array;
  num: Float64Array;
  flag: Uint8Array;
  text: (string | null)[];
}

/** A chunk of archives as `packArchives` gives it. */
export interface PackedChunk {
  size: number;
  accounts: PackedRows;
  /** Archive i's contacts are rows contactRow[i] .. contactRow[i + 1] of `contacts`. */
  contactRow: Int32Array;
  contacts: PackedRows;
  /** Archive i's history: instalments ins[i] .. ins[i + 1], contacts con[i] .. con[i + 1] of the arrays below. */
  ins: Int32Array;
  con: Int32Array;
  due: Int32Array;
  paid: Int32Array;
  firstPaid: Int32Array;
  amountDue: Float64Array;
  amountPaid: Float64Array;
  contactMs: Float64Array;
  channel: Uint8Array;
  outcome: Uint8Array;
  promiseDay: Int32Array;
}

const kindOf = (c: ColumnSpec | undefined, table: string, key: string): number => {
  if (!c) throw new Error(`cannot pack ${table} rows: '${key}' is not a contract column`);
  const t = c.kind.type;
  return t === 'number' || t === 'int' ? 0 : t === 'bool' ? 1 : 2;
};

function packRows(rows: readonly Record<string, unknown>[], columns: readonly ColumnSpec[], table: string) {
  const keys = rows.length ? Object.keys(rows[0]!) : [];
  const kinds = Uint8Array.from(keys, (k) =>
    kindOf(
      columns.find((c) => c.name === k),
      table,
      k,
    ),
  );
  const width = [0, 0, 0];
  for (const k of kinds) width[k]!++;
  const num = new Float64Array(rows.length * width[0]!);
  const flag = new Uint8Array(rows.length * width[1]!);
  const text: (string | null)[] = [];
  let a = 0;
  let b = 0;
  for (const r of rows) {
    let seen = 0;
    for (let j = 0; j < keys.length; j++) {
      const v = r[keys[j]!];
      if (v === undefined) throw new Error(`cannot pack ${table} rows: one lacks '${keys[j]}'`);
      seen++;
      const kind = kinds[j]!;
      if (kind === 0) {
        // null travels as NaN, so a NaN cell could not come back as itself: rows never hold one.
        if (v !== null && (typeof v !== 'number' || Number.isNaN(v)))
          throw new Error(`cannot pack ${table} rows: '${keys[j]}' holds ${String(v)}`);
        num[a++] = v === null ? Number.NaN : v;
      } else if (kind === 1) {
        if (typeof v !== 'boolean')
          throw new Error(`cannot pack ${table} rows: '${keys[j]}' holds ${String(v)}`);
        flag[b++] = v ? 1 : 0;
      } else {
        if (v !== null && typeof v !== 'string')
          throw new Error(`cannot pack ${table} rows: '${keys[j]}' holds ${String(v)}`);
        text.push(v);
      }
    }
    if (Object.keys(r).length !== seen) throw new Error(`cannot pack ${table} rows: their keys differ`);
  }
  return { keys, kinds, num, flag, text };
}

function unpackRows(p: PackedRows, from: number, to: number): Record<string, unknown>[] {
  const width = [0, 0, 0];
  for (const k of p.kinds) width[k]!++;
  let a = from * width[0]!;
  let b = from * width[1]!;
  let c = from * width[2]!;
  const out: Record<string, unknown>[] = [];
  for (let i = from; i < to; i++) {
    const r: Record<string, unknown> = {};
    for (let j = 0; j < p.keys.length; j++) {
      const kind = p.kinds[j]!;
      if (kind === 0) {
        const v = p.num[a++]!;
        r[p.keys[j]!] = Number.isNaN(v) ? null : v;
      } else if (kind === 1) r[p.keys[j]!] = p.flag[b++] === 1;
      else r[p.keys[j]!] = p.text[c++]!;
    }
    out.push(r);
  }
  return out;
}

/**
 * Packs archives as the history store hands them to the book (a snapshot row, contact rows, a prepared history;
 * no instalment or payment rows).
 * @throws Error when an archive is of another shape; its caller then sends nothing of the chunk.
 */
export function packArchives(archives: readonly AccountArchive[]): PackedChunk {
  const size = archives.length;
  const ins = new Int32Array(size + 1);
  const con = new Int32Array(size + 1);
  const contactRow = new Int32Array(size + 1);
  const contacts: Record<string, unknown>[] = [];
  archives.forEach((x, i) => {
    if (!x.history || x.installments.length || x.payments)
      throw new Error(
        'cannot pack an archive without a prepared history, or with instalment or payment rows',
      );
    ins[i + 1] = ins[i]! + x.history.n;
    con[i + 1] = con[i]! + x.history.contacts;
    for (const c of x.contacts) contacts.push(c as unknown as Record<string, unknown>);
    contactRow[i + 1] = contacts.length;
  });
  const n = ins[size]!;
  const m = con[size]!;
  const p: PackedChunk = {
    size,
    accounts: packRows(
      archives.map((x) => x.account as unknown as Record<string, unknown>),
      TABLES.accounts.columns,
      'accounts',
    ),
    contactRow,
    contacts: packRows(contacts, TABLES.contacts.columns, 'contacts'),
    ins,
    con,
    due: new Int32Array(n),
    paid: new Int32Array(n),
    firstPaid: new Int32Array(n),
    amountDue: new Float64Array(n),
    amountPaid: new Float64Array(n),
    contactMs: new Float64Array(m),
    channel: new Uint8Array(m),
    outcome: new Uint8Array(m),
    promiseDay: new Int32Array(m),
  };
  archives.forEach((x, i) => {
    const h = x.history!;
    const a = ins[i]!;
    const c = con[i]!;
    p.due.set(h.due.subarray(0, h.n), a);
    p.paid.set(h.paid.subarray(0, h.n), a);
    p.firstPaid.set(h.firstPaid.subarray(0, h.n), a);
    p.amountDue.set(h.amountDue.subarray(0, h.n), a);
    p.amountPaid.set(h.amountPaid.subarray(0, h.n), a);
    p.contactMs.set(h.contactMs.subarray(0, h.contacts), c);
    p.channel.set(h.channel.subarray(0, h.contacts), c);
    p.outcome.set(h.outcome.subarray(0, h.contacts), c);
    p.promiseDay.set(h.promiseDay.subarray(0, h.contacts), c);
  });
  return p;
}

/** The buffers of a packed chunk, to transfer rather than copy. */
export function packedBuffers(p: PackedChunk): ArrayBuffer[] {
  return [
    p.accounts.kinds,
    p.accounts.num,
    p.accounts.flag,
    p.contactRow,
    p.contacts.kinds,
    p.contacts.num,
    p.contacts.flag,
    p.ins,
    p.con,
    p.due,
    p.paid,
    p.firstPaid,
    p.amountDue,
    p.amountPaid,
    p.contactMs,
    p.channel,
    p.outcome,
    p.promiseDay,
  ].map((a) => a.buffer as ArrayBuffer);
}

/** The archives of a packed chunk: equal, field for field and value for value, to those packed. */
export function unpackArchives(p: PackedChunk): AccountArchive[] {
  const accounts = unpackRows(p.accounts, 0, p.size);
  const out: AccountArchive[] = [];
  for (let i = 0; i < p.size; i++) {
    const a = p.ins[i]!;
    const b = p.ins[i + 1]!;
    const c = p.con[i]!;
    const d = p.con[i + 1]!;
    const history: PreparedHistory = {
      n: b - a,
      due: p.due.subarray(a, b),
      paid: p.paid.subarray(a, b),
      firstPaid: p.firstPaid.subarray(a, b),
      amountDue: p.amountDue.subarray(a, b),
      amountPaid: p.amountPaid.subarray(a, b),
      contacts: d - c,
      contactMs: p.contactMs.subarray(c, d),
      channel: p.channel.subarray(c, d),
      outcome: p.outcome.subarray(c, d),
      promiseDay: p.promiseDay.subarray(c, d),
    };
    out.push({
      account: accounts[i] as unknown as AccountRow,
      installments: [],
      contacts: unpackRows(p.contacts, p.contactRow[i]!, p.contactRow[i + 1]!) as unknown as ContactLike[],
      history,
    });
  }
  return out;
}
