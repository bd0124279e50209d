import { z } from 'zod';
import { POLICY_CHANNELS, SEGMENTS } from '../core/policy/schema.ts';
import { DECISION_TREATMENTS } from '../core/schema/enums.ts';
import { identifier } from '../core/schema/ids.ts';
import { contacts } from '../core/schema/tables.ts';
import type { DecisionRecord } from '../ledger/contract.ts';
import type { ReloadOutcome } from '../service/live-types.ts';
import type { ScoredAccount } from '../service/score-request.ts';

/**
 * The request schemas of the API (they validate every body, and the OpenAPI document is generated from them) and
 * the response schemas (documentation only, checked against the service's types below so they cannot drift).
 */

// ---- requests -------------------------------------------------------------------------------------------------

/**
 * A batch score request: `{ accounts: [item, …] }` with 1..maxBatch items. The routes validate the envelope with
 * `z.unknown()` items and then each item on its own (so one bad account does not fail the others); the OpenAPI
 * document shows it with the archive schema as items.
 */
export function scoreBatchSchema<T extends z.ZodType>(item: T, maxBatch: number) {
  return z.strictObject({
    accounts: z
      .array(item)
      .min(1, 'expected at least one account')
      .max(maxBatch, `a batch holds at most ${maxBatch} accounts; split it into several requests`),
  });
}

/** One contact attempt to record: a data-contract contact row, plus the decision it carried out (optional). */
export const contactInputSchema = z.strictObject({
  ...contacts.schema.shape,
  decision_id: identifier().nullable().optional(),
});
export type ContactInput = z.output<typeof contactInputSchema>;

/** `POST /v1/contacts`: `{ contacts: [row, …] }` with 1..maxContacts rows. */
export function contactsRequestSchema(maxContacts: number) {
  return z.strictObject({
    contacts: z
      .array(contactInputSchema)
      .min(1, 'expected at least one contact')
      .max(maxContacts, `a request records at most ${maxContacts} contacts; split it into several requests`),
  });
}

// ---- responses (documentation) --------------------------------------------------------------------------------

export const fieldIssueSchema = z.strictObject({
  path: z.string(),
  message: z.string(),
  got: z.string().optional(),
});

export const errorBodySchema = z.strictObject({
  error: z.string(),
  message: z.string(),
  request_id: z.string(),
  issues: z.array(fieldIssueSchema).optional(),
});

export const planOfferSchema = z.strictObject({
  monthly_payment: z.number(),
  term_months: z.number(),
  term_extension_months: z.number(),
  interest_relief: z.number(),
  apr: z.number(),
  amount: z.number(),
  capacity: z.number(),
  capacity_basis: z.enum(['declared_income', 'contractual_instalment']),
  affordable: z.boolean(),
  /** Forbearance that replaced a plan above the customer's capacity (docs/policy.md, forbearance), else null. */
  forbearance: z
    .strictObject({
      kind: z.enum(['token_payment', 'interest_freeze']),
      clears_balance: z.boolean(),
      plan_payment: z.number(),
      source: z.string(),
    })
    .nullable(),
  debt_advice_referral: z.boolean(),
});

const arm = z.enum(['champion', 'challenger']).nullable();

export const scoredAccountSchema = z.strictObject({
  decision_id: z.string(),
  account_id: z.string(),
  as_of_date: z.string(),
  decided_at: z.string(),
  scores: z.strictObject({
    willingness: z.number().min(0).max(1),
    ability: z.number().min(0).max(1),
    expected_recovery: z.number(),
  }),
  segment: z.enum(SEGMENTS),
  treatment: z.enum(DECISION_TREATMENTS),
  channel: z.enum(POLICY_CHANNELS).nullable(),
  earliest_contact_at: z.string().nullable(),
  offer: planOfferSchema.nullable(),
  reason_codes: z.array(z.string()),
  reasons: z.array(z.string()),
  guardrails: z.array(z.string()),
  model_version: z.string(),
  policy_version: z.string(),
  experiment_arm: arm,
  call_team: z.string().nullable(),
});

export const batchItemOkSchema = scoredAccountSchema.extend({
  index: z.number().int().nonnegative(),
  status: z.literal('ok'),
});

export const batchItemInvalidSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  status: z.literal('invalid'),
  errors: z.array(fieldIssueSchema),
});

export const scoreBatchResponseSchema = z.strictObject({
  count: z.number().int(),
  ok: z.number().int(),
  invalid: z.number().int(),
  results: z.array(z.union([batchItemOkSchema, batchItemInvalidSchema])),
});

export const contactsResponseSchema = z.strictObject({
  recorded: z.number().int(),
  contact_ids: z.array(z.string()),
});

export const decisionRecordSchema = z.strictObject({
  decision_id: z.string(),
  decided_at: z.string(),
  account_id: z.string(),
  as_of_date: z.string(),
  model_version: z.string(),
  policy_version: z.string(),
  experiment_arm: arm,
  willingness: z.number(),
  ability: z.number(),
  expected_recovery: z.number(),
  segment: z.string(),
  treatment: z.string(),
  channel: z.string().nullable(),
  earliest_contact_at: z.string().nullable(),
  call_team: z.string().nullable(),
  offer: planOfferSchema.nullable(),
  reason_codes: z.array(z.string()),
  reasons: z.array(z.string()),
  guardrails: z.array(z.string()),
  shadow: z
    .strictObject({ model_version: z.string(), willingness: z.number(), ability: z.number() })
    .nullable(),
  request_id: z.string().nullable(),
  drivers: z
    .strictObject({ willingness: z.array(z.string()), ability: z.array(z.string()) })
    .nullable()
    .describe(
      "Each model's strongest drivers, largest first, as `feature (±contribution to the log-odds)`; null on decisions recorded before the ledger kept them.",
    ),
  rule_pack: z
    .string()
    .nullable()
    .describe('The rule pack (jurisdiction) whose floors applied, e.g. `cn-2025`; null on older decisions.'),
  rule_pack_version: z.string().nullable().describe('That rule pack’s version; null with `rule_pack`.'),
});

const aucs = z.strictObject({ train: z.number(), validation: z.number(), out_of_time: z.number() });

export const modelInfoSchema = z.strictObject({
  version: z.string(),
  name: z.string(),
  mode: z.string(),
  created_at: z.string(),
  seed: z.number(),
  data: z.strictObject({ from: z.string().nullable(), to: z.string().nullable(), rows: z.number() }),
  feature_count: z.number().int(),
  targets: z.record(
    z.string(),
    z.strictObject({ positive: z.string(), kind: z.string(), calibration: z.string(), auc: aucs }),
  ),
});

export const modelsResponseSchema = z.strictObject({
  champion: modelInfoSchema,
  challenger: modelInfoSchema.nullable(),
  loaded_at: z.string(),
});

export const policyResponseSchema = z.strictObject({
  version: z.string(),
  description: z.string(),
  loaded_at: z.string(),
  /** The validated policy file with its defaults filled in (docs/policy.md). */
  document: z.record(z.string(), z.unknown()),
});

export const reloadOutcomeSchema = z.strictObject({
  champion: z.strictObject({ version: z.string(), changed: z.boolean() }),
  challenger: z.strictObject({ version: z.string().nullable(), changed: z.boolean() }),
  policy: z.strictObject({ version: z.string(), changed: z.boolean() }),
  refused: z.array(z.string()),
});

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

export const readyResponseSchema = z.strictObject({
  status: z.enum(['ready', 'not_ready']),
  checks: z.strictObject({
    models: z.strictObject({
      ok: z.boolean(),
      champion: z.string().nullable(),
      challenger: z.string().nullable(),
    }),
    policy: z.strictObject({ ok: z.boolean(), version: z.string().nullable() }),
    ledger: z.strictObject({ ok: z.boolean(), kind: z.string() }),
  }),
});

// Compile-time checks: a documented response has exactly the fields of the type the service sends, and each
// documented field type admits what the service sends.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _ScoredAccountDocumented = Assert<
  Same<keyof z.output<typeof scoredAccountSchema>, keyof ScoredAccount>
>;
export type _ScoredAccountFits = Assert<
  ScoredAccount extends z.output<typeof scoredAccountSchema> ? true : false
>;
export type _DecisionDocumented = Assert<Same<z.output<typeof decisionRecordSchema>, DecisionRecord>>;
export type _ReloadDocumented = Assert<Same<z.output<typeof reloadOutcomeSchema>, ReloadOutcome>>;
