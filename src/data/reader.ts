import { basename } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type CellIssue, DataContractError, RepayriskError } from '../core/errors.ts';
import { type CellValue, cellParser, describeKind, type TableSpec } from '../core/schema/columns.ts';
import { openDuckDB, sqlIdent, sqlString } from './duckdb.ts';

export interface ReadOptions {
  /** Rows per yielded batch (DuckDB hands over 2,048 at a time; batches are filled up to this). */
  batchSize?: number;
  /** Stop after this many problems and report them (default 20). */
  maxIssues?: number;
  /** Headerless CSV: the column names in file order. */
  columns?: readonly string[];
  /**
   * SQL predicate on the file's columns selecting the rows to read (e.g. to skip rows known to be irrelevant).
   * Write it so that a malformed cell passes through to validation rather than being filtered out silently.
   */
  where?: string;
  /** Columns to stream the rows sorted by (DuckDB sorts out of core, so any size works). */
  orderBy?: readonly string[];
}

/** A typed row: column name to parsed value (dates as ISO strings, money as numbers, flags as booleans). */
export type Row = Record<string, CellValue>;

const MAX_ISSUES = 20;
const UNIT_SEP = '\x1f';
const NULL_MARK = '\x1e';

function isParquet(path: string): boolean {
  return path.toLowerCase().endsWith('.parquet');
}

/** SQL that reads a file with every column as text, so each cell is validated by the contract's own parser. */
async function describeFile(
  conn: DuckDBConnection,
  path: string,
  columns?: readonly string[],
): Promise<{ source: string; names: string[]; types: string[] }> {
  let source: string;
  if (isParquet(path)) source = `read_parquet(${sqlString(path)})`;
  else {
    const names = columns
      ? `, header = false, names = [${columns.map(sqlString).join(', ')}]`
      : ', header = true';
    source = `read_csv(${sqlString(path)}, all_varchar = true${names}, auto_detect = true, strict_mode = true)`;
  }
  try {
    const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const rows = r.getRowObjectsJson();
    return {
      source,
      names: rows.map((x) => String(x.column_name)),
      types: rows.map((x) => String(x.column_type)),
    };
  } catch (e) {
    throw new RepayriskError(
      'io',
      `${path}: cannot be read as ${isParquet(path) ? 'Parquet' : 'CSV'}: ${firstLine(e)}`,
    );
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0] ?? '';
}

/** How a column is selected as text: Parquet timestamps become ISO with a Z, everything else a plain cast. */
function textExpr(name: string, type: string): string {
  const id = sqlIdent(name);
  if (type === 'VARCHAR') return id;
  if (type.startsWith('TIMESTAMP')) {
    const utc = type === 'TIMESTAMP WITH TIME ZONE' ? `timezone('UTC', ${id})` : id;
    return `strftime(${utc}, '%Y-%m-%dT%H:%M:%SZ')`;
  }
  return `CAST(${id} AS VARCHAR)`;
}

/**
 * Streams a CSV or Parquet file as typed rows checked against a data-contract table. Memory stays flat for
 * any file size: DuckDB reads the file in chunks and this yields batches as they come.
 *
 * @throws DataContractError naming file, row, column, what was expected and what came, when a required
 *   column is missing or a cell breaks the contract (the batches before it have been yielded).
 * @throws RepayriskError('io') when the file cannot be read at all.
 */
export async function* readTable(
  path: string,
  spec: TableSpec,
  opts: ReadOptions = {},
): AsyncGenerator<Row[]> {
  const batchSize = opts.batchSize ?? 8192;
  const maxIssues = opts.maxIssues ?? MAX_ISSUES;
  const file = basename(path);
  const hasHeader = !isParquet(path) && !opts.columns;
  const conn = await openDuckDB();
  try {
    const { source, names, types } = await describeFile(conn.conn, path, opts.columns);
    const missing = spec.columns.filter((c) => !names.includes(c.name));
    if (missing.length) {
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
    }
    // All columns travel as one delimited string per row: DuckDB hands strings to JS one native call each, so
    // one string per row instead of one per cell reads ~2x faster (bench/read-large.ts).
    const select = `concat_ws(chr(31), ${spec.columns
      .map((c) => `coalesce(${textExpr(c.name, types[names.indexOf(c.name)] ?? 'VARCHAR')}, chr(30))`)
      .join(', ')})`;
    const parsers = spec.columns.map(cellParser);
    const colNames = spec.columns.map((c) => c.name);
    const width = colNames.length;
    let result: Awaited<ReturnType<DuckDBConnection['stream']>>;
    try {
      // With a filter or an order, rows no longer arrive in file order: number them at the source first.
      const numbered = opts.where !== undefined || opts.orderBy !== undefined;
      const from = numbered ? `(SELECT *, row_number() OVER () AS __row FROM ${source})` : source;
      const where = opts.where ? ` WHERE ${opts.where}` : '';
      const order = opts.orderBy?.length ? ` ORDER BY ${opts.orderBy.map(sqlIdent).join(', ')}, __row` : '';
      result = await conn.conn.stream(
        `SELECT ${select}${numbered ? ', CAST(__row AS DOUBLE)' : ''} FROM ${from}${where}${order}`,
      );
    } catch (e) {
      throw new RepayriskError('io', `${path}: ${firstLine(e)}`);
    }
    let rowNo = 0;
    let batch: Row[] = [];
    const issues: CellIssue[] = [];
    let more = 0;
    while (true) {
      let chunk: Awaited<ReturnType<typeof result.fetchChunk>>;
      try {
        chunk = await result.fetchChunk();
      } catch (e) {
        throw new RepayriskError('io', `${path}: ${firstLine(e)}`);
      }
      if (!chunk || chunk.rowCount === 0) break;
      const vec = chunk.getColumnVector(0);
      const rowVec = chunk.columnCount > 1 ? chunk.getColumnVector(1) : null;
      const n = chunk.rowCount;
      for (let i = 0; i < n; i++) {
        rowNo = rowVec ? (rowVec.getItem(i) as number) : rowNo + 1;
        const cells = (vec.getItem(i) as string).split(UNIT_SEP);
        if (cells.length !== width) {
          throw new RepayriskError(
            'invalid_data',
            `${file}: row ${rowNo} holds the control character U+001F, which no column allows`,
          );
        }
        const row: Row = {};
        for (let j = 0; j < width; j++) {
          const cell = cells[j]!;
          const raw = cell === NULL_MARK ? null : cell;
          const r = parsers[j]!(raw);
          if (r.ok) row[colNames[j]!] = r.value;
          else if (issues.length < maxIssues) {
            const c = spec.columns[j]!;
            issues.push({
              row: rowNo,
              column: c.name,
              expected: describeKind(c),
              got: raw === null || raw === '' ? 'an empty cell' : `'${raw}'`,
            });
          } else more++;
        }
        batch.push(row);
      }
      if (issues.length) throw new DataContractError(file, issues, more, hasHeader);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  } finally {
    conn.close();
  }
}

/** Reads and validates a whole file, returning the number of rows (the `validate` command uses this). */
export async function validateTable(path: string, spec: TableSpec, opts: ReadOptions = {}): Promise<number> {
  let n = 0;
  for await (const b of readTable(path, spec, opts)) n += b.length;
  return n;
}
