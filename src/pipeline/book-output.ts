import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { RepayriskError } from '../core/errors.ts';
import type { CallSlots } from '../core/policy/capacity.ts';
import type { ColumnKind, ColumnSpec, TableSpec } from '../core/schema/columns.ts';
import { DECISION_TREATMENTS } from '../core/schema/enums.ts';
import { duckType, sqlIdent, sqlString, withDuckDB } from '../data/duckdb.ts';

// What a book run writes and how, shared by the CSV path (score-book.ts) and the history copy's (book-copy.ts).

/** UTC+14: the first zone to start a calendar day does so 14 hours before UTC. */
export const EARLIEST_OFFSET_MS = 14 * 3_600_000;

const column = (name: string, kind: ColumnKind, nullable: boolean, description: string): ColumnSpec => ({
  name,
  kind,
  nullable,
  description,
});
const text = { type: 'text' } as const;
const num = { type: 'number' } as const;
const int = { type: 'int' } as const;
const ts = { type: 'timestamp' } as const;

/**
 * The columns `repayrisk score --history | --accounts` writes, in order; the same in CSV and Parquet. Lists
 * (`reason_codes`, `guardrails`) are joined with `|`. Parquet types follow `duckType` (timestamps as
 * TIMESTAMPTZ instants; the CSV keeps `earliest_contact_at` with the customer's local offset).
 */
export const BOOK_OUTPUT: TableSpec = {
  name: 'scores',
  description: 'One decision per scored account.',
  key: ['decision_id'],
  columns: [
    column('decision_id', { type: 'id' }, false, '`<run id>-<n>`, n = 1-based position in the output.'),
    column('account_id', { type: 'id' }, false, 'Account identifier.'),
    column('as_of_date', { type: 'date' }, false, 'Snapshot date the account was scored as of.'),
    column('decided_at', ts, false, 'Decision instant (`--now`), UTC.'),
    column('willingness', num, false, 'P(pays anything within 30 days).'),
    column('ability', num, false, 'P(payments within 30 days cover the overdue | pays).'),
    column('expected_recovery', num, false, 'Expected recovery of the chosen treatment (currency).'),
    column('segment', text, false, 'Willingness × ability cell.'),
    column('treatment', { type: 'enum', values: DECISION_TREATMENTS }, false, 'What to do today.'),
    column('channel', text, true, 'Channel to use; empty for hold.'),
    column('earliest_contact_at', ts, true, 'First lawful contact instant; empty for hold.'),
    column('offer_monthly_payment', num, true, 'Plan offers: monthly payment (currency).'),
    column('offer_term_months', int, true, 'Plan offers: months the plan runs.'),
    column('offer_term_extension_months', int, true, 'Plan offers: months added to the term.'),
    column('offer_interest_relief', num, true, 'Plan offers: fraction of the APR waived.'),
    column('offer_apr', num, true, 'Plan offers: APR after relief (fraction).'),
    column(
      'offer_affordable',
      { type: 'bool' },
      true,
      'Plan offers: false when even the best terms exceed capacity.',
    ),
    column('reason_codes', text, false, 'Reason codes, `|`-joined, strategy first.'),
    column('guardrails', text, true, 'Guardrails that fired, `|`-joined; empty when none.'),
    column('model_version', text, false, 'Artifact version that scored the account.'),
    column('policy_version', text, false, 'Policy version that decided it.'),
    column('experiment_arm', text, true, 'Policy experiment arm; empty when the policy has none.'),
    column('call_team', text, true, 'Team whose call slot a human call took (capacity runs); else empty.'),
  ],
};

/** Staging adds the output position, so rows decided out of order (capacity) can be put back in order. */
export const ORDINAL = '__n';
export const STAGING: TableSpec = {
  ...BOOK_OUTPUT,
  columns: [...BOOK_OUTPUT.columns, column(ORDINAL, int, false, 'Output position.')],
};

export type BookFormat = 'csv' | 'parquet';

/**
 * The output format named by a file's extension.
 * @throws RepayriskError `invalid_argument` when it is neither `.csv` nor `.parquet`.
 */
export function bookFormat(out: string): BookFormat {
  const lower = out.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.parquet')) return 'parquet';
  throw new RepayriskError('invalid_argument', `--out must end in .csv or .parquet, got '${out}'`);
}

/**
 * Turns the staging CSV into the output at `tmpPath` with DuckDB: CSV keeps every cell's text as written
 * (read back as VARCHAR), Parquet gets typed columns. Sorted by position only when some rows were decided late.
 */
export async function finishOutput(staging: string, tmpPath: string, format: BookFormat, sort: boolean) {
  const typeOf = (c: ColumnSpec) =>
    c.name === ORDINAL ? 'BIGINT' : format === 'csv' ? 'VARCHAR' : duckType(c);
  const columns = STAGING.columns.map((c) => `${sqlString(c.name)}: ${sqlString(typeOf(c))}`).join(', ');
  const select = BOOK_OUTPUT.columns.map((c) => sqlIdent(c.name)).join(', ');
  const src = `read_csv(${sqlString(staging)}, header = true, delim = ',', quote = '"', escape = '"', columns = {${columns}})`;
  const options = format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet, COMPRESSION zstd';
  await withDuckDB(async (conn) => {
    await conn.run(
      `COPY (SELECT ${select} FROM ${src}${sort ? ` ORDER BY ${sqlIdent(ORDINAL)}` : ''}) TO ${sqlString(tmpPath)} (${options})`,
    );
  });
}

export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The run id of a book: `b` + 12 hex of a digest of its inputs (`files`: the sha256 of the input files' bytes),
 * the as-of date, the decision time, the model and policy versions and the call slots.
 */
export function bookRunId(o: {
  input: 'history' | 'accounts';
  asOf: string | null;
  now: number;
  model: string;
  policy: string;
  slots: CallSlots | null;
  files: string;
}): string {
  const digest = createHash('sha256');
  digest.update(
    JSON.stringify({
      input: o.input,
      asOf: o.asOf,
      now: o.now,
      model: o.model,
      policy: o.policy,
      slots: o.slots,
      files: o.files,
    }),
  );
  return `b${digest.digest('hex').slice(0, 12)}`;
}

/**
 * @throws RepayriskError `invalid_argument` when `now` is before any zone reached the as-of date: the snapshot
 *   describes the start of its day, and a decision before that would use it early.
 */
export function checkNowAfterAsOf(asOf: string | null, now: number): void {
  if (asOf !== null && now < Date.parse(`${asOf}T00:00:00Z`) - EARLIEST_OFFSET_MS)
    throw new RepayriskError(
      'invalid_argument',
      `--now ${new Date(now).toISOString()} is before the as-of date ${asOf}: its snapshots did not exist yet`,
    );
}
