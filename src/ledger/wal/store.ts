import type { ContactRecord, DecisionRecord, Ledger, ReviewEventRecord, StoredAnswer } from '../contract.ts';
import {
  ANSWER_COLUMNS,
  answerRow,
  CONTACT_COLUMNS,
  type Column,
  DECISION_COLUMNS,
  REVIEW_COLUMNS,
} from '../schema-sql.ts';
import type { WalPosition } from './log.ts';

/** One logged operation, as the log holds it (JSON) and as the store loads it. */
export type WalOp =
  | { t: 'decisions'; rows: DecisionRecord[]; answer: StoredAnswer | null }
  | { t: 'contacts'; rows: ContactRecord[]; answer: StoredAnswer | null }
  /** `appendReviewEvents` (automated-decision rights; logs written before ledger layout 3 hold none). */
  | { t: 'reviews'; rows: ReviewEventRecord[]; answer: StoredAnswer | null }
  /** `pruneAnswers(beforeMs)`: logged so a restart replays it in order (a pruned key may be used again). */
  | { t: 'prune'; beforeMs: number };

/**
 * How a load's COMMIT is run: the store hands it its COMMIT (and whatever it updates in the turn the commit
 * resolves); the log runs it under its lock, with the batch leaving memory in the same hold, so reads that merge
 * the store with the unloaded records never see the batch in both places or in neither. The inserts before it run
 * while reads go on (the store's other connections do not see them until the commit). Default: run it as is.
 */
export type CommitUnder = (commit: () => Promise<void>) => Promise<void>;

/**
 * Beside a load's ops, in the same order: the UTF-8 JSON text of each op's `rows` as the log wrote it (the bytes
 * inside its record), or null (an op read back at open, a prune). A store may insert from these bytes instead of
 * serialising the rows again: the JSON of a large batch was a fifth of the main thread when made twice.
 */
export type RowsJson = readonly (Uint8Array | null)[];

/** Ids asked about in one `heldIds` call. */
export interface IdQuery {
  decisions: readonly string[];
  contacts: readonly string[];
  /** `answerId(scope, key)` of stored answers. */
  answers: readonly string[];
  /** Review event ids (absent: none asked about). */
  reviews?: readonly string[];
}

/**
 * What a store needs beyond the Ledger contract to sit under the write-ahead log (DuckDB and PostgreSQL have it).
 *
 * Exactly-once loading: `loadWal` writes a batch of logged operations AND the position it loaded through in one
 * transaction (table `wal_position`, one row per log id). After a crash between that commit and the retirement of
 * the loaded segments, the reopened log skips every record at or before the stored position, so nothing is loaded
 * twice; a crash before the commit leaves neither rows nor position, so the batch is loaded again whole.
 */
export interface WalStore extends Ledger {
  /** The position of log `walId` loaded so far, or null when none of it was. */
  walPosition(walId: string): Promise<WalPosition | null>;
  /**
   * In ONE transaction: each op in order (rows and answers inserted, a prune deleting answers created before its
   * bound), then the log's loaded position set to `through`. All or nothing.
   */
  loadWal(
    ops: readonly WalOp[],
    walId: string,
    through: WalPosition,
    commitUnder?: CommitUnder,
    rowsJson?: RowsJson,
  ): Promise<void>;
  /** Which of these ids the store holds, as `d:<decision_id>`, `c:<contact_id>`, `a:<answer_id>`, `r:<event_id>`. */
  heldIds(q: IdQuery): Promise<Set<string>>;
  /**
   * Every id the store holds, in those prefixed forms, handed over a chunk at a time (for the log's id filter, see
   * id-filter.ts). Optional: without it every append asks `heldIds`.
   */
  forEachHeldKey?(onKeys: (keys: readonly string[]) => void): Promise<void>;
  /**
   * Every account with a contact in the store, a chunk at a time (for the log's filter of accounts with contacts:
   * the score path reads no store for an account the filter rules out). Optional, like `forEachHeldKey`.
   */
  forEachContactAccount?(onIds: (ids: readonly string[]) => void): Promise<void>;
  /**
   * False when the store certainly holds no review event of the account, answered synchronously from what the
   * store knows as its only writer (DuckDB keeps the exact set of accounts with an event, updated in the same turn
   * a load commits). Optional: without it (PostgreSQL, which other processes write) every read asks the store.
   */
  mayHaveReviewEvents?(accountId: string): boolean;
}

/** The DDL of the `wal_position` table, the same in both dialects. */
export const WAL_POSITION_DDL =
  'CREATE TABLE IF NOT EXISTS wal_position (wal_id VARCHAR(64) PRIMARY KEY, segment DOUBLE PRECISION NOT NULL, end_offset DOUBLE PRECISION NOT NULL)';

/** Upserts a log's loaded position: `$1`/`?` wal_id, segment, end offset (placeholders per dialect). */
export function walPositionUpsert(dialect: 'duckdb' | 'postgres'): string {
  const p = dialect === 'duckdb' ? ['?', '?', '?'] : ['$1', '$2', '$3'];
  return `INSERT INTO wal_position (wal_id, segment, end_offset) VALUES (${p.join(', ')})
    ON CONFLICT (wal_id) DO UPDATE SET segment = excluded.segment, end_offset = excluded.end_offset`;
}

/**
 * Replays logged operations in log order inside a store's load transaction: the rows between two prunes go in as
 * one insert per table, and each prune deletes only the answers stored before it (a key pruned and then used again
 * keeps its new answer). The store supplies the insert and the delete in its own dialect.
 */
export async function replayOps(
  ops: readonly WalOp[],
  insert: (
    table: string,
    cols: readonly Column[],
    rows: readonly object[],
    json: Uint8Array | null,
  ) => Promise<void>,
  prune: (beforeMs: number) => Promise<void>,
  rowsJson?: RowsJson,
): Promise<void> {
  let run: { op: Exclude<WalOp, { t: 'prune' }>; json: Uint8Array | null }[] = [];
  const rowsOf = async (t: 'decisions' | 'contacts' | 'reviews', table: string, cols: readonly Column[]) => {
    const mine = run.filter((r) => r.op.t === t && r.op.rows.length > 0);
    const rows = mine.flatMap((r) => r.op.rows as object[]);
    await insert(table, cols, rows, joinJsonArrays(mine.map((r) => r.json)));
  };
  const insertRun = async () => {
    await rowsOf('decisions', 'decisions', DECISION_COLUMNS);
    await rowsOf('contacts', 'contacts', CONTACT_COLUMNS);
    await rowsOf('reviews', 'review_events', REVIEW_COLUMNS);
    await insert(
      'idempotency_keys',
      ANSWER_COLUMNS,
      run.flatMap((r) => (r.op.answer ? [answerRow(r.op.answer)] : [])),
      null,
    );
    run = [];
  };
  for (const [i, op] of ops.entries()) {
    if (op.t !== 'prune') {
      run.push({ op, json: rowsJson?.[i] ?? null });
      continue;
    }
    await insertRun();
    await prune(op.beforeMs);
  }
  await insertRun();
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;

/**
 * The rows' JSON as the log and the store take it. `JSON.stringify` writes a lone UTF-16 surrogate (text no UTF-8
 * can hold) as a `\udXXX` escape, which DuckDB's JSON reader refuses: one such string would fail every load of its
 * record, at every open, and the log would only grow. Each becomes U+FFFD, what the store's VARCHAR binding stored
 * for it before the rows went in as JSON (a lone surrogate has no UTF-8 form). Paired surrogates are written as
 * themselves, never escaped, so every escape in that range is a lone one; an escaped backslash before `u` is not.
 */
export function rowsJsonText(rows: readonly unknown[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\ud') ? json.replace(LONE_SURROGATE, '$1\\ufffd') : json;
}

const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * One JSON array of the elements of several (each the UTF-8 text of a non-empty array, as `JSON.stringify` wrote
 * it: `[` first, `]` last, no space): their insides joined by commas, one copy. Null when any is missing.
 */
export function joinJsonArrays(parts: readonly (Uint8Array | null)[]): Uint8Array | null {
  if (parts.length === 0 || parts.some((p) => p === null)) return null;
  const all = parts as readonly Uint8Array[];
  if (all.length === 1) return all[0]!;
  let size = 1;
  for (const p of all) size += p.length - 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of all) {
    if (p.length < 3 || p[0] !== OPEN || p[p.length - 1] !== CLOSE)
      throw new RangeError('not the text of a non-empty JSON array');
    out[at] = at === 0 ? OPEN : COMMA;
    out.set(p.subarray(1, p.length - 1), at + 1);
    at += p.length - 1;
  }
  out[at] = CLOSE;
  return out;
}
