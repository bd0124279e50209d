import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RepayriskError } from '../core/errors.ts';
import type { TableSpec } from '../core/schema/columns.ts';
import { TABLES, type TableName } from '../core/schema/tables.ts';
import { duckType, sqlString } from './duckdb.ts';

/** A history folder: one file per data-contract table, CSV or Parquet (`accounts.csv`, `installments.parquet` …). */
export type HistoryFiles = Partial<Record<TableName, string>>;

/** Finds the table files in a history folder. `required` tables must exist; the rest are optional. */
export function findHistoryFiles(dir: string, required: readonly TableName[]): HistoryFiles {
  const out: HistoryFiles = {};
  for (const t of Object.keys(TABLES) as TableName[]) {
    for (const ext of ['parquet', 'csv']) {
      const p = join(dir, `${t}.${ext}`);
      if (existsSync(p)) {
        out[t] = p;
        break;
      }
    }
  }
  const missing = required.filter((t) => !out[t]);
  if (missing.length) {
    throw new RepayriskError(
      'io',
      `${dir}: missing table file(s) ${missing.map((t) => `${t}.csv|${t}.parquet`).join(', ')}`,
    );
  }
  return out;
}

/** SQL table expression reading a data-contract file with the contract's column types. */
export function typedSource(path: string, spec: TableSpec): string {
  if (path.endsWith('.parquet')) return `read_parquet(${sqlString(path)})`;
  const cols = spec.columns.map((c) => `${sqlString(c.name)}: ${sqlString(duckType(c))}`).join(', ');
  return `read_csv(${sqlString(path)}, header = true, columns = {${cols}})`;
}
