import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CopyDay } from '../data/history-copy.ts';
import type { LiveState } from '../service/live-types.ts';
import type { ChunkResult } from './book-chunk.ts';
import { type PackedChunk, packedBuffers } from './book-pack.ts';
import { bookWorkerBundle } from './book-worker-bundle.ts';

const ENTRY = new URL('./book-worker-entry.ts', import.meta.url).href;

/** tsx's ESM API: loads the TypeScript entry in the worker (a worker does not inherit the CLI's tsx hooks). */
const TSX_API = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs'),
).href;

/** What a worker is started with: where its state comes from, and what it must equal. */
export interface WorkerSetup {
  model: string;
  policy: string;
  /** The calling thread's model version and policy document (JSON): a worker that loads anything else refuses. */
  expect: { model: string; policy: string };
}

/** A request to a worker: one chunk (see `decideChunk`). */
export interface ChunkJob {
  id: number;
  chunk: PackedChunk;
  ns: Int32Array;
  now: number;
  runId: string;
  deferRationed: boolean;
}

/** Sent once to each worker before its first range: the history copy's date and the rows' output positions. */
export interface CopyDayJob {
  kind: 'day';
  day: CopyDay;
  /** Output position of each row of the date, 0 for a row that is not scored. */
  ns: Int32Array;
}

/** A request to a worker holding a copy's date: rows `from .. to` (see `decideCopyRange`). */
export interface RangeJob {
  kind: 'range';
  id: number;
  from: number;
  to: number;
  now: number;
  runId: string;
  deferRationed: boolean;
}

type Reply = { id: number; ok: true; result: ChunkResult } | { id: number; ok: false; error: string };

/**
 * Worker threads that score and decide chunks of a book, each with its own copy of the models and policy loaded
 * once from the files the calling thread's state came from (and checked equal to it: same model version, same
 * policy document), so the calling thread reads the input while the workers score. A chunk's answer does not
 * depend on the thread that decides it (`decideChunk`).
 */
export class BookWorkers {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { w: number; resolve: (r: ChunkResult) => void; reject: (e: Error) => void }
  >();
  private readonly load: number[];
  private failed: Error | null = null;

  private constructor(private readonly workers: Worker[]) {
    this.load = workers.map(() => 0);
    workers.forEach((w, i) => {
      w.on('message', (m: Reply) => this.settle(m));
      w.on('error', (e) => this.fail(i, e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(i, new Error(`book scoring worker ${i} exited with code ${code}`));
      });
    });
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Starts `n` workers and waits until each has loaded the state.
   * @throws (rejects) when one cannot start or loads a state that differs; the started ones are ended.
   */
  static async start(n: number, state: LiveState): Promise<BookWorkers> {
    const setup: WorkerSetup = {
      model: state.champion.dir,
      policy: state.policyPath,
      expect: { model: state.champion.version, policy: JSON.stringify(state.policy.document) },
    };
    const code = `const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(TSX_API)})
  .then(({ tsImport }) => tsImport(${JSON.stringify(ENTRY)}, ${JSON.stringify(ENTRY)}))
  .then((m) => m.serve())
  .catch((e) => parentPort.postMessage({ ready: false, error: String((e && e.stack) || e) }));`;
    // The bundle when esbuild can make it (no loader hooks: ~2.5 CPU-s less per worker), else the sources via tsx.
    const bundle = await bookWorkerBundle().catch(() => null);
    const workers: Worker[] = [];
    try {
      await Promise.all(
        Array.from({ length: n }, () => {
          const w = bundle
            ? // No execArgv: a worker inherits the parent's, which under tsx registers its loader hooks again.
              new Worker(new URL(bundle.url), { workerData: setup, execArgv: [] })
            : new Worker(code, { eval: true, workerData: setup });
          workers.push(w);
          return new Promise<void>((resolve, reject) => {
            w.once('message', (m: { ready: boolean; error?: string }) =>
              m.ready ? resolve() : reject(new Error(m.error)),
            );
            w.once('error', reject);
          });
        }),
      );
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    return new BookWorkers(workers);
  }

  /**
   * Decides a chunk (packed: its buffers move to the worker and are unusable here after) on the least busy
   * worker; resolves with what `decideChunk` gives on it.
   */
  decide(job: Omit<ChunkJob, 'id'>): Promise<ChunkResult> {
    return this.send((id) => ({ ...job, id }) satisfies ChunkJob, packedBuffers(job.chunk));
  }

  /**
   * Hands every worker a history copy's date (its arrays are shared memory: not copied) and the rows' output
   * positions; `decideRange` then names rows of it.
   */
  share(day: CopyDay, ns: Int32Array): void {
    for (const w of this.workers) w.postMessage({ kind: 'day', day, ns } satisfies CopyDayJob);
  }

  /** Decides rows of the shared date on the least busy worker; resolves with `decideCopyRange`'s result. */
  decideRange(job: Omit<RangeJob, 'id' | 'kind'>): Promise<ChunkResult> {
    return this.send((id) => ({ ...job, kind: 'range', id }) satisfies RangeJob, []);
  }

  /** Chunks sent and not answered yet. */
  get busy(): number {
    return this.pending.size;
  }

  private send(message: (id: number) => unknown, transfer: ArrayBuffer[]): Promise<ChunkResult> {
    if (this.failed) return Promise.reject(this.failed);
    let w = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[w]!) w = i;
    const id = ++this.seq;
    this.load[w]!++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { w, resolve, reject });
      this.workers[w]!.postMessage(message(id), transfer);
    });
  }

  private settle(m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.load[p.w]!--;
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  }

  private fail(w: number, e: Error): void {
    this.failed ??= e;
    for (const [id, p] of this.pending)
      if (p.w === w) {
        this.pending.delete(id);
        p.reject(e);
      }
  }

  /** Ends the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
