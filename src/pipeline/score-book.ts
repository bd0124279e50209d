import { createReadStream, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { RepayriskError } from '../core/errors.ts';
import type { ContactLike } from '../core/features/history.ts';
import { PreparedBuffer } from '../core/features/prepared-buffer.ts';
import { policySlots } from '../core/policy/batch.ts';
import type { CallSlots } from '../core/policy/capacity.ts';
import type { DecisionTreatment } from '../core/schema/enums.ts';
import { fieldIssues } from '../core/schema/issues.ts';
import type { AccountRow } from '../core/schema/tables.ts';
import { admitArchive } from '../core/scoring/input.ts';
import type { AccountArchive } from '../core/scoring/score.ts';
import { isTimeZone } from '../core/time/timezone.ts';
import { digestFiles } from '../data/file-digest.ts';
import { COPY_TABLES, defaultCopyPath } from '../data/history-copy.ts';
import { HistoryStore } from '../data/history-store.ts';
import { archiveLineParser } from '../service/compiled-parse.ts';
import type { LiveState } from '../service/live-types.ts';
import { type ChunkResult, decideChunk } from './book-chunk.ts';
import { scoreFromCopy } from './book-copy.ts';
import { type BookFormat, bookFormat, bookRunId, checkNowAfterAsOf } from './book-output.ts';
import { ChunkPacker, unpackArchives } from './book-pack.ts';
import { BookSink } from './book-sink.ts';
import { BookWorkers } from './book-workers.ts';
import { type LineError, lineErrorText } from './decide-jsonl.ts';

/** Accounts scored and decided per call of `scoreAndDecide` when the book is streamed. */
export const BOOK_CHUNK = 5000;

/** Most scoring workers `scoreBook` starts by default (more cores than this go to DuckDB and the reading). */
export const BOOK_WORKERS = 4;

export { loadBatchState, MODEL_NAME } from './batch-state.ts';
export { BOOK_OUTPUT, type BookFormat, bookFormat } from './book-output.ts';

/**
 * Where the accounts come from: a history folder (scored as of one snapshot date) or archives as JSON lines.
 * A history folder is read through its typed copy (`repayrisk ingest`, docs/history-store.md) when `store` names
 * one, or by default when `<history>/history.rrstore` exists; `store: false` reads the files. A stale copy is
 * refused, never read.
 */
export type BookInput = { history: string; asOf?: string; store?: string | false } | { accounts: string };

export interface BookRun {
  state: LiveState;
  input: BookInput;
  /** `.csv` or `.parquet`; written atomically (temp file, fsync, rename). */
  out: string;
  /**
   * Decision instant, epoch ms. Default: with `history`, the as-of date at 12:00 UTC (the same calendar day in
   * every zone from UTC−11 to UTC+11, and reproducible); with `accounts`, `clock()` — as the score API does.
   */
  now?: number;
  /** The day's call slots; undefined = the policy's capacity; null = unlimited. */
  slots?: CallSlots | null;
  /** Accounts per `scoreAndDecide` call (default BOOK_CHUNK). Does not change any result. */
  chunkSize?: number;
  /**
   * Worker threads that score and decide (book-workers.ts) while this one reads: default one per core but the
   * reading thread's (at most BOOK_WORKERS); 0 scores on this thread. A history book of one chunk or less, and
   * JSON lines, are always scored here (a worker costs ~2 CPU-s to start and load the model). Does not change any
   * result.
   */
  workers?: number;
  clock?: () => number;
  /** Accounts (history) or lines (accounts) read so far, of `total`. */
  onProgress?: (done: number, total: number, unit: string) => void;
  /** A line or snapshot that could not be scored, rendered for stderr; the run goes on without it. */
  onInvalid?: (message: string) => void;
  /** A free-form status (e.g. the capacity pass). */
  onNote?: (message: string) => void;
}

export interface BookSummary {
  out: string;
  format: BookFormat;
  /** Prefix of every decision id: `b` + 12 hex of a digest of the inputs, times, versions and slots. */
  runId: string;
  /** The history copy read instead of the history's files (docs/history-store.md), else null. */
  copy: string | null;
  /** Snapshot date scored (history input), else null. */
  asOf: string | null;
  /** Decision instant, ISO 8601 UTC. */
  now: string;
  scored: number;
  /** History input: accounts of the book without a snapshot on the as-of date. */
  skipped: number;
  /** Lines (accounts input) or snapshots (history input) that could not be scored. */
  invalid: number;
  treatments: Record<DecisionTreatment, number>;
  /**
   * Accounts whose human call or field visit waited for the book-wide rationing of the day's call and visit slots;
   * null when neither calls nor visits are limited.
   */
  callCandidates: number | null;
  /** Of them, those that got a slot. */
  callsAllocated: number | null;
  seconds: number;
  /**
   * Where the seconds went, measured on this thread: reading the input (the history store or the JSON lines,
   * waiting for it included), scoring and deciding (`scoreAndDecide`; with worker threads, packing the chunks for
   * them and waiting for their answers), and writing the output (staging rows, the final CSV or Parquet).
   */
  phases: { read: number; score: number; write: number };
}

/**
 * An archive that stays valid after the input moves on: a history source hands each one out with the store's
 * reused history buffer (valid until the next item), copied here only where the archive is kept.
 */
function standalone(a: AccountArchive): AccountArchive {
  return a.history instanceof PreparedBuffer ? { ...a, history: a.history.copy() } : a;
}

/** One unit the input yields: an archive to score, or why one could not be read. */
type BookItem = { archive: AccountArchive } | { invalid: string };

interface BookSource {
  total: number;
  unit: string;
  asOf: string | null;
  skipped: number;
  defaultNow: number | null;
  /** sha256 of the input files' bytes, for the run id (a history's is read beside the store's read). */
  fingerprint: Promise<string>;
  items: AsyncGenerator<BookItem>;
}

/**
 * Scores and decides a whole book through `scoreAndDecide` — the function behind the score API — so every row
 * equals what the API answers for that account at the same `now`. Rows come out in input order (account_id order
 * for a history, line order for JSON lines), one per account.
 *
 * Threads: a book of more than one chunk is scored by worker threads (`workers`, book-workers.ts), chunk by
 * chunk, while this thread reads the next ones; their rows are written in chunk order, so the output is the one
 * this thread alone writes, byte for byte.
 *
 * Memory: without call or visit capacity, a few chunks of archives at a time (two per worker at most: flat for any
 * book). With capacity (the policy's call capacity or `slots`, or its field-visit capacity), the day's slots must go
 * to the best calls and visits of the whole book, not of a chunk: each chunk is decided with unlimited calls and
 * visits — capacity never changes a decision that is not a human call or a field visit — and only the archives of
 * those candidates are kept; at the end they are decided once more as one batch with the slots, which is exactly
 * what one whole-book batch gives them.
 *
 * @throws RepayriskError / DataContractError when the input cannot be read; no output file is left then.
 */
export async function scoreBook(run: BookRun): Promise<BookSummary> {
  const clock = run.clock ?? Date.now;
  const t0 = clock();
  const format = bookFormat(run.out);
  if ('history' in run.input && run.input.store !== false) {
    const copy = run.input.store ?? defaultCopyPath(run.input.history);
    if (run.input.store !== undefined || existsSync(copy)) return scoreFromCopy(run, run.input, copy);
  }
  const { state } = run;
  const slots = run.slots === undefined ? policySlots(state.policy) : run.slots;
  const source =
    'history' in run.input ? await historySource(run.input) : await accountsSource(run.input, clock());
  const now = run.now ?? source.defaultNow ?? clock();
  checkNowAfterAsOf(source.asOf, now);
  // The input files' digest is read while the store reads them (a history's files are hashed beside the read,
  // not before it); the run id waits for it only where the first decision needs it.
  const runIdOf = source.fingerprint.then((files) =>
    bookRunId({
      input: 'history' in run.input ? 'history' : 'accounts',
      asOf: source.asOf,
      now,
      model: state.champion.version,
      policy: state.policy.version,
      slots,
      files,
    }),
  );
  runIdOf.catch(() => undefined); // awaited below; a run that fails first must not leave it unhandled
  let runId = '';

  const chunkSize = run.chunkSize ?? BOOK_CHUNK;
  // One core reads (DuckDB's threads and this one); the others score. On two cores: one worker, whose start
  // (~2 CPU-s) overlaps the store's setup, scoring while this thread reads.
  const nWorkers = run.workers ?? Math.min(availableParallelism() - 1, BOOK_WORKERS);
  // Started now, so the workers load the models while the input is read; on failure this thread scores.
  const pool =
    nWorkers > 0 && source.total > chunkSize && 'history' in run.input
      ? BookWorkers.start(nWorkers, state).catch((e: Error) => {
          run.onNote?.(
            `scoring on one thread: the scoring workers did not start (${e.message.split('\n')[0]})`,
          );
          return null;
        })
      : null;
  let scored = 0;
  let invalid = 0;
  let read = 0;
  const deferred: { archive: AccountArchive; n: number }[] = [];
  const phases = { read: 0, score: 0, write: 0 };
  // Calls and visits wait for the book-wide rationing when either is limited (BookSink.finish).
  const deferRationed = slots !== null || state.policy.visitCapacity !== null;
  let sink: BookSink;
  try {
    sink = new BookSink(run.out, format);
  } catch (e) {
    await (await pool)?.close();
    throw e;
  }
  let workers: BookWorkers | null = null;
  try {
    // An account's archive is kept until its chunk is decided only where this thread decides it: with workers,
    // each is packed as it comes (the store's history buffer is reused for the next) and kept only when the
    // capacity pass may need it.
    type Chunk = { archive: AccountArchive | null; n: number }[];
    const consume = (c: Chunk, r: ChunkResult) => {
      const t = performance.now();
      sink.writeChunk(r);
      for (const i of r.deferred) deferred.push({ archive: c[i]!.archive!, n: c[i]!.n });
      phases.write += performance.now() - t;
    };
    // Chunks sent to the workers, oldest first: written in this order, so the output is in input order.
    const inflight: { chunk: Chunk; result: Promise<ChunkResult> }[] = [];
    const settleOldest = async () => {
      const f = inflight.shift()!;
      const t = performance.now();
      const r = await f.result;
      phases.score += performance.now() - t;
      consume(f.chunk, r);
    };
    let chunk: Chunk = [];
    let packer = pool ? new ChunkPacker() : null;
    const decideHere = (c: Chunk, archives: AccountArchive[], ns: Int32Array) => {
      const t = performance.now();
      const r = decideChunk(archives, ns, state, now, runId, deferRationed);
      phases.score += performance.now() - t;
      consume(c, r);
    };
    const flush = async () => {
      const c = chunk;
      chunk = [];
      const ns = Int32Array.from(c, (b) => b.n);
      if (!runId) {
        const t = performance.now();
        runId = await runIdOf;
        phases.read += performance.now() - t;
      }
      if (packer) {
        let t = performance.now();
        const packed = packer.finish();
        packer = new ChunkPacker();
        workers = await pool!;
        phases.score += performance.now() - t;
        if (workers) {
          t = performance.now();
          inflight.push({
            chunk: c,
            result: workers.decide({ chunk: packed, ns, now, runId, deferRationed }),
          });
          phases.score += performance.now() - t;
          // Two chunks waiting per worker keep it busy while this thread reads; more would only hold memory.
          while (inflight.length > 2 * workers.size) await settleOldest();
        } else decideHere(c, unpackArchives(packed), ns); // the workers did not start
      } else
        decideHere(
          c,
          c.map((b) => b.archive!),
          ns,
        );
      run.onProgress?.(read, source.total, source.unit);
    };
    let waited = performance.now();
    for await (const item of source.items) {
      phases.read += performance.now() - waited;
      if ((++read & 1023) === 0) run.onProgress?.(read, source.total, source.unit);
      if ('invalid' in item) {
        invalid++;
        run.onInvalid?.(item.invalid);
        continue;
      }
      const a = item.archive;
      if (packer) {
        const t = performance.now();
        packer.add(a);
        phases.score += performance.now() - t;
      }
      chunk.push({ archive: packer && !deferRationed ? null : standalone(a), n: ++scored });
      if (chunk.length >= chunkSize) await flush();
      waited = performance.now();
    }
    phases.read += performance.now() - waited;
    if (chunk.length) await flush();
    while (inflight.length) await settleOldest();
    if (!runId) runId = await runIdOf;
    run.onProgress?.(read, source.total, source.unit);
    await sink.finish(
      {
        count: deferred.length,
        archives: () => deferred.map((b) => b.archive),
        ordinalOf: (i) => deferred[i]!.n,
      },
      { state, now, runId, slots, phases, onNote: run.onNote },
    );
  } catch (e) {
    sink.abort();
    throw e;
  } finally {
    sink.dispose();
    await (await pool)?.close();
  }
  return {
    out: run.out,
    format,
    runId,
    copy: null,
    asOf: source.asOf,
    now: new Date(now).toISOString(),
    scored,
    skipped: source.skipped,
    invalid,
    seconds: (clock() - t0) / 1000,
    ...sink.counts(deferRationed, phases),
  };
}

/**
 * A history folder scored as of one snapshot date: each account's snapshot that day with its instalments and
 * contacts, read through the history store (validated in SQL, typed columns per account, one merge-join). The
 * features read the store's prepared history; the guardrails read the contacts up to `now`.
 */
async function historySource(input: { history: string; asOf?: string }): Promise<BookSource> {
  const store = await HistoryStore.open(input.history, ['accounts', 'installments', 'contacts']);
  let facts: Awaited<ReturnType<HistoryStore['snapshotDates']>>;
  let snapshots: number;
  let asOf: string;
  try {
    facts = await store.snapshotDates();
    const name = store.files.accounts!.file;
    const day = input.asOf ?? facts.last;
    if (day === null) throw new RepayriskError('invalid_data', `${name} holds no snapshot`);
    asOf = day;
    snapshots = await store.countSnapshots({ asOf });
    if (snapshots === 0)
      throw new RepayriskError(
        'invalid_argument',
        `--as-of ${asOf}: ${name} has no snapshot that day; its ${facts.dates} snapshot date(s) run from ${facts.first} to ${facts.last}`,
      );
  } catch (e) {
    store.close();
    throw e;
  }
  const name = store.files.accounts!.file;
  async function* items(): AsyncGenerator<BookItem> {
    try {
      for await (const g of store.accounts({ scope: { asOf }, contactRows: true, textColumns: true })) {
        const account = g.snapshots[0] as unknown as AccountRow;
        const id = g.accountId;
        if (!isTimeZone(account.timezone))
          yield {
            invalid: `${name}: account ${id} (${asOf}): timezone: expected an IANA time zone (e.g. America/Chicago) (got ${JSON.stringify(account.timezone)})`,
          };
        else
          yield {
            archive: {
              account,
              installments: [],
              contacts: g.contacts as unknown as ContactLike[],
              history: g.historyAsOf(0), // the store's reused buffer: see `standalone`
            },
          };
      }
    } finally {
      store.close();
    }
  }
  // In the copy's table order: a copy records the digest of the same files in the same order (same run ids).
  const paths = COPY_TABLES.map((t) => store.files[t]?.path).filter((p): p is string => p !== undefined);
  return {
    total: snapshots,
    unit: 'accounts',
    asOf,
    skipped: facts.accounts - snapshots,
    defaultNow: Date.parse(`${asOf}T12:00:00Z`),
    fingerprint: digestFiles(paths).then((d) => d.all),
    items: items(),
  };
}

/**
 * JSON lines, one archive each (`archiveSchema`, by the API's compiled check with zod's wording of a refusal, then
 * `admitArchive` against the wall clock `clockMs`, as the API does); a bad line becomes an error naming its line and
 * fields.
 */
async function accountsSource(input: { accounts: string }, clockMs: number): Promise<BookSource> {
  const path = input.accounts;
  // Non-blank lines, counted while digesting, are the progress total.
  let lines = 0;
  let content = false;
  const { all: fingerprint } = await digestFiles([path], (buf) => {
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === 0x0a) {
        if (content) lines++;
        content = false;
      } else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) content = true;
    }
  });
  if (content) lines++;
  async function* items(): AsyncGenerator<BookItem> {
    const parseLine = archiveLineParser();
    const rl = createInterface({
      input: createReadStream(path, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let line = 0;
    for await (const textLine of rl) {
      line++;
      if (textLine.trim() === '') continue;
      const error = (issues: LineError['issues']) => ({ invalid: lineErrorText({ line, issues }) });
      let raw: unknown;
      try {
        raw = JSON.parse(textLine);
      } catch (e) {
        yield error([{ path: '(line)', message: `not JSON: ${(e as Error).message}` }]);
        continue;
      }
      const parsed = parseLine(raw);
      const admitted = parsed.success
        ? admitArchive(parsed.data, clockMs)
        : { ok: false as const, issues: fieldIssues(parsed.error) };
      yield admitted.ok ? { archive: admitted.archive } : error(admitted.issues);
    }
  }
  return {
    total: lines,
    unit: 'lines',
    asOf: null,
    skipped: 0,
    defaultNow: null,
    fingerprint: Promise.resolve(fingerprint),
    items: items(),
  };
}
