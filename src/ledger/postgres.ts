import pg from 'pg';
import type { ContactRow } from '../core/schema/tables.ts';
import { slotShortfall, takesCapacity, VISIT_TREATMENT } from './call-slots.ts';
import type {
  AuditQuery,
  CallSlotLimit,
  ContactRecord,
  DecisionRecord,
  ReviewEventRecord,
  StoredAnswer,
} from './contract.ts';
import {
  ANSWER_COLUMNS,
  answerId,
  answerRow,
  answerTaken,
  auditPageSql,
  CONTACT_COLUMNS,
  CONTACT_ROW_FIELDS,
  checkAnswer,
  checkContacts,
  checkDecisions,
  checkReviewEvents,
  checkSchemaVersion,
  DECISION_COLUMNS,
  duplicateInLedger,
  errorText,
  groupContacts,
  groupReviewEvents,
  LedgerError,
  ledgerDdl,
  REVIEW_COLUMNS,
  rowToAnswer,
  rowToContactRecord,
  rowToDecision,
  rowValues,
  SCHEMA_VERSION_SQL,
  schemaVersionDdl,
  selectList,
  sinceIso,
  sqlType,
} from './schema-sql.ts';
import type { WalPosition } from './wal/log.ts';
import {
  type CommitUnder,
  type IdQuery,
  type RowsJson,
  replayOps,
  WAL_POSITION_DDL,
  type WalOp,
  type WalStore,
  walPositionUpsert,
} from './wal/store.ts';

type Column = (typeof DECISION_COLUMNS)[number];

/** Key of the advisory lock that serialises table creation when several processes open one database at once. */
const DDL_LOCK_KEY = 7_241_733_001;

/**
 * Key of the advisory lock a limited append of decisions holds from its count of the day's call and visit slots to
 * its commit: every process sharing the database takes it, so two never spend the same slot. Only appends that take
 * a slot wait for it (the rest of the traffic never does).
 */
const CALL_SLOTS_LOCK_KEY = 7_241_733_002;

/** The slots taken per team since $1, as `callSlotsUsed` counts them (also inside a limited append). */
const CALL_SLOTS_SQL = `SELECT call_team, count(*)::float8 AS n FROM decisions
  WHERE call_team IS NOT NULL AND decided_at >= $1::timestamptz GROUP BY call_team`;

/** The field visits decided since $2, as `visitsUsed` counts them (also inside a limited append). */
const VISITS_SQL = `SELECT count(*)::float8 AS n FROM decisions WHERE treatment = $1 AND decided_at >= $2::timestamptz`;

const usedOf = (rows: Record<string, unknown>[]) =>
  new Map(rows.map((r) => [r.call_team as string, Number(r.n)]));

/**
 * A PostgreSQL URL fit for messages and logs: scheme, user, host, port and database, without the password or the
 * query string (which may carry one too).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1@').replace(/\?.*$/, '');
  }
}

/**
 * An INSERT of a whole batch as one statement: one array parameter per column, expanded with `unnest`, so a
 * 1,000-row batch is one round trip and never meets the 65,535-parameter limit. Numbers travel as text in the array
 * literal (`String(n)`, the shortest text that reads back as the same double), JSON as text cast to jsonb.
 */
function insertSql(table: string, cols: readonly Column[]): string {
  const arrays = cols.map((c, i) => `$${i + 1}::${c.type === 'json' ? 'text' : sqlType('postgres', c)}[]`);
  const select = cols.map((c) => (c.type === 'json' ? `${c.name}::jsonb` : c.name));
  const names = cols.map((c) => c.name);
  return `INSERT INTO ${table} (${names.join(', ')})
    SELECT ${select.join(', ')} FROM unnest(${arrays.join(', ')}) AS t(${names.join(', ')})`;
}

/**
 * The id PostgreSQL names in a unique violation (detail 'Key (decision_id)=(d1) already exists.'), and whether it
 * was a stored answer's key (the violation names its table).
 */
function duplicateKey(e: unknown): { found: boolean; id: string | null; answer: boolean } {
  const err = e as { code?: unknown; detail?: unknown; table?: unknown };
  if (err?.code !== '23505') return { found: false, id: null, answer: false };
  const m =
    typeof err.detail === 'string' ? /^Key \(\w+\)=\(([\s\S]*)\) already exists/.exec(err.detail) : null;
  return { found: true, id: m?.[1] ?? null, answer: err.table === 'idempotency_keys' };
}

/**
 * Opens the ledger in PostgreSQL through a connection pool, creating the tables `decisions`, `contacts` and
 * `schema_version` and their indexes when absent (in the schema first on the search path). Lists and objects are
 * jsonb, numbers double precision (they round-trip exactly), `decided_at`, `ts` and `recorded_at` timestamptz.
 *
 * Each append is one transaction (one INSERT of the whole batch): all rows or none. It resolves after COMMIT
 * returns, and every append transaction runs `SET LOCAL synchronous_commit TO on`, so COMMIT returns only once
 * the WAL record is flushed to disk even where a server or role defaults to `off` (PostgreSQL manual, "Asynchronous
 * Commit" and `synchronous_commit`). That guarantee still rests on the server's `fsync = on` (the default), which a
 * session cannot change.
 *
 * `contactsFor` leaves accounts without contacts out of the map; contacts of one account are in `ts` order, ties
 * by `contact_id`. Instants come back as `Date.prototype.toISOString()` writes them (UTC, milliseconds),
 * whatever the session's DateStyle or TimeZone.
 *
 * @param url A `postgres://` connection URL (libpq-style query options such as `sslmode` and `options` allowed).
 * @throws {LedgerError} `unavailable` when the server cannot be reached or the tables cannot be created — the
 *   message names the URL without its password; `schema_version` when a newer build laid the tables out.
 */
export async function openPostgresLedger(url: string): Promise<WalStore> {
  const where = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 10_000,
    application_name: 'repayrisk-ledger',
  });
  // An idle client's network error is emitted on the pool; without a listener it would crash the process. The
  // next query reports the failure to its caller.
  pool.on('error', () => undefined);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new LedgerError('unavailable', `cannot connect to PostgreSQL at ${where}: ${errorText(e)}`, {
      cause: e,
    });
  }
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
    await client.query(schemaVersionDdl('postgres'));
    const v = await client.query<{ v: number | null }>(SCHEMA_VERSION_SQL);
    checkSchemaVersion(v.rows[0]?.v ?? null, where);
    for (const sql of [...ledgerDdl('postgres'), WAL_POSITION_DDL]) await client.query(sql);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    await pool.end().catch(() => undefined);
    if (e instanceof LedgerError) throw e;
    throw new LedgerError(
      'unavailable',
      `cannot create the ledger tables in PostgreSQL at ${where}: ${errorText(e)}`,
      {
        cause: e,
      },
    );
  }
  client.release();
  return new PostgresLedger(where, pool);
}

class PostgresLedger implements WalStore {
  readonly kind = 'postgres';
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly where: string,
    private readonly pool: pg.Pool,
  ) {}

  async appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void> {
    this.assertOpen();
    checkDecisions(rows);
    if (answer) checkAnswer(answer);
    const check = limit && takesCapacity(rows, limit) ? limit : undefined;
    await this.track(
      this.append('decisions', DECISION_COLUMNS, rows, 'decision_id', 'decisions', answer, check),
    );
  }

  async appendContacts(rows: readonly ContactRecord[], answer?: StoredAnswer): Promise<void> {
    this.assertOpen();
    checkContacts(rows);
    if (answer) checkAnswer(answer);
    await this.track(this.append('contacts', CONTACT_COLUMNS, rows, 'contact_id', 'contacts', answer));
  }

  async appendReviewEvents(rows: readonly ReviewEventRecord[], answer?: StoredAnswer): Promise<void> {
    this.assertOpen();
    checkReviewEvents(rows);
    if (answer) checkAnswer(answer);
    await this.track(this.append('review_events', REVIEW_COLUMNS, rows, 'event_id', 'review events', answer));
  }

  async reviewEvents(accountIds: readonly string[]): Promise<Map<string, ReviewEventRecord[]>> {
    if (accountIds.length === 0) return new Map();
    const rows = await this.read(
      `SELECT ${selectList('postgres', REVIEW_COLUMNS)} FROM review_events WHERE account_id = ANY($1::text[])`,
      [[...new Set(accountIds)]],
    );
    return groupReviewEvents(rows);
  }

  async getAnswer(scope: string, key: string): Promise<StoredAnswer | null> {
    const rows = await this.read(
      `SELECT ${selectList('postgres', ANSWER_COLUMNS)} FROM idempotency_keys WHERE answer_id = $1`,
      [answerId(scope, key)],
    );
    return rows[0] ? rowToAnswer(rows[0]) : null;
  }

  async pruneAnswers(beforeMs: number): Promise<number> {
    this.assertOpen();
    const before = sinceIso(beforeMs);
    return this.track(
      this.pool.query('DELETE FROM idempotency_keys WHERE created_at < $1::timestamptz', [before]).then(
        (r) => r.rowCount ?? 0,
        (e: unknown) => {
          throw new LedgerError(
            'unavailable',
            `cannot prune stored answers in PostgreSQL at ${this.where}: ${errorText(e)}`,
            { cause: e },
          );
        },
      ),
    );
  }

  async contactHistory(q: AuditQuery): Promise<ContactRecord[]> {
    const { sql, values } = auditPageSql('postgres', 'contacts', q);
    return (await this.read(sql, values)).map(rowToContactRecord);
  }

  async decisionHistory(q: AuditQuery): Promise<DecisionRecord[]> {
    const { sql, values } = auditPageSql('postgres', 'decisions', q);
    return (await this.read(sql, values)).map(rowToDecision);
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    const rows = await this.read(
      `SELECT ${selectList('postgres', DECISION_COLUMNS)} FROM decisions WHERE decision_id = $1`,
      [id],
    );
    return rows[0] ? rowToDecision(rows[0]) : null;
  }

  async contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>> {
    const since = sinceIso(sinceMs);
    if (accountIds.length === 0) return new Map();
    const cols = CONTACT_COLUMNS.filter((c) => (CONTACT_ROW_FIELDS as readonly string[]).includes(c.name));
    const rows = await this.read(
      `SELECT ${selectList('postgres', cols)} FROM contacts c
       WHERE c.account_id = ANY($1::text[]) AND c.ts >= $2::timestamptz
       ORDER BY c.account_id, c.ts, c.contact_id`,
      [[...accountIds], since],
    );
    return groupContacts(rows);
  }

  async callSlotsUsed(sinceMs: number): Promise<Map<string, number>> {
    return usedOf(await this.read(CALL_SLOTS_SQL, [sinceIso(sinceMs)]));
  }

  async visitsUsed(sinceMs: number): Promise<number> {
    const rows = await this.read(VISITS_SQL, [VISIT_TREATMENT, sinceIso(sinceMs)]);
    return Number(rows[0]?.n ?? 0);
  }

  async counts(): Promise<{ decisions: number; contacts: number }> {
    const rows = await this.read(
      'SELECT (SELECT count(*) FROM decisions)::float8 AS decisions, (SELECT count(*) FROM contacts)::float8 AS contacts',
      [],
    );
    return { decisions: Number(rows[0]?.decisions ?? 0), contacts: Number(rows[0]?.contacts ?? 0) };
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const rows = await this.read('SELECT 1 AS ok', []);
      return rows[0]?.ok === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    await this.pool.end();
  }

  async walPosition(walId: string): Promise<WalPosition | null> {
    const rows = await this.read('SELECT segment, end_offset FROM wal_position WHERE wal_id = $1', [walId]);
    return rows[0] ? { segment: Number(rows[0].segment), end: Number(rows[0].end_offset) } : null;
  }

  /** See WalStore.loadWal: one transaction, synchronous commit, the log position with the rows. */
  async loadWal(
    ops: readonly WalOp[],
    walId: string,
    through: WalPosition,
    commitUnder: CommitUnder = (commit) => commit(),
    // The log's bytes of the rows (WalStore.loadWal): PostgreSQL's insert binds per-column arrays, not JSON text.
    _rowsJson?: RowsJson,
  ): Promise<void> {
    this.assertOpen();
    await this.track(this.load(ops, walId, through, commitUnder));
  }

  private async load(
    ops: readonly WalOp[],
    walId: string,
    through: WalPosition,
    commitUnder: CommitUnder,
  ): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw new LedgerError('unavailable', `cannot connect to PostgreSQL at ${this.where}: ${errorText(e)}`, {
        cause: e,
      });
    }
    const insert = async (table: string, cols: readonly Column[], records: readonly object[]) => {
      if (records.length === 0) return;
      const values = records.map((r) => rowValues(cols, r));
      await client.query(
        insertSql(table, cols),
        cols.map((_, j) => values.map((v) => v[j])),
      );
    };
    let broken: unknown;
    try {
      await client.query('BEGIN; SET LOCAL synchronous_commit TO on');
      await replayOps(ops, insert, async (beforeMs) => {
        await client.query('DELETE FROM idempotency_keys WHERE created_at < $1::timestamptz', [
          sinceIso(beforeMs),
        ]);
      });
      await client.query(walPositionUpsert('postgres'), [walId, through.segment, through.end]);
      await commitUnder(async () => {
        await client.query('COMMIT');
      });
    } catch (e) {
      await client.query('ROLLBACK').catch((re: unknown) => {
        broken = re;
      });
      throw new LedgerError(
        'unavailable',
        `cannot load ${ops.length} logged operations into PostgreSQL at ${this.where}: ${errorText(e)}`,
        { cause: e },
      );
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async heldIds(q: IdQuery): Promise<Set<string>> {
    const rows = await this.read(
      `SELECT 'd:' || decision_id AS k FROM decisions WHERE decision_id = ANY($1::text[])
       UNION ALL SELECT 'c:' || contact_id FROM contacts WHERE contact_id = ANY($2::text[])
       UNION ALL SELECT 'a:' || answer_id FROM idempotency_keys WHERE answer_id = ANY($3::text[])
       UNION ALL SELECT 'r:' || event_id FROM review_events WHERE event_id = ANY($4::text[])`,
      [[...q.decisions], [...q.contacts], [...q.answers], [...(q.reviews ?? [])]],
    );
    return new Set(rows.map((r) => r.k as string));
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('closed', `the PostgreSQL ledger at ${this.where} is closed`);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  private read(sql: string, values: unknown[]): Promise<Record<string, unknown>[]> {
    this.assertOpen();
    return this.track(
      this.pool.query(sql, values).then(
        (r) => r.rows as Record<string, unknown>[],
        (e: unknown) => {
          throw new LedgerError(
            'unavailable',
            `cannot read the ledger in PostgreSQL at ${this.where}: ${errorText(e)}`,
            {
              cause: e,
            },
          );
        },
      ),
    );
  }

  /**
   * Inserts `rows` in one transaction, as one statement, and `answer` (when given) in the same transaction. With
   * `limit` (decisions only), the transaction first takes the call-slot lock and counts the day's call and visit
   * slots: each statement of a READ COMMITTED transaction sees what committed before it began, so the counts taken
   * after the lock see every earlier holder's commit, and the lock is held until this one's commit.
   */
  private async append(
    table: string,
    cols: readonly Column[],
    rows: readonly object[],
    key: string,
    what: string,
    answer: StoredAnswer | undefined,
    limit?: CallSlotLimit,
  ): Promise<void> {
    if (rows.length === 0 && !answer) return;
    const values = rows.map((r) => rowValues(cols, r));
    const arrays = cols.map((_, j) => values.map((v) => v[j]));
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw new LedgerError('unavailable', `cannot connect to PostgreSQL at ${this.where}: ${errorText(e)}`, {
        cause: e,
      });
    }
    let broken: unknown;
    try {
      await client.query('BEGIN; SET LOCAL synchronous_commit TO on');
      if (limit) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [CALL_SLOTS_LOCK_KEY]);
        const since = sinceIso(limit.sinceMs);
        const calls = usedOf((await client.query(CALL_SLOTS_SQL, [since])).rows);
        const visits =
          limit.visits === undefined
            ? 0
            : Number((await client.query(VISITS_SQL, [VISIT_TREATMENT, since])).rows[0]?.n ?? 0);
        const short = slotShortfall({ calls, visits }, rows as readonly DecisionRecord[], limit);
        if (short) throw short;
      }
      if (rows.length) await client.query(insertSql(table, cols), arrays);
      if (answer)
        await client.query(
          insertSql('idempotency_keys', ANSWER_COLUMNS),
          rowValues(ANSWER_COLUMNS, answerRow(answer)).map((v) => [v]),
        );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch((re: unknown) => {
        broken = re;
      });
      if (e instanceof LedgerError) throw e;
      const dup = duplicateKey(e);
      if (dup.found && dup.answer && answer) throw answerTaken(answer, rows.length, what, e);
      if (dup.found) throw duplicateInLedger(key, dup.id, rows.length, what, e);
      throw new LedgerError(
        'unavailable',
        `cannot append ${rows.length} ${what} to PostgreSQL at ${this.where}: ${errorText(e)}`,
        { cause: e },
      );
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it rather than return it to the pool.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }
}
