/**
 * Domain errors carry a stable `code` so adapters (CLI, HTTP) can map them to exit codes and statuses
 * without parsing messages.
 */
export type ErrorCode = 'invalid_data' | 'invalid_argument' | 'missing_column' | 'io' | 'refused';

/** An error raised by repayrisk code, with a machine-readable code and a human message. */
export class RepayriskError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'RepayriskError';
    this.code = code;
  }
}

/** One problem found in one cell of a data file. */
export interface CellIssue {
  /** 1-based data row (the header is not counted). */
  row: number;
  column: string;
  expected: string;
  got: string;
}

/** A data file broke the data contract; `issues` lists what was found (capped), `message` says it in words. */
export class DataContractError extends RepayriskError {
  readonly file: string;
  readonly issues: readonly CellIssue[];
  constructor(file: string, issues: readonly CellIssue[], more: number, headerLine: boolean) {
    const lines = issues.map(
      (i) =>
        `${file}: row ${i.row}${headerLine ? ` (line ${i.row + 1})` : ''}, column '${i.column}': expected ${i.expected}, got ${i.got}`,
    );
    if (more > 0) lines.push(`… and ${more} more problem(s) in ${file}`);
    super('invalid_data', lines.join('\n'));
    this.name = 'DataContractError';
    this.file = file;
    this.issues = issues;
  }
}
