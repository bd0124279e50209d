import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DataContractError, RepayriskError } from '../core/errors.ts';
import { describeKind, type TableSpec } from '../core/schema/columns.ts';
import { sqlIdent, sqlString } from './duckdb.ts';

/** A data-contract table file as the history store reads it. */
export interface TableFile {
  path: string;
  /** File name, as errors name it. */
  file: string;
  spec: TableSpec;
  format: 'csv' | 'parquet';
  /** The file's own columns, in file order. */
  names: string[];
  /** DuckDB type of each of `names` (all VARCHAR for CSV: every cell is checked as text). */
  types: string[];
  /** CSV with a header line: a data row's line number is its row number + 1 (without quoted line breaks). */
  headerLine: boolean;
  /** A table read from several CSV files of the same header, in this order (a cut made in parts). */
  paths?: string[];
}

/**
 * The CSV dialect every history file is read with: RFC 4180 (comma, double quote, quote doubled to escape),
 * a header line, no sniffing. A sniffer guesses a different dialect from a file with one broken row and then
 * misreads every good one; a fixed dialect names the broken row instead.
 */
const CSV_DIALECT = `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"'`;

const HEADER_BYTES = 1 << 16;

/** The column names of a CSV file's header line (BOM stripped, quotes honoured), read without DuckDB. */
export function csvHeader(path: string): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new RepayriskError('io', `cannot read ${path}: ${(e as Error).message}`);
  }
  let text: string;
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
    text = buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const names: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      names.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      names.push(cell);
      return names;
    } else cell += c;
  }
  if (text.length < HEADER_BYTES && (cell !== '' || names.length)) {
    names.push(cell);
    return names;
  }
  throw new RepayriskError('invalid_data', `${basename(path)}: line 1: no header line (or one over 64 KiB)`);
}

/**
 * Opens a table file: its columns (from the CSV header or the Parquet schema), checked against the contract.
 * @throws DataContractError naming every contract column the file lacks; RepayriskError('io') when unreadable.
 */
export async function describeTableFile(
  conn: DuckDBConnection,
  path: string,
  spec: TableSpec,
): Promise<TableFile> {
  const file = basename(path);
  const parquet = path.toLowerCase().endsWith('.parquet');
  let names: string[];
  let types: string[];
  if (parquet) {
    try {
      const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
      const rows = r.getRowObjectsJson();
      names = rows.map((x) => String(x.column_name));
      types = rows.map((x) => String(x.column_type));
    } catch (e) {
      throw new RepayriskError('io', `${path}: cannot be read as Parquet: ${firstLine(e)}`);
    }
  } else {
    names = csvHeader(path);
    types = names.map(() => 'VARCHAR');
  }
  const missing = spec.columns.filter((c) => !names.includes(c.name));
  if (missing.length)
    throw new DataContractError(
      file,
      missing.map((c) => ({
        row: 0,
        column: c.name,
        expected: `a column '${c.name}' (${describeKind(c)})`,
        got: `no such column; the file has ${names.join(', ')}`,
      })),
      0,
      false,
    );
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n))
      throw new RepayriskError(
        'invalid_data',
        `${file}: line 1: the column '${n}' appears twice in the header`,
      );
    seen.add(n);
  }
  return { path, file, spec, format: parquet ? 'parquet' : 'csv', names, types, headerLine: !parquet };
}

/**
 * SQL relation over a table file with every cell as the file has it: CSV cells as text (empty = NULL), Parquet
 * columns in their own types. `rejects` names the table a CSV read stores its structural errors in (rows with too
 * many or too few fields, unterminated quotes, invalid UTF-8), each with its line; those rows are left out.
 */
export function rawRelation(t: TableFile, rejects?: string): string {
  if (t.format === 'parquet') return `read_parquet(${sqlString(t.path)})`;
  const cols = t.names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ');
  const store = rejects
    ? `, store_rejects = true, rejects_table = ${sqlString(rejects)}, rejects_scan = ${sqlString(`${rejects}_scan`)}`
    : '';
  const files = t.paths ? `[${t.paths.map(sqlString).join(', ')}]` : sqlString(t.path);
  return `read_csv(${files}, ${CSV_DIALECT}, columns = {${cols}}${store})`;
}

/** How a raw column is seen as text: Parquet timestamps become ISO instants with a Z, the rest a plain cast. */
export function textOf(t: TableFile, name: string): string {
  const id = sqlIdent(name);
  const type = t.types[t.names.indexOf(name)] ?? 'VARCHAR';
  if (type === 'VARCHAR') return id;
  if (type.startsWith('TIMESTAMP')) {
    const utc = type === 'TIMESTAMP WITH TIME ZONE' ? `timezone('UTC', ${id})` : id;
    return `strftime(${utc}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
  }
  return `CAST(${id} AS VARCHAR)`;
}

export function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';
}
