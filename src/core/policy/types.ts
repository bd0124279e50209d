import type { DecisionTreatment, Treatment } from '../schema/enums.ts';
import type { ContactRow, PaymentRow } from '../schema/tables.ts';
import type { Handover } from './handover.ts';
import type { PlanOffer } from './plan-offer.ts';
import type { ReasonCode } from './reasons.ts';
import type { PolicyChannel, Segment } from './schema.ts';

/** The two model scores of an account, and what else the caller knows about them. */
export interface Scores {
  /** P(pays anything within 30 days), in [0, 1]. */
  willingness: number;
  /** P(payments within 30 days cover the overdue | pays), in [0, 1]. */
  ability: number;
  /** Features behind each score, strongest first (the model's reason codes), if the caller has them. */
  drivers?: { willingness?: readonly string[]; ability?: readonly string[] };
  /**
   * Treatment-conditional response estimates (P(pay | t), P(cover | pay, t)); where given they replace the
   * policy's lift tables in expected values.
   */
  byTreatment?: Partial<Record<Treatment, { pPay: number; pCover: number }>>;
  /**
   * Treatments whose fitted response lies outside the logged support for this account (core/uplift/overlap.ts):
   * their expected value comes from the lift tables, and an expected-value decision says so.
   */
  responseOutsideSupport?: readonly Treatment[];
}

/** What `decide` needs besides the account: the clock and the contact history. No I/O, no globals. */
export interface DecideContext {
  /** The decision instant, epoch milliseconds (UTC). */
  now: number;
  /** The account's contact history (any order; rows after `now` are ignored). */
  contacts: readonly ContactRow[];
  /**
   * The account's payments (any order; those dated on or after the local day of `now` are ignored). With them a
   * broken promise to pay is followed up (the policy's `promises` section); without them it cannot be known broken.
   */
  payments?: readonly PaymentRow[];
  /**
   * Set while the customer's request for a human decision stands (the ledger's review requests): the decision is
   * `human_review`, never an automated treatment. `requested_at` is ISO 8601.
   */
  humanReview?: { requested_at: string };
  /** Set when today's human-call slots are spent, so a call spills to the next-best treatment. */
  callCapacityExhausted?: boolean;
  /**
   * Attempts made that the contact history does not hold (a backtest's own earlier replayed decisions): they show
   * a stage of the staged flow was tried, and count for nothing else (no cap, no cooldown).
   */
  stageEvidence?: readonly Pick<ContactRow, 'ts' | 'channel'>[];
  /** Set when today's field-visit slots are spent (`visit_capacity`), so a visit spills likewise. */
  visitCapacityExhausted?: boolean;
}

/** Expected money of a treatment for this account (currency units). */
export interface Expected {
  /** Expected amount recovered of the overdue within 30 days. */
  recovery: number;
  /** Treatment handling cost plus the channel's cost per attempt. */
  cost: number;
  /** recovery − cost. */
  net: number;
}

/** What to do with one account today, and why. JSON-ready (snake_case, ISO times). */
export interface Decision {
  account_id: string;
  /** The decision instant, ISO 8601 UTC. */
  decided_at: string;
  /** The treatment, or `human_review` when the customer asked for a person to decide. */
  treatment: DecisionTreatment;
  /** Channel to use; null for hold. */
  channel: PolicyChannel | null;
  /** First instant the contact may happen, ISO 8601 with the customer's local offset; null for hold. */
  earliest_contact_at: string | null;
  segment: Segment;
  mode: 'matrix' | 'expected_value';
  /**
   * What the strategy chose before guardrails and capacity; differs from `treatment` after a fallback. Under
   * `human_review` it is the strategy's suggestion for the reviewer.
   */
  first_choice: Treatment;
  /** Plan terms when the treatment is plan_offer, else null. */
  offer: PlanOffer | null;
  /** Expected recovery, cost and net of the chosen treatment. */
  expected: Expected;
  /** Stable codes of why (docs/policy.md lists them), strategy first, then guardrails, channel and timing. */
  reason_codes: ReasonCode[];
  /** One sentence per reason code, same order. */
  reasons: string[];
  /** Names of the guardrails that fired (blocked something the strategy or channel choice tried). */
  guardrails: string[];
  policy_version: string;
  /** Team whose call slot a human call took when a batch allocated capacity (`decideBatch`); else null. */
  call_team: string | null;
  /** Arm of the policy's experiment; null when the policy has none. */
  experiment_arm: 'champion' | 'challenger' | null;
  /** The record handed to the agency when the treatment is agency_placement (what it needs to go on lawfully); else null. */
  handover: Handover | null;
}
