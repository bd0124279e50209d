import { z } from 'zod';
import type { Explanation } from '../core/policy/explain.ts';
import { REVIEW_CHANNELS, REVIEW_EVENT_KINDS, REVIEW_OUTCOMES } from '../core/policy/human-review.ts';
import { POLICY_CHANNELS, SEGMENTS } from '../core/policy/schema.ts';
import { isIsoTimestamp } from '../core/schema/columns.ts';
import { DECISION_TREATMENTS } from '../core/schema/enums.ts';
import { identifier } from '../core/schema/ids.ts';
import { contacts } from '../core/schema/tables.ts';
import type { DecisionRecord, ReviewEventRecord } from '../ledger/contract.ts';
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

/** The record handed to an agency with an agency_placement decision (core/policy/handover.ts `Handover`). */
const handoverSchema = z.strictObject({
  rule_pack: z.string(),
  rule_pack_version: z.string(),
  days_past_due: z.number(),
  amount_overdue: z.number(),
  balance: z.number(),
  flags: z.strictObject({
    hardship: z.boolean(),
    vulnerable: z.boolean(),
    do_not_call: z.boolean(),
    complaint_open: z.boolean(),
    phone_valid: z.boolean(),
    email_valid: z.boolean(),
  }),
  legal_notice_date: z.string().nullable(),
  blocked_channels: z.array(z.strictObject({ channel: z.string(), guardrails: z.array(z.string()) })),
  contacts_by_channel: z.record(z.string(), z.number()),
  last_contacts: z.array(z.strictObject({ ts: z.string(), channel: z.string(), outcome: z.string() })),
  last_conversation_at: z.string().nullable(),
  open_promises: z.array(
    z.strictObject({
      made_at: z.string(),
      amount: z.number().nullable(),
      promise_date: z.string().nullable(),
    }),
  ),
});

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
  handover: handoverSchema.nullable(),
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

// ---- automated-decision rights (human review, explanations) ---------------------------------------------------

const reportedTs = () =>
  z
    .string()
    .refine(isIsoTimestamp, { message: 'expected an ISO 8601 timestamp with offset (2026-11-25T15:00:00Z)' })
    .describe(
      'When it happened, ISO 8601 with offset. Up to 5 minutes ahead of the server clock it is taken as now (the ledger keeps what you sent in `reported_ts`); further ahead, or before 2000-01-01, it is refused.',
    );

/** `POST /v1/accounts/:id/human-review`: the customer asked that a person, not automation, decide. */
export const humanReviewRequestSchema = z.strictObject({
  reported_ts: reportedTs(),
  channel: z.enum(REVIEW_CHANNELS).optional().describe('How the request reached you.'),
  case_ref: identifier()
    .optional()
    .describe(
      "Your case manager's reference for the request (an identifier: the customer's own words stay there, not in the ledger).",
    ),
});

/** `POST /v1/accounts/:id/human-review/resolve`: a person decided; every request standing at that time is closed. */
export const humanReviewResolveSchema = z.strictObject({
  reported_ts: reportedTs(),
  outcome: z
    .enum(REVIEW_OUTCOMES)
    .describe(
      '`upheld`: the person kept the automated suggestion; `changed`: they decided otherwise; `withdrawn`: the customer withdrew the request.',
    ),
  agent_id: identifier().optional().describe('Who decided.'),
  case_ref: identifier().optional().describe("Your case manager's reference."),
});

export const reviewEventSchema = z.strictObject({
  event_id: z.string(),
  account_id: z.string(),
  kind: z.enum(REVIEW_EVENT_KINDS),
  ts: z.string(),
  reported_ts: z
    .string()
    .nullable()
    .describe('The time you sent when it was ahead of the server clock and `ts` became now; else null.'),
  recorded_at: z.string(),
  channel: z.enum(REVIEW_CHANNELS).nullable(),
  case_ref: z.string().nullable(),
  agent_id: z.string().nullable(),
  outcome: z.enum(REVIEW_OUTCOMES).nullable(),
});

/** The answer to a request or a resolution: the event recorded and the account's state after it. */
export const humanReviewAnswerSchema = z.strictObject({
  account_id: z.string(),
  event_id: z.string(),
  kind: z.enum(REVIEW_EVENT_KINDS),
  ts: z.string(),
  open: z
    .boolean()
    .describe('True while a request stands: every score of the account answers `human_review`.'),
  open_since: z.string().nullable().describe('The earliest standing request, or null.'),
  closed: z
    .array(z.string())
    .describe('A resolution: the event ids of the requests it closed (empty for a request).'),
});

export const humanReviewStateSchema = z.strictObject({
  account_id: z.string(),
  open: z.boolean(),
  open_since: z.string().nullable(),
  open_requests: z.array(z.string()).describe('Event ids of the standing requests, oldest first.'),
  events: z.array(reviewEventSchema).describe('Every request and resolution of the account, oldest first.'),
});

const explainedRule = z.strictObject({
  guardrail: z.string(),
  text: z.string(),
  source: z.string().nullable().describe('The clause of the rule pack, when the pack cites one.'),
});

/** `GET /v1/decisions/:id/explanation`: see src/core/policy/explain.ts. */
export const explanationSchema = z.strictObject({
  decision_id: z.string(),
  account_id: z.string(),
  decided_at: z.string(),
  policy_version: z.string(),
  model_version: z.string(),
  decision: z.strictObject({ treatment: z.string(), summary: z.string(), automated: z.boolean() }),
  reasons: z.array(z.strictObject({ code: z.string(), text: z.string() })),
  drivers: z.array(
    z.strictObject({
      score: z.enum(['willingness', 'ability']),
      feature: z.string(),
      phrase: z.string(),
      effect: z.enum(['raised', 'lowered']),
      contribution: z.number(),
    }),
  ),
  rules: z.strictObject({
    applied: z.array(explainedRule),
    pack: z
      .strictObject({
        name: z.string(),
        version: z.string().nullable(),
        title: z.string().nullable(),
        current_version: z.string().nullable(),
        clauses: z.array(z.strictObject({ rule: z.string(), source: z.string() })),
      })
      .nullable(),
  }),
  rights: z.strictObject({ basis: z.string().nullable(), text: z.string() }),
  text: z.array(z.string()).describe('The explanation as paragraphs, to hand to the customer.'),
});

export type _ReviewEventDocumented = Assert<Same<z.output<typeof reviewEventSchema>, ReviewEventRecord>>;
export type _ExplanationDocumented = Assert<Same<z.output<typeof explanationSchema>, Explanation>>;
