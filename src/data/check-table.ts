import type { DuckDBConnection } from '@duckdb/node-api';
import { type CellIssue, DataContractError, RepayriskError } from '../core/errors.ts';
import { describeKind } from '../core/schema/columns.ts';
import { invalidCellSql } from './cell-sql.ts';
import { checkCsv } from './csv-check.ts';
import { sqlIdent } from './duckdb.ts';
import { firstLine, rawRelation, type TableFile, textOf } from './table-file.ts';

/** Problems shown per file before "… and N more" (the rest are counted, not listed). */
export const MAX_ISSUES = 20;

let rejectsSeq = 0;

/**
 * Checks every cell of a table file against the data contract in one DuckDB scan, and returns the number of rows.
 * Only failing cells come back to JavaScript. CSV structure comes first: a row with too many or too few fields,
 * an unterminated quote or bytes that are not UTF-8 is named by its line, and the cells are checked once the
 * file parses (a broken row shifts every row number after it).
 *
 * @param where optional SQL predicate on the file's columns: only rows it selects are checked (a history store
 *   checks the rows it reads). Write it so a malformed cell passes through to be named, not filtered out.
 * @throws DataContractError naming file, row (and line), column, what was expected and what came;
 *   RepayriskError('invalid_data') listing structural CSV errors with their lines; RepayriskError('io').
 */
export async function checkTableFile(
  conn: DuckDBConnection,
  t: TableFile,
  opts: { where?: string; maxIssues?: number } = {},
): Promise<number> {
  // A whole CSV file is first checked on its bytes (csv-check.ts, several times cheaper than DuckDB tokenising every
  // cell as text); only a file that pass is not sure of is scanned in SQL, which names what is wrong.
  if (t.format === 'csv' && !opts.where) {
    const rows = await checkCsv(t);
    if (rows !== null) return rows;
  }
  const maxIssues = opts.maxIssues ?? MAX_ISSUES;
  const rejects = t.format === 'csv' ? `rejects_${process.pid}_${++rejectsSeq}` : undefined;
  const cols = t.spec.columns;
  const texts = cols.map((c) => textOf(t, c.name));
  const flags = cols.map((c, j) => `${invalidCellSql(c, `t${j}`)} AS b${j}`);
  const anyBad = cols.map((_, j) => `b${j}`).join(' OR ');
  const scan = (numbered: boolean, storeRejects = false) =>
    `SELECT ${numbered ? 'r, ' : ''}${cols.map((_, j) => `t${j}`).join(', ')}, ${flags.join(', ')} FROM (` +
    `SELECT ${numbered ? 'row_number() OVER () AS r, ' : ''}${texts.map((x, j) => `${x} AS t${j}`).join(', ')} ` +
    `FROM ${rawRelation(t, storeRejects ? rejects : undefined)}` +
    // Row numbers count every row of the file, so the filter comes after them.
    `${opts.where ? ` ${numbered ? 'QUALIFY' : 'WHERE'} ${opts.where}` : ''})`;
  const run = async (sql: string) => {
    try {
      return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    } catch (e) {
      throw new RepayriskError('io', `${t.path}: ${firstLine(e)}`);
    }
  };
  // The common case, a clean file, is one parallel scan that only counts.
  let row: Record<string, unknown>;
  try {
    row = (
      await run(`SELECT count(*) AS n, count(*) FILTER (WHERE ${anyBad}) AS bad FROM (${scan(false, true)})`)
    )[0]!;
  } finally {
    if (rejects) await structural(conn, t, rejects).finally(() => dropRejects(conn, rejects));
  }
  if (Number(row.bad) === 0) return Number(row.n);
  // Only a file that breaks the contract pays for counting per column and numbering rows.
  const [per] = await run(
    `SELECT ${cols.map((_, j) => `count(*) FILTER (WHERE b${j}) AS c${j}`).join(', ')} FROM (${scan(false)})`,
  );
  const total = cols.reduce((a, _, j) => a + Number(per![`c${j}`]), 0);
  const issues: CellIssue[] = [];
  for (const s of await run(`SELECT * FROM (${scan(true)}) WHERE ${anyBad} ORDER BY r LIMIT ${maxIssues}`)) {
    cols.forEach((c, j) => {
      if (s[`b${j}`] !== true || issues.length >= maxIssues) return;
      const raw = s[`t${j}`] as string | null;
      issues.push({
        row: Number(s.r),
        column: c.name,
        expected: describeKind(c),
        got: raw === null || raw === '' ? 'an empty cell' : `'${raw}'`,
      });
    });
  }
  throw new DataContractError(t.file, issues, total - issues.length, t.headerLine);
}

/** Throws the structural errors a CSV scan stored, with their lines, if there are any. */
async function structural(conn: DuckDBConnection, t: TableFile, rejects: string): Promise<void> {
  let rows: Record<string, unknown>[];
  try {
    rows = (
      await conn.runAndReadAll(
        `SELECT line, error_type, column_name, error_message, csv_line, count(*) OVER () AS total FROM ${sqlIdent(rejects)} ORDER BY line LIMIT ${MAX_ISSUES}`,
      )
    ).getRowObjectsJS() as Record<string, unknown>[];
  } catch {
    return; // the scan failed before storing anything: its own error is reported
  }
  if (!rows.length) return;
  const total = Number(rows[0]!.total);
  const lines = rows.map((r) => {
    const text = String(r.csv_line ?? '').replace(/\r?\n$/, '');
    const shown = text.length > 80 ? `${text.slice(0, 77)}…` : text;
    const where = String(r.error_type) === 'UNQUOTED VALUE' ? 'a quoted field opened before or on' : '';
    return `${t.file}: line ${Number(r.line)}: ${String(r.error_message)}${where ? ` (${where} this line)` : ''}: ${JSON.stringify(shown)}`;
  });
  if (total > rows.length) lines.push(`… and ${total - rows.length} more malformed line(s) in ${t.file}`);
  lines.push(`${t.file}: cells are checked once every line has the header's ${t.names.length} fields`);
  throw new RepayriskError('invalid_data', lines.join('\n'));
}

async function dropRejects(conn: DuckDBConnection, rejects: string): Promise<void> {
  for (const name of [rejects, `${rejects}_scan`])
    await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(name)}`).catch(() => undefined);
}
