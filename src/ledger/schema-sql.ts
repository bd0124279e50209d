import {
  REVIEW_CHANNELS,
  REVIEW_EVENT_KINDS,
  REVIEW_OUTCOMES,
  reviewOrder,
} from '../core/policy/human-review.ts';
import { isIsoDate, isIsoTimestamp } from '../core/schema/columns.ts';
import { type ContactRow, contacts as contactsTable } from '../core/schema/tables.ts';
import type {
  AuditQuery,
  ContactRecord,
  DecisionRecord,
  ReviewEventRecord,
  StoredAnswer,
} from './contract.ts';

/**
 * What both ledger stores share: the tables (one column per record field and nothing else — no free-form payload
 * column that could carry personal data), the DDL in each dialect, the mapping between records and rows, the
 * checks run before a write and the errors a ledger throws.
 */

/**
 * Version of the table layout below; `schema_version` records it so a later migration can tell layouts apart.
 * 2: the `idempotency_keys` table (stored answers) and `contacts.reported_ts`. A version-1 ledger is brought to 2
 * on open (the DDL only adds). 3: the `review_events` table (automated-decision rights) and the decisions'
 * `drivers`, `rule_pack` and `rule_pack_version` (what an explanation needs); older rows read them as null.
 */
export const LEDGER_SCHEMA_VERSION = 3;

/** Why a ledger call failed; the HTTP layer maps codes to statuses. */
export type LedgerErrorCode =
  | 'duplicate_id'
  | 'idempotency_key_taken'
  | 'call_slots_taken'
  | 'invalid_record'
  | 'closed'
  | 'unavailable'
  | 'schema_version';

/** A ledger failure with a code and a message that names the record, field or store concerned. */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * How a field is stored. `instant`: a timestamp with time zone, read back as `Date.prototype.toISOString()`
 * (UTC, milliseconds). `date`: a calendar date read back as YYYY-MM-DD. `json`: a list or object as JSON (text in
 * DuckDB, jsonb in PostgreSQL). `text_instant`: an ISO instant kept verbatim as text because its offset carries
 * meaning (the customer's local time of `earliest_contact_at`).
 */
type ColumnType = 'text' | 'double' | 'instant' | 'date' | 'json' | 'text_instant';

/** One ledger column: its name, how it is stored, and whether it may be null. */
export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
}

const col = (name: string, type: ColumnType, nullable = false): Column => ({ name, type, nullable });

/** The decisions table, in `DecisionRecord` field order. Primary key: `decision_id`. */
export const DECISION_COLUMNS: readonly Column[] = [
  col('decision_id', 'text'),
  col('decided_at', 'instant'),
  col('account_id', 'text'),
  col('as_of_date', 'date'),
  col('model_version', 'text'),
  col('policy_version', 'text'),
  col('experiment_arm', 'text', true),
  col('willingness', 'double'),
  col('ability', 'double'),
  col('expected_recovery', 'double'),
  col('segment', 'text'),
  col('treatment', 'text'),
  col('channel', 'text', true),
  col('earliest_contact_at', 'text_instant', true),
  col('call_team', 'text', true),
  col('offer', 'json', true),
  col('reason_codes', 'json'),
  col('reasons', 'json'),
  col('guardrails', 'json'),
  col('shadow', 'json', true),
  col('request_id', 'text', true),
  col('drivers', 'json', true),
  col('rule_pack', 'text', true),
  col('rule_pack_version', 'text', true),
];

/** Decision columns added after version 1's table, each brought in by `ALTER TABLE ... ADD COLUMN IF NOT EXISTS`. */
const ADDED_DECISION_COLUMNS = ['drivers', 'rule_pack', 'rule_pack_version'];

/** The review_events table, in `ReviewEventRecord` field order. Primary key: `event_id`. */
export const REVIEW_COLUMNS: readonly Column[] = [
  col('event_id', 'text'),
  col('account_id', 'text'),
  col('kind', 'text'),
  col('ts', 'instant'),
  col('reported_ts', 'text_instant', true),
  col('recorded_at', 'instant'),
  col('channel', 'text', true),
  col('case_ref', 'text', true),
  col('agent_id', 'text', true),
  col('outcome', 'text', true),
];

/** The contacts table, in `ContactRecord` field order. Primary key: `contact_id`. */
export const CONTACT_COLUMNS: readonly Column[] = [
  col('contact_id', 'text'),
  col('account_id', 'text'),
  col('ts', 'instant'),
  col('channel', 'text'),
  col('outcome', 'text'),
  col('promise_amount', 'double', true),
  col('promise_date', 'date', true),
  col('agent_id', 'text', true),
  col('recorded_at', 'instant'),
  col('decision_id', 'text', true),
  col('reported_ts', 'text_instant', true),
];

/**
 * The `idempotency_keys` table: one stored answer per `(scope, idem_key)`, keyed by `answer_id` = scope, a line
 * feed, key (neither may hold one): DuckDB looks a single-column key up through its index but scans for a
 * two-column one (9 ms per lookup at 300,000 answers, a day of 3.5 keyed requests a second). `body` is text, not
 * jsonb, so an answer comes back byte for byte as it was sent.
 */
export const ANSWER_COLUMNS: readonly Column[] = [
  col('answer_id', 'text'),
  col('scope', 'text'),
  col('idem_key', 'text'),
  col('fingerprint', 'text'),
  col('request_id', 'text'),
  col('created_at', 'instant'),
  col('status', 'double'),
  col('body', 'text'),
];

/** The data-contract fields of a contact, the ones `contactsFor` returns. */
export const CONTACT_ROW_FIELDS = [
  'account_id',
  'ts',
  'channel',
  'outcome',
  'promise_amount',
  'promise_date',
  'agent_id',
] as const;

export type Dialect = 'duckdb' | 'postgres';

const SQL_TYPES: Record<Dialect, Record<ColumnType, string>> = {
  duckdb: {
    text: 'VARCHAR',
    double: 'DOUBLE',
    instant: 'TIMESTAMPTZ',
    date: 'DATE',
    json: 'VARCHAR',
    text_instant: 'VARCHAR',
  },
  postgres: {
    text: 'text',
    double: 'double precision',
    instant: 'timestamptz',
    date: 'date',
    json: 'jsonb',
    text_instant: 'text',
  },
};

/** The SQL type a column is stored as in a dialect. */
export function sqlType(dialect: Dialect, c: Column): string {
  return SQL_TYPES[dialect][c.type];
}

function createTable(dialect: Dialect, table: string, cols: readonly Column[]): string {
  const defs = cols.map((c) => `${c.name} ${sqlType(dialect, c)}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(', ')}, PRIMARY KEY (${cols[0]!.name}))`;
}

/** Creates the `schema_version` table when absent; run first, so the version is checked before anything else. */
export function schemaVersionDdl(dialect: Dialect): string {
  const ts = dialect === 'duckdb' ? 'TIMESTAMPTZ' : 'timestamptz';
  return `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at ${ts} NOT NULL DEFAULT current_timestamp)`;
}

/** Reads the newest layout version recorded, NULL on a new ledger. */
export const SCHEMA_VERSION_SQL = 'SELECT max(version) AS v FROM schema_version';

/**
 * Statements that create the ledger's tables when absent and record the layout version, in order (after
 * `schemaVersionDdl` and `checkSchemaVersion`). PostgreSQL also gets the indexes the reads use: contacts by
 * (account_id, ts), and call slots by decided_at over decisions that have a call team. DuckDB gets none beyond the
 * primary keys: its ART indexes slow appends, and its scans prune by min/max zone maps instead. PostgreSQL also
 * gets decisions by (account_id, decided_at) for audit reads, and stored answers by created_at for pruning.
 */
export function ledgerDdl(dialect: Dialect): string[] {
  const stmts = [
    createTable(dialect, 'decisions', DECISION_COLUMNS),
    createTable(dialect, 'contacts', CONTACT_COLUMNS),
    createTable(dialect, 'idempotency_keys', ANSWER_COLUMNS),
    createTable(dialect, 'review_events', REVIEW_COLUMNS),
    // Added in version 2: a version-1 table gets the column (NULL in its rows: their ts is as reported).
    `ALTER TABLE contacts ADD COLUMN IF NOT EXISTS reported_ts ${sqlType(dialect, CONTACT_COLUMNS.find((c) => c.name === 'reported_ts')!)}`,
    // Added in version 3: NULL in older rows (not recorded then).
    ...ADDED_DECISION_COLUMNS.map(
      (name) =>
        `ALTER TABLE decisions ADD COLUMN IF NOT EXISTS ${name} ${sqlType(dialect, DECISION_COLUMNS.find((c) => c.name === name)!)}`,
    ),
  ];
  if (dialect === 'postgres') {
    stmts.push(
      'CREATE INDEX IF NOT EXISTS contacts_account_ts ON contacts (account_id, ts)',
      'CREATE INDEX IF NOT EXISTS decisions_call_slots ON decisions (decided_at) INCLUDE (call_team) WHERE call_team IS NOT NULL',
      "CREATE INDEX IF NOT EXISTS decisions_visits ON decisions (decided_at) WHERE treatment = 'field_visit'",
      'CREATE INDEX IF NOT EXISTS decisions_account_time ON decisions (account_id, decided_at)',
      'CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at)',
      'CREATE INDEX IF NOT EXISTS review_events_account ON review_events (account_id, ts)',
    );
  }
  stmts.push(`INSERT INTO schema_version (version) VALUES (${LEDGER_SCHEMA_VERSION}) ON CONFLICT DO NOTHING`);
  return stmts;
}

/** Refuses a ledger whose tables a newer build laid out. */
export function checkSchemaVersion(found: number | null, where: string): void {
  if (found !== null && found > LEDGER_SCHEMA_VERSION)
    throw new LedgerError(
      'schema_version',
      `the ledger at ${where} has schema version ${found}; this build reads version ${LEDGER_SCHEMA_VERSION} and will not write to it`,
    );
}

/**
 * A SELECT list that reads a table back in a form `rowToDecision` / `rowToContactRow` map exactly: instants as epoch
 * milliseconds (DuckDB) or a UTC ISO string (PostgreSQL, independent of the session's DateStyle and TimeZone),
 * dates as YYYY-MM-DD text, JSON as text.
 */
export function selectList(dialect: Dialect, cols: readonly Column[]): string {
  return cols.map((c) => `${readExpr(dialect, c)} AS ${c.name}`).join(', ');
}

function readExpr(dialect: Dialect, c: Column): string {
  switch (c.type) {
    case 'instant':
      return dialect === 'duckdb'
        ? `epoch_ms(${c.name})`
        : `to_char(${c.name} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    case 'date':
      return dialect === 'duckdb' ? `CAST(${c.name} AS VARCHAR)` : `to_char(${c.name}, 'YYYY-MM-DD')`;
    case 'json':
      return dialect === 'duckdb' ? c.name : `${c.name}::text`;
    default:
      return c.name;
  }
}

/** A value as bound to a statement: text (instants and dates as ISO text, JSON as text), a double, or null. */
export type BoundValue = string | number | null;

/** The bound value of each column of `cols` for one record, in column order. */
export function rowValues(cols: readonly Column[], record: object): BoundValue[] {
  const r = record as Record<string, unknown>;
  return cols.map((c) => {
    const v = r[c.name];
    if (v === null || v === undefined) return null;
    if (c.type === 'json') return JSON.stringify(v);
    return v as string | number;
  });
}

/** The contacts of these accounts grouped by account id, rows assumed ordered by account and time. */
export function groupContacts(rows: readonly Record<string, unknown>[]): Map<string, ContactRow[]> {
  const out = new Map<string, ContactRow[]>();
  for (const row of rows) {
    const c = rowToContactRow(row);
    const list = out.get(c.account_id);
    if (list) list.push(c);
    else out.set(c.account_id, [c]);
  }
  return out;
}

function instant(v: unknown): string {
  return typeof v === 'string' ? v : new Date(Number(v)).toISOString();
}

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const num = (v: unknown): number => v as number;
const json = <T>(v: unknown): T => JSON.parse(v as string) as T;
const jsonOrNull = <T>(v: unknown): T | null => (v === null || v === undefined ? null : json<T>(v));

/** A contact row as the data contract has it, from a row read with `selectList`. */
export function rowToContactRow(row: Record<string, unknown>): ContactRow {
  return {
    account_id: str(row.account_id),
    ts: instant(row.ts),
    channel: str(row.channel) as ContactRow['channel'],
    outcome: str(row.outcome) as ContactRow['outcome'],
    promise_amount: row.promise_amount === null ? null : num(row.promise_amount),
    promise_date: strOrNull(row.promise_date),
    agent_id: strOrNull(row.agent_id),
  };
}

/** A contact as it was appended (ledger fields included), from a row read with `selectList` over `CONTACT_COLUMNS`. */
export function rowToContactRecord(row: Record<string, unknown>): ContactRecord {
  return {
    ...rowToContactRow(row),
    contact_id: str(row.contact_id),
    recorded_at: instant(row.recorded_at),
    decision_id: strOrNull(row.decision_id),
    reported_ts: strOrNull(row.reported_ts),
  };
}

/** A stored answer as the ledger holds it, as a row for `rowValues` over `ANSWER_COLUMNS`. */
export function answerRow(a: StoredAnswer): Record<string, unknown> {
  return { ...a, answer_id: answerId(a.scope, a.key), idem_key: a.key };
}

/** The primary key of a stored answer: its scope and key joined by a line feed (which neither may hold). */
export function answerId(scope: string, key: string): string {
  return `${scope}\n${key}`;
}

/** A stored answer, from a row read with `selectList` over `ANSWER_COLUMNS`. */
export function rowToAnswer(row: Record<string, unknown>): StoredAnswer {
  return {
    scope: str(row.scope),
    key: str(row.idem_key),
    fingerprint: str(row.fingerprint),
    request_id: str(row.request_id),
    created_at: instant(row.created_at),
    status: Number(row.status),
    body: str(row.body),
  };
}

/** A decision as it was appended, from a row read with `selectList` over `DECISION_COLUMNS`. */
export function rowToDecision(row: Record<string, unknown>): DecisionRecord {
  return {
    decision_id: str(row.decision_id),
    decided_at: instant(row.decided_at),
    account_id: str(row.account_id),
    as_of_date: str(row.as_of_date),
    model_version: str(row.model_version),
    policy_version: str(row.policy_version),
    experiment_arm: strOrNull(row.experiment_arm) as DecisionRecord['experiment_arm'],
    willingness: num(row.willingness),
    ability: num(row.ability),
    expected_recovery: num(row.expected_recovery),
    segment: str(row.segment),
    treatment: str(row.treatment),
    channel: strOrNull(row.channel),
    earliest_contact_at: strOrNull(row.earliest_contact_at),
    call_team: strOrNull(row.call_team),
    offer: jsonOrNull<DecisionRecord['offer']>(row.offer),
    reason_codes: json<string[]>(row.reason_codes),
    reasons: json<string[]>(row.reasons),
    guardrails: json<string[]>(row.guardrails),
    shadow: jsonOrNull<DecisionRecord['shadow']>(row.shadow),
    request_id: strOrNull(row.request_id),
    drivers: jsonOrNull<DecisionRecord['drivers']>(row.drivers),
    rule_pack: strOrNull(row.rule_pack),
    rule_pack_version: strOrNull(row.rule_pack_version),
  };
}

/** A review event as it was appended, from a row read with `selectList` over `REVIEW_COLUMNS`. */
export function rowToReviewEvent(row: Record<string, unknown>): ReviewEventRecord {
  return {
    event_id: str(row.event_id),
    account_id: str(row.account_id),
    kind: str(row.kind) as ReviewEventRecord['kind'],
    ts: instant(row.ts),
    reported_ts: strOrNull(row.reported_ts),
    recorded_at: instant(row.recorded_at),
    channel: strOrNull(row.channel) as ReviewEventRecord['channel'],
    case_ref: strOrNull(row.case_ref),
    agent_id: strOrNull(row.agent_id),
    outcome: strOrNull(row.outcome) as ReviewEventRecord['outcome'],
  };
}

/** Review event rows (ordered by account) grouped by account id, each list oldest first. */
export function groupReviewEvents(
  rows: readonly Record<string, unknown>[],
): Map<string, ReviewEventRecord[]> {
  const out = new Map<string, ReviewEventRecord[]>();
  for (const row of rows) {
    const e = rowToReviewEvent(row);
    const list = out.get(e.account_id);
    if (list) list.push(e);
    else out.set(e.account_id, [e]);
  }
  for (const list of out.values()) list.sort(reviewOrder);
  return out;
}

/** True when `s` is exactly what `Date.prototype.toISOString()` writes for some instant. */
function isCanonicalInstant(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s;
}

function invalid(kind: string, id: unknown, field: string, expected: string, got: unknown): LedgerError {
  return new LedgerError(
    'invalid_record',
    `${kind} ${JSON.stringify(id)}: ${field} must be ${expected}; got ${JSON.stringify(got)}. Nothing was written`,
  );
}

/**
 * Checks a batch of decisions before it is written, so what comes back is exactly what went in: `decided_at` in
 * the form `Date.prototype.toISOString()` writes (it is stored as a timestamp, and read back in that form),
 * `as_of_date` a real YYYY-MM-DD date, `earliest_contact_at` an ISO timestamp with offset (kept verbatim), the
 * scores finite, and no `decision_id` twice in the batch.
 * @throws {LedgerError} `invalid_record` naming the decision and field, or `duplicate_id`.
 */
export function checkDecisions(rows: readonly DecisionRecord[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const id = r.decision_id;
    if (typeof id !== 'string' || id === '')
      throw invalid('decision', id, 'decision_id', 'a non-empty string', id);
    if (seen.has(id)) throw duplicateInBatch('decision_id', id, rows.length, 'decisions');
    seen.add(id);
    if (!isCanonicalInstant(r.decided_at))
      throw invalid(
        'decision',
        id,
        'decided_at',
        'an ISO 8601 UTC instant as Date.toISOString() writes it (e.g. 2026-11-20T15:00:00.000Z)',
        r.decided_at,
      );
    if (typeof r.as_of_date !== 'string' || !isIsoDate(r.as_of_date))
      throw invalid('decision', id, 'as_of_date', 'a date YYYY-MM-DD', r.as_of_date);
    if (
      r.earliest_contact_at !== null &&
      (typeof r.earliest_contact_at !== 'string' || !isIsoTimestamp(r.earliest_contact_at))
    )
      throw invalid(
        'decision',
        id,
        'earliest_contact_at',
        'null or an ISO 8601 timestamp with offset',
        r.earliest_contact_at,
      );
    for (const f of ['willingness', 'ability', 'expected_recovery'] as const)
      if (typeof r[f] !== 'number' || !Number.isFinite(r[f]))
        throw invalid('decision', id, f, 'a finite number', r[f]);
    const dr = r.drivers as unknown;
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (
      dr !== null &&
      !(
        typeof dr === 'object' &&
        strings((dr as Record<string, unknown>).willingness) &&
        strings((dr as Record<string, unknown>).ability)
      )
    )
      throw invalid('decision', id, 'drivers', 'null or { willingness: string[], ability: string[] }', dr);
    if ((r.rule_pack === null) !== (r.rule_pack_version === null))
      throw invalid(
        'decision',
        id,
        'rule_pack_version',
        'given exactly when rule_pack is',
        r.rule_pack_version,
      );
  }
}

/**
 * Checks a batch of contacts before it is written: the data-contract fields against the contract's own schema,
 * `recorded_at` an ISO timestamp with offset, `reported_ts` null or one, and no `contact_id` twice in the batch.
 * @throws {LedgerError} `invalid_record` naming the contact and field, or `duplicate_id`.
 */
export function checkContacts(rows: readonly ContactRecord[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const id = r.contact_id;
    if (typeof id !== 'string' || id === '')
      throw invalid('contact', id, 'contact_id', 'a non-empty string', id);
    if (seen.has(id)) throw duplicateInBatch('contact_id', id, rows.length, 'contacts');
    seen.add(id);
    const parsed = contactsTable.schema.safeParse(r);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new LedgerError(
        'invalid_record',
        `contact ${JSON.stringify(id)}: ${issues}. Nothing was written`,
      );
    }
    if (typeof r.recorded_at !== 'string' || !isIsoTimestamp(r.recorded_at))
      throw invalid('contact', id, 'recorded_at', 'an ISO 8601 timestamp with offset', r.recorded_at);
    if (r.reported_ts !== null && (typeof r.reported_ts !== 'string' || !isIsoTimestamp(r.reported_ts)))
      throw invalid('contact', id, 'reported_ts', 'null or an ISO 8601 timestamp with offset', r.reported_ts);
  }
}

const oneOf = (allowed: readonly string[]) => `one of ${allowed.join(', ')}`;

/**
 * Checks a batch of review events before it is written: ids and the account non-empty, `kind`, `channel` and
 * `outcome` from their sets (an outcome on a resolution only, and every resolution has one), `ts` and
 * `recorded_at` as `Date.prototype.toISOString()` writes them, `reported_ts` null or an ISO timestamp with offset,
 * and no `event_id` twice in the batch.
 * @throws {LedgerError} `invalid_record` naming the event and field, or `duplicate_id`.
 */
export function checkReviewEvents(rows: readonly ReviewEventRecord[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const id = r.event_id;
    if (typeof id !== 'string' || id === '')
      throw invalid('review event', id, 'event_id', 'a non-empty string', id);
    if (seen.has(id)) throw duplicateInBatch('event_id', id, rows.length, 'review events');
    seen.add(id);
    if (typeof r.account_id !== 'string' || r.account_id === '')
      throw invalid('review event', id, 'account_id', 'a non-empty string', r.account_id);
    if (!(REVIEW_EVENT_KINDS as readonly unknown[]).includes(r.kind))
      throw invalid('review event', id, 'kind', oneOf(REVIEW_EVENT_KINDS), r.kind);
    for (const f of ['ts', 'recorded_at'] as const)
      if (!isCanonicalInstant(r[f]))
        throw invalid('review event', id, f, 'an ISO 8601 UTC instant as Date.toISOString() writes it', r[f]);
    if (r.reported_ts !== null && (typeof r.reported_ts !== 'string' || !isIsoTimestamp(r.reported_ts)))
      throw invalid(
        'review event',
        id,
        'reported_ts',
        'null or an ISO 8601 timestamp with offset',
        r.reported_ts,
      );
    if (r.channel !== null && !(REVIEW_CHANNELS as readonly unknown[]).includes(r.channel))
      throw invalid('review event', id, 'channel', `null or ${oneOf(REVIEW_CHANNELS)}`, r.channel);
    for (const f of ['case_ref', 'agent_id'] as const)
      if (r[f] !== null && (typeof r[f] !== 'string' || r[f] === ''))
        throw invalid('review event', id, f, 'null or a non-empty string', r[f]);
    const wantsOutcome = r.kind === 'resolved';
    if (wantsOutcome ? !(REVIEW_OUTCOMES as readonly unknown[]).includes(r.outcome) : r.outcome !== null)
      throw invalid(
        'review event',
        id,
        'outcome',
        wantsOutcome ? `${oneOf(REVIEW_OUTCOMES)} on a resolution` : 'null on a request',
        r.outcome,
      );
  }
}

const IDEMPOTENCY_KEY_RE = /^[\x20-\x7e]{1,255}$/;

/**
 * Checks a stored answer before it is written: a scope, a key of 1..255 printable ASCII characters, a SHA-256
 * fingerprint (64 lowercase hex), `created_at` as `Date.prototype.toISOString()` writes it, an integer status
 * 100..599 and a body that is JSON text.
 * @throws {LedgerError} `invalid_record` naming the field.
 */
export function checkAnswer(a: StoredAnswer): void {
  const id = `${a.scope} ${a.key}`;
  if (typeof a.scope !== 'string' || a.scope === '' || a.scope.includes('\n'))
    throw invalid('answer', id, 'scope', 'a non-empty string without a line feed', a.scope);
  if (typeof a.key !== 'string' || !IDEMPOTENCY_KEY_RE.test(a.key))
    throw invalid('answer', id, 'key', '1..255 printable ASCII characters', a.key);
  if (typeof a.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(a.fingerprint))
    throw invalid('answer', id, 'fingerprint', 'a SHA-256 as 64 lowercase hex digits', a.fingerprint);
  if (typeof a.request_id !== 'string' || a.request_id === '')
    throw invalid('answer', id, 'request_id', 'a non-empty string', a.request_id);
  if (!isCanonicalInstant(a.created_at))
    throw invalid(
      'answer',
      id,
      'created_at',
      'an ISO 8601 UTC instant as Date.toISOString() writes it',
      a.created_at,
    );
  if (!Number.isInteger(a.status) || a.status < 100 || a.status > 599)
    throw invalid('answer', id, 'status', 'an integer HTTP status 100..599', a.status);
  let json = typeof a.body === 'string';
  if (json)
    try {
      JSON.parse(a.body);
    } catch {
      json = false;
    }
  if (!json)
    throw invalid(
      'answer',
      id,
      'body',
      'JSON text',
      typeof a.body === 'string' ? a.body.slice(0, 40) : a.body,
    );
}

/** The error for an answer whose `(scope, key)` a store already holds: the whole append was refused. */
export function answerTaken(a: StoredAnswer, n: number, what: string, cause: unknown): LedgerError {
  return new LedgerError(
    'idempotency_key_taken',
    `an answer for idempotency key ${JSON.stringify(a.key)} (${a.scope}) is already in the ledger: the batch of ${n} ${what} was not written`,
    { cause },
  );
}

/**
 * One page of an account's audit trail (see `AuditQuery`) as SQL for a dialect: the statement, with `?`
 * (DuckDB) or `$n` (PostgreSQL) placeholders, and its values in order. Time and ids compare at millisecond
 * precision and byte order (PostgreSQL's `COLLATE "C"`), so both stores page identically, and a page boundary
 * between two records of one millisecond loses neither.
 */
export function auditPageSql(
  dialect: Dialect,
  table: 'contacts' | 'decisions',
  q: AuditQuery,
): { sql: string; values: (string | number)[] } {
  if (!Number.isInteger(q.limit) || q.limit < 1)
    throw new RangeError(`limit must be a positive integer; got ${q.limit}`);
  const cols = table === 'contacts' ? CONTACT_COLUMNS : DECISION_COLUMNS;
  const time = table === 'contacts' ? 'ts' : 'decided_at';
  const id = table === 'contacts' ? 'contact_id' : 'decision_id';
  const values: (string | number)[] = [];
  const p = (v: string | number, cast: string) => {
    values.push(v);
    return dialect === 'duckdb' ? `?::${cast}` : `$${values.length}::${cast}`;
  };
  const tz = dialect === 'duckdb' ? 'TIMESTAMPTZ' : 'timestamptz';
  const text = dialect === 'duckdb' ? 'VARCHAR' : 'text';
  const ms = dialect === 'duckdb' ? `epoch_ms(t.${time})` : `floor(extract(epoch FROM t.${time}) * 1000)`;
  const msCast = dialect === 'duckdb' ? 'BIGINT' : 'numeric';
  const idCol = dialect === 'duckdb' ? `t.${id}` : `t.${id} COLLATE "C"`;
  const where = [`t.account_id = ${p(q.accountId, text)}`];
  if (q.sinceMs !== null) where.push(`t.${time} >= ${p(sinceIso(q.sinceMs), tz)}`);
  if (q.untilMs !== null) where.push(`t.${time} < ${p(sinceIso(q.untilMs), tz)}`);
  if (q.before !== null) {
    const bm = Math.floor(q.before.ms);
    where.push(
      `(${ms} < ${p(bm, msCast)} OR (${ms} = ${p(bm, msCast)} AND ${idCol} < ${p(q.before.id, text)}))`,
    );
  }
  const list = cols.map((c) => `${readExpr(dialect, { ...c, name: `t.${c.name}` })} AS ${c.name}`).join(', ');
  return {
    sql: `SELECT ${list} FROM ${table} t WHERE ${where.join(' AND ')} ORDER BY ${ms} DESC, ${idCol} DESC LIMIT ${q.limit}`,
    values,
  };
}

function duplicateInBatch(field: string, id: string, n: number, what: string): LedgerError {
  return new LedgerError(
    'duplicate_id',
    `${field} ${JSON.stringify(id)} appears twice in the batch: the batch of ${n} ${what} was not written`,
  );
}

/** The error for a primary-key violation reported by a store (an id already in the ledger). */
export function duplicateInLedger(
  field: string,
  id: string | null,
  n: number,
  what: string,
  cause: unknown,
): LedgerError {
  const which = id === null ? `a ${field}` : `${field} ${JSON.stringify(id)}`;
  return new LedgerError(
    'duplicate_id',
    `${which} is already in the ledger: the batch of ${n} ${what} was not written`,
    { cause },
  );
}

/**
 * `sinceMs` as the ISO instant bound to queries (`$1::timestamptz`): exact to the millisecond, where dividing by
 * 1000 into float seconds could move the boundary.
 * @throws {RangeError} when `sinceMs` is not a finite number of milliseconds.
 */
export function sinceIso(sinceMs: number): string {
  const d = new Date(sinceMs);
  if (!Number.isFinite(sinceMs) || Number.isNaN(d.getTime()))
    throw new RangeError(`sinceMs must be a finite epoch time in milliseconds; got ${sinceMs}`);
  return d.toISOString();
}

/**
 * The text of an error, for messages: a Node system error's code (ECONNREFUSED, ENOTFOUND — the address is in the
 * message already), else its message (a database's own words), else whatever it is. Node's AggregateError (every
 * address of a host refused) carries neither at its top: the first inner error speaks for it.
 */
export function errorText(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0 && !e.message) return errorText(e.errors[0]);
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)) return code;
    if (e.message) return e.message;
    if (typeof code === 'string') return code;
  }
  return String(e);
}
