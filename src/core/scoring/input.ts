import { z } from 'zod';
import { decideAccountSchema, historyContactSchema } from '../policy/input.ts';
import { installments, payments } from '../schema/tables.ts';
import type { AccountArchive } from './score.ts';

/** An instalment row; `account_id` may be left out inside an account's own archive. */
export const historyInstallmentSchema = installments.schema.extend({
  account_id: z.string().min(1).optional(),
});

/** A payment row; `account_id` may be left out inside an account's own archive. */
export const historyPaymentSchema = payments.schema.extend({
  account_id: z.string().min(1).optional(),
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

/** The archive with every row carrying the account's id. */
export function toArchive(input: ArchiveInput): AccountArchive {
  const account_id = input.account.account_id;
  return {
    account: input.account,
    installments: input.installments.map((r) => ({ ...r, account_id })),
    contacts: input.contacts.map((r) => ({ ...r, account_id })),
    ...(input.payments ? { payments: input.payments } : {}),
  };
}
