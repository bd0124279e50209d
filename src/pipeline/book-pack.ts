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

/** A chunk of archives as `ChunkPacker.finish` gives it. */
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

/**
 * Rows of one table appended one by one, keys and kinds from the first: the rows of one source share one shape (the
 * history store builds every row of a read from the same columns); a missing key is refused, not read as null.
 */
class RowPacker {
  private keys: string[] | null = null;
  private kinds: number[] = [];
  private num: number[] = [];
  private flag: number[] = [];
  private text: (string | null)[] = [];
  rows = 0;

  constructor(
    private readonly columns: readonly ColumnSpec[],
    private readonly table: string,
  ) {}

  add(r: Record<string, unknown>): void {
    if (this.keys === null) {
      this.keys = Object.keys(r);
      this.kinds = this.keys.map((k) =>
        kindOf(
          this.columns.find((c) => c.name === k),
          this.table,
          k,
        ),
      );
    }
    const keys = this.keys;
    const kinds = this.kinds;
    for (let j = 0; j < keys.length; j++) {
      const v = r[keys[j]!];
      const kind = kinds[j]!;
      if (kind === 0) {
        // null travels as NaN, so a NaN cell could not come back as itself: rows never hold one.
        if (typeof v === 'number' && !Number.isNaN(v)) this.num.push(v);
        else if (v === null) this.num.push(Number.NaN);
        else throw this.refuse(keys[j]!, v);
      } else if (kind === 1) {
        if (typeof v !== 'boolean') throw this.refuse(keys[j]!, v);
        this.flag.push(v ? 1 : 0);
      } else {
        if (v !== null && typeof v !== 'string') throw this.refuse(keys[j]!, v);
        this.text.push(v);
      }
    }
    this.rows++;
  }

  private refuse(key: string, v: unknown): Error {
    return new Error(`cannot pack ${this.table} rows: '${key}' holds ${String(v)}`);
  }

  finish(): PackedRows {
    return {
      keys: this.keys ?? [],
      kinds: Uint8Array.from(this.kinds),
      num: Float64Array.from(this.num),
      flag: Uint8Array.from(this.flag),
      text: this.text,
    };
  }
}

/**
 * Packs archives one by one as the history store hands them to the book (a snapshot row, contact rows, a prepared
 * history; no instalment or payment rows), so none outlives its turn: `add` copies what it needs at once, and the
 * store's reused history buffer may be handed in.
 */
export class ChunkPacker {
  private accounts = new RowPacker(TABLES.accounts.columns, 'accounts');
  private contacts = new RowPacker(TABLES.contacts.columns, 'contacts');
  private contactRow: number[] = [0];
  private ins: number[] = [0];
  private con: number[] = [0];
  private due: number[] = [];
  private paid: number[] = [];
  private firstPaid: number[] = [];
  private amountDue: number[] = [];
  private amountPaid: number[] = [];
  private contactMs: number[] = [];
  private channel: number[] = [];
  private outcome: number[] = [];
  private promiseDay: number[] = [];

  /** Archives added since the last `finish`. */
  get size(): number {
    return this.accounts.rows;
  }

  /** @throws Error when the archive is of another shape (see the class). */
  add(x: AccountArchive): void {
    const h = x.history;
    if (!h || x.installments.length || x.payments)
      throw new Error(
        'cannot pack an archive without a prepared history, or with instalment or payment rows',
      );
    this.accounts.add(x.account as unknown as Record<string, unknown>);
    for (const c of x.contacts) this.contacts.add(c as unknown as Record<string, unknown>);
    this.contactRow.push(this.contacts.rows);
    for (let i = 0; i < h.n; i++) {
      this.due.push(h.due[i]!);
      this.paid.push(h.paid[i]!);
      this.firstPaid.push(h.firstPaid[i]!);
      this.amountDue.push(h.amountDue[i]!);
      this.amountPaid.push(h.amountPaid[i]!);
    }
    for (let i = 0; i < h.contacts; i++) {
      this.contactMs.push(h.contactMs[i]!);
      this.channel.push(h.channel[i]!);
      this.outcome.push(h.outcome[i]!);
      this.promiseDay.push(h.promiseDay[i]!);
    }
    this.ins.push(this.due.length);
    this.con.push(this.contactMs.length);
  }

  /** The chunk of the archives added (the packer is spent: start a new one for the next). */
  finish(): PackedChunk {
    const p: PackedChunk = {
      size: this.size,
      accounts: this.accounts.finish(),
      contactRow: Int32Array.from(this.contactRow),
      contacts: this.contacts.finish(),
      ins: Int32Array.from(this.ins),
      con: Int32Array.from(this.con),
      due: Int32Array.from(this.due),
      paid: Int32Array.from(this.paid),
      firstPaid: Int32Array.from(this.firstPaid),
      amountDue: Float64Array.from(this.amountDue),
      amountPaid: Float64Array.from(this.amountPaid),
      contactMs: Float64Array.from(this.contactMs),
      channel: Uint8Array.from(this.channel),
      outcome: Uint8Array.from(this.outcome),
      promiseDay: Int32Array.from(this.promiseDay),
    };
    return p;
  }
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
