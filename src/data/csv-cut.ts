import { type FieldCheck, fieldCheck } from './cell-bytes.ts';
import { type CsvRecord, CsvWriter, scanCsv } from './csv-scan.ts';
import type { TableFile } from './table-file.ts';

/** A CSV table file cut down to the records a read uses, each of them checked against the contract. */
export interface CsvCut {
  /** The cut file (same header and columns; `file` still names the original for messages). */
  read: TableFile;
  rows: number;
}

/**
 * Copies the records of a CSV table file that `keep` selects into `out`, checking every contract cell of each kept
 * record on the way (`fieldCheck`, the contract's rules). Returns null when the file is not plainly well-formed or
 * a kept record has a cell the contract refuses: the caller then reads the original file through DuckDB, which
 * names the line or the cell. A read over the cut file can skip its own cell checks: they all passed here.
 */
export function cutCsv(t: TableFile, out: string, keep: (r: CsvRecord) => boolean): CsvCut | null {
  const checks = contractChecks(t);
  let writer: CsvWriter | null = null;
  let ok = true;
  const scan = scanCsv(
    t.path,
    t.names.length,
    (r) => {
      if (!keep(r)) return true;
      for (let k = 0; k < checks.fields.length; k++)
        if (!checks.checks[k]!(r, checks.fields[k]!)) {
          ok = false;
          return false;
        }
      writer!.keep(r);
      return true;
    },
    {
      onHeader: (header) => {
        writer = new CsvWriter(out, header.buf.subarray(header.from, header.to));
      },
    },
  );
  const w = writer as CsvWriter | null;
  w?.close();
  if (scan === null || !ok || !w) return null;
  return { read: { ...t, path: out }, rows: w.rows };
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
