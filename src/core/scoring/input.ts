import { z } from 'zod';
import { decideAccountSchema, historyContactSchema } from '../policy/input.ts';
import { identifier } from '../schema/ids.ts';
import { describeValue, type FieldIssue } from '../schema/issues.ts';
import { type ArchiveViolation, archiveViolations, type TypedRow } from '../schema/rules.ts';
import { installments, payments } from '../schema/tables.ts';
import { asOfDateProblem, stampReportedTimes } from '../time/skew.ts';
import type { AccountArchive } from './score.ts';

/** An instalment row; `account_id` may be left out inside an account's own archive. */
export const historyInstallmentSchema = installments.schema.extend({
  account_id: identifier().optional(),
});

/** A payment row; `account_id` may be left out inside an account's own archive. */
export const historyPaymentSchema = payments.schema.extend({
  account_id: identifier().optional(),
});

/**
 * One account as the score API and `repayrisk score --accounts` take it (DESIGN §7): the snapshot fields, its
 * instalments and its contacts, as far back as the features' declared lookbacks reach (ARCHIVE_LOOKBACK in
 * features/definitions.ts; the OpenAPI document describes each list with it). Older rows are accepted and ignored.
 */
export const archiveSchema = z
  .strictObject({
    account: decideAccountSchema,
    installments: z.array(historyInstallmentSchema).default([]),
    contacts: z.array(historyContactSchema).default([]),
    // Optional: when given, paid / part-paid status comes from these payments (oldest due first), not from the
    // instalments' paid_date / first_paid_date. They must start where the instalments listed start (no arrears
    // older than the first instalment listed), or money would be allocated to the wrong instalments.
    payments: z.array(historyPaymentSchema).optional(),
  })
  .superRefine((v, ctx) => {
    const id = v.account.account_id;
    for (const key of ['installments', 'contacts', 'payments'] as const)
      v[key]?.forEach((r, i) => {
        if (r.account_id !== undefined && r.account_id !== id)
          ctx.addIssue({
            code: 'custom',
            path: [key, i, 'account_id'],
            message: `expected the account's own id ${JSON.stringify(id)}`,
            input: r.account_id,
          });
      });
  });
export type ArchiveInput = z.output<typeof archiveSchema>;

/**
 * The archive with every contact carrying the account's id (the policy takes them as contact rows of the
 * contract). Instalments stay as given: only the features read them, never by account, and copying a dozen rows
 * to add the id cost more than a microsecond a request.
 */
export function toArchive(input: ArchiveInput): AccountArchive {
  const account_id = input.account.account_id;
  return {
    account: input.account,
    installments: input.installments,
    contacts: input.contacts.map((r) => withAccountId(r, account_id)),
    ...(input.payments ? { payments: input.payments } : {}),
  };
}

/**
 * The row with `account_id` set: the row itself when it already names the account, else a copy. The id goes first
 * in the copy because V8 copies `{ account_id, ...r }` on its fast path, while `{ ...r, account_id }` (a key added
 * after the spread) takes it off that path: ~1.7 µs a row, 30-50 µs for the example archive (bench/hot-path.ts).
 */
function withAccountId<R extends { account_id?: string | undefined }>(
  r: R,
  account_id: string,
): R & { account_id: string } {
  if (r.account_id === account_id) return r as R & { account_id: string };
  return Object.hasOwn(r, 'account_id') ? { ...r, account_id } : { account_id, ...r };
}

/** An archive the service takes, or every reason it does not (paths relative to the archive). */
export type AdmittedArchive = { ok: true; archive: AccountArchive } | { ok: false; issues: FieldIssue[] };

/**
 * The checks a schema-valid archive still needs before it is scored at the clock instant `nowMs` (the server's
 * clock; offline, the wall clock): its `as_of_date` in range, each contact's `ts` no further ahead than the clock
 * skew tolerance (one within it counts from now: its ts becomes `nowMs`), and the data contract's cross-field rules
 * of severity error (the same code `repayrisk validate` runs; warnings do not refuse an account). Returns the
 * archive (its contacts carrying the account's id), or every problem found.
 */
export function admitArchive(input: ArchiveInput, nowMs: number): AdmittedArchive {
  const issues: FieldIssue[] = [];
  const asOf = input.account.as_of_date;
  const asOfProblem = asOfDateProblem(asOf, nowMs);
  if (asOfProblem !== null)
    issues.push({ path: 'account.as_of_date', message: asOfProblem, got: describeValue(asOf) });
  const stamped = stampReportedTimes(input.contacts, nowMs, 'contacts');
  issues.push(...stamped.issues);
  const rows = {
    account: input.account as TypedRow,
    installments: input.installments as readonly TypedRow[],
    contacts: input.contacts as readonly TypedRow[],
    ...(input.payments ? { payments: input.payments as readonly TypedRow[] } : {}),
  };
  for (const v of archiveViolations(rows, true)) issues.push(ruleIssue(v, rowAt(rows, v.path)));
  return issues.length
    ? { ok: false, issues }
    : { ok: true, archive: toArchive({ ...input, contacts: stamped.rows }) };
}

/** The row a violation's path (`account`, `installments.3`) points at. */
function rowAt(
  rows: Readonly<Record<string, TypedRow | readonly TypedRow[] | undefined>>,
  path: string,
): TypedRow {
  const [list, index] = path.split('.');
  const at = rows[list!];
  return (index === undefined ? at : (at as readonly TypedRow[])[Number(index)]) as TypedRow;
}

/** A broken contract rule as a field issue: the path of its first cell, the rule, what holds, the cells' values. */
function ruleIssue(v: ArchiveViolation, row: TypedRow): FieldIssue {
  return {
    path: `${v.path}.${v.columns[0]}`,
    message: `breaks the data contract's rule ${v.rule} (${v.columns.join(', ')}): ${v.message}; expected ${v.expected}`,
    got: v.columns.map((c) => `${c}=${describeValue(row[c])}`).join(', '),
  };
}
