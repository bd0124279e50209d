import { basename } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { RepayriskError } from '../core/errors.ts';
import { CONTRACT_RULES, type ContractRule, type RuleSeverity } from '../core/schema/rules.ts';
import { TABLES, type TableName } from '../core/schema/tables.ts';
import { duckType, sqlIdent, sqlString, withDuckDB } from './duckdb.ts';
import type { HistoryFiles } from './history.ts';

/** One row breaking one cross-column rule of the data contract. */
export interface RuleIssue {
  rule: string;
  severity: RuleSeverity;
  /** File name (no folder), as cell errors name it. */
  file: string;
  /** 1-based data row (the header is not counted), as the reader numbers rows. */
  row: number;
  /** Line in a CSV file (row + 1 for the header); absent for Parquet. */
  line?: number;
  /** The cells the rule names, as text ('empty' for an empty cell). */
  cells: Readonly<Record<string, string>>;
  message: string;
  expected: string;
}

/** What checking the rules found. */
export interface RuleReport {
  /** Ids of the rules run (a rule is skipped when its table, or a table it needs, is absent). */
  checked: string[];
  /** Every violating row, up to `maxPerRule` per rule, in rule order then row order. */
  issues: RuleIssue[];
  /** Number of violating rows per rule id (all of them, not only those listed). */
  counts: Record<string, number>;
}

export interface RuleCheckOptions {
  /** Rows listed per rule (default 5); `counts` still counts them all. */
  maxPerRule?: number;
  /** Rules to run (default: every rule of the contract). */
  rules?: readonly ContractRule[];
}

/**
 * Runs the contract's cross-column rules (src/core/schema/rules.ts) over the files of a history with DuckDB,
 * streaming, so any size works. Run it after the per-cell checks have passed: a cell the contract refuses reads
 * as empty here.
 *
 * @throws RepayriskError('io') when a file cannot be read.
 */
export async function checkContractRules(
  files: HistoryFiles,
  opts: RuleCheckOptions = {},
): Promise<RuleReport> {
  const max = opts.maxPerRule ?? 5;
  const rules = opts.rules ?? CONTRACT_RULES;
  const report: RuleReport = { checked: [], issues: [], counts: {} };
  await withDuckDB(async (conn) => {
    for (const t of Object.keys(files) as TableName[]) {
      const path = files[t];
      if (path) await run(conn, `CREATE VIEW ${t} AS ${typedView(path, t)}`, path);
    }
    for (const rule of rules) {
      const path = files[rule.table];
      if (!path) continue;
      if (rule.scope === 'account' && rule.needs.some((t) => !files[t])) continue;
      report.checked.push(rule.id);
      const cells = rule.columns.map((c) => `${sqlIdent(`__text_${c}`)} AS ${sqlIdent(c)}`).join(', ');
      const bad =
        rule.scope === 'row'
          ? `SELECT __row FROM ${rule.table} WHERE coalesce(${rule.sql}, false)`
          : rule.sql;
      const r = await run(
        conn,
        `SELECT count(*) OVER () AS __n, __row, ${cells} FROM ${rule.table}
         WHERE __row IN (${bad}) ORDER BY __row LIMIT ${max}`,
        path,
      );
      const rows = r.getRowObjectsJson();
      report.counts[rule.id] = rows.length ? Number(rows[0]!.__n) : 0;
      const csv = !path.toLowerCase().endsWith('.parquet');
      for (const x of rows) {
        const rowNo = Number(x.__row);
        report.issues.push({
          rule: rule.id,
          severity: rule.severity,
          file: basename(path),
          row: rowNo,
          ...(csv ? { line: rowNo + 1 } : {}),
          cells: Object.fromEntries(rule.columns.map((c) => [c, x[c] === null ? 'empty' : String(x[c])])),
          message: rule.message,
          expected: rule.expected,
        });
      }
    }
  });
  return report;
}

/**
 * The contract columns of a file with the contract's types (and as text, `__text_<name>`), and `__row`, the
 * 1-based row in file order. CSV is
 * read as text and cast here (not with read_csv's `columns`), so extra columns and any column order are fine.
 */
function typedView(path: string, table: TableName): string {
  const parquet = path.toLowerCase().endsWith('.parquet');
  const source = parquet
    ? `read_parquet(${sqlString(path)})`
    : `read_csv(${sqlString(path)}, header = true, all_varchar = true, auto_detect = true)`;
  // Each column twice: typed for the rules, and as the file wrote it for the report.
  const cols = TABLES[table].columns
    .map((c) => {
      const id = sqlIdent(c.name);
      const text = parquet ? `CAST(${id} AS VARCHAR)` : `nullif(${id}, '')`;
      return `TRY_CAST(${text} AS ${duckType(c)}) AS ${id}, ${text} AS ${sqlIdent(`__text_${c.name}`)}`;
    })
    .join(', ');
  return `SELECT ${cols}, row_number() OVER () AS __row FROM ${source}`;
}

async function run(conn: DuckDBConnection, sql: string, path: string) {
  try {
    return await conn.runAndReadAll(sql);
  } catch (e) {
    const first = String(e instanceof Error ? e.message : e).split('\n')[0];
    throw new RepayriskError('io', `${path}: ${first}`);
  }
}

/** `installments.csv: row 3 (line 4): rule 'x' (error): message; expected …, got a=1, b=empty` */
export function ruleIssueText(i: RuleIssue): string {
  const where = `${i.file}: row ${i.row}${i.line === undefined ? '' : ` (line ${i.line})`}`;
  const got = Object.entries(i.cells)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${where}: rule '${i.rule}' (${i.severity}): ${i.message}; expected ${i.expected}, got ${got}`;
}

/** Lines describing a report's issues of one severity, with a line per rule whose rows were not all listed. */
export function ruleReportLines(report: RuleReport, severity: RuleSeverity): string[] {
  const out: string[] = [];
  for (const id of report.checked) {
    const shown = report.issues.filter((i) => i.rule === id && i.severity === severity);
    if (!shown.length) continue;
    for (const i of shown) out.push(ruleIssueText(i));
    const more = (report.counts[id] ?? 0) - shown.length;
    if (more > 0) out.push(`… and ${more} more row(s) breaking '${id}' in ${shown[0]!.file}`);
  }
  return out;
}
