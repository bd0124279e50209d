import { TABLES, type TableName } from '../core/schema/tables.ts';
import { checkTableFile } from './check-table.ts';
import { withDuckDB } from './duckdb.ts';
import type { HistoryFiles } from './history.ts';
import { describeTableFile } from './table-file.ts';

/**
 * Checks every cell of each file against its data-contract table in SQL (one DuckDB scan per file; only failing
 * cells reach JavaScript), in contract table order, calling `onTable` with each file's row count as it passes.
 *
 * @throws DataContractError naming file, row (line), column, expected and got for the first file that breaks the
 *   contract; RepayriskError('invalid_data') for CSV structure errors, named by line; RepayriskError('io').
 */
export async function checkFiles(
  files: HistoryFiles,
  onTable: (table: TableName, rows: number, path: string) => void,
): Promise<void> {
  await withDuckDB(async (conn) => {
    for (const t of Object.keys(TABLES) as TableName[]) {
      const path = files[t];
      if (!path) continue;
      onTable(t, await checkTableFile(conn, await describeTableFile(conn, path, TABLES[t])), path);
    }
  });
}
