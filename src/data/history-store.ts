import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { RepayriskError } from '../core/errors.ts';
import { buildFeatures, type SnapshotLike } from '../core/features/builder.ts';
import { ARCHIVE_LOOKBACK } from '../core/features/definitions.ts';
import { applyPaymentsFrom } from '../core/features/payments.ts';
import { PreparedBuffer } from '../core/features/prepared-buffer.ts';
import type { CellValue, ColumnSpec } from '../core/schema/columns.ts';
import { type PaymentRow, TABLES, type TableName } from '../core/schema/tables.ts';
import { dayOf, isoOf } from '../core/time/dates.ts';
import { dayNumberSql, invalidCellSql, typedCellSql } from './cell-sql.ts';
import { checkTableFile } from './check-table.ts';
import { type CsvCut, cutCsv, type DateWindow } from './csv-cut.ts';
import { sqlIdent, sqlString } from './duckdb.ts';
import { findHistoryFiles } from './history.ts';
import { type ChunkColumn, KeyedStream } from './keyed-stream.ts';
import { describeTableFile, rawRelation, type TableFile, textOf } from './table-file.ts';

/** Resources of the one DuckDB instance a store runs. */
export interface StoreOptions {
  /** DuckDB's memory limit (sorts and joins beyond it spill to `tempDirectory`). Default 512MB. */
  memoryLimit?: string;
  /** DuckDB threads. Default 2 (the machines have two cores). */
  threads?: number;
  /** Where DuckDB spills: a fresh folder is made inside it and removed on close. Default the OS temp dir. */
  tempDirectory?: string;
  /**
   * Cut CSV files down on their bytes to the rows a read uses before DuckDB reads them (csv-cut.ts). Default
   * true; false reads every file whole through DuckDB's CSV reader with the checks in SQL (for comparison).
   */
  cut?: boolean;
}

/** The snapshots a read covers. */
export type SnapshotScope =
  /** Every delinquent snapshot (days_past_due >= 1): training, evaluation, backtests. */
  | { delinquent: true }
  /** Every account's snapshot dated `asOf` (batch scoring of a book). */
  | { asOf: string };

/** Tables dated like a snapshot (account_id, as_of_date) that a read joins to each snapshot. */
export type DatedTable = 'outcomes' | 'truth' | 'treatments';

export interface ReadSpec {
  scope: SnapshotScope;
  /** Columns of each dated table to join (a missing table file gives nulls). */
  dated?: Partial<Record<DatedTable, readonly string[]>>;
  /** Also hand out each account's contacts as rows (the policy's caps and cooldowns read them). */
  contactRows?: boolean;
  /** Text columns of the snapshot (customer_id, region, timezone) too; numbers, flags, enums and dates always. */
  textColumns?: boolean;
}

/** One account's snapshots in scope, with its history ready for the feature builder. */
export interface AccountGroup {
  accountId: string;
  /** Its instalments and contacts, columnar (a reused buffer: valid until the next group is asked for). */
  history: PreparedBuffer;
  /** Snapshots in date order, typed as the contract says (text columns only with `textColumns`). */
  snapshots: Record<string, CellValue>[];
  /** Per snapshot, the joined row of each dated table asked for, or null where it has none. */
  dated: Partial<Record<DatedTable, (Record<string, CellValue> | null)[]>>;
  /** With `contactRows`: every contact of the account, sorted by time, as contract rows. */
  contacts: Record<string, CellValue>[] | null;
  /**
   * With `contactRows` and a payments table: the account's payments the store read (from the instalment lookback
   * before its first snapshot to the day before its last), by date, as contract rows; else null.
   */
  payments: PaymentRow[] | null;
  /**
   * Writes the features of snapshot `i` into `out[offset ..]`: `buildFeatures` on `historyAsOf(i)`.
   */
  features(i: number, out: Float64Array, offset: number): void;
  /**
   * The history as snapshot `i` sees it: with a payments table, paid status derived from the payments in the
   * snapshot's window (`applyPaymentsFrom`, the API's rule); otherwise the instalments' own columns. The buffer is
   * the reused one: copy it to keep it.
   */
  historyAsOf(i: number): PreparedBuffer;
}

const ACCOUNT_TEXT = new Set(['customer_id', 'region', 'timezone']);

/**
 * The one reader of history tables for training, evaluation, batch scoring and backtests: one DuckDB instance with
 * a memory limit over a history folder's files (CSV or Parquet). A read validates exactly the rows it uses against
 * the data contract in SQL (only failing cells reach JavaScript, named by file, row, column, expected and got; CSV
 * structure errors by line), reads instalments and contacts only for accounts with a snapshot in scope, and hands
 * them over as typed columns grouped by an integer account key — one merge-join, no per-row objects for history.
 */
export class HistoryStore {
  private seq = 0;
  /** Tables the current read built, dropped when it ends. */
  private tables: string[] = [];
  /**
   * CSV files cut down to the rows of one scope (the accounts file by scope; the others by the accounts in it),
   * made once per scope and kept until the store closes; null where the file needs DuckDB's reader to be named.
   */
  private cuts = new Map<
    string,
    Promise<{ accounts: CsvCut | null; ids: Set<string>; tables: Map<TableName, Promise<CsvCut | null>> }>
  >();

  private constructor(
    readonly dir: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    readonly files: Partial<Record<TableName, TableFile>>,
    private readonly temp: string,
    private readonly useCuts: boolean,
  ) {}

  /**
   * Opens the tables of a history folder; `required` must exist.
   * @throws RepayriskError('io') for a missing table file; DataContractError for a file lacking contract columns.
   */
  static async open(
    dir: string,
    required: readonly TableName[],
    opts: StoreOptions = {},
  ): Promise<HistoryStore> {
    const paths = findHistoryFiles(dir, required);
    // A folder of its own per store, so stores opened side by side never share a database file.
    const base = opts.tempDirectory ?? tmpdir();
    mkdirSync(base, { recursive: true });
    const temp = mkdtempSync(join(base, 'repayrisk-store-'));
    // A database file in the spill folder, not ':memory:': the sorted tables a read builds then live on disk,
    // compressed, so a book of any size fits the memory limit.
    const instance = await DuckDBInstance.create(join(temp, 'store.duckdb'), {
      threads: String(opts.threads ?? 2),
      memory_limit: opts.memoryLimit ?? '512MB',
      temp_directory: temp,
    });
    const conn = await instance.connect();
    const files: Partial<Record<TableName, TableFile>> = {};
    try {
      for (const t of Object.keys(paths) as TableName[])
        files[t] = await describeTableFile(conn, paths[t]!, TABLES[t]);
    } catch (e) {
      conn.closeSync();
      instance.closeSync();
      rmSync(temp, { recursive: true, force: true });
      throw e;
    }
    return new HistoryStore(dir, instance, conn, files, temp, opts.cut ?? true);
  }

  /** Releases DuckDB and its spill folder. */
  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
    rmSync(this.temp, { recursive: true, force: true });
  }

  /**
   * The snapshot dates of the accounts table: how many accounts and dates, the first and last (only well-formed
   * dates count; a malformed one is named when a read reaches it).
   */
  async snapshotDates(): Promise<{
    accounts: number;
    dates: number;
    first: string | null;
    last: string | null;
  }> {
    const acc = this.need('accounts');
    const d = textOf(acc, 'as_of_date');
    const [r] = await this.rows(
      `SELECT count(DISTINCT ${textOf(acc, 'account_id')}) AS accounts, count(DISTINCT ${d}) AS dates, min(${d}) AS first, max(${d}) AS last ` +
        `FROM ${rawRelation(acc)} WHERE regexp_full_match(${d}, '[0-9]{4}-[0-9]{2}-[0-9]{2}')`,
    );
    return {
      accounts: Number(r!.accounts),
      dates: Number(r!.dates),
      first: (r!.first as string | null) ?? null,
      last: (r!.last as string | null) ?? null,
    };
  }

  /** Number of snapshots in scope (cheap next to a read; for progress and exact allocation). */
  async countSnapshots(scope: SnapshotScope): Promise<number> {
    const acc = this.need('accounts');
    const cut = (await this.cutOf(scope)).accounts;
    if (cut) return cut.rows;
    const r = await this.conn.runAndReadAll(
      `SELECT count(*) AS n FROM ${rawRelation(acc)} WHERE ${scopeSql(acc, scope)}`,
    );
    return Number(r.getRowObjectsJS()[0]!.n);
  }

  /**
   * Streams the accounts with snapshots in scope, in account order, each with its columnar history, its snapshots
   * and the dated rows asked for. Rows are validated before any is handed out: a broken cell in a row the read
   * uses is an error naming it; rows the read does not use (other accounts, non-delinquent snapshots) are not read.
   *
   * @throws DataContractError / RepayriskError('invalid_data') for contract breaches, including two snapshots of
   *   one account on one date, or two dated rows for one snapshot.
   */
  async *accounts(spec: ReadSpec): AsyncGenerator<AccountGroup> {
    const id = ++this.seq;
    const snaps = `snaps_${id}`;
    const keys = `keys_${id}`;
    const acc = this.need('accounts');
    const scope = scopeSql(acc, spec.scope);
    const cuts = await this.cutOf(spec.scope);
    const cutOf = async (t: TableFile) => (t.format === 'csv' ? this.cutTable(spec.scope, t) : null);
    const accCols = TABLES.accounts.columns.filter(
      (c) => c.name !== 'account_id' && (spec.textColumns || !isText(c) || !ACCOUNT_TEXT.has(c.name)),
    );
    const streams: KeyedStream[] = [];
    try {
      // One scan of the accounts file: the snapshots in scope, typed, each with a flag saying whether any cell
      // breaks the contract; only when one does is the file scanned again to name the cells.
      // A CSV file cut down to the rows in scope (every cell checked on the way) is read without checks.
      const accRead = cuts.accounts?.read ?? acc;
      const bad = cuts.accounts
        ? 'false'
        : TABLES.accounts.columns.map((c) => invalidCellSql(c, textOf(acc, c.name))).join(' OR ');
      await this.run(
        `CREATE TABLE ${this.table(snaps)} AS SELECT ${textOf(acc, 'account_id')} AS account_id, ` +
          `${accCols.map((c) => `${typedOf(acc, c)} AS ${sqlIdent(c.name)}`).join(', ')}, CAST(${bad} AS BOOLEAN) AS bad ` +
          `FROM ${rawRelation(accRead)}${cuts.accounts ? '' : ` WHERE ${scope}`}`,
        acc,
      );
      await this.failIfBad(snaps, acc, scope);
      await this.run(
        `CREATE TABLE ${this.table(keys)} AS SELECT account_id AS aid, CAST(row_number() OVER (ORDER BY account_id) - 1 AS INTEGER) AS k, ` +
          `min(as_of_date) AS first_day, max(as_of_date) AS last_day, count(*) - count(DISTINCT as_of_date) AS repeats ` +
          `FROM ${snaps} GROUP BY account_id`,
      );
      const dup = await this.rows(`SELECT aid FROM ${keys} WHERE repeats > 0 ORDER BY k LIMIT 3`);
      if (dup.length)
        throw new RepayriskError(
          'invalid_data',
          `${acc.file}: ${dup.map((d) => `account ${JSON.stringify(d.aid)} has more than one snapshot on one date`).join('; ')}; the data contract allows one per account and day`,
        );
      const ids = (await this.rows(`SELECT aid FROM ${keys} ORDER BY k`)).map((r) => String(r.aid));
      const inScope = (t: TableFile) => `${textOf(t, 'account_id')} IN (SELECT aid FROM ${keys})`;

      // Dated tables: checked on the rows joined, then joined in SQL (one row per snapshot at most).
      const dated = Object.entries(spec.dated ?? {}) as [DatedTable, readonly string[]][];
      const joins: string[] = [];
      const datedCols: { table: DatedTable; cols: ColumnSpec[]; present: string }[] = [];
      for (const [table, names] of dated) {
        const t = this.files[table];
        if (!t) continue;
        const cols = names.map((n) => TABLES[table].columns.find((c) => c.name === n)!);
        const alias = `d_${table}`;
        const name = this.table(`${table}_${id}`);
        // Checked in the same scan as it is read: a flag per row, and the cells named only when one is set.
        const cut = await cutOf(t);
        const bad = cut
          ? 'false'
          : t.spec.columns.map((c) => invalidCellSql(c, textOf(t, c.name))).join(' OR ');
        await this.run(
          `CREATE TABLE ${name} AS SELECT ${textOf(t, 'account_id')} AS account_id, ${dayNumberSql(textOf(t, 'as_of_date'))} AS day, 1 AS present, ` +
            `${cols.map((c) => `${typedOf(t, c)} AS ${sqlIdent(c.name)}`).join(', ')}, CAST(${bad} AS BOOLEAN) AS bad ` +
            `FROM ${rawRelation(cut?.read ?? t)} WHERE ${inScope(t)}`,
          t,
        );
        await this.failIfBad(name, t, inScope(t));
        const [dupe] = await this.rows(
          `SELECT account_id, day FROM ${name} GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT 1`,
        );
        if (dupe)
          throw new RepayriskError(
            'invalid_data',
            `${t.file}: account ${JSON.stringify(dupe.account_id)} has more than one row dated ${isoOf(Number(dupe.day))}; the data contract allows one per account and day`,
          );
        joins.push(
          `LEFT JOIN ${name} ${alias} ON ${alias}.account_id = s.account_id AND ${alias}.day = s.as_of_date`,
        );
        datedCols.push({ table, cols, present: `${alias}.present` });
      }
      const snapSelect = [
        ...accCols.map((c) => `s.${sqlIdent(c.name)}`),
        ...datedCols.flatMap((d) => [
          `coalesce(${d.present}, 0)::UTINYINT`,
          ...d.cols.map((c) => `d_${d.table}.${sqlIdent(c.name)}`),
        ]),
      ];
      const snapText = [...accCols.map(isText), ...datedCols.flatMap((d) => [false, ...d.cols.map(isText)])];
      const snapStream = await this.sortedStream(
        `snapshots_${id}`,
        `SELECT k.k, s.as_of_date AS __day, ${snapSelect.join(', ')} FROM ${snaps} s JOIN ${keys} k ON k.aid = s.account_id ${joins.join(' ')}`,
        'k, __day',
        snapSelect.length,
        acc.file,
        snapText,
      );
      streams.push(snapStream);

      const insT = this.need('installments');
      const ins = TABLES.installments;
      const insCols = ['due_date', 'paid_date', 'first_paid_date', 'amount_due', 'amount_paid'].map(
        (n) => ins.columns.find((c) => c.name === n)!,
      );
      // Only what a feature can read: instalments due inside the lookback of some snapshot of the account.
      const insStream = await this.historyStream(
        insT,
        await cutOf(insT),
        keys,
        [...insCols, ins.columns.find((c) => c.name === 'installment_no')!],
        `c0 >= first_day - ${ARCHIVE_LOOKBACK.installmentsDays} AND c0 < last_day`,
      );
      streams.push(insStream);
      const conT = this.need('contacts');
      const con = TABLES.contacts;
      const conCols = spec.contactRows
        ? con.columns.filter((c) => c.name !== 'account_id')
        : ['ts', 'channel', 'outcome', 'promise_date'].map((n) => con.columns.find((c) => c.name === n)!);
      // Contacts inside the features' lookback; with `contactRows` every later one too (the caps read them).
      const conStream = await this.historyStream(
        conT,
        await cutOf(conT),
        keys,
        conCols,
        spec.contactRows
          ? 'true'
          : `c0 >= (first_day - ${ARCHIVE_LOOKBACK.contactsDays}) * 86400000.0 AND c0 < last_day * 86400000.0`,
      );
      streams.push(conStream);
      // Payments (optional table): inside the instalment lookback; paid status is derived from them per snapshot.
      const payT = this.files.payments;
      const pay = TABLES.payments;
      const payStream = payT
        ? await this.historyStream(
            payT,
            await cutOf(payT),
            keys,
            ['paid_at', 'amount'].map((n) => pay.columns.find((c) => c.name === n)!),
            `c0 >= first_day - ${ARCHIVE_LOOKBACK.installmentsDays} AND c0 < last_day`,
          )
        : null;
      if (payStream) streams.push(payStream);
      let payDays = new Int32Array(64);
      let payAmounts = new Float64Array(64);
      let payN = 0;

      const buf = new PreparedBuffer();
      const insIx = (n: string) => insCols.findIndex((c) => c.name === n);
      const [iDue, iPaid, iFirst, iAmtDue, iAmtPaid] = [
        'due_date',
        'paid_date',
        'first_paid_date',
        'amount_due',
        'amount_paid',
      ].map(insIx) as [number, number, number, number, number];
      const conIx = (n: string) => conCols.findIndex((c) => c.name === n);
      const [cTs, cCh, cOut, cPromise] = ['ts', 'channel', 'outcome', 'promise_date'].map(conIx) as [
        number,
        number,
        number,
        number,
      ];
      for (;;) {
        const k = await snapStream.peekKey();
        if (k === null) break;
        buf.reset();
        await insStream.take(k, (cols, from, to) => {
          buf.reserveInstallments(to - from);
          const at = buf.n;
          buf.due.set((cols[iDue] as Int32Array).subarray(from, to), at);
          buf.paid.set((cols[iPaid] as Int32Array).subarray(from, to), at);
          buf.firstPaid.set((cols[iFirst] as Int32Array).subarray(from, to), at);
          buf.amountDue.set((cols[iAmtDue] as Float64Array).subarray(from, to), at);
          buf.amountPaid.set((cols[iAmtPaid] as Float64Array).subarray(from, to), at);
          buf.n += to - from;
        });
        payN = 0;
        await payStream?.take(k, (cols, from, to) => {
          if (payN + to - from > payDays.length) {
            const cap = Math.max(payN + to - from, payDays.length * 2);
            const d = new Int32Array(cap);
            d.set(payDays);
            const a = new Float64Array(cap);
            a.set(payAmounts);
            payDays = d;
            payAmounts = a;
          }
          payDays.set((cols[0] as Int32Array).subarray(from, to), payN);
          payAmounts.set((cols[1] as Float64Array).subarray(from, to), payN);
          payN += to - from;
        });
        const contactRows: Record<string, CellValue>[] | null = spec.contactRows ? [] : null;
        await conStream.take(k, (cols, from, to) => {
          buf.reserveContacts(to - from);
          const at = buf.contacts;
          buf.contactMs.set((cols[cTs] as Float64Array).subarray(from, to), at);
          buf.channel.set((cols[cCh] as Uint8Array).subarray(from, to), at);
          buf.outcome.set((cols[cOut] as Uint8Array).subarray(from, to), at);
          buf.promiseDay.set((cols[cPromise] as Int32Array).subarray(from, to), at);
          buf.contacts += to - from;
          if (!contactRows) return;
          for (let i = from; i < to; i++) {
            const row: Record<string, CellValue> = { account_id: ids[k]! };
            conCols.forEach((c, j) => {
              row[c.name] = jsValue(c, cols[j]!, i);
            });
            contactRows.push(row);
          }
        });
        const snapshots: Record<string, CellValue>[] = [];
        const datedRows: AccountGroup['dated'] = {};
        for (const d of datedCols) datedRows[d.table] = [];
        await snapStream.take(k, (cols, from, to) => {
          for (let i = from; i < to; i++) {
            const row: Record<string, CellValue> = { account_id: ids[k]! };
            let j = 0;
            for (const c of accCols) row[c.name] = jsValue(c, cols[j++]!, i);
            snapshots.push(row);
            for (const d of datedCols) {
              const present = (cols[j++] as Uint8Array)[i] === 1;
              let r: Record<string, CellValue> | null = null;
              if (present) {
                r = {};
                for (const c of d.cols) r[c.name] = jsValue(c, cols[j + d.cols.indexOf(c)]!, i);
              }
              j += d.cols.length;
              datedRows[d.table]!.push(r);
            }
          }
        });
        const days = payDays.subarray(0, payN);
        const amounts = payAmounts.subarray(0, payN);
        const hasPayments = payStream !== null;
        yield {
          accountId: ids[k]!,
          history: buf,
          snapshots,
          dated: datedRows,
          contacts: contactRows,
          payments:
            hasPayments && spec.contactRows
              ? Array.from(days, (d, j) => ({ account_id: ids[k]!, paid_at: isoOf(d), amount: amounts[j]! }))
              : null,
          historyAsOf(i) {
            if (hasPayments) {
              const asOf = dayOf(snapshots[i]!.as_of_date as string);
              applyPaymentsFrom(buf, days, amounts, asOf - ARCHIVE_LOOKBACK.installmentsDays);
            }
            return buf;
          },
          features(i, out, offset) {
            buildFeatures(snapshots[i]! as unknown as SnapshotLike, this.historyAsOf(i), out, offset);
          },
        };
      }
    } finally {
      for (const s of streams) s.close();
      for (const t of this.tables.splice(0))
        await this.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
    }
  }

  /**
   * A history table (instalments, contacts) streamed for the accounts in scope, sorted by account key and then by
   * its columns in the order given (the first is the date). Its rows are checked against the contract in the same
   * scan; when one breaks it, the table is checked again to name every bad cell.
   */
  private async historyStream(
    t: TableFile,
    cut: CsvCut | null,
    keys: string,
    cols: readonly ColumnSpec[],
    window: string,
  ): Promise<KeyedStream> {
    const all = t.spec.columns;
    const bad = all.map((c, j) => invalidCellSql(c, `t${j}`)).join(' OR ');
    // Each cell is cast once (inner query); the window is on the typed date (c0), and only rows inside it — or
    // whose date is missing or broken, so they are named rather than dropped — have their cells checked.
    const missing = cols[0]!.kind.type === 'timestamp' ? 'isnan(c0)' : 'c0 = -1';
    if (cut)
      // Every cell of the cut file was checked: only the typed columns are read.
      return this.sortedStream(
        `${t.spec.name}_${this.seq}`,
        `SELECT k, ${cols.map((_, j) => `c${j}`).join(', ')} FROM (` +
          `SELECT k.k, k.first_day, k.last_day, ${cols.map((c, j) => `${typedOf(t, c)} AS c${j}`).join(', ')} ` +
          `FROM ${rawRelation(cut.read)} JOIN ${keys} k ON k.aid = ${textOf(t, 'account_id')}) WHERE (${window}) OR ${missing}`,
        ['k', ...cols.map((_, j) => `c${j}`)].join(', '),
        cols.length,
        t.file,
        cols.map(isText),
      );
    return this.sortedStream(
      `${t.spec.name}_${this.seq}`,
      `SELECT k, ${cols.map((_, j) => `c${j}`).join(', ')}, CAST(${bad} AS BOOLEAN) AS bad FROM (` +
        `SELECT k.k, k.first_day, k.last_day, ${cols.map((c, j) => `${typedOf(t, c)} AS c${j}`).join(', ')}, ` +
        `${all.map((c, j) => `${textOf(t, c.name)} AS t${j}`).join(', ')} ` +
        `FROM ${rawRelation(t)} JOIN ${keys} k ON k.aid = ${textOf(t, 'account_id')}) WHERE (${window}) OR ${missing}`,
      ['k', ...cols.map((_, j) => `c${j}`)].join(', '),
      cols.length,
      t.file,
      cols.map(isText),
      { file: t, where: `${textOf(t, 'account_id')} IN (SELECT aid FROM ${keys})` },
    );
  }

  /**
   * Materialises `select` (first column k, then `width` value columns, then with `check` a `bad` flag) into a table
   * of the store's database, sorts it into another by `order`, and streams that in insertion order. Sorting a
   * table and streaming it is bounded by the memory limit (DuckDB spills); a paused streaming sort over a file is
   * not, and several of them side by side ran out of memory on a million-snapshot book.
   */
  private async sortedStream(
    name: string,
    select: string,
    order: string,
    width: number,
    what: string,
    text: readonly boolean[],
    check?: { file: TableFile; where: string },
  ): Promise<KeyedStream> {
    const unsorted = this.table(`${name}_u`);
    const sorted = this.table(name);
    await this.run(`CREATE TABLE ${unsorted} AS ${select}`, check?.file);
    if (check) await this.failIfBad(unsorted, check.file, check.where);
    const cols = (await this.rows(`SELECT column_name FROM (DESCRIBE ${unsorted})`)).map((r) =>
      sqlIdent(String(r.column_name)),
    );
    const flag = check ? 1 : 0;
    const values = cols.slice(cols.length - width - flag, cols.length - flag);
    await this.run(
      `CREATE TABLE ${sorted} AS SELECT ${cols[0]}, ${values.join(', ')} FROM ${unsorted} ORDER BY ${order}`,
    );
    await this.run(`DROP TABLE ${unsorted}`);
    return KeyedStream.open(this.instance, `SELECT * FROM ${sorted}`, what, text);
  }

  /**
   * Throws when a row of `table` (built from `t` with a `bad` flag per row) breaks the contract: the file is then
   * checked again over the same rows (`where`) so the error names every bad cell with its row and line.
   */
  private async failIfBad(table: string, t: TableFile, where: string): Promise<void> {
    const [r] = await this.rows(`SELECT count(*) AS n FROM ${table} WHERE bad`);
    if (Number(r!.n) === 0) return;
    await checkTableFile(this.conn, t, { where });
    throw new RepayriskError('invalid_data', `${t.file}: a row breaks the data contract`);
  }

  /** The accounts file of a scope cut down (CSV only), and the ids of the accounts it holds; made once. */
  private cutOf(scope: SnapshotScope) {
    const key = JSON.stringify(scope);
    let c = this.cuts.get(key);
    if (!c) {
      const n = this.cuts.size;
      const acc = this.need('accounts');
      const keep =
        'delinquent' in scope ? ({ by: 'delinquent' } as const) : ({ by: 'asOf', asOf: scope.asOf } as const);
      c = (async () => {
        const accounts =
          acc.format === 'csv' && this.useCuts
            ? await cutCsv(acc, join(this.temp, `cut${n}_accounts.csv`), keep)
            : null;
        return { accounts, ids: new Set(accounts?.ids), tables: new Map() };
      })();
      this.cuts.set(key, c);
    }
    return c;
  }

  /** A history or dated table cut down to the accounts of a scope (null: read the whole file, checked in SQL). */
  private async cutTable(scope: SnapshotScope, t: TableFile): Promise<CsvCut | null> {
    const c = await this.cutOf(scope);
    if (!c.accounts) return null;
    const name = t.spec.name as TableName;
    let cut = c.tables.get(name);
    if (!cut) {
      const file = join(this.temp, `cut${[...this.cuts.keys()].indexOf(JSON.stringify(scope))}_${name}.csv`);
      cut = cutCsv(t, file, { by: 'ids', ids: c.ids, ...windowOf(scope, name) });
      c.tables.set(name, cut);
    }
    return cut;
  }

  /** Registers a table the current read builds (dropped when it ends) and returns its name. */
  private table(name: string): string {
    this.tables.push(name);
    return name;
  }

  private need(t: TableName): TableFile {
    const f = this.files[t];
    if (!f) throw new RepayriskError('io', `${this.dir}: missing table file ${t}.csv|${t}.parquet`);
    return f;
  }

  /**
   * Runs a statement; when it scans `file` and fails, the file is checked first (`checkTableFile`), so a
   * malformed CSV line is named by file and line rather than by DuckDB's message about a buffer.
   */
  private async run(sql: string, file?: TableFile): Promise<void> {
    try {
      await this.conn.run(sql);
    } catch (e) {
      if (e instanceof RepayriskError) throw e;
      if (file) await checkTableFile(this.conn, file);
      throw new RepayriskError(
        'io',
        `${file?.path ?? this.dir}: ${String((e as Error).message).split('\n')[0]}`,
      );
    }
  }

  private async rows(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return (await this.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    } catch (e) {
      throw new RepayriskError('io', `${this.dir}: ${String((e as Error).message).split('\n')[0]}`);
    }
  }
}

/** The scope as SQL over the accounts file's own columns; a malformed cell passes so it is named, not skipped. */
function scopeSql(acc: TableFile, scope: SnapshotScope): string {
  if ('delinquent' in scope) {
    // Out of scope only when the cell is a well-formed integer zero ('0', '00'): ' 0', '0.0' or '0.4' would cast
    // to 0 too, but the contract refuses them, so they stay in scope and are named.
    const dpd = textOf(acc, 'days_past_due');
    return `NOT coalesce(regexp_full_match(${dpd}, '-?[0-9]+') AND TRY_CAST(${dpd} AS BIGINT) = 0, false)`;
  }
  const d = textOf(acc, 'as_of_date');
  return `(${d} = ${sqlString(scope.asOf)} OR NOT coalesce(regexp_full_match(${d}, '[0-9]{4}-[0-9]{2}-[0-9]{2}'), false))`;
}

/**
 * The date window of a history table's rows a read of `scope` can use, for cutting its file: one snapshot date
 * gives every account the same instalment (and payment) lookback, the window `historyStream` applies in SQL.
 * Contacts are read whole (the caps read every later one) and a delinquent scope's windows differ by account.
 */
function windowOf(scope: SnapshotScope, table: TableName): { window?: DateWindow } {
  if (!('asOf' in scope) || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(scope.asOf)) return {};
  const column = table === 'installments' ? 'due_date' : table === 'payments' ? 'paid_at' : null;
  if (column === null) return {};
  const to = dayOf(scope.asOf);
  if (!Number.isFinite(to)) return {};
  return { window: { column, from: isoOf(to - ARCHIVE_LOOKBACK.installmentsDays), to: isoOf(to) } };
}

const isText = (c: ColumnSpec) => c.kind.type === 'id' || c.kind.type === 'text';

/** A column in the store's typed form (see `typedCellSql`); text columns stay text. */
function typedOf(t: TableFile, c: ColumnSpec): string {
  return typedCellSql(c, textOf(t, c.name));
}

/** The contract's JS value of row `i` of a typed chunk column. */
function jsValue(c: ColumnSpec, col: ChunkColumn, i: number): CellValue {
  const v = col[i]!;
  switch (c.kind.type) {
    case 'id':
    case 'text':
      return v as string | null;
    case 'number':
    case 'int':
      return Number.isNaN(v) ? null : (v as number);
    case 'bool':
      return v === 1;
    case 'enum':
      return c.kind.values[v as number] ?? null;
    case 'date':
      return v === -1 ? null : isoOf(v as number);
    case 'timestamp':
      return Number.isNaN(v) ? null : new Date(v as number).toISOString();
  }
}
