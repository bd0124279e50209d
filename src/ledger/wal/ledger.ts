import { reviewOrder } from '../../core/policy/human-review.ts';
import type { ContactRow } from '../../core/schema/tables.ts';
import { appendWithinLimit, SlotTurns, VISIT_TREATMENT } from '../call-slots.ts';
import type {
  AuditQuery,
  CallSlotLimit,
  ContactRecord,
  DecisionRecord,
  Ledger,
  ReviewEventRecord,
  StoredAnswer,
} from '../contract.ts';
import {
  answerId,
  answerTaken,
  CONTACT_COLUMNS,
  checkAnswer,
  checkContacts,
  checkDecisions,
  checkReviewEvents,
  DECISION_COLUMNS,
  duplicateInLedger,
  errorText,
  LedgerError,
  REVIEW_COLUMNS,
  sinceIso,
} from '../schema-sql.ts';
import type { WalFs } from './fs.ts';
import { IdFilter } from './id-filter.ts';
import { ReadWriteLock } from './lock.ts';
import {
  comparePositions,
  WalLog as Log,
  type TailCut,
  type WalLog,
  type WalPosition,
  type WalStats,
  type WalSyncMode,
} from './log.ts';
import { ContactWindows, SlotCounts, type WindowItem, windowOrder } from './read-cache.ts';
import { rowsJsonText, type WalOp, type WalStore } from './store.ts';

export interface WalLedgerOptions {
  /** Start a new log segment past this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** How the log makes a group durable (see `WalSyncMode`; default `O_DSYNC` writes where the platform has them). */
  sync?: WalSyncMode;
  /** How long the loader waits after an append before it loads, so loads come in batches (default 20 ms). */
  loadDelayMs?: number;
  /** At most this many logged operations per load transaction (default 5,000). */
  loadBatch?: number;
  /** After a failed load, wait this long before trying again (default 1 s). */
  retryMs?: number;
  /**
   * This process is the store's only writer (default: true over DuckDB, whose file lock makes it so; false over
   * PostgreSQL, which other instances may write to). Then recent contact windows and call-slot counts are kept in
   * memory, current with every append, and an id filter built from the store at open spares most appends the
   * store query that checks their ids. Off, every such read merges the store with the unloaded records, and every
   * append asks the store.
   */
  soleWriter?: boolean;
  /** At most this many accounts' contact windows are kept (default 100,000; least recently read dropped). */
  cachedAccounts?: number;
  /** Hears what the log says about itself: a cut tail at open, a failed load. Default: stderr. */
  onNotice?: (message: string) => void;
  fs?: WalFs;
}

/** A WAL ledger also says what its log did: the tail it cut at open, its counters, and when the store caught up. */
export interface WalLedger extends Ledger {
  /** The damaged tail cut at open, or null. */
  readonly cut: TailCut | null;
  /** The log's counters since open (appends, writes, syncs, bytes). */
  logStats(): WalStats;
  /** How many logged operations are not in the store yet. */
  unloaded(): number;
  /** Loads everything logged so far into the store (and retires the loaded segments); for tests and close. */
  drain(): Promise<void>;
}

/** A logged operation waiting for the store, in log order. */
interface Entry {
  op: WalOp;
  /** Set once the record is durable. */
  position: WalPosition | null;
  /** The lowest segment the record can be in (the active one when it was queued). */
  fromSegment: number;
  /** The UTF-8 JSON of `op.rows` inside the logged record, handed to the store's load (null when read at open). */
  rowsJson: Uint8Array | null;
}

type RowOp = Exclude<WalOp, { t: 'prune' }>;

/** How each kind of row operation names its records: in errors, by id field, and by key prefix. */
const ROW_OPS: Record<RowOp['t'], { what: string; field: string; prefix: string }> = {
  decisions: { what: 'decisions', field: 'decision_id', prefix: 'd:' },
  contacts: { what: 'contacts', field: 'contact_id', prefix: 'c:' },
  reviews: { what: 'review events', field: 'event_id', prefix: 'r:' },
};

const instant = (v: string) => new Date(Date.parse(v)).toISOString();
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A decision as the stores give it back: every column present (null when absent), JSON values copied. */
function normalDecision(r: DecisionRecord): DecisionRecord {
  const src = r as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const c of DECISION_COLUMNS) out[c.name] = src[c.name] ?? null;
  return out as unknown as DecisionRecord;
}

/** A contact as the stores give it back: instants in UTC with milliseconds, every column present. */
function normalContact(r: ContactRecord): ContactRecord {
  const src = r as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const c of CONTACT_COLUMNS) out[c.name] = src[c.name] ?? null;
  out.ts = instant(r.ts);
  out.recorded_at = instant(r.recorded_at);
  return out as unknown as ContactRecord;
}

/** A review event as the stores give it back: every column present, instants in UTC with milliseconds. */
function normalReview(r: ReviewEventRecord): ReviewEventRecord {
  const src = r as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const c of REVIEW_COLUMNS) out[c.name] = src[c.name] ?? null;
  out.ts = instant(r.ts);
  out.recorded_at = instant(r.recorded_at);
  return out as unknown as ReviewEventRecord;
}

function normalAnswer(a: StoredAnswer): StoredAnswer {
  return {
    scope: a.scope,
    key: a.key,
    fingerprint: a.fingerprint,
    request_id: a.request_id,
    created_at: a.created_at,
    status: a.status,
    body: a.body,
  };
}

const asRow = (c: ContactRecord): ContactRow => ({
  account_id: c.account_id,
  ts: c.ts,
  channel: c.channel,
  outcome: c.outcome,
  promise_amount: c.promise_amount,
  promise_date: c.promise_date,
  agent_id: c.agent_id,
});

/**
 * Opens a ledger whose durability point is a write-ahead log in `dir` (DESIGN §7), over `inner` (DuckDB or
 * PostgreSQL) that holds the records for queries and audits.
 *
 * - An append is checked (records, answer, ids and idempotency key unique across the log and the store), logged,
 *   and resolves once the log's group commit has synced it: concurrent appends share one `write` + `fdatasync`.
 * - A background loader copies logged operations into `inner` in batches, each batch in one store transaction
 *   together with the log position it reaches (exactly once: see `WalStore`), then removes fully loaded segments.
 * - Records logged but not yet loaded are kept in memory and every read merges them with the store, so a read
 *   sees every acknowledged record. At open the log is scanned (a torn tail cut and reported, see `WalLog.open`)
 *   and what the store has not loaded yet is put back in memory and queued for loading.
 *
 * One process owns a log directory at a time.
 * @throws {LedgerError} `unavailable` when the log cannot be opened or read, or the store cannot say how far it
 *   loaded the log.
 */
export async function openWalLedger(
  inner: WalStore,
  dir: string,
  opts: WalLedgerOptions = {},
): Promise<WalLedger> {
  const scanned: { position: WalPosition; payload: Buffer }[] = [];
  const { log, cut } = await Log.open(dir, (r) => scanned.push(r), {
    ...(opts.segmentBytes !== undefined ? { segmentBytes: opts.segmentBytes } : {}),
    ...(opts.sync ? { sync: opts.sync } : {}),
    ...(opts.fs ? { fs: opts.fs } : {}),
  });
  const notice = opts.onNotice ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (cut)
    notice(
      `write-ahead log: cut a damaged tail of ${cut.bytes} bytes from ${cut.file} at byte ${cut.offset} (${cut.reason}: ${cut.detail}); records before it are kept`,
    );
  let loaded: WalPosition | null;
  try {
    loaded = await inner.walPosition(log.id);
  } catch (e) {
    await log.close();
    throw e;
  }
  const ledger = new WalLedgerImpl(inner, log, cut, opts, notice);
  try {
    await ledger.buildFilter();
  } catch (e) {
    await log.close();
    throw e;
  }
  for (const r of scanned) {
    if (loaded && comparePositions(r.position, loaded) <= 0) continue;
    let op: WalOp;
    try {
      op = JSON.parse(r.payload.toString('utf8')) as WalOp;
    } catch (e) {
      await log.close();
      throw new LedgerError(
        'unavailable',
        `the write-ahead log record ending at byte ${r.position.end} of segment ${r.position.segment} in ${dir} passed its checksum but is not JSON: ${errorText(e)}`,
      );
    }
    ledger.replay(op, r.position);
  }
  await ledger.retire();
  ledger.scheduleLoad();
  return ledger;
}

class WalLedgerImpl implements WalLedger {
  readonly kind: string;
  private readonly slotTurns = new SlotTurns();
  private readonly decisions = new Map<string, DecisionRecord>();
  private readonly contacts = new Map<string, ContactRecord>();
  private readonly contactsByAccount = new Map<string, ContactRecord[]>();
  private readonly answers = new Map<string, StoredAnswer>();
  private readonly reviews = new Map<string, ReviewEventRecord>();
  private readonly reviewsByAccount = new Map<string, ReviewEventRecord[]>();
  /** Ids and keys of appends in flight ('d:', 'c:', 'a:' prefixed): a second append waits for the first. */
  private readonly claims = new Map<string, Promise<void>>();
  private queue: Entry[] = [];
  /** Reads that merge the store with memory share it; a load's commit (and the batch leaving memory) takes it alone. */
  private readonly lock = new ReadWriteLock();
  /** A load from choosing its batch to its commit, and a prune, take turns (only the write side is used). */
  private readonly loadTurn = new ReadWriteLock();
  private checks: {
    keys: readonly string[];
    resolve: (held: Set<string>) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private checking: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<void> | null = null;
  private closed = false;
  private readonly loadDelayMs: number;
  private readonly loadBatch: number;
  private readonly retryMs: number;
  /** Every key the store holds, maybe more (only when this process is the store's only writer). */
  private filter: IdFilter | null = null;
  /**
   * Every account with a contact in the store or logged since open, maybe more (only as the store's only writer):
   * an account it rules out has no contact anywhere, so its window is filled empty without reading the store.
   */
  private contactAccounts: IdFilter | null = null;
  /** Null unless this process is the store's only writer (see `soleWriter`). */
  private readonly windows: ContactWindows | null;
  private readonly slots: SlotCounts | null;

  constructor(
    private readonly inner: WalStore,
    private readonly log: WalLog,
    readonly cut: TailCut | null,
    opts: WalLedgerOptions,
    private readonly notice: (m: string) => void,
  ) {
    this.kind = `wal+${inner.kind}`;
    this.loadDelayMs = opts.loadDelayMs ?? 20;
    this.loadBatch = opts.loadBatch ?? 5000;
    this.retryMs = opts.retryMs ?? 1000;
    const cache = opts.soleWriter ?? inner.kind === 'duckdb';
    this.windows = cache ? new ContactWindows(opts.cachedAccounts ?? 100_000) : null;
    this.slots = cache ? new SlotCounts() : null;
  }

  logStats(): WalStats {
    return this.log.stats();
  }

  unloaded(): number {
    return this.queue.length;
  }

  /**
   * Fills the id filter from the store (only when this process is its only writer and it can list its ids),
   * before the log's unloaded records are replayed (they reach it through `remember`).
   */
  async buildFilter(): Promise<void> {
    if (!this.windows || !this.inner.forEachHeldKey) return;
    const c = await this.inner.counts();
    const filter = new IdFilter(2 * (c.decisions + c.contacts) + 100_000);
    await this.inner.forEachHeldKey((keys) => {
      for (const k of keys) filter.add(k);
    });
    this.filter = filter;
    if (this.inner.forEachContactAccount) {
      const accounts = new IdFilter(c.contacts + 100_000);
      await this.inner.forEachContactAccount((ids) => {
        for (const id of ids) accounts.add(id);
      });
      this.contactAccounts = accounts;
    }
  }

  /** Puts a logged, not yet loaded operation back in memory and in the load queue (open). */
  replay(op: WalOp, position: WalPosition): void {
    this.queue.push({ op, position, fromSegment: position.segment, rowsJson: null });
    if (op.t === 'prune') this.pruneMemory(op.beforeMs);
    else this.remember(op);
  }

  async appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void> {
    this.assertOpen();
    checkDecisions(rows);
    if (answer) checkAnswer(answer);
    if (rows.length === 0 && !answer) return;
    const op: RowOp = {
      t: 'decisions',
      rows: rows.map(normalDecision),
      answer: answer ? normalAnswer(answer) : null,
    };
    const append = () => this.track(this.append(op));
    // One process owns the log, so the check and the append taking turns in this process is enough.
    if (limit) await appendWithinLimit(this.slotTurns, rows, limit, this, append);
    else await append();
  }

  async appendReviewEvents(rows: readonly ReviewEventRecord[], answer?: StoredAnswer): Promise<void> {
    this.assertOpen();
    checkReviewEvents(rows);
    if (answer) checkAnswer(answer);
    if (rows.length === 0 && !answer) return;
    const op: RowOp = {
      t: 'reviews',
      rows: rows.map(normalReview),
      answer: answer ? normalAnswer(answer) : null,
    };
    await this.track(this.append(op));
  }

  /** The store's events merged with the unloaded ones, under the read lock (as the audit reads). */
  reviewEvents(accountIds: readonly string[]): Promise<Map<string, ReviewEventRecord[]>> {
    this.assertOpen();
    const ids = [...new Set(accountIds)];
    if (ids.length === 0) return Promise.resolve(new Map());
    // The score path asks for every account it decides, and most never asked for a review. When the store (its
    // only writer, synchronously) holds none for these accounts, memory holds every one there is: answered in this
    // turn, without waiting for a load in progress to release the lock (it used to hold every score request for
    // the length of the store's commit). A load moves an event into the store and the store marks its account in
    // the turn its commit resolves, before the event leaves memory, so no turn sees it in neither place.
    const store = this.inner;
    if (this.windows && store.mayHaveReviewEvents && !ids.some((id) => store.mayHaveReviewEvents!(id)))
      return Promise.resolve(this.unloadedReviews(ids, new Map()));
    return this.lock.read(async () => this.unloadedReviews(ids, await this.inner.reviewEvents(ids)));
  }

  /** `stored` merged with the unloaded events of `ids`, in review order, copied (accounts with none left out). */
  private unloadedReviews(
    ids: readonly string[],
    stored: ReadonlyMap<string, readonly ReviewEventRecord[]>,
  ): Map<string, ReviewEventRecord[]> {
    const out = new Map<string, ReviewEventRecord[]>();
    for (const id of ids) {
      const list = [...(stored.get(id) ?? []), ...(this.reviewsByAccount.get(id) ?? [])];
      if (list.length)
        out.set(
          id,
          list.sort(reviewOrder).map((e) => ({ ...e })),
        );
    }
    return out;
  }

  async appendContacts(rows: readonly ContactRecord[], answer?: StoredAnswer): Promise<void> {
    this.assertOpen();
    checkContacts(rows);
    if (answer) checkAnswer(answer);
    if (rows.length === 0 && !answer) return;
    const op: RowOp = {
      t: 'contacts',
      rows: rows.map(normalContact),
      answer: answer ? normalAnswer(answer) : null,
    };
    await this.track(this.append(op));
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    this.assertOpen();
    // Memory first, then the store: the loader commits a record to the store before it leaves memory, so a miss
    // here means it is either in the store already or nowhere.
    const hit = this.decisions.get(id);
    return hit ? structuredClone(hit) : this.inner.getDecision(id);
  }

  async getAnswer(scope: string, key: string): Promise<StoredAnswer | null> {
    this.assertOpen();
    const hit = this.answers.get(answerId(scope, key));
    return hit ? { ...hit } : this.inner.getAnswer(scope, key);
  }

  /**
   * Logs the prune (so a restart replays it in order, and a pruned key may be used again), then deletes the
   * answers in memory and in the store.
   */
  async pruneAnswers(beforeMs: number): Promise<number> {
    this.assertOpen();
    sinceIso(beforeMs);
    // The loader is held off from the log append to the store delete: an answer it moved meanwhile would be
    // counted twice, or not at all.
    return this.track(
      this.loadTurn.write(() =>
        this.lock.write(async () => {
          await this.logOp({ t: 'prune', beforeMs });
          return this.pruneMemory(beforeMs) + (await this.inner.pruneAnswers(beforeMs));
        }),
      ),
    );
  }

  contactHistory(q: AuditQuery): Promise<ContactRecord[]> {
    this.assertOpen();
    return this.lock.read(async () => {
      const stored = await this.inner.contactHistory(q);
      const mine = (this.contactsByAccount.get(q.accountId) ?? []).map((c) => ({
        rec: c,
        ms: Date.parse(c.ts),
        id: c.contact_id,
      }));
      return pageMerge(stored, (c) => ({ ms: Date.parse(c.ts), id: c.contact_id }), mine, q).map((c) => ({
        ...c,
      }));
    });
  }

  decisionHistory(q: AuditQuery): Promise<DecisionRecord[]> {
    this.assertOpen();
    return this.lock.read(async () => {
      const stored = await this.inner.decisionHistory(q);
      const mine = [...this.decisions.values()]
        .filter((d) => d.account_id === q.accountId)
        .map((d) => ({ rec: d, ms: Date.parse(d.decided_at), id: d.decision_id }));
      return pageMerge(stored, (d) => ({ ms: Date.parse(d.decided_at), id: d.decision_id }), mine, q).map(
        (d) => structuredClone(d),
      );
    });
  }

  async contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>> {
    this.assertOpen();
    sinceIso(sinceMs);
    const ids = [...new Set(accountIds)];
    if (ids.length === 0) return new Map();
    const windows = this.windows;
    if (!windows) {
      const items = await this.readWindows(ids, sinceMs);
      const out = new Map<string, ContactRow[]>();
      for (const [id, list] of items)
        if (list.length)
          out.set(
            id,
            list.map((it) => it.row),
          );
      return out;
    }
    let missing = windows.missing(ids, sinceMs);
    const known = this.contactAccounts;
    if (known && missing.length) {
      // An account never seen with a contact (most accounts a dialer asks about the first time) has none in the
      // store and none unloaded: its window is empty, and the store is not asked (a query costs milliseconds).
      for (const id of missing) if (!known.mayHold(id)) windows.fill(id, sinceMs, []);
      missing = missing.filter((id) => known.mayHold(id));
    }
    if (missing.length) {
      const filled = await this.readWindows(missing, sinceMs);
      for (const id of missing) windows.fill(id, sinceMs, filled.get(id) ?? []);
    }
    const out = new Map<string, ContactRow[]>();
    for (const id of ids) {
      // A window dropped (or narrowed) while this read waited is read again, alone.
      const rows =
        windows.read(id, sinceMs) ?? (await this.readWindows([id], sinceMs)).get(id)?.map((it) => it.row);
      if (rows?.length) out.set(id, rows);
    }
    return out;
  }

  /**
   * The contacts of `ids` at or after `sinceMs` from the store and the unloaded records, in window order. The
   * memory half is taken in the same turn the store's answer arrives, under the read lock: every contact
   * acknowledged before that turn is in it, and every later one reaches a window through `remember`.
   */
  private readWindows(ids: readonly string[], sinceMs: number): Promise<Map<string, WindowItem[]>> {
    return this.lock.read(async () => {
      const stored = await this.inner.contactsFor(ids, sinceMs);
      const out = new Map<string, WindowItem[]>();
      for (const id of ids) {
        const items: WindowItem[] = (stored.get(id) ?? []).map((row) => ({
          row,
          ms: Date.parse(row.ts),
          id: null,
        }));
        for (const c of this.contactsByAccount.get(id) ?? []) {
          const ms = Date.parse(c.ts);
          if (ms >= sinceMs) items.push({ row: asRow(c), ms, id: c.contact_id });
        }
        items.sort(windowOrder);
        out.set(id, items);
      }
      return out;
    });
  }

  async callSlotsUsed(sinceMs: number): Promise<Map<string, number>> {
    this.assertOpen();
    sinceIso(sinceMs);
    const hit = this.slots?.get(sinceMs);
    if (hit) return hit;
    return this.lock.read(async () => {
      const out = await this.inner.callSlotsUsed(sinceMs);
      for (const d of this.decisions.values())
        if (d.call_team !== null && Date.parse(d.decided_at) >= sinceMs)
          out.set(d.call_team, (out.get(d.call_team) ?? 0) + 1);
      // Same turn as the memory count: every later decision is counted by `remember`.
      this.slots?.set(sinceMs, new Map(out));
      return out;
    });
  }

  async visitsUsed(sinceMs: number): Promise<number> {
    this.assertOpen();
    sinceIso(sinceMs);
    const hit = this.slots?.getVisits(sinceMs);
    if (hit !== undefined) return hit;
    return this.lock.read(async () => {
      let n = await this.inner.visitsUsed(sinceMs);
      for (const d of this.decisions.values())
        if (d.treatment === VISIT_TREATMENT && Date.parse(d.decided_at) >= sinceMs) n++;
      // Same turn as the memory count: every later decision is counted by `remember`.
      this.slots?.setVisits(sinceMs, n);
      return n;
    });
  }

  counts(): Promise<{ decisions: number; contacts: number }> {
    this.assertOpen();
    return this.lock.read(async () => {
      const c = await this.inner.counts();
      return { decisions: c.decisions + this.decisions.size, contacts: c.contacts + this.contacts.size };
    });
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    return this.inner.ping();
  }

  async drain(): Promise<void> {
    while (this.loading) await this.loading;
    while (this.queue.length > 0 && this.queue[0]!.position !== null) {
      this.loading = this.loadOnce().then(() => undefined);
      try {
        await this.loading;
      } finally {
        this.loading = null;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
    try {
      await this.drain();
    } catch (e) {
      this.notice(
        `write-ahead log: ${this.queue.length} logged operations not loaded into the ${this.inner.kind} store at close (they stay in the log and load at the next open): ${errorText(e)}`,
      );
    }
    await this.log.close();
    await this.inner.close();
  }

  /** Starts the loader after `loadDelayMs` unless it is running or due. */
  scheduleLoad(delay = this.loadDelayMs): void {
    if (this.timer || this.loading || this.closed) return;
    if (this.queue.length === 0 || this.queue[0]!.position === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.loading = this.loadOnce()
        .then(
          () => this.scheduleLoadAfter(0),
          (e: unknown) => {
            this.notice(
              `write-ahead log: loading into the ${this.inner.kind} store failed, retrying: ${errorText(e)}`,
            );
            this.scheduleLoadAfter(this.retryMs);
          },
        )
        .finally(() => undefined);
    }, delay);
    this.timer.unref?.();
  }

  private scheduleLoadAfter(delay: number): void {
    this.loading = null;
    this.scheduleLoad(delay);
  }

  /** Loads the longest durable prefix of the queue (at most `loadBatch` operations) in one store transaction. */
  private async loadOnce(): Promise<void> {
    await this.loadTurn.write(async () => {
      // Taken in the loader's turn: a prune that had it first is in the queue now, and its answers are gone from
      // memory; a prune that comes later waits until this batch is committed.
      const batch: Entry[] = [];
      for (const e of this.queue) {
        if (e.position === null || batch.length >= this.loadBatch) break;
        batch.push(e);
      }
      if (batch.length === 0) return;
      // Reads are held off only while the store commits and the batch leaves memory, not while its rows are
      // inserted: the score path's reads (contact windows of accounts it has not seen yet) go on meanwhile.
      await this.inner.loadWal(
        batch.map((e) => this.unpruned(e.op)),
        this.log.id,
        batch.at(-1)!.position!,
        (commit) =>
          this.lock.write(async () => {
            await commit();
            // Nothing but the loader removes from the head, and the batch is the head.
            this.queue.splice(0, batch.length);
            for (const e of batch) this.forget(e.op);
          }),
        batch.map((e) => e.rowsJson),
      );
    });
    // The batch is loaded whatever happens next: a segment that cannot be removed now is removed by a later
    // load or the next open (its records are skipped there, the store holding their position).
    await this.retire().catch((e: unknown) =>
      this.notice(`write-ahead log: cannot remove loaded segments from ${this.log.dir}: ${errorText(e)}`),
    );
  }

  /**
   * The op as it should reach the store: without its answer when that answer was pruned before it was loaded (an
   * unloaded answer stays the one memory holds for its key until it is loaded or pruned), so a pruned answer never
   * comes back in the store, whatever batch its prune falls in.
   */
  private unpruned(op: WalOp): WalOp {
    if (op.t === 'prune' || !op.answer) return op;
    return this.answers.get(answerId(op.answer.scope, op.answer.key)) === op.answer
      ? op
      : { ...op, answer: null };
  }

  /** Removes the segments that hold nothing the store still lacks. */
  async retire(): Promise<void> {
    const first = this.queue[0];
    const keep = first ? (first.position?.segment ?? first.fromSegment) : this.log.activeSegment;
    await this.log.retireBelow(keep);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Logs an operation and queues it for the loader; resolves once it is durable. */
  private async logOp(op: WalOp): Promise<void> {
    // The rows are serialised once: the record holds their bytes, and the loader hands the same bytes to the store.
    const rowsJson = op.t === 'prune' || op.rows.length === 0 ? null : Buffer.from(rowsJsonText(op.rows));
    const entry: Entry = { op, position: null, fromSegment: this.log.activeSegment, rowsJson };
    const payload = rowsJson ? recordWithRows(op as RowOp, rowsJson) : Buffer.from(JSON.stringify(op));
    // Queued in the same turn as the log call, so the queue is in log order.
    this.queue.push(entry);
    try {
      entry.position = await this.log.append(payload);
    } catch (e) {
      this.queue.splice(this.queue.indexOf(entry), 1);
      throw e;
    }
    // Visible to reads in the same turn it became durable, before any loader can pick it up.
    if (op.t !== 'prune') this.remember(op);
    this.scheduleLoad();
  }

  private async append(op: RowOp): Promise<void> {
    const { what, field, prefix } = ROW_OPS[op.t];
    const ids = op.rows.map((r) => (r as unknown as Record<string, string>)[field]!);
    const keys = ids.map((id) => prefix + id);
    const aKey = op.answer ? `a:${answerId(op.answer.scope, op.answer.key)}` : null;
    if (aKey) keys.push(aKey);
    const refuse = (key: string): LedgerError =>
      key === aKey
        ? answerTaken(op.answer!, op.rows.length, what, null)
        : duplicateInLedger(field, key.slice(2), op.rows.length, what, null);

    let release!: () => void;
    const settled = new Promise<void>((r) => {
      release = r;
    });
    try {
      // Claim every id and the key; an append in flight with any of them goes first, then this one looks again.
      for (;;) {
        const busy = keys.flatMap((k) => this.claims.get(k) ?? []);
        if (busy.length === 0) break;
        await Promise.all(busy);
      }
      const inMemory = keys.find((k) => this.heldInMemory(k));
      if (inMemory) throw refuse(inMemory);
      for (const k of keys) this.claims.set(k, settled);
      try {
        // Memory was looked at first: a record the loader moves meanwhile is in the store before it leaves memory.
        // The store is asked only about keys the filter cannot rule out (with no filter, about all of them).
        const filter = this.filter;
        const ask = filter ? keys.filter((k) => filter.mayHold(k)) : keys;
        const held = ask.length ? await this.storeHolds(ask) : new Set<string>();
        const inStore = keys.find((k) => held.has(k));
        if (inStore) throw refuse(inStore);
        await this.logOp(op);
      } finally {
        for (const k of keys) if (this.claims.get(k) === settled) this.claims.delete(k);
      }
    } finally {
      release();
    }
  }

  /**
   * Which of `keys` the store holds. Group read: checks that arrive while one store query runs wait for it and
   * then share one query, so concurrent appends reach the log together and share its syncs (one query per
   * append would feed the log one record at a time, and group commit would group nothing).
   */
  private storeHolds(keys: readonly string[]): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      this.checks.push({ keys, resolve, reject });
      this.kickChecks();
    });
  }

  private kickChecks(): void {
    if (this.checking || this.checks.length === 0) return;
    const group = this.checks.splice(0);
    const all = group.flatMap((g) => g.keys);
    const ids = (p: string) => all.filter((k) => k.startsWith(p)).map((k) => k.slice(2));
    const reviews = ids('r:');
    this.checking = this.inner
      .heldIds({
        decisions: ids('d:'),
        contacts: ids('c:'),
        answers: ids('a:'),
        ...(reviews.length ? { reviews } : {}),
      })
      .then(
        (held) => {
          for (const g of group) g.resolve(held);
        },
        (e: unknown) => {
          for (const g of group) g.reject(e);
        },
      )
      .finally(() => {
        this.checking = null;
        this.kickChecks();
      });
  }

  private heldInMemory(key: string): boolean {
    const id = key.slice(2);
    if (key.startsWith('d:')) return this.decisions.has(id);
    if (key.startsWith('c:')) return this.contacts.has(id);
    if (key.startsWith('r:')) return this.reviews.has(id);
    return this.answers.has(id);
  }

  /** Makes a logged operation's records visible to reads. */
  private remember(op: RowOp): void {
    if (op.t === 'reviews')
      for (const r of op.rows) {
        this.reviews.set(r.event_id, r);
        const list = this.reviewsByAccount.get(r.account_id);
        if (list) list.push(r);
        else this.reviewsByAccount.set(r.account_id, [r]);
        this.filter?.add(`r:${r.event_id}`);
      }
    else if (op.t === 'decisions')
      for (const d of op.rows) {
        this.decisions.set(d.decision_id, d);
        this.slots?.add(d);
        this.filter?.add(`d:${d.decision_id}`);
      }
    else
      for (const c of op.rows) {
        this.contacts.set(c.contact_id, c);
        const list = this.contactsByAccount.get(c.account_id);
        if (list) list.push(c);
        else this.contactsByAccount.set(c.account_id, [c]);
        this.windows?.add(c, asRow(c));
        this.filter?.add(`c:${c.contact_id}`);
        this.contactAccounts?.add(c.account_id);
      }
    if (op.answer) {
      const id = answerId(op.answer.scope, op.answer.key);
      this.answers.set(id, op.answer);
      this.filter?.add(`a:${id}`);
    }
  }

  /** Drops a loaded operation's records from memory (the store has them now). */
  private forget(op: WalOp): void {
    if (op.t === 'prune') return;
    if (op.t === 'reviews')
      for (const r of op.rows) {
        this.reviews.delete(r.event_id);
        const rest = (this.reviewsByAccount.get(r.account_id) ?? []).filter((x) => x !== r);
        if (rest.length) this.reviewsByAccount.set(r.account_id, rest);
        else this.reviewsByAccount.delete(r.account_id);
      }
    else if (op.t === 'decisions') for (const d of op.rows) this.decisions.delete(d.decision_id);
    else
      for (const c of op.rows) {
        this.contacts.delete(c.contact_id);
        const list = this.contactsByAccount.get(c.account_id);
        if (!list) continue;
        const rest = list.filter((x) => x !== c);
        if (rest.length) this.contactsByAccount.set(c.account_id, rest);
        else this.contactsByAccount.delete(c.account_id);
      }
    if (op.answer) {
      const id = answerId(op.answer.scope, op.answer.key);
      // Only this very answer: after a prune the key may hold a newer one.
      if (this.answers.get(id) === op.answer) this.answers.delete(id);
    }
  }

  private pruneMemory(beforeMs: number): number {
    let n = 0;
    for (const [id, a] of this.answers)
      if (Date.parse(a.created_at) < beforeMs) {
        this.answers.delete(id);
        n++;
      }
    return n;
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('closed', `the write-ahead ledger in ${this.log.dir} is closed`);
  }
}

/**
 * The record of a row op around the bytes of its rows, `{"t":…,"answer":…,"rows":[…]}`: the JSON the log has
 * always held (a reader parses it like `JSON.stringify(op)`), the rows' bytes copied in, not encoded again.
 */
function recordWithRows(op: RowOp, rowsJson: Buffer): Buffer {
  const head = Buffer.from(`{"t":${JSON.stringify(op.t)},"answer":${JSON.stringify(op.answer)},"rows":`);
  return Buffer.concat([head, rowsJson, CLOSE_BRACE], head.length + rowsJson.length + 1);
}

const CLOSE_BRACE = Buffer.from('}');

/**
 * One audit page from a store page and the unloaded records: both sorted newest first (time, then id in byte
 * order, as the stores sort), each limited to the query; the first `limit` of their merge.
 */
function pageMerge<T>(
  stored: readonly T[],
  key: (r: T) => { ms: number; id: string },
  mine: readonly { rec: T; ms: number; id: string }[],
  q: AuditQuery,
): T[] {
  if (mine.length === 0) return [...stored];
  const desc = (a: { ms: number; id: string }, b: { ms: number; id: string }) =>
    b.ms - a.ms || utf8Order(b.id, a.id);
  const inRange = mine.filter(
    (m) =>
      (q.sinceMs === null || m.ms >= q.sinceMs) &&
      (q.untilMs === null || m.ms < q.untilMs) &&
      (q.before === null || desc(m, { ms: Math.floor(q.before.ms), id: q.before.id }) > 0),
  );
  const all = [...stored.map((rec) => ({ rec, ...key(rec) })), ...inRange];
  all.sort(desc);
  return all.slice(0, q.limit).map((m) => m.rec);
}
