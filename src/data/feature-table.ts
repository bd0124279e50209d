import { RepayriskError } from '../core/errors.ts';
import { parseNumberCell } from '../core/training/table-design.ts';
import { openDuckDB, sqlString } from './duckdb.ts';
import { DEFAULT_NA_MARKERS } from './na-markers.ts';

export { DEFAULT_NA_MARKERS };

/** A team's own flat feature table, read whole: column names and column-major values. */
export interface FeatureTable {
  path: string;
  names: string[];
  /**
   * Each column's type: DuckDB's (BIGINT, DOUBLE, BOOLEAN, …), except that a text column whose values are
   * all numbers once missing-value markers are removed is DOUBLE, and one of only true/false is BOOLEAN.
   * VARCHAR means text.
   */
  types: string[];
  /** Values by column; null = missing (an empty cell, a missing-value marker, a Parquet null). */
  columns: (string | number | boolean | null)[][];
  rows: number;
  /** The file line of row 0 (CSV: 2 with a header, 1 without); undefined for Parquet. */
  firstLine?: number;
  /** The missing-value markers the table was read with (empty cells are always missing). */
  na: readonly string[];
}

/**
 * Reads a CSV (with a header, or headerless given `columns`) or Parquet feature table. Empty cells and
 * missing-value markers (`na`, default {@link DEFAULT_NA_MARKERS}; `[]` for empty cells only) are missing, so
 * a numeric column that writes `NA` for missing stays numeric. Types come from DuckDB's detection, then every
 * text column is looked at again with the markers removed (DuckDB's markers must match exactly, and Parquet
 * text has none): all numbers makes it numeric.
 * @throws RepayriskError('io') when the file cannot be read; ('invalid_argument') when `columns` does not match.
 */
export async function readFeatureTable(
  path: string,
  opts: { columns?: readonly string[]; na?: readonly string[] } = {},
): Promise<FeatureTable> {
  const na = [...(opts.na ?? DEFAULT_NA_MARKERS)];
  const parquet = path.toLowerCase().endsWith('.parquet');
  const source = (allVarchar: boolean) => {
    if (parquet) return `read_parquet(${sqlString(path)})`;
    const header = opts.columns
      ? `header = false, names = [${opts.columns.map(sqlString).join(', ')}]`
      : 'header = true';
    const nullstr = `nullstr = [${['', ...na].map(sqlString).join(', ')}]`;
    return `read_csv(${sqlString(path)}, ${header}, ${nullstr}${allVarchar ? ', all_varchar = true' : ''})`;
  };
  const db = await openDuckDB();
  try {
    let reader: Awaited<ReturnType<typeof db.conn.runAndReadAll>>;
    try {
      reader = await db.conn.runAndReadAll(`SELECT * FROM ${source(false)}`);
    } catch (e) {
      const msg = String((e as Error).message);
      // DuckDB sniffs types from a sample; a marker spelled with spaces, or a bad cell, after the sample fails
      // the cast. Read it all as text then: the pass below types the columns and names a bad cell's line.
      if (parquet || !msg.startsWith('Conversion Error')) {
        throw new RepayriskError('io', `${path}: cannot be read: ${msg.split('\n')[0]}`);
      }
      try {
        reader = await db.conn.runAndReadAll(`SELECT * FROM ${source(true)}`);
      } catch (e2) {
        throw new RepayriskError(
          'io',
          `${path}: cannot be read: ${String((e2 as Error).message).split('\n')[0]}`,
        );
      }
    }
    const names = reader.columnNames();
    if (opts.columns && names.length !== opts.columns.length) {
      throw new RepayriskError(
        'invalid_argument',
        `${path}: --columns names ${opts.columns.length} columns, the file has ${names.length}`,
      );
    }
    const types = reader.columnTypes().map((t) => t.toString());
    const raw = reader.getColumnsJS() as unknown[][];
    const markers = new Set(na);
    const columns = raw.map((col, j) => {
      const values = col.map((v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'bigint') return Number(v);
        if (typeof v === 'number' || typeof v === 'boolean') return v;
        if (typeof v === 'string') {
          const s = v.trim();
          return s === '' || markers.has(s) ? null : v;
        }
        return String(v);
      });
      if (types[j] !== 'VARCHAR') return values;
      const typed = retype(values);
      types[j] = typed.type;
      return typed.values;
    });
    return {
      path,
      names,
      types,
      columns,
      rows: reader.currentRowCount,
      firstLine: parquet ? undefined : opts.columns ? 1 : 2,
      na,
    };
  } finally {
    db.close();
  }
}

/** A text column as numbers (every value a number), booleans (every value true/false), or left as text. */
function retype(values: (string | number | boolean | null)[]): {
  type: string;
  values: (string | number | boolean | null)[];
} {
  const numbers = values.map((v) => (v === null ? null : parseNumberCell(String(v))));
  if (numbers.every((v) => v === null || !Number.isNaN(v))) return { type: 'DOUBLE', values: numbers };
  const bools = values.map((v) => (v === null ? null : String(v).trim().toLowerCase()));
  if (bools.every((v) => v === null || v === 'true' || v === 'false'))
    return { type: 'BOOLEAN', values: bools.map((v) => (v === null ? null : v === 'true')) };
  return { type: 'VARCHAR', values };
}
