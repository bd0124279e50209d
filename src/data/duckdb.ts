import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { ColumnSpec } from '../core/schema/columns.ts';

/** An in-memory DuckDB connection and the way to release it. */
export interface OpenDuckDB {
  conn: DuckDBConnection;
  close(): void;
}

/** Opens an in-memory DuckDB (two threads: the machines have two cores). The caller must `close()` it. */
export async function openDuckDB(): Promise<OpenDuckDB> {
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await inst.connect();
  return {
    conn,
    close: () => {
      conn.closeSync();
      inst.closeSync();
    },
  };
}

/** Opens an in-memory DuckDB connection, runs `fn`, and always closes it. */
export async function withDuckDB<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await openDuckDB();
  try {
    return await fn(db.conn);
  } finally {
    db.close();
  }
}

/** SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The DuckDB type a data-contract column is stored as in Parquet. */
export function duckType(col: ColumnSpec): string {
  switch (col.kind.type) {
    case 'int':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'bool':
      return 'BOOLEAN';
    default:
      return 'VARCHAR';
  }
}
