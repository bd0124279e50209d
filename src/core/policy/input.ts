import { z } from 'zod';
import { TREATMENTS } from '../schema/enums.ts';
import { identifier } from '../schema/ids.ts';
import { accounts, type ContactRow, contacts } from '../schema/tables.ts';
import { isTimeZone } from '../time/timezone.ts';
import type { Scores } from './types.ts';

const probability = z.number().min(0).max(1);

/** The two scores as a caller sends them (snake_case on the wire). */
export const scoresSchema = z.strictObject({
  willingness: probability,
  ability: probability,
  drivers: z
    .strictObject({ willingness: z.array(z.string()).optional(), ability: z.array(z.string()).optional() })
    .optional(),
  by_treatment: z
    .partialRecord(z.enum(TREATMENTS), z.strictObject({ p_pay: probability, p_cover: probability }))
    .optional(),
});

/** An account of the data contract whose time zone this runtime knows (contact hours depend on it). */
export const decideAccountSchema = accounts.schema.extend({
  timezone: z.string().refine(isTimeZone, { message: 'expected an IANA time zone (e.g. America/Chicago)' }),
});

/** A contact row; `account_id` may be left out inside an account's own history. */
export const historyContactSchema = contacts.schema.extend({ account_id: identifier().optional() });

/** One line of `repayrisk decide --in`: an account, its scores and its contact history. */
export const decideInputSchema = z
  .strictObject({
    account: decideAccountSchema,
    scores: scoresSchema,
    contacts: z.array(historyContactSchema).default([]),
  })
  .superRefine((v, ctx) => {
    v.contacts.forEach((c, i) => {
      if (c.account_id !== undefined && c.account_id !== v.account.account_id)
        ctx.addIssue({
          code: 'custom',
          path: ['contacts', i, 'account_id'],
          message: `expected the account's own id ${JSON.stringify(v.account.account_id)}`,
          input: c.account_id,
        });
    });
  });
export type DecideInput = z.output<typeof decideInputSchema>;

/** Scores as `decide` takes them, from their wire form. */
export function scoresFromWire(s: z.output<typeof scoresSchema>): Scores {
  const scores: Scores = { willingness: s.willingness, ability: s.ability };
  if (s.drivers) scores.drivers = s.drivers;
  if (s.by_treatment) {
    const by: NonNullable<Scores['byTreatment']> = {};
    for (const t of TREATMENTS) {
      const r = s.by_treatment[t];
      if (r) by[t] = { pPay: r.p_pay, pCover: r.p_cover };
    }
    scores.byTreatment = by;
  }
  return scores;
}

/** The contact rows of an input, each carrying the account's id. */
export function historyOf(input: DecideInput): ContactRow[] {
  return input.contacts.map((c) => ({ ...c, account_id: input.account.account_id }));
}
