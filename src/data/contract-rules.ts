import { basename } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { RepayriskError } from '../core/errors.ts';
import { CONTRACT_RULES, type ContractRule, type RowRule, type RuleSeverity } from '../core/schema/rules.ts';
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
  const applicable = rules.filter(
    (r) =>
      files[r.table] !== undefined && (r.scope === 'row' || r.needs.every((t) => files[t] !== undefined)),
  );
  report.checked = applicable.map((r) => r.id);
  const found = new Map<string, { n: number; sample: Record<string, unknown>[] }>();
  await withDuckDB(async (conn) => {
    for (const t of Object.keys(files) as TableName[]) {
      const path = files[t];
      if (path) await run(conn, `CREATE VIEW ${t} AS ${typedView(path, t)}`, path);
    }
    // The row rules of a table in one scan: a count and the first rows of each, in bounded memory.
    for (const t of new Set(applicable.map((r) => r.table))) {
      const rowRules = applicable.filter((r): r is RowRule => r.table === t && r.scope === 'row');
      if (!rowRules.length) continue;
      const aggs = rowRules.map((r, k) => {
        const hit = `coalesce(${r.sql}, false)`;
        return `count(*) FILTER (WHERE ${hit}) AS n${k}, min_by(${sample(r)}, __row, ${max}) FILTER (WHERE ${hit}) AS s${k}`;
      });
      const [x] = (await run(conn, `SELECT ${aggs.join(', ')} FROM ${t}`, files[t]!)).getRowObjectsJson();
      rowRules.forEach((r, k) => {
        found.set(r.id, {
          n: Number(x?.[`n${k}`] ?? 0),
          sample: (x?.[`s${k}`] ?? []) as Record<string, unknown>[],
        });
      });
    }
    for (const r of applicable) {
      if (r.scope !== 'account') continue;
      const sql = `SELECT count(*) AS n, min_by(${sample(r)}, __row, ${max}) AS s FROM ${r.table} WHERE __row IN (${r.sql})`;
      const [x] = (await run(conn, sql, files[r.table]!)).getRowObjectsJson();
      found.set(r.id, { n: Number(x?.n ?? 0), sample: (x?.s ?? []) as Record<string, unknown>[] });
    }
  });
  for (const rule of applicable) {
    const path = files[rule.table]!;
    const { n, sample: rows } = found.get(rule.id) ?? { n: 0, sample: [] };
    report.counts[rule.id] = n;
    const csv = !path.toLowerCase().endsWith('.parquet');
    for (const x of [...rows].sort((a, b) => Number(a.__row) - Number(b.__row))) {
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
  return report;
}

/** A violating row as shown in a report: its number and the rule's cells as the file wrote them. */
function sample(rule: ContractRule): string {
  const cells = rule.columns.map((c) => `${sqlString(c)}: ${sqlIdent(`__text_${c}`)}`);
  return `{'__row': __row, ${cells.join(', ')}}`;
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
