import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RepayriskError } from '../../errors.ts';
import { type FieldIssue, fieldIssues, issueText } from '../../schema/issues.ts';

/**
 * Rule packs (DESIGN §6): the legal floors of one jurisdiction as versioned data (`policies/packs/*.yaml`), each
 * rule citing the clause it comes from. A policy selects a pack per account (by `region`) and may tighten it,
 * never loosen it (packs/floors.ts). The rule kinds are a closed set: each maps to the guardrail that enforces it
 * (`RULE_GUARDRAIL`), so a pack cannot name a rule nothing enforces.
 */

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
const clock = z.string().regex(TIME_RE, { message: 'expected a local time HH:MM (24-hour clock)' });
/** Where a rule comes from: the clause, as docs/policy.md names it. */
const cited = { source: z.string().min(3), note: z.string().optional() };

const rulesSchema = z.strictObject({
  /** Local hours in which collection contact is allowed (the account's own time zone); `end` is not allowed. */
  contact_hours: z
    .strictObject({ start: clock, end: clock, ...cited })
    .refine((h) => !TIME_RE.test(h.start) || !TIME_RE.test(h.end) || h.start < h.end, {
      message: 'expected an end after the start',
      path: ['end'],
    })
    .optional(),
  /** At most `max` call attempts in any `days` days. */
  call_attempts: z
    .strictObject({ max: z.number().int().min(0), days: z.number().int().min(1).max(365), ...cited })
    .optional(),
  /** No call for `days` days after a conversation with the customer. */
  conversation_cooldown: z.strictObject({ days: z.number().int().min(1).max(365), ...cited }).optional(),
  /** At most `max` connected (right-party) calls in the customer's local day, by the lender and its agencies. */
  connected_calls_per_day: z.strictObject({ max: z.number().int().min(0), ...cited }).optional(),
  /** A contact with outcome `opt_out` forbids its channel from that instant. */
  electronic_opt_out: z.strictObject(cited).optional(),
  /** A contact with outcome `wrong_party` forbids using that number or address again (no third-party contact). */
  third_party_ban: z.strictObject(cited).optional(),
  /** A mental-capacity concern (`vulnerable_flag`) suspends all recovery. */
  capacity_hold: z.strictObject(cited).optional(),
  /** An open dispute (`dispute_open`) stops collection until it is answered. */
  dispute_hold: z.strictObject(cited).optional(),
  /** Never legal action for a customer in declared hardship (`hardship_flag`). */
  hardship_no_legal: z.strictObject(cited).optional(),
  /**
   * Plan offers carry forbearance (plan-offer.ts): where even the policy's most generous plan asks more than the
   * customer's capacity, a token or reduced payment with interest frozen for a period, then a review, instead of an
   * unaffordable plan; and every plan offer refers the customer to free debt advice. A policy cannot switch it off.
   */
  forbearance: z.strictObject(cited).optional(),
  /**
   * The customer may ask for a person, not automation, to decide (the service then answers `human_review`, never an
   * automated step) and for an explanation of any decision (`GET /v1/decisions/:id/explanation`).
   */
  automated_decision_rights: z.strictObject(cited).optional(),
  /** A plan offer never asks for the balance in fewer than `min_months` payments (no lump-sum demand). */
  no_lump_sum: z.strictObject({ min_months: z.number().int().min(2).max(12), ...cited }).optional(),
});

export const packSchema = z.strictObject({
  /** The pack's name, as a policy's `packs` section selects it (must match the file name). */
  pack: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'expected a lower-case name like us-reg-f' }),
  /** Version of the pack's text, recorded with the policy. */
  version: z.string().min(1).max(100),
  title: z.string().min(1),
  rules: rulesSchema,
  /** Clauses of the jurisdiction this pack does not enforce yet, each with why. */
  pending: z.array(
    z.strictObject({ source: z.string().min(3), requirement: z.string(), reason: z.string() }),
  ),
});

export type Pack = z.output<typeof packSchema>;
export type PackRules = Pack['rules'];
export type RuleKind = keyof PackRules;
export const RULE_KINDS = Object.keys(rulesSchema.shape) as RuleKind[];

/** The guardrail (guardrails.ts `GUARDRAILS`) that enforces each kind of pack rule. */
export const RULE_GUARDRAIL = {
  contact_hours: 'outside_contact_hours',
  call_attempts: 'cap_call',
  conversation_cooldown: 'conversation_cooldown',
  connected_calls_per_day: 'cap_connected_calls',
  electronic_opt_out: 'opt_out',
  third_party_ban: 'third_party',
  capacity_hold: 'capacity_hold',
  dispute_hold: 'dispute_open',
  hardship_no_legal: 'hardship_no_legal',
  forbearance: 'forbearance',
  no_lump_sum: 'no_lump_sum',
  automated_decision_rights: 'human_review',
} as const satisfies Record<RuleKind, string>;

/** A rule pack was refused; `issues` lists every problem, the message names the file. */
export class PackError extends RepayriskError {
  readonly source: string;
  readonly issues: readonly FieldIssue[];
  constructor(source: string, issues: readonly FieldIssue[]) {
    super(
      'invalid_data',
      `rule pack ${source} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${issueText(i)}`).join('\n'),
    );
    this.name = 'PackError';
    this.source = source;
    this.issues = issues;
  }
}

/**
 * Parses and validates the text of a rule pack file (YAML). Strict: an unknown field, a wrong type or a missing
 * `source` is an error naming the file, the field, what was expected and what came.
 * @param source the file's path, named in errors; its base name must be the pack's name.
 * @throws PackError listing every problem.
 */
export function parsePackText(text: string, source: string): Pack {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new PackError(source, [{ path: '(file)', message: `not valid YAML: ${(e as Error).message}` }]);
  }
  const parsed = packSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new PackError(source, fieldIssues(parsed.error));
  const base = source.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '');
  if (base !== parsed.data.pack)
    throw new PackError(source, [
      {
        path: 'pack',
        message: `expected the file's own name "${base}"`,
        got: JSON.stringify(parsed.data.pack),
      },
    ]);
  return parsed.data;
}
