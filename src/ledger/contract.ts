import type { CallSlots } from '../core/policy/capacity.ts';
import type { ReviewChannel, ReviewEventKind, ReviewOutcome } from '../core/policy/human-review.ts';
import type { PlanOffer } from '../core/policy/plan-offer.ts';
import type { ContactRow } from '../core/schema/tables.ts';

/**
 * The ledger (DESIGN §2, §7): every decision and every recorded contact, appended durably before the API answers.
 * Data minimisation: account ids, scores, decisions and contact metadata only — never names, phone numbers,
 * addresses or income. The implementations share this contract and one contract test: a DuckDB file (default),
 * PostgreSQL (when DATABASE_URL is set), and a write-ahead log in front of either (src/ledger/wal/, docs/ledger.md).
 */

/** One decision as recorded: enough for an auditor to replay it (inputs' scores, versions, reasons, guardrails). */
export interface DecisionRecord {
  decision_id: string;
  /** Decision instant, ISO 8601 UTC. */
  decided_at: string;
  account_id: string;
  /** Snapshot date the scores were computed as of. */
  as_of_date: string;
  model_version: string;
  policy_version: string;
  experiment_arm: 'champion' | 'challenger' | null;
  willingness: number;
  ability: number;
  /** Expected recovery of the chosen treatment (currency). */
  expected_recovery: number;
  segment: string;
  treatment: string;
  channel: string | null;
  earliest_contact_at: string | null;
  call_team: string | null;
  offer: PlanOffer | null;
  reason_codes: string[];
  reasons: string[];
  guardrails: string[];
  /** Scores of the challenger model when one is loaded (shadow scoring; it never decides). */
  shadow: { model_version: string; willingness: number; ability: number } | null;
  /** Id of the HTTP request (or batch run) that produced it. */
  request_id: string | null;
  /**
   * The models' strongest drivers of each score, largest contribution first, as the scorer writes them
   * ("days_past_due (-0.84)": feature and signed contribution to the log-odds); null when not recorded (decisions
   * recorded before layout version 3, or a caller that had none).
   */
  drivers: { willingness: string[]; ability: string[] } | null;
  /** The rule pack (jurisdiction) whose floors applied, e.g. `cn-2025`; null when not recorded (before version 3). */
  rule_pack: string | null;
  /** That pack's version, as its file states it; null with `rule_pack`. */
  rule_pack_version: string | null;
}

/**
 * One event of an account's automated-decision rights (China PIPL art. 24, GDPR / UK GDPR art. 22): a customer's
 * request that a person, not automation, decide (`requested`), or a person's closing of the requests standing at
 * its time (`resolved`). An account's review is open at an instant when a request at or before it has no
 * resolution at or after the request's time up to that instant (`reviewStateAt`, src/core/policy/human-review.ts).
 * Data minimisation as for contacts: ids and enums only; the customer's own words stay in the case manager,
 * which `case_ref` points to.
 */
export interface ReviewEventRecord {
  event_id: string;
  account_id: string;
  kind: ReviewEventKind;
  /** When it happened, ISO 8601 UTC: the caller's time, or the server's now when that was ahead within tolerance. */
  ts: string;
  /** The caller's time when it was ahead of the server clock (within the tolerance); null when `ts` is as reported. */
  reported_ts: string | null;
  /** When the ledger received it, ISO 8601 UTC. */
  recorded_at: string;
  /** The channel the request came through; null when not said. */
  channel: ReviewChannel | null;
  /** The case manager's reference for the request (an identifier), or null. */
  case_ref: string | null;
  /** The agent who resolved it (a resolution's), or null. */
  agent_id: string | null;
  /** A resolution's outcome; null for a request. */
  outcome: ReviewOutcome | null;
}

/** One contact attempt as recorded: a data-contract contact row plus the ledger's own fields. */
export interface ContactRecord extends ContactRow {
  contact_id: string;
  /** When the ledger received it, ISO 8601 UTC. */
  recorded_at: string;
  /** The decision the contact carried out, if the caller says so. */
  decision_id: string | null;
  /**
   * The time the caller reported when it was ahead of the server clock (within the tolerance) and `ts` became the
   * server's now; null when `ts` is what the caller reported.
   */
  reported_ts: string | null;
}

/**
 * The answer to a request that carried an `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header),
 * stored in the same transaction as the rows it answers, so a retry gets it back instead of recording them again.
 * `(scope, key)` is unique. `body` is the answer as the HTTP layer sent it: ledger-derived fields only (ids,
 * decisions as recorded); the HTTP layer leaves request values out of it (data minimisation).
 */
export interface StoredAnswer {
  /** Who asked where, e.g. `dialer POST /v1/contacts` (API key id, method, route): keys are per caller and route. */
  scope: string;
  /** The client's `Idempotency-Key`: 1..255 printable ASCII characters. */
  key: string;
  /** SHA-256 of the request body, 64 lowercase hex digits: a retry with another body is not a retry. */
  fingerprint: string;
  /** Id of the request that was answered. */
  request_id: string;
  /** When the answer was stored, ISO 8601 UTC as `Date.prototype.toISOString()` writes it. */
  created_at: string;
  /** HTTP status of the answer (an integer 100..599). */
  status: number;
  /** The answer's body, JSON text. */
  body: string;
}

/**
 * One page of an account's audit trail, newest first: records with time in `[sinceMs, untilMs)` (a bound left
 * null is open) that come after `before` in the order (time descending, then id descending), at most `limit`.
 * Time is a contact's `ts` or a decision's `decided_at`, compared at millisecond precision.
 */
export interface AuditQuery {
  accountId: string;
  sinceMs: number | null;
  untilMs: number | null;
  /** At most this many records (a positive integer). */
  limit: number;
  /** The last record of the previous page (its time in epoch ms and its id), or null for the first page. */
  before: { ms: number; id: string } | null;
}

/**
 * The day's capacity an append of decisions must fit in (`Ledger.appendDecisions`): the human-call slots the rows
 * take (decisions with a `call_team`) plus those already taken since `sinceMs` (as `callSlotsUsed` counts them),
 * per team or all teams together against one pool; and the field-visit slots they take (decisions whose treatment
 * is `field_visit`) plus those taken since `sinceMs` (as `visitsUsed` counts them).
 */
export interface CallSlotLimit {
  /** Start of the day the slots are counted over, epoch ms (the score route takes the UTC day). */
  sinceMs: number;
  /**
   * The day's whole call capacity (not what is left of it): one pool, or per team (a team not named has none);
   * absent = calls are not limited.
   */
  slots?: CallSlots;
  /** The day's whole field-visit capacity (slots, not what is left of them); absent = visits are not limited. */
  visits?: number;
}

export interface Ledger {
  /** Which store this is ('duckdb' | 'postgres'), for /readyz and logs. */
  readonly kind: string;
  /**
   * Appends decisions, and `answer` when given, in one transaction; resolves only once they are durable
   * (committed). All or nothing: an answer whose `(scope, key)` is taken fails the append with code
   * `idempotency_key_taken` and nothing is written. With no rows, only the answer is written.
   *
   * With `limit`, the check that the rows' call and visit slots fit the day's capacity and the append are one
   * atomic step among limited appends: when they do not fit (another request — in PostgreSQL possibly another
   * process — took the slots since they were read), nothing is written and the append fails with code
   * `call_slots_taken` (for visits too).
   * PostgreSQL holds this across every process sharing the database (a transaction-scoped advisory lock around
   * the count and the insert); the single-process stores (DuckDB, the write-ahead log) hold it in their process.
   */
  appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void>;
  /** Appends contacts, and `answer` when given, in one transaction: as `appendDecisions`. */
  appendContacts(rows: readonly ContactRecord[], answer?: StoredAnswer): Promise<void>;
  /** Appends review events (requests and resolutions), and `answer` when given, in one transaction: as `appendDecisions`. */
  appendReviewEvents(rows: readonly ReviewEventRecord[], answer?: StoredAnswer): Promise<void>;
  /**
   * Every review event of these accounts, oldest first (`ts`, then `event_id` in byte order), by account id;
   * accounts without events are left out. Read on every score request: review events are few per account.
   */
  reviewEvents(accountIds: readonly string[]): Promise<Map<string, ReviewEventRecord[]>>;
  /** A decision by id, or null. */
  getDecision(id: string): Promise<DecisionRecord | null>;
  /** The stored answer for this scope and key, or null. */
  getAnswer(scope: string, key: string): Promise<StoredAnswer | null>;
  /** Deletes the answers stored before `beforeMs` (their rows stay); resolves to how many it deleted. */
  pruneAnswers(beforeMs: number): Promise<number>;
  /** An account's contacts as recorded (ledger fields included), newest `ts` first: one page (see AuditQuery). */
  contactHistory(q: AuditQuery): Promise<ContactRecord[]>;
  /** An account's decisions, newest `decided_at` first: one page (see AuditQuery). */
  decisionHistory(q: AuditQuery): Promise<DecisionRecord[]>;
  /** Recorded contacts of these accounts with `ts` at or after `sinceMs`, as data-contract rows, by account id. */
  contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>>;
  /** Human-call slots already taken since `sinceMs`: decisions with a `call_team`, counted per team. */
  callSlotsUsed(sinceMs: number): Promise<Map<string, number>>;
  /** Field-visit slots already taken since `sinceMs`: decisions whose treatment is `field_visit`. */
  visitsUsed(sinceMs: number): Promise<number>;
  /** Row counts, for health checks and tests (stored answers and review events are not counted). */
  counts(): Promise<{ decisions: number; contacts: number }>;
  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
  /** Waits for pending writes, then closes. */
  close(): Promise<void>;
}
