import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { ColumnSpec } from '../core/schema/columns.ts';
import { TABLES, type TableName } from '../core/schema/tables.ts';
import { type FieldCheck, fieldCheck } from './cell-bytes.ts';
import { type CsvRecord, CsvWriter, fieldText, scanCsv } from './csv-scan.ts';
import { runInWorker } from './csv-worker.ts';
import type { TableFile } from './table-file.ts';

/** A CSV table file cut down to the records a read uses, each of them checked against the contract. */
export interface CsvCut {
  /** The cut file(s) (same header and columns; `file` still names the original for messages). */
  read: TableFile;
  rows: number;
  /** With a `scope` keep: the account ids of the kept records. */
  ids: string[];
}

/**
 * Which records a cut keeps, as data (a worker thread builds the test from it). `delinquent` and `asOf` are the
 * history store's snapshot scopes on the accounts file (equal to its `scopeSql`); `ids` keeps the records of the
 * accounts listed.
 */
export type Keep =
  | { by: 'delinquent' }
  | { by: 'asOf'; asOf: string }
  | { by: 'ids'; ids: readonly string[] | ReadonlySet<string>; window?: DateWindow };

/**
 * Records whose date `column` lies in [from, to) (ISO dates) — or is empty or a cell the contract refuses, so a
 * read still names it — as the history store's SQL window keeps them (`c0 >= .. AND c0 < .. OR c0 = -1`).
 */
export interface DateWindow {
  column: string;
  from: string;
  to: string;
}

/** What one cut pass is asked: a byte range of a table file, where to write the kept records. */
export interface CutJob {
  path: string;
  names: string[];
  table: TableName;
  keep: Keep;
  out: string;
  from: number;
  to: number;
  /** The range starts with the header line (else `headerLine` is written first). */
  header: boolean;
  headerLine?: Uint8Array;
}

export interface CutResult {
  kept: number;
  ids: string[];
  quoted: boolean;
}

/**
 * Copies the records of a range of a CSV table file that `keep` selects into `out`, checking every contract cell
 * of each kept record on the way (`fieldCheck`, the contract's rules). Returns null when the range is not plainly
 * well-formed or a kept record has a cell the contract refuses: the caller then reads the original file through
 * DuckDB, which names the line or the cell. A read over the cut file can skip its own cell checks.
 */
export function cutRange(job: CutJob): CutResult | null {
  const { fields, checks } = contractChecks({ names: job.names, spec: TABLES[job.table] });
  const idField = job.names.indexOf('account_id');
  const ids: string[] = [];
  const keep = keepTest(
    job.keep,
    job.names,
    job.keep.by === 'ids' ? undefined : ids,
    TABLES[job.table].columns,
  );
  let writer: CsvWriter | null = job.header ? null : new CsvWriter(job.out, job.headerLine!);
  let ok = true;
  const n = fields.length;
  const scan = scanCsv(
    job.path,
    job.names.length,
    (r) => {
      if (!keep(r)) return true;
      for (let k = 0; k < n; k++)
        if (!checks[k]!(r, fields[k]!)) {
          ok = false;
          return false;
        }
      writer!.keep(r);
      return true;
    },
    {
      from: job.from,
      to: job.to,
      header: job.header,
      onHeader: (h) => {
        writer = new CsvWriter(job.out, h.buf.subarray(h.from, h.to));
      },
      beforeRefill: () => (writer as CsvWriter | null)?.flush(),
    },
  );
  const w = writer as CsvWriter | null;
  w?.close();
  if (scan === null || !ok || !w || idField < 0) return null;
  return { kept: w.rows, ids, quoted: scan.quoted };
}

/** Below this a file is cut on the calling thread (a worker costs ~0.3 s to start and load). */
const PARALLEL_BYTES = 64 << 20;

/**
 * Cuts a CSV table file down to the records `keep` selects (`cutRange`), large files in `threads` byte ranges side
 * by side in worker threads, each writing a part file. The split at line ends is trusted only when no field was
 * quoted (a quoted field may hold a line end); otherwise, or when a worker fails to start, one pass on this thread
 * decides. Null: the file needs DuckDB's reader (malformed, or a kept cell the contract refuses).
 */
export async function cutCsv(
  t: TableFile,
  out: string,
  keep: Keep,
  threads = 2,
  parallelBytes = PARALLEL_BYTES,
): Promise<CsvCut | null> {
  const base = { path: t.path, names: t.names, table: t.spec.name as TableName, keep };
  const whole = (): CsvCut | null => {
    const r = cutRange({ ...base, out, from: 0, to: Number.POSITIVE_INFINITY, header: true });
    return r && { read: { ...t, path: out }, rows: r.kept, ids: r.ids };
  };
  const size = statSync(t.path).size;
  if (threads < 2 || size < parallelBytes) return whole();
  const split = lineStarts(t.path, size, threads);
  if (!split) return whole();
  // Workers get the ids as a list (a Set does not cross threads).
  const jobKeep: Keep = keep.by === 'ids' ? { by: 'ids', ids: [...keep.ids] } : keep;
  const jobs: CutJob[] = split.starts.map((from, k) => ({
    ...base,
    keep: jobKeep,
    out: `${out}.${k}`,
    from,
    to: split.starts[k + 1] ?? size,
    header: k === 0,
    headerLine: split.header,
  }));
  const results = await Promise.all(
    jobs.map((j) => runInWorker<CutResult | null>('cutRange', j).catch(() => undefined)),
  );
  if (results.some((r) => r === undefined || r === null || r.quoted)) return whole();
  const parts = jobs.map((j) => j.out);
  return {
    read: { ...t, path: parts[0]!, paths: parts },
    rows: results.reduce((a, r) => a + r!.kept, 0),
    ids: results.flatMap((r) => r!.ids),
  };
}

/** The header line and `threads` range starts at line starts, or null when a split finds no line end. */
function lineStarts(
  path: string,
  size: number,
  threads: number,
): { header: Uint8Array; starts: number[] } | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const lineEnd = (pos: number) => {
      const n = readSync(fd, buf, 0, buf.length, pos);
      const i = buf.subarray(0, n).indexOf(10);
      return i < 0 ? null : pos + i + 1;
    };
    const first = lineEnd(0);
    if (first === null) return null;
    const header = Uint8Array.from(buf.subarray(0, first));
    if (header.includes(34)) return null; // a quoted header name could hold a line end
    const starts = [0];
    for (let k = 1; k < threads; k++) {
      const at = lineEnd(Math.floor((size * k) / threads));
      if (at === null || at <= starts[starts.length - 1]! || at >= size) return null;
      starts.push(at);
    }
    return { header, starts };
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's field index and check of each contract column (other columns of the file are not checked).
 * @param names the file's columns in file order; `spec` its contract table.
 */
export function contractChecks(t: Pick<TableFile, 'names' | 'spec'>): {
  fields: number[];
  checks: FieldCheck[];
} {
  const fields: number[] = [];
  const checks: FieldCheck[] = [];
  for (const c of t.spec.columns) {
    fields.push(t.names.indexOf(c.name));
    checks.push(fieldCheck(c));
  }
  return { fields, checks };
}

/**
 * The test of a record `keep` describes; with `ids`, the account id of each kept record is collected (once per
 * run of equal ids).
 */
function keepTest(
  keep: Keep,
  names: string[],
  ids: string[] | undefined,
  columns: readonly ColumnSpec[],
): (r: CsvRecord) => boolean {
  let inScope: (r: CsvRecord) => boolean;
  if (keep.by === 'ids') {
    const set = keep.ids instanceof Set ? keep.ids : new Set(keep.ids as readonly string[]);
    const ofAccount = byField(names.indexOf('account_id'), (id) => set.has(id));
    const w = keep.window;
    if (!w) return ofAccount;
    const f = names.indexOf(w.column);
    const col = columns.find((c) => c.name === w.column);
    if (f < 0 || col?.kind.type !== 'date') return ofAccount;
    const valid = fieldCheck(col);
    return (r) => {
      if (!ofAccount(r)) return false;
      if (r.ends[f]! === r.starts[f]! || !valid(r, f)) return true;
      const text = fieldText(r, f);
      // A contract date is ten characters YYYY-MM-DD, whose text order is the calendar's.
      return text.length !== 10 || (text >= w.from && text < w.to);
    };
  }
  if (keep.by === 'delinquent')
    // Out of scope only when days_past_due is a well-formed integer zero ('0', '-00'): as `scopeSql`.
    inScope = byField(names.indexOf('days_past_due'), (text) => !/^-?0+$/.test(text));
  else {
    const asOf = keep.asOf;
    inScope = byField(
      names.indexOf('as_of_date'),
      (text) => text === asOf || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(text),
    );
  }
  if (!ids) return inScope;
  const id = byField(names.indexOf('account_id'), (text) => {
    ids.push(text);
    return true;
  });
  return (r) => inScope(r) && id(r);
}

/**
 * A keep-predicate selecting records by the text of one field, deciding once per run of equal field bytes (a
 * history file is usually sorted by account, so most records repeat the previous record's account id).
 */
export function byField(field: number, pick: (text: string) => boolean): (r: CsvRecord) => boolean {
  let last = Buffer.alloc(0);
  let lastQuoted = -1;
  let lastAnswer = false;
  return (r) => {
    const s = r.starts[field]!;
    const e = r.ends[field]!;
    const q = r.quoted[field]!;
    const b = r.buf;
    if (q === lastQuoted && e - s === last.length) {
      let i = 0;
      while (i < last.length && b[s + i] === last[i]) i++;
      if (i === last.length) return lastAnswer;
    }
    last = Buffer.from(b.subarray(s, e));
    lastQuoted = q;
    const text = b.toString('utf8', s, e);
    lastAnswer = pick(q === 2 ? text.replaceAll('""', '"') : text);
    return lastAnswer;
  };
}
