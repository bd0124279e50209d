import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BLOB,
  DOUBLE,
  DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { ContactRow } from '../core/schema/tables.ts';
import { appendWithinLimit, SlotTurns, VISIT_TREATMENT } from './call-slots.ts';
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
} from './schema-sql.ts';
import type { WalPosition } from './wal/log.ts';
import {
  type CommitUnder,
  type IdQuery,
  type RowsJson,
  replayOps,
  rowsJsonText,
  WAL_POSITION_DDL,
  type WalOp,
  type WalStore,
  walPositionUpsert,
} from './wal/store.ts';

type Column = (typeof DECISION_COLUMNS)[number];

/** An append waiting for the next group commit. */
interface PendingAppend {
  table: 'decisions' | 'contacts' | 'review_events';
  cols: readonly Column[];
  values: ReturnType<typeof rowValues>[];
  count: number;
  key: string;
  what: string;
  /** The stored answer committed with these rows, if any. */
  answer: StoredAnswer | null;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group read: lookups that arrive while one query runs wait for it and are then answered together by one query
 * over all their keys. Reads on the one reader connection take turns, and under concurrent commits each takes
 * milliseconds, so 32 concurrent lookups cost one query instead of 32 queued ones.
 */
class GroupRead<K, V> {
  private pending: { key: K; resolve: (v: V | null) => void; reject: (e: unknown) => void }[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly query: (keys: K[]) => Promise<Map<string, V>>,
    private readonly id: (k: K) => string,
  ) {}

  get(key: K): Promise<V | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      this.kick();
    });
  }

  /** Resolves once no query is running (for close). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running) return;
    const group = this.pending.splice(0);
    if (group.length === 0) return;
    this.running = this.query(group.map((g) => g.key))
      .then(
        (found) => {
          for (const g of group) g.resolve(found.get(this.id(g.key)) ?? null);
        },
        (e: unknown) => {
          for (const g of group) g.reject(e);
        },
      )
      .finally(() => {
        this.running = null;
        this.kick();
      });
  }
}

/** One serial queue: each task starts after the previous one settles. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every task queued so far has settled. */
  drain(): Promise<unknown> {
    return this.tail;
  }
}

/**
 * An INSERT of a whole batch as one statement: one list parameter per column (text or double), unnested side by
 * side and cast where the column is typed. Its text does not depend on the batch size, so one prepared statement
 * per table serves every append.
 */
function insertSql(table: string, cols: readonly Column[]): string {
  const cast = (c: Column) =>
    c.type === 'instant' ? `${c.name}::TIMESTAMPTZ` : c.type === 'date' ? `${c.name}::DATE` : c.name;
  const names = cols.map((c) => c.name);
  return `INSERT INTO ${table} (${names.join(', ')})
    SELECT ${cols.map(cast).join(', ')} FROM (SELECT ${names.map((n) => `unnest(?) AS ${n}`).join(', ')})`;
}

/**
 * An INSERT of rows handed over as ONE JSON text (`?`: a JSON array of records keyed by column name, as the write-
 * ahead log holds them): DuckDB parses it (`from_json`, on its own threads) instead of this thread building a
 * DuckDB value per cell, which cost the loader 12-18% of the main thread under batch load. JSON columns keep the
 * record's value as JSON text, as `rowValues` would have written it.
 */
function insertJsonSql(table: string, cols: readonly Column[], blob = false): string {
  const shape = Object.fromEntries(
    cols.map((c) => [c.name, c.type === 'double' ? 'DOUBLE' : c.type === 'json' ? 'JSON' : 'VARCHAR']),
  );
  const value = (c: Column) =>
    c.type === 'instant'
      ? `r.${c.name}::TIMESTAMPTZ`
      : c.type === 'date'
        ? `r.${c.name}::DATE`
        : c.type === 'json'
          ? `r.${c.name}::VARCHAR`
          : `r.${c.name}`;
  return `INSERT INTO ${table} (${cols.map((c) => c.name).join(', ')})
    SELECT ${cols.map(value).join(', ')} FROM (SELECT unnest(from_json(${blob ? 'decode(?::BLOB)' : '?'}::JSON, '${JSON.stringify([shape])}')) AS r)`;
}

const listType = (c: Column): DuckDBType => LIST(c.type === 'double' ? DOUBLE : VARCHAR);
const duckType = (v: string | number): DuckDBType => (typeof v === 'number' ? DOUBLE : VARCHAR);

/** The id DuckDB names in a primary-key violation ('Duplicate key "decision_id: d1" violates primary key ...'). */
function duplicateKey(e: unknown): { found: boolean; id: string | null } {
  const msg = e instanceof Error ? e.message : '';
  if (!/violates primary key|Duplicate key/i.test(msg)) return { found: false, id: null };
  const m = /Duplicate key "\w+: ([\s\S]*?)" violates/.exec(msg);
  return { found: true, id: m?.[1] ?? null };
}

/**
 * Opens (creating when absent, with its directory) the ledger in a DuckDB file: tables `decisions`, `contacts` and
 * `schema_version`. Lists and objects (`reason_codes`, `reasons`, `guardrails`, `offer`, `shadow`) are stored as
 * JSON text, numbers as DOUBLE, `decided_at`, `ts` and `recorded_at` as TIMESTAMPTZ, dates as DATE.
 *
 * Writes go through one queue on one connection, one transaction per append (all rows or none); reads use a
 * second connection with a queue of its own, so they see only committed data and never wait for a write.
 *
 * Durability: an append resolves only after COMMIT returns, and DuckDB's COMMIT is durable by default — nothing
 * needs setting. Commit writes a WAL_FLUSH marker and fsyncs the `.wal` file before it returns
 * (`WriteAheadLog::Flush()` calls `writer->Sync()`, duckdb/duckdb src/storage/write_ahead_log.cpp); a batch large
 * enough to be written straight into the database file has that file fsynced before the WAL entry pointing at it
 * (duckdb/duckdb PR #13526). DuckDB 1.5.6, the version bundled here, has no setting that turns this off
 * (`duckdb_settings()` lists none); the `enable_fsync` setting of duckdb/duckdb PR #25784 comes later and defaults
 * to on "to match DuckDB's current behavior". Observed here on Linux with `strace -f -e trace=fsync`: exactly one
 * `fsync` of the `.wal` between an `appendContacts` call and its resolution, and for a 200,000-row append an
 * `fsync` of the database file, then of the `.wal`, before it resolved.
 *
 * `contactsFor` leaves accounts without contacts out of the map; contacts of one account are in `ts` order, ties
 * by `contact_id`. Instants come back as `Date.prototype.toISOString()` writes them (UTC, milliseconds).
 *
 * @param path The database file; its directory is created when missing.
 * @throws {LedgerError} `unavailable` when the file cannot be opened (e.g. another process holds its lock),
 *   `schema_version` when a newer build laid the tables out.
 */
export async function openDuckDbLedger(path: string): Promise<WalStore> {
  let instance: DuckDBInstance;
  let writer: DuckDBConnection;
  let reader: DuckDBConnection;
  let reviewed: Set<string>;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    instance = await DuckDBInstance.create(path, { threads: '2' });
  } catch (e) {
    throw new LedgerError('unavailable', `cannot open the DuckDB ledger at ${path}: ${errorText(e)}`, {
      cause: e,
    });
  }
  const opened: DuckDBConnection[] = [];
  try {
    writer = await instance.connect();
    opened.push(writer);
    await writer.run('BEGIN TRANSACTION');
    try {
      await writer.run(schemaVersionDdl('duckdb'));
      const found = (await writer.runAndReadAll(SCHEMA_VERSION_SQL)).getRowObjectsJS()[0]?.v;
      checkSchemaVersion(found === null || found === undefined ? null : Number(found), path);
      for (const sql of [...ledgerDdl('duckdb'), WAL_POSITION_DDL]) await writer.run(sql);
      await writer.run('COMMIT');
    } catch (e) {
      await writer.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
    reader = await instance.connect();
    const rows = (
      await reader.runAndReadAll('SELECT DISTINCT account_id FROM review_events')
    ).getRowObjectsJS();
    reviewed = new Set(rows.map((r) => r.account_id as string));
  } catch (e) {
    for (const c of opened) c.closeSync();
    instance.closeSync();
    if (e instanceof LedgerError) throw e;
    throw new LedgerError('unavailable', `cannot prepare the DuckDB ledger at ${path}: ${errorText(e)}`, {
      cause: e,
    });
  }
  return new DuckDbLedger(path, instance, writer, reader, reviewed);
}

class DuckDbLedger implements WalStore {
  readonly kind = 'duckdb';
  private readonly slotTurns = new SlotTurns();
  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();
  private pending: PendingAppend[] = [];
  private pendingReads: {
    ids: readonly string[];
    sinceMs: number;
    resolve: (m: Map<string, ContactRow[]>) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private readingContacts: Promise<void> | null = null;
  private readonly reviews = new GroupRead<string, ReviewEventRecord[]>(
    (ids) => this.readReviews(ids),
    (id) => id,
  );
  private readonly answers = new GroupRead<{ scope: string; key: string }, StoredAnswer>(
    (keys) => this.readAnswers(keys),
    (k) => `${k.scope}\u0000${k.key}`,
  );
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    /**
     * Every account with a review event. This process is the file's only writer (DuckDB's lock), so the set is
     * exact, and the score path, which asks about every account it decides, queries only for accounts in it.
     */
    private readonly reviewed: Set<string>,
  ) {}

  async appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void> {
    this.assertOpen();
    checkDecisions(rows);
    if (answer) checkAnswer(answer);
    const append = () => this.append('decisions', DECISION_COLUMNS, rows, 'decision_id', 'decisions', answer);
    // One process owns the file, so the check and the append taking turns in this process is enough.
    if (limit) await appendWithinLimit(this.slotTurns, rows, limit, this, append);
    else await append();
  }

  async appendContacts(rows: readonly ContactRecord[], answer?: StoredAnswer): Promise<void> {
    this.assertOpen();
    checkContacts(rows);
    if (answer) checkAnswer(answer);
    await this.append('contacts', CONTACT_COLUMNS, rows, 'contact_id', 'contacts', answer);
  }

  async appendReviewEvents(rows: readonly ReviewEventRecord[], answer?: StoredAnswer): Promise<void> {
    this.assertOpen();
    checkReviewEvents(rows);
    if (answer) checkAnswer(answer);
    await this.append('review_events', REVIEW_COLUMNS, rows, 'event_id', 'review events', answer);
    for (const r of rows) this.reviewed.add(r.account_id);
  }

  /** A group read per account (see GroupRead): the score path asks on every request, concurrently. */
  async reviewEvents(accountIds: readonly string[]): Promise<Map<string, ReviewEventRecord[]>> {
    this.assertOpen();
    const ids = [...new Set(accountIds)].filter((id) => this.reviewed.has(id));
    const lists = await Promise.all(ids.map((id) => this.reviews.get(id)));
    const out = new Map<string, ReviewEventRecord[]>();
    ids.forEach((id, i) => {
      const list = lists[i];
      if (list?.length) out.set(id, list);
    });
    return out;
  }

  /** See WalStore.mayHaveReviewEvents: exact, this process being the file's only writer. */
  mayHaveReviewEvents(accountId: string): boolean {
    return this.reviewed.has(accountId);
  }

  private async readReviews(ids: string[]): Promise<Map<string, ReviewEventRecord[]>> {
    const rows = await this.read(
      `SELECT ${selectList('duckdb', REVIEW_COLUMNS)} FROM review_events WHERE account_id IN (SELECT unnest(?))
       ORDER BY account_id`,
      [listValue(ids)],
      [LIST(VARCHAR)],
      true,
    );
    return groupReviewEvents(rows);
  }

  /** A group read (see GroupRead): concurrent lookups share one query. */
  getAnswer(scope: string, key: string): Promise<StoredAnswer | null> {
    this.assertOpen();
    return this.answers.get({ scope, key });
  }

  private async readAnswers(keys: { scope: string; key: string }[]): Promise<Map<string, StoredAnswer>> {
    // One key (no concurrency) is a point lookup, cheaper to plan than the join.
    const rows =
      keys.length === 1
        ? await this.read(
            `SELECT ${selectList('duckdb', ANSWER_COLUMNS)} FROM idempotency_keys WHERE answer_id = ?`,
            [answerId(keys[0]!.scope, keys[0]!.key)],
            [VARCHAR],
            true,
          )
        : await this.read(
            `SELECT ${selectList('duckdb', ANSWER_COLUMNS)} FROM idempotency_keys
       WHERE answer_id IN (SELECT unnest(?))`,
            [listValue(keys.map((k) => answerId(k.scope, k.key)))],
            [LIST(VARCHAR)],
            true,
          );
    return new Map(
      rows.map((r) => {
        const a = rowToAnswer(r);
        return [`${a.scope}\u0000${a.key}`, a];
      }),
    );
  }

  /** A write: it takes its turn in the write queue, so it never interleaves with a group commit. */
  async pruneAnswers(beforeMs: number): Promise<number> {
    this.assertOpen();
    const before = sinceIso(beforeMs);
    return this.writes.run(async () => {
      try {
        const r = await this.writer.run('DELETE FROM idempotency_keys WHERE created_at < ?::TIMESTAMPTZ', [
          before,
        ]);
        return Number(r.rowsChanged);
      } catch (e) {
        throw new LedgerError(
          'unavailable',
          `cannot prune stored answers in the DuckDB ledger at ${this.path}: ${errorText(e)}`,
          { cause: e },
        );
      }
    });
  }

  async contactHistory(q: AuditQuery): Promise<ContactRecord[]> {
    const { sql, values } = auditPageSql('duckdb', 'contacts', q);
    const rows = await this.read(sql, values, values.map(duckType));
    return rows.map(rowToContactRecord);
  }

  async decisionHistory(q: AuditQuery): Promise<DecisionRecord[]> {
    const { sql, values } = auditPageSql('duckdb', 'decisions', q);
    const rows = await this.read(sql, values, values.map(duckType));
    return rows.map(rowToDecision);
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    const rows = await this.read(
      `SELECT ${selectList('duckdb', DECISION_COLUMNS)} FROM decisions WHERE decision_id = ?`,
      [id],
      [VARCHAR],
    );
    return rows[0] ? rowToDecision(rows[0]) : null;
  }

  /**
   * Group read: calls that arrive while a read is running wait for it and are then answered by one query over
   * all their accounts (each gets its own accounts from its own `sinceMs` on), so 50 concurrent requests cost one
   * scan instead of 50 queued ones.
   */
  contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>> {
    this.assertOpen();
    if (accountIds.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      this.pendingReads.push({ ids: accountIds, sinceMs, resolve, reject });
      this.kickReads();
    });
  }

  private kickReads(): void {
    if (this.readingContacts) return;
    const group = this.pendingReads.splice(0);
    if (group.length === 0) return;
    const ids = [...new Set(group.flatMap((g) => g.ids))];
    const since = Math.min(...group.map((g) => g.sinceMs));
    const cols = CONTACT_COLUMNS.filter((c) => (CONTACT_ROW_FIELDS as readonly string[]).includes(c.name));
    this.readingContacts = this.read(
      `SELECT ${selectList('duckdb', cols)} FROM contacts
       WHERE account_id IN (SELECT unnest(?)) AND contacts.ts >= ?::TIMESTAMPTZ
       ORDER BY contacts.account_id, contacts.ts, contacts.contact_id`,
      [listValue(ids), sinceIso(since)],
      [LIST(VARCHAR), VARCHAR],
      true,
    )
      .then(
        (rows) => {
          const all = groupContacts(rows);
          for (const g of group) {
            const mine = new Map<string, ContactRow[]>();
            for (const id of g.ids) {
              const list = all.get(id)?.filter((c) => Date.parse(c.ts) >= g.sinceMs);
              if (list?.length) mine.set(id, list);
            }
            g.resolve(mine);
          }
        },
        (e: unknown) => {
          for (const g of group) g.reject(e);
        },
      )
      .finally(() => {
        this.readingContacts = null;
        this.kickReads();
      });
  }

  async callSlotsUsed(sinceMs: number): Promise<Map<string, number>> {
    const rows = await this.read(
      `SELECT call_team, count(*) AS n FROM decisions
       WHERE call_team IS NOT NULL AND decided_at >= ?::TIMESTAMPTZ GROUP BY call_team`,
      [sinceIso(sinceMs)],
      [VARCHAR],
    );
    return new Map(rows.map((r) => [r.call_team as string, Number(r.n)]));
  }

  async visitsUsed(sinceMs: number): Promise<number> {
    const rows = await this.read(
      'SELECT count(*) AS n FROM decisions WHERE treatment = ? AND decided_at >= ?::TIMESTAMPTZ',
      [VISIT_TREATMENT, sinceIso(sinceMs)],
      [VARCHAR, VARCHAR],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async counts(): Promise<{ decisions: number; contacts: number }> {
    const rows = await this.read(
      'SELECT (SELECT count(*) FROM decisions) AS decisions, (SELECT count(*) FROM contacts) AS contacts',
      [],
      [],
    );
    return { decisions: Number(rows[0]?.decisions ?? 0), contacts: Number(rows[0]?.contacts ?? 0) };
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const rows = await this.read('SELECT 1 AS ok', [], []);
      return Number(rows[0]?.ok) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing || this.readingContacts) await (this.flushing ?? this.readingContacts);
    await this.answers.idle();
    await this.reviews.idle();
    await Promise.all([this.writes.drain(), this.reads.drain()]);
    for (const p of this.prepared.values()) p.destroySync();
    this.prepared.clear();
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('closed', `the DuckDB ledger at ${this.path} is closed`);
  }

  /** `accepted`: the caller already checked the ledger was open when it queued this read (group reads). */
  private read(
    sql: string,
    values: DuckDBValue[],
    types: DuckDBType[],
    accepted = false,
  ): Promise<Record<string, unknown>[]> {
    if (!accepted) this.assertOpen();
    return this.reads.run(async () => {
      try {
        const r = await this.reader.runAndReadAll(sql, values, types);
        return r.getRowObjectsJS() as Record<string, unknown>[];
      } catch (e) {
        throw new LedgerError(
          'unavailable',
          `cannot read the DuckDB ledger at ${this.path}: ${errorText(e)}`,
          {
            cause: e,
          },
        );
      }
    });
  }

  /**
   * Queues `rows` for the next commit. Group commit: appends that arrive while a commit is running wait for it,
   * then go together in one transaction (one WAL sync for all of them), and each caller's promise resolves only
   * after that COMMIT. If the group fails (say, one append repeats an id), each append is committed on its own,
   * so only the bad one fails and the others still land.
   */
  private append(
    table: 'decisions' | 'contacts' | 'review_events',
    cols: readonly Column[],
    rows: readonly object[],
    key: string,
    what: string,
    answer: StoredAnswer | undefined,
  ): Promise<void> {
    if (rows.length === 0 && !answer) return Promise.resolve();
    const values = rows.map((r) => rowValues(cols, r));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({
        table,
        cols,
        values,
        count: rows.length,
        key,
        what,
        answer: answer ?? null,
        resolve,
        reject,
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return; // the running commit picks up what is pending when it ends
    this.flushing = this.writes
      .run(() => this.flush())
      .finally(() => {
        this.flushing = null;
        if (this.pending.length) this.kick();
      });
  }

  private async flush(): Promise<void> {
    const group = this.pending.splice(0);
    if (group.length === 0) return;
    try {
      await this.commit(group);
      for (const g of group) g.resolve();
    } catch (e) {
      if (group.length === 1) {
        group[0]!.reject(this.appendError(e, group[0]!));
        return;
      }
      for (const g of group) {
        try {
          await this.commit([g]);
          g.resolve();
        } catch (err) {
          g.reject(this.appendError(err, g));
        }
      }
    }
  }

  /** One transaction: one INSERT per table with the rows (and stored answers) of every append in `group`. */
  private async commit(group: readonly PendingAppend[]): Promise<void> {
    try {
      await this.writer.run('BEGIN TRANSACTION');
      for (const table of ['decisions', 'contacts', 'review_events', 'idempotency_keys']) {
        const answers = table === 'idempotency_keys';
        const parts = answers ? group.filter((g) => g.answer) : group.filter((g) => g.table === table);
        const cols = answers ? ANSWER_COLUMNS : parts[0]?.cols;
        const values = answers
          ? parts.map((g) => rowValues(ANSWER_COLUMNS, answerRow(g.answer!)))
          : parts.flatMap((g) => g.values);
        if (!cols || values.length === 0) continue;
        const stmt = await this.statement(table, cols);
        stmt.bind(
          cols.map((_, j) => listValue(values.map((v) => v[j] ?? null))),
          cols.map(listType),
        );
        await stmt.run();
      }
      await this.writer.run('COMMIT');
    } catch (e) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  private appendError(e: unknown, g: PendingAppend): LedgerError {
    const dup = duplicateKey(e);
    if (dup.found && g.answer && /Duplicate key "answer_id: /.test(e instanceof Error ? e.message : ''))
      return answerTaken(g.answer, g.count, g.what, e);
    if (dup.found) return duplicateInLedger(g.key, dup.id, g.count, g.what, e);
    return new LedgerError(
      'unavailable',
      `cannot append ${g.count} ${g.what} to the DuckDB ledger at ${this.path}: ${errorText(e)}`,
      { cause: e },
    );
  }

  async walPosition(walId: string): Promise<WalPosition | null> {
    const rows = await this.read(
      'SELECT segment, end_offset FROM wal_position WHERE wal_id = ?',
      [walId],
      [VARCHAR],
    );
    return rows[0] ? { segment: Number(rows[0].segment), end: Number(rows[0].end_offset) } : null;
  }

  /** See WalStore.loadWal: one transaction on the write queue, the log position with the rows. */
  loadWal(
    ops: readonly WalOp[],
    walId: string,
    through: WalPosition,
    commitUnder: CommitUnder = (commit) => commit(),
    rowsJson?: RowsJson,
  ): Promise<void> {
    this.assertOpen();
    return this.writes.run(async () => {
      try {
        await this.writer.run('BEGIN TRANSACTION');
        await replayOps(
          ops,
          (table, cols, rows, json) => this.insertRows(table, cols, rows, json),
          (beforeMs) =>
            this.writer
              .run('DELETE FROM idempotency_keys WHERE created_at < ?::TIMESTAMPTZ', [sinceIso(beforeMs)])
              .then(() => undefined),
          rowsJson,
        );
        await this.writer.run(walPositionUpsert('duckdb'), [walId, through.segment, through.end]);
        await commitUnder(async () => {
          await this.writer.run('COMMIT');
          // In the turn the commit resolves (WalStore.mayHaveReviewEvents).
          for (const op of ops)
            if (op.t === 'reviews') for (const r of op.rows) this.reviewed.add(r.account_id);
        });
      } catch (e) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw new LedgerError(
          'unavailable',
          `cannot load ${ops.length} logged operations into the DuckDB ledger at ${this.path}: ${errorText(e)}`,
          { cause: e },
        );
      }
    });
  }

  async heldIds(q: IdQuery): Promise<Set<string>> {
    const rows = await this.read(
      `SELECT 'd:' || decision_id AS k FROM decisions WHERE decision_id IN (SELECT unnest(?))
       UNION ALL SELECT 'c:' || contact_id FROM contacts WHERE contact_id IN (SELECT unnest(?))
       UNION ALL SELECT 'a:' || answer_id FROM idempotency_keys WHERE answer_id IN (SELECT unnest(?))
       UNION ALL SELECT 'r:' || event_id FROM review_events WHERE event_id IN (SELECT unnest(?))`,
      [
        listValue([...q.decisions]),
        listValue([...q.contacts]),
        listValue([...q.answers]),
        listValue([...(q.reviews ?? [])]),
      ],
      [LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR)],
    );
    return new Set(rows.map((r) => r.k as string));
  }

  /** Streams the ids chunk by chunk (DuckDB's 2,048-row vectors), so a large ledger never sits in memory whole. */
  forEachHeldKey(onKeys: (keys: readonly string[]) => void): Promise<void> {
    this.assertOpen();
    return this.reads.run(async () => {
      try {
        const result = await this.reader.stream(
          `SELECT 'd:' || decision_id FROM decisions UNION ALL SELECT 'c:' || contact_id FROM contacts
           UNION ALL SELECT 'a:' || answer_id FROM idempotency_keys UNION ALL SELECT 'r:' || event_id FROM review_events`,
        );
        for (
          let chunk = await result.fetchChunk();
          chunk && chunk.rowCount > 0;
          chunk = await result.fetchChunk()
        )
          onKeys(chunk.getColumnValues(0) as string[]);
      } catch (e) {
        throw new LedgerError(
          'unavailable',
          `cannot read the ids in the DuckDB ledger at ${this.path}: ${errorText(e)}`,
          {
            cause: e,
          },
        );
      }
    });
  }

  /** See WalStore.forEachContactAccount: streamed like the ids. */
  forEachContactAccount(onIds: (ids: readonly string[]) => void): Promise<void> {
    this.assertOpen();
    return this.reads.run(async () => {
      try {
        const result = await this.reader.stream('SELECT DISTINCT account_id FROM contacts');
        for (
          let chunk = await result.fetchChunk();
          chunk && chunk.rowCount > 0;
          chunk = await result.fetchChunk()
        )
          onIds(chunk.getColumnValues(0) as string[]);
      } catch (e) {
        throw new LedgerError(
          'unavailable',
          `cannot read the accounts with contacts in the DuckDB ledger at ${this.path}: ${errorText(e)}`,
          { cause: e },
        );
      }
    });
  }

  /**
   * One INSERT of `records` (nothing when empty) as one JSON text (`insertJsonSql`), statement prepared once. With
   * `json` (the log's own UTF-8 bytes of these records) the bytes go to DuckDB as a BLOB, copied as they are: no
   * second `JSON.stringify` and no second UTF-8 encoding of the text (binding it as a VARCHAR string was 6% of the
   * main thread under batch load).
   */
  private async insertRows(
    table: string,
    cols: readonly Column[],
    records: readonly object[],
    json: Uint8Array | null = null,
  ): Promise<void> {
    if (records.length === 0) return;
    const key = `${json ? 'blob' : 'json'}:${table}`;
    let stmt = this.prepared.get(key);
    if (!stmt) {
      stmt = await this.writer.prepare(insertJsonSql(table, cols, json !== null));
      this.prepared.set(key, stmt);
    }
    if (json) stmt.bind([new DuckDBBlobValue(json)], [BLOB]);
    else stmt.bind([rowsJsonText(records)], [VARCHAR]);
    await stmt.run();
  }

  /** The prepared INSERT of a table, made on first use and kept until close. */
  private async statement(table: string, cols: readonly Column[]): Promise<DuckDBPreparedStatement> {
    const hit = this.prepared.get(table);
    if (hit) return hit;
    const stmt = await this.writer.prepare(insertSql(table, cols));
    this.prepared.set(table, stmt);
    return stmt;
  }
}
