import { RepayriskError } from '../../core/errors.ts';
import type { TableName } from '../../core/schema/tables.ts';
import { checkContractRules, ruleReportLines } from '../../data/contract-rules.ts';
import { findHistoryFiles, type HistoryFiles } from '../../data/history.ts';
import { checkFiles } from '../../data/validate-files.ts';

/** What `repayrisk validate` was given, parsed by commander. */
export interface ValidateOptions {
  history?: string;
  file?: string;
  table?: TableName;
}

/**
 * `repayrisk validate`: every cell, then the cross-column contract rules; warnings go to stderr.
 * @throws RepayriskError `invalid_argument` for a wrong combination of options, `invalid_data` listing the rule
 * errors (cell errors are thrown by the file checks with the file, line and column).
 */
export async function validateAction(o: ValidateOptions): Promise<void> {
  let files: HistoryFiles;
  if (o.history) files = findHistoryFiles(o.history, ['accounts']);
  else if (o.file && o.table) files = { [o.table]: o.file };
  else
    throw new RepayriskError(
      'invalid_argument',
      'validate needs --history DIR, or --file PATH with --table NAME',
    );
  await checkFiles(files, (t, n, f) => {
    process.stdout.write(`ok  ${t.padEnd(13)} ${String(n).padStart(10)} rows  ${f}\n`);
  });
  // Every cell is valid: now the rules that relate cells (and rows, and tables) to each other.
  const report = await checkContractRules(files);
  const warnings = ruleReportLines(report, 'warning');
  const errors = ruleReportLines(report, 'error');
  const count = (s: 'error' | 'warning') =>
    report.checked
      .filter((id) => report.issues.some((i) => i.rule === id && i.severity === s))
      .reduce((a, id) => a + (report.counts[id] ?? 0), 0);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(
    `contract rules: ${report.checked.length} checked, ${count('error')} row(s) with errors, ` +
      `${count('warning')} with warnings (docs/data-contract.md#contract-rules)\n`,
  );
  if (errors.length) throw new RepayriskError('invalid_data', errors.join('\n'));
}
