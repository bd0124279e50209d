import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DOUBLE,
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
import type { ContactRecord, DecisionRecord, Ledger } from './contract.ts';
import {
  CONTACT_COLUMNS,
  CONTACT_ROW_FIELDS,
  checkContacts,
  checkDecisions,
  checkSchemaVersion,
  DECISION_COLUMNS,
  duplicateInLedger,
  errorText,
  groupContacts,
  LedgerError,
  ledgerDdl,
  rowToDecision,
  rowValues,
  SCHEMA_VERSION_SQL,
  schemaVersionDdl,
  selectList,
  sinceIso,
} from './schema-sql.ts';

type Column = (typeof DECISION_COLUMNS)[number];

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

const listType = (c: Column): DuckDBType => LIST(c.type === 'double' ? DOUBLE : VARCHAR);

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
export async function openDuckDbLedger(path: string): Promise<Ledger> {
  let instance: DuckDBInstance;
  let writer: DuckDBConnection;
  let reader: DuckDBConnection;
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
      for (const sql of ledgerDdl('duckdb')) await writer.run(sql);
      await writer.run('COMMIT');
    } catch (e) {
      await writer.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
    reader = await instance.connect();
  } catch (e) {
    for (const c of opened) c.closeSync();
    instance.closeSync();
    if (e instanceof LedgerError) throw e;
    throw new LedgerError('unavailable', `cannot prepare the DuckDB ledger at ${path}: ${errorText(e)}`, {
      cause: e,
    });
  }
  return new DuckDbLedger(path, instance, writer, reader);
}

class DuckDbLedger implements Ledger {
  readonly kind = 'duckdb';
  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
  ) {}

  async appendDecisions(rows: readonly DecisionRecord[]): Promise<void> {
    this.assertOpen();
    checkDecisions(rows);
    await this.append('decisions', DECISION_COLUMNS, rows, 'decision_id', 'decisions');
  }

  async appendContacts(rows: readonly ContactRecord[]): Promise<void> {
    this.assertOpen();
    checkContacts(rows);
    await this.append('contacts', CONTACT_COLUMNS, rows, 'contact_id', 'contacts');
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    const rows = await this.read(
      `SELECT ${selectList('duckdb', DECISION_COLUMNS)} FROM decisions WHERE decision_id = ?`,
      [id],
      [VARCHAR],
    );
    return rows[0] ? rowToDecision(rows[0]) : null;
  }

  async contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>> {
    const since = sinceIso(sinceMs);
    if (accountIds.length === 0) return new Map();
    const cols = CONTACT_COLUMNS.filter((c) => (CONTACT_ROW_FIELDS as readonly string[]).includes(c.name));
    const rows = await this.read(
      `SELECT ${selectList('duckdb', cols)} FROM contacts
       WHERE account_id IN (SELECT unnest(?)) AND contacts.ts >= ?::TIMESTAMPTZ
       ORDER BY contacts.account_id, contacts.ts, contacts.contact_id`,
      [listValue([...accountIds]), since],
      [LIST(VARCHAR), VARCHAR],
    );
    return groupContacts(rows);
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

  private read(sql: string, values: DuckDBValue[], types: DuckDBType[]): Promise<Record<string, unknown>[]> {
    this.assertOpen();
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

  /** Inserts `rows` in one transaction on the writer connection, behind every write queued before. */
  private append(
    table: string,
    cols: readonly Column[],
    rows: readonly object[],
    key: string,
    what: string,
  ): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const values = rows.map((r) => rowValues(cols, r));
    const lists = cols.map((_, j) => listValue(values.map((v) => v[j] ?? null)));
    return this.writes.run(async () => {
      try {
        await this.writer.run('BEGIN TRANSACTION');
        const stmt = await this.statement(table, cols);
        stmt.bind(lists, cols.map(listType));
        await stmt.run();
        await this.writer.run('COMMIT');
      } catch (e) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        const dup = duplicateKey(e);
        if (dup.found) throw duplicateInLedger(key, dup.id, rows.length, what, e);
        throw new LedgerError(
          'unavailable',
          `cannot append ${rows.length} ${what} to the DuckDB ledger at ${this.path}: ${errorText(e)}`,
          { cause: e },
        );
      }
    });
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
