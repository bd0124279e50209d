import { availableParallelism } from 'node:os';
import { RepayriskError } from '../core/errors.ts';
import { policySlots } from '../core/policy/batch.ts';
import { isoOf } from '../core/time/dates.ts';
import { CopyArchives } from '../data/copy-archives.ts';
import { type CopyDay, type CopyMeta, openCopy, readCopyDay } from '../data/history-copy.ts';
import { type ChunkResult, decideCopyRange } from './book-chunk.ts';
import { bookFormat, bookRunId, checkNowAfterAsOf } from './book-output.ts';
import { BookSink } from './book-sink.ts';
import { BookWorkers } from './book-workers.ts';
import type { BookRun, BookSummary } from './score-book.ts';

/**
 * Accounts per piece of work when a book is scored from the history copy. Small, so the calling thread — which
 * scores too — comes back often to keep the workers fed, and both finish together. Does not change any result.
 */
export const COPY_CHUNK = 250;

/** Most worker threads beside the calling thread (which scores too). */
const COPY_WORKERS = 4;

/**
 * `scoreBook` over a history folder's typed copy (`repayrisk ingest`, docs/history-store.md) instead of its files:
 * the same decisions, ids and output bytes (the run id digests the source files' sha256 recorded in the copy),
 * with no CSV to read: the copy's date is read into shared memory, and this thread and the workers each build
 * archives for rows of it and score them, pieces handed out in turn and written in input order.
 *
 * @throws RepayriskError('invalid_data') for a stale, corrupt or truncated copy (see `openCopy`), and as
 *   `scoreBook` does.
 */
export async function scoreFromCopy(
  run: BookRun,
  input: { history: string; asOf?: string },
  copyPath: string,
): Promise<BookSummary> {
  const clock = run.clock ?? Date.now;
  const t0 = clock();
  const format = bookFormat(run.out);
  const { state } = run;
  const slots = run.slots === undefined ? policySlots(state.policy) : run.slots;
  const phases = { read: 0, score: 0, write: 0 };
  const t = performance.now();
  const chunkSize = run.chunkSize ?? COPY_CHUNK;
  const nWorkers = run.workers ?? Math.min(availableParallelism() - 1, COPY_WORKERS);
  // Started first: they load the models (~1.5 CPU-s) while this thread reads the copy and scores the first pieces.
  // A book of one piece is scored here.
  let pool: Promise<BookWorkers | null> | null = null;
  const startPool = (rows: number): Promise<BookWorkers | null> | null =>
    nWorkers > 0 && rows > chunkSize
      ? BookWorkers.start(nWorkers, state).catch((e: Error) => {
          run.onNote?.(
            `scoring on one thread: the scoring workers did not start (${e.message.split('\n')[0]})`,
          );
          return null;
        })
      : null;
  let day: CopyDay;
  let meta: CopyMeta;
  try {
    const copy = openCopy(copyPath, input.history);
    meta = copy.meta;
    const { file } = copy;
    try {
      const accountsFile = meta.sources.accounts!.file;
      const last = meta.dates.at(-1);
      if (!last) throw new RepayriskError('invalid_data', `${accountsFile} holds no snapshot`);
      const asOf = input.asOf ?? isoOf(last.day);
      if (!meta.dates.some((d) => isoOf(d.day) === asOf))
        throw new RepayriskError(
          'invalid_argument',
          `--as-of ${asOf}: ${accountsFile} has no snapshot that day; its ${meta.dates.length} snapshot date(s) run from ${isoOf(meta.dates[0]!.day)} to ${isoOf(last.day)}`,
        );
      pool = startPool(meta.dates.find((d) => isoOf(d.day) === asOf)!.rows);
      day = readCopyDay(file, meta, asOf);
    } finally {
      file.close();
    }
    checkNowAfterAsOf(day.asOf, run.now ?? Date.parse(`${day.asOf}T12:00:00Z`));
  } catch (e) {
    await (await pool)?.close();
    throw e;
  }
  const asOf = day.asOf;
  const now = run.now ?? Date.parse(`${asOf}T12:00:00Z`);
  const runId = bookRunId({
    input: 'history',
    asOf,
    now,
    model: state.champion.version,
    policy: state.policy.version,
    slots,
    files: meta.sourcesSha256,
  });
  // Output positions: rows that cannot be scored are named now and take none.
  const archives = new CopyArchives(day);
  const ns = new Int32Array(new SharedArrayBuffer(4 * day.rows));
  let scored = 0;
  let invalid = 0;
  for (let r = 0; r < day.rows; r++) {
    const why = archives.check(r, meta.sources.accounts!.file);
    if (why === null) ns[r] = ++scored;
    else {
      invalid++;
      run.onInvalid?.(why);
    }
  }
  phases.read += performance.now() - t;

  const deferred: number[] = [];
  const deferRationed = slots !== null || state.policy.visitCapacity !== null;
  let sink: BookSink;
  try {
    sink = new BookSink(run.out, format);
  } catch (e) {
    await (await pool)?.close();
    throw e;
  }
  let workers: BookWorkers | null = null;
  let failure: unknown = null;
  let readyAt: number | null = null;
  void pool?.then((w) => {
    if (!w) return;
    w.share(day, ns);
    workers = w;
    readyAt = clock();
  });
  try {
    const pieces = Math.ceil(day.rows / chunkSize);
    const results: (ChunkResult | undefined)[] = new Array(pieces);
    const pending = new Set<Promise<void>>();
    let next = 0;
    let written = 0;
    let done = 0;
    let onWorkers = 0;
    const writeReady = () => {
      const t = performance.now();
      while (written < pieces && results[written]) {
        const r = results[written]!;
        results[written++] = undefined;
        sink.writeChunk(r);
        deferred.push(...r.deferred);
      }
      phases.write += performance.now() - t;
      run.onProgress?.(Math.min(done, day.rows), day.rows, 'accounts');
    };
    const range = (i: number) => ({ from: i * chunkSize, to: Math.min(day.rows, (i + 1) * chunkSize) });
    while (next < pieces) {
      const w = workers as BookWorkers | null;
      // Two pieces waiting per worker keep it busy while this thread scores one.
      while (w && w.busy < 2 * w.size && next < pieces) {
        const i = next++;
        const p = w
          .decideRange({ ...range(i), now, runId, deferRationed })
          .then((r) => {
            results[i] = r;
            const n = r.rows + r.deferred.length;
            done += n;
            onWorkers += n;
          })
          .catch((e) => {
            failure ??= e;
          })
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      if (next < pieces) {
        const i = next++;
        const { from, to } = range(i);
        const s = performance.now();
        results[i] = decideCopyRange(archives, from, to, ns, state, now, runId, deferRationed);
        done += to - from;
        phases.score += performance.now() - s;
      }
      writeReady();
      // Lets the workers' answers (and their start) in between pieces.
      const s = performance.now();
      await new Promise((resolve) => setImmediate(resolve));
      phases.score += performance.now() - s;
      if (failure) throw failure;
    }
    const s = performance.now();
    while (pending.size) await Promise.race(pending);
    phases.score += performance.now() - s;
    if (failure) throw failure;
    writeReady();
    const w = workers as BookWorkers | null;
    run.onNote?.(
      `scored ${(scored - onWorkers).toLocaleString('en-US')} accounts on this thread and ${onWorkers.toLocaleString('en-US')} on ` +
        (w
          ? `${w.size} worker(s), ready ${((readyAt! - t0) / 1000).toFixed(1)} s after the start`
          : 'no worker (none started, or the book is one piece)'),
    );

    await sink.finish(
      {
        count: deferred.length,
        archives: () => deferred.map((r) => archives.archive(r)),
        ordinalOf: (i) => ns[deferred[i]!]!,
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
    copy: copyPath,
    asOf,
    now: new Date(now).toISOString(),
    scored,
    skipped: meta.accounts - day.rows,
    invalid,
    seconds: (clock() - t0) / 1000,
    ...sink.counts(deferRationed, phases),
  };
}
