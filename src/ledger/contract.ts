import type { PlanOffer } from '../core/policy/plan-offer.ts';
import type { ContactRow } from '../core/schema/tables.ts';

/**
 * The ledger (DESIGN §2, §7): every decision and every recorded contact, appended durably before the API answers.
 * Data minimisation: account ids, scores, decisions and contact metadata only — never names, phone numbers,
 * addresses or income. Two implementations share this contract and one contract test: a DuckDB file (default)
 * and PostgreSQL (when DATABASE_URL is set).
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
}

/** One contact attempt as recorded: a data-contract contact row plus the ledger's own fields. */
export interface ContactRecord extends ContactRow {
  contact_id: string;
  /** When the ledger received it, ISO 8601 UTC. */
  recorded_at: string;
  /** The decision the contact carried out, if the caller says so. */
  decision_id: string | null;
}

export interface Ledger {
  /** Which store this is ('duckdb' | 'postgres'), for /readyz and logs. */
  readonly kind: string;
  /** Appends decisions; resolves only once they are durable (committed). All or nothing. */
  appendDecisions(rows: readonly DecisionRecord[]): Promise<void>;
  /** Appends contacts; resolves only once they are durable (committed). All or nothing. */
  appendContacts(rows: readonly ContactRecord[]): Promise<void>;
  /** A decision by id, or null. */
  getDecision(id: string): Promise<DecisionRecord | null>;
  /** Recorded contacts of these accounts with `ts` at or after `sinceMs`, as data-contract rows, by account id. */
  contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>>;
  /** Human-call slots already taken since `sinceMs`: decisions with a `call_team`, counted per team. */
  callSlotsUsed(sinceMs: number): Promise<Map<string, number>>;
  /** Row counts, for health checks and tests. */
  counts(): Promise<{ decisions: number; contacts: number }>;
  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
  /** Waits for pending writes, then closes. */
  close(): Promise<void>;
}
