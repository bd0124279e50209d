import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { RepayriskError } from '../core/errors.ts';
import type { ColumnSpec } from '../core/schema/columns.ts';
import { TABLES, type TableName } from '../core/schema/tables.ts';
import { dayOf, isoOf } from '../core/time/dates.ts';
import { typedCellSql } from './cell-sql.ts';
import { checkContractRules, type RuleReport } from './contract-rules.ts';
import { sqlIdent } from './duckdb.ts';
import { digestFiles } from './file-digest.ts';
import { findHistoryFiles, type HistoryFiles } from './history.ts';
import { type SegmentArray, StoreFile, StoreFileWriter } from './store-file.ts';
import { describeTableFile, rawRelation, type TableFile, textOf } from './table-file.ts';
import { checkFiles } from './validate-files.ts';

/*
 * The history copy: a history folder's accounts, instalments, contacts (and payments) validated once and kept as
 * typed columns in one file (store-file.ts), so a book run reads typed arrays instead of tokenising the CSV again.
 * docs/history-store.md says what it holds, where it lives and when it is rebuilt.
 *
 * Every value is the one the history store's SQL gives the CSV path (`typedCellSql` over the same text cells) and
 * every table is in the order the CSV path sorts it (account, then the typed columns), so features computed from
 * the copy are those computed from the files, bit for bit (test/history-copy.test.ts holds the book's output equal
 * byte for byte).
 */

/** Format version written in the file; a copy of another version is refused (build it again). */
export const COPY_VERSION = 1;

/** The copy's file name inside a history folder, where `ingest` writes it and `score --history` looks for it. */
export const COPY_FILE = 'history.rrstore';

/** The tables the copy holds, in the order their bytes are digested for a book's run id. */
export const COPY_TABLES = ['accounts', 'installments', 'contacts', 'payments'] as const;
type CopyTable = (typeof COPY_TABLES)[number];

/** What a source file was when the copy was built. */
export interface SourceStamp {
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** The copy's metadata (the store file's header). */
export interface CopyMeta {
  kind: 'repayrisk-history-copy';
  /** Digest of the data-contract columns of the copied tables: a copy made under another contract is refused. */
  contract: string;
  createdAt: string;
  /** The source files by table; a table without a file is absent. */
  sources: Partial<Record<CopyTable, SourceStamp>>;
  /** sha256 over the source files' bytes, in COPY_TABLES order (what a book run's id digests). */
  sourcesSha256: string;
  accounts: number;
  /** Snapshot dates (days since 1970-01-01), ascending, and their row counts. */
  dates: { day: number; rows: number }[];
  rows: Partial<Record<CopyTable, number>>;
}

/** How a contract column is stored: numbers f64 (NaN = empty), dates i32 (-1), flags and enums u8, text codes i32. */
type Encoding = 'f64' | 'i32' | 'u8' | 'code';
const encodingOf = (c: ColumnSpec): Encoding => {
  switch (c.kind.type) {
    case 'number':
    case 'int':
    case 'timestamp':
      return 'f64';
    case 'date':
      return 'i32';
    case 'bool':
    case 'enum':
      return 'u8';
    case 'id':
    case 'text':
      return 'code';
  }
};

/** History tables' columns in the CSV path's sort order (history-store.ts: the account, then these in turn). */
const HISTORY_COLUMNS: Record<Exclude<CopyTable, 'accounts'>, readonly string[]> = {
  installments: ['due_date', 'paid_date', 'first_paid_date', 'amount_due', 'amount_paid', 'installment_no'],
  contacts: ['ts', 'channel', 'outcome', 'promise_amount', 'promise_date', 'agent_id'],
  payments: ['paid_at', 'amount'],
};

const specOf = (t: TableName, name: string): ColumnSpec => TABLES[t].columns.find((c) => c.name === name)!;

/** The snapshot columns the copy holds: every accounts column but account_id (the key), in contract order. */
export const COPY_ACCOUNT_COLUMNS: readonly ColumnSpec[] = TABLES.accounts.columns.filter(
  (c) => c.name !== 'account_id',
);

function contractDigest(): string {
  const cols = COPY_TABLES.map((t) => [t, TABLES[t].columns.map((c) => [c.name, c.kind, c.nullable])]);
  const order = Object.entries(HISTORY_COLUMNS);
  return createHash('sha256').update(JSON.stringify({ cols, order })).digest('hex').slice(0, 16);
}

export interface IngestOptions {
  /** Where to write the copy (default `<history>/history.rrstore`). */
  out?: string;
  /** Each table file as its cells pass the checks (as `validate` prints it). */
  onTable?: (table: TableName, rows: number, path: string) => void;
  /** The cross-column rules' report (warnings are the caller's to print; errors refuse the copy). */
  onRules?: (report: RuleReport) => void;
  /** A free-form status line. */
  onNote?: (message: string) => void;
}

export interface IngestSummary {
  out: string;
  meta: CopyMeta;
  bytes: number;
  seconds: { validate: number; copy: number };
}

/**
 * `repayrisk ingest`: validates a history folder as `validate` does (every cell of every table file, CSV
 * structure errors by line, then the cross-column rules; a rule error refuses) and writes its typed copy,
 * atomically (temp file, fsync, rename). The sources are stamped (size, mtime, sha256) before they are read and
 * checked again after: a file that changed meanwhile fails the ingest.
 *
 * @throws DataContractError / RepayriskError('invalid_data') naming file, line, column, expected and got;
 *   RepayriskError('io').
 */
export async function ingestHistory(dir: string, opts: IngestOptions = {}): Promise<IngestSummary> {
  const files = findHistoryFiles(dir, ['accounts', 'installments', 'contacts']);
  const out = opts.out ?? join(dir, COPY_FILE);
  const t0 = performance.now();
  const before = await stampSources(files);
  await checkFiles(files, (t, n, p) => opts.onTable?.(t, n, p));
  const report = await checkContractRules(files);
  opts.onRules?.(report);
  const errors = report.issues.filter((i) => i.severity === 'error');
  if (errors.length)
    throw new RepayriskError(
      'invalid_data',
      `the history breaks ${new Set(errors.map((e) => e.rule)).size} contract rule(s) (run repayrisk validate --history ${dir} for each); no copy written`,
    );
  const t1 = performance.now();
  opts.onNote?.('writing the typed copy');
  const tmp = `${out}.tmp-${process.pid}`;
  const temp = mkdtempSync(join(tmpdir(), 'repayrisk-ingest-'));
  let meta: CopyMeta;
  try {
    meta = await writeCopy(files, before.stamps, before.digest, tmp, temp);
    const after = await stampSources(files, false);
    for (const t of COPY_TABLES) {
      const a = before.stamps[t];
      const b = after.stamps[t];
      if (a && b && (a.size !== b.size || a.mtimeMs !== b.mtimeMs))
        throw new RepayriskError('io', `${a.file} changed while it was copied; run ingest again`);
    }
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return {
    out,
    meta,
    bytes: statSync(out).size,
    seconds: { validate: (t1 - t0) / 1000, copy: (performance.now() - t1) / 1000 },
  };
}

/** Size, mtime and (with `hash`) sha256 of each copied table's file, and the digest over all of them in order. */
async function stampSources(
  files: HistoryFiles,
  hash = true,
): Promise<{ stamps: Partial<Record<CopyTable, SourceStamp>>; digest: string }> {
  const tables = COPY_TABLES.filter((t) => files[t]);
  const paths = tables.map((t) => files[t]!);
  const digests = hash ? await digestFiles(paths) : { all: '', each: paths.map(() => '') };
  const stamps: Partial<Record<CopyTable, SourceStamp>> = {};
  tables.forEach((t, i) => {
    const st = statSync(paths[i]!);
    stamps[t] = { file: basename(paths[i]!), size: st.size, mtimeMs: st.mtimeMs, sha256: digests.each[i]! };
  });
  return { stamps, digest: digests.all };
}

/** Reads each table typed and sorted through DuckDB and writes the segments. */
async function writeCopy(
  files: HistoryFiles,
  stamps: Partial<Record<CopyTable, SourceStamp>>,
  digest: string,
  path: string,
  temp: string,
): Promise<CopyMeta> {
  const instance = await DuckDBInstance.create(join(temp, 'ingest.duckdb'), {
    threads: '2',
    memory_limit: '1GB',
    temp_directory: temp,
  });
  const conn = await instance.connect();
  let w: StoreFileWriter;
  try {
    w = new StoreFileWriter(path, COPY_VERSION);
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    throw e;
  }
  try {
    const tf: Partial<Record<CopyTable, TableFile>> = {};
    for (const t of COPY_TABLES) if (files[t]) tf[t] = await describeTableFile(conn, files[t]!, TABLES[t]);
    const acc = tf.accounts!;
    await conn.run(
      `CREATE TABLE keys AS SELECT aid, CAST(row_number() OVER (ORDER BY aid) - 1 AS INTEGER) AS k FROM ` +
        `(SELECT DISTINCT ${textOf(acc, 'account_id')} AS aid FROM ${rawRelation(acc)})`,
    );
    const ids = (await conn.runAndReadAll('SELECT aid FROM keys ORDER BY k'))
      .getRowObjectsJS()
      .map((r) => String(r.aid));
    w.addJson('ids', ids);
    const nAccounts = ids.length;

    // Snapshots: sorted by date, then account key; one row group per date.
    const accCols = COPY_ACCOUNT_COLUMNS;
    const day = typedCellSql(specOf('accounts', 'as_of_date'), textOf(acc, 'as_of_date'));
    const snap = await readColumns(
      conn,
      `SELECT ${day} AS day, k.k, ${accCols.map((c) => `${typedCellSql(c, textOf(acc, c.name))} AS ${sqlIdent(c.name)}`).join(', ')} ` +
        `FROM ${rawRelation(acc)} JOIN keys k ON k.aid = ${textOf(acc, 'account_id')} ORDER BY day, k.k`,
      ['i32', 'i32', ...accCols.map(encodingOf)],
    );
    const days = snap.cols[0] as Int32Array;
    const keyCol = snap.cols[1] as Int32Array;
    const dates: CopyMeta['dates'] = [];
    for (let i = 0; i < snap.rows; ) {
      let j = i;
      while (j < snap.rows && days[j] === days[i]) j++;
      for (let r = i + 1; r < j; r++)
        if (keyCol[r] === keyCol[r - 1])
          throw new RepayriskError(
            'invalid_data',
            `${acc.file}: account ${JSON.stringify(ids[keyCol[r]!])} has more than one snapshot on ${isoOf(days[i]!)}; the data contract allows one per account and day`,
          );
      const iso = isoOf(days[i]!);
      w.add(`acc.${iso}.k`, keyCol.subarray(i, j));
      accCols.forEach((c, x) => {
        w.add(`acc.${iso}.${c.name}`, snap.cols[x + 2]!.subarray(i, j));
      });
      dates.push({ day: days[i]!, rows: j - i });
      i = j;
    }
    accCols.forEach((c, x) => {
      if (snap.dicts[x + 2]) w.addJson(`dict.accounts.${c.name}`, snap.dicts[x + 2]);
    });

    const rows: CopyMeta['rows'] = { accounts: snap.rows };
    for (const t of ['installments', 'contacts', 'payments'] as const) {
      const f = tf[t];
      if (!f) continue;
      const cols = HISTORY_COLUMNS[t].map((n) => specOf(t, n));
      const r = await readColumns(
        conn,
        `SELECT k, ${cols.map((_, j) => `c${j}`).join(', ')} FROM (SELECT k.k, ` +
          `${cols.map((c, j) => `${typedCellSql(c, textOf(f, c.name))} AS c${j}`).join(', ')} ` +
          `FROM ${rawRelation(f)} JOIN keys k ON k.aid = ${textOf(f, 'account_id')}) ORDER BY k, ${cols.map((_, j) => `c${j}`).join(', ')}`,
        ['i32', ...cols.map(encodingOf)],
      );
      const keys = r.cols[0] as Int32Array;
      const start = new Int32Array(nAccounts + 1);
      for (let i = 0; i < r.rows; i++) start[keys[i]! + 1]!++;
      for (let k = 0; k < nAccounts; k++) start[k + 1]! += start[k]!;
      w.add(`${t}.start`, start);
      cols.forEach((c, j) => {
        w.add(`${t}.${c.name}`, r.cols[j + 1]!);
        if (r.dicts[j + 1]) w.addJson(`dict.${t}.${c.name}`, r.dicts[j + 1]);
      });
      rows[t] = r.rows;
    }
    const meta: CopyMeta = {
      kind: 'repayrisk-history-copy',
      contract: contractDigest(),
      createdAt: new Date().toISOString(),
      sources: stamps,
      sourcesSha256: digest,
      accounts: nAccounts,
      dates,
      rows,
    };
    w.finish(meta as unknown as Record<string, unknown>);
    return meta;
  } catch (e) {
    w.abort();
    throw e;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * Streams a query's result into whole-table typed arrays, one per column as `enc` says (`code`: VARCHAR
 * dictionary-encoded in order of first appearance, -1 for null).
 */
async function readColumns(
  conn: DuckDBConnection,
  sql: string,
  enc: readonly Encoding[],
): Promise<{ rows: number; cols: SegmentArray[]; dicts: (string[] | null)[] }> {
  const parts: SegmentArray[][] = enc.map(() => []);
  const dicts = enc.map((e) => (e === 'code' ? new Map<string, number>() : null));
  let rows = 0;
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    enc.forEach((e, j) => {
      const v = chunk.getColumnVector(j);
      if (e !== 'code') {
        const items = (v as unknown as { items: SegmentArray }).items;
        parts[j]!.push(items.slice(0, n));
        return;
      }
      const d = dicts[j]!;
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const s = v.getItem(i) as string | null;
        if (s === null) codes[i] = -1;
        else {
          let c = d.get(s);
          if (c === undefined) {
            c = d.size;
            d.set(s, c);
          }
          codes[i] = c;
        }
      }
      parts[j]!.push(codes);
    });
    rows += n;
  }
  const cols = parts.map((p, j) => {
    const e = enc[j]!;
    const out =
      e === 'f64' ? new Float64Array(rows) : e === 'u8' ? new Uint8Array(rows) : new Int32Array(rows);
    let at = 0;
    for (const a of p) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  });
  return { rows, cols, dicts: dicts.map((d) => (d ? [...d.keys()] : null)) };
}

/** Where the copy of a history folder is looked for when none is named. */
export function defaultCopyPath(dir: string): string {
  return join(dir, COPY_FILE);
}

/**
 * Opens a copy strictly and checks it is the copy of `dir` as its files are now: same tables, and each file of
 * the size and modification time recorded when it was built.
 *
 * @throws RepayriskError('invalid_data') for a copy of another format or contract, a corrupt or truncated one,
 *   and a stale one (naming the file that changed and how, and saying to run ingest again).
 */
export function openCopy(path: string, dir: string): { file: StoreFile; meta: CopyMeta } {
  const file = StoreFile.open(path, COPY_VERSION);
  try {
    const meta = file.meta as unknown as CopyMeta;
    const rebuild = `run repayrisk ingest --history ${dir}${path === defaultCopyPath(dir) ? '' : ` --out ${path}`} again, or score with --no-store to read the files`;
    if (meta.kind !== 'repayrisk-history-copy' || meta.contract !== contractDigest())
      throw new RepayriskError(
        'invalid_data',
        `${path} was built under another data contract (${meta.contract}, now ${contractDigest()}); ${rebuild}`,
      );
    const files = findHistoryFiles(dir, ['accounts', 'installments', 'contacts']);
    for (const t of COPY_TABLES) {
      const was = meta.sources[t];
      const now = files[t];
      const stale = (why: string) =>
        new RepayriskError(
          'invalid_data',
          `${path} is stale: ${why} since it was built (${meta.createdAt}); ${rebuild}`,
        );
      if (!was && !now) continue;
      if (!was) throw stale(`${basename(now!)} appeared`);
      if (!now || basename(now) !== was.file)
        throw stale(`${was.file} is gone${now ? ` (${basename(now)} is there)` : ''}`);
      const st = statSync(now);
      if (st.size !== was.size) throw stale(`${was.file} changed (${was.size} bytes then, ${st.size} now)`);
      if (st.mtimeMs !== was.mtimeMs)
        throw stale(
          `${was.file} was modified (${new Date(was.mtimeMs).toISOString()} then, ${new Date(st.mtimeMs).toISOString()} now)`,
        );
    }
    return { file, meta };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** One snapshot date of a copy, as a book reads it: plain typed arrays (shared memory) and string lists. */
export interface CopyDay {
  asOf: string;
  day: number;
  rows: number;
  /** Account ids by key. */
  ids: string[];
  /** Account key of each snapshot row (rows in account order). */
  key: Int32Array;
  /** Snapshot columns in COPY_ACCOUNT_COLUMNS order; `dict` for text columns. */
  cols: { data: SegmentArray; dict: string[] | null }[];
  installments: HistoryColumns;
  contacts: HistoryColumns;
  payments: HistoryColumns | null;
}

/** A history table's columns (HISTORY_COLUMNS order) with each account's rows at `start[k] .. start[k + 1]`. */
export interface HistoryColumns {
  start: Int32Array;
  cols: Record<string, SegmentArray>;
  dicts: Record<string, string[]>;
}

/**
 * Reads one snapshot date of an open copy (its segments CRC-checked) into shared memory.
 * @throws RepayriskError('invalid_argument') when the copy has no snapshot that day.
 */
export function readCopyDay(file: StoreFile, meta: CopyMeta, asOf: string): CopyDay {
  const day = dayOf(asOf);
  const d = meta.dates.find((x) => x.day === day);
  if (!d) throw new RepayriskError('invalid_argument', `no snapshot on ${asOf}`);
  const history = (t: Exclude<CopyTable, 'accounts'>, names: readonly string[]): HistoryColumns => {
    const cols: Record<string, SegmentArray> = {};
    const dicts: Record<string, string[]> = {};
    for (const n of names) {
      const enc = encodingOf(specOf(t, n));
      cols[n] = file.read(`${t}.${n}`, enc === 'code' ? 'i32' : enc, true);
      if (enc === 'code') dicts[n] = file.readJson(`dict.${t}.${n}`) as string[];
    }
    return { start: file.read(`${t}.start`, 'i32', true), cols, dicts };
  };
  return {
    asOf,
    day,
    rows: d.rows,
    ids: file.readJson('ids') as string[],
    key: file.read(`acc.${asOf}.k`, 'i32', true),
    cols: COPY_ACCOUNT_COLUMNS.map((c) => {
      const enc = encodingOf(c);
      return {
        data: file.read(`acc.${asOf}.${c.name}`, enc === 'code' ? 'i32' : enc, true),
        dict: enc === 'code' ? (file.readJson(`dict.accounts.${c.name}`) as string[]) : null,
      };
    }),
    // installment_no is kept in the copy but no feature reads it.
    installments: history('installments', HISTORY_COLUMNS.installments.slice(0, 5)),
    contacts: history('contacts', HISTORY_COLUMNS.contacts),
    payments: meta.sources.payments ? history('payments', HISTORY_COLUMNS.payments) : null,
  };
}
