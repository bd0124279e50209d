import { RepayriskError } from '../core/errors.ts';
import { openDuckDB, sqlString } from './duckdb.ts';

/** A team's own flat feature table, read whole: column names and column-major values. */
export interface FeatureTable {
  path: string;
  names: string[];
  /** DuckDB's type of each column (VARCHAR, BIGINT, DOUBLE, …). */
  types: string[];
  columns: (string | number | boolean | null)[][];
  rows: number;
}

/**
 * Reads a CSV (with a header, or headerless given `columns`) or Parquet feature table with DuckDB's type
 * detection.
 * @throws RepayriskError('io') when the file cannot be read; ('invalid_argument') when `columns` does not match.
 */
export async function readFeatureTable(
  path: string,
  opts: { columns?: readonly string[] } = {},
): Promise<FeatureTable> {
  const parquet = path.toLowerCase().endsWith('.parquet');
  const source = parquet
    ? `read_parquet(${sqlString(path)})`
    : opts.columns
      ? `read_csv(${sqlString(path)}, header = false, names = [${opts.columns.map(sqlString).join(', ')}])`
      : `read_csv(${sqlString(path)}, header = true)`;
  const db = await openDuckDB();
  try {
    let reader: Awaited<ReturnType<typeof db.conn.runAndReadAll>>;
    try {
      reader = await db.conn.runAndReadAll(`SELECT * FROM ${source}`);
    } catch (e) {
      const msg = String((e as Error).message).split('\n')[0];
      throw new RepayriskError('io', `${path}: cannot be read: ${msg}`);
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
    const columns = raw.map((col) =>
      col.map((v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'bigint') return Number(v);
        if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
        return String(v);
      }),
    );
    return { path, names, types, columns, rows: reader.currentRowCount };
  } finally {
    db.close();
  }
}
