import { renameSync, rmSync } from 'node:fs';
import { RepayriskError } from '../core/errors.ts';
import type { CallSlots } from '../core/policy/capacity.ts';
import { DECISION_TREATMENTS, type DecisionTreatment } from '../core/schema/enums.ts';
import type { AccountArchive } from '../core/scoring/score.ts';
import { CsvTableWriter } from '../data/csv-writer.ts';
import type { LiveState } from '../service/live-types.ts';
import { scoreAndDecide } from '../service/score-request.ts';
import { type ChunkResult, outputCells } from './book-chunk.ts';
import { type BookFormat, finishOutput, fsyncFile, STAGING } from './book-output.ts';

/** Where a book run's time went, measured on the calling thread (see `BookSummary.phases`), in ms. */
export interface BookPhases {
  read: number;
  score: number;
  write: number;
}

/**
 * Where a book run's decisions go, for both of its paths (the history's files, score-book.ts, and its typed copy,
 * book-copy.ts): a staging CSV beside the output, rows in the order they are decided with their output position,
 * the treatment counts, and at the end the output written atomically (DuckDB turns the staging file into CSV or
 * Parquet in a temp file, fsync, rename). After a failure, `abort` and `dispose` leave nothing beside the output.
 */
export class BookSink {
  readonly treatments = Object.fromEntries(DECISION_TREATMENTS.map((t) => [t, 0])) as Record<
    DecisionTreatment,
    number
  >;
  /** Rows whose human call took a team's slot. */
  callsAllocated = 0;
  /** Human-call and field-visit candidates held back from the chunks and decided together by `finish`. */
  deferredCount = 0;
  private readonly writer: CsvTableWriter;
  private open = true;
  private readonly stagingPath: string;
  private readonly tmpPath: string;

  /** @throws RepayriskError('io') when no file can be created next to `out`. */
  constructor(
    private readonly out: string,
    private readonly format: BookFormat,
  ) {
    this.stagingPath = `${out}.staging-${process.pid}.csv`;
    this.tmpPath = `${out}.tmp-${process.pid}`;
    try {
      this.writer = new CsvTableWriter(this.stagingPath, STAGING);
    } catch (e) {
      throw new RepayriskError('io', `cannot write next to ${out}: ${(e as Error).message}`);
    }
  }

  /** Writes a decided chunk's final rows and counts their treatments and allocated calls. */
  writeChunk(r: ChunkResult): void {
    this.writer.writeLines(r.lines, r.rows);
    for (const [k, v] of Object.entries(r.treatments)) this.treatments[k as DecisionTreatment] += v;
    this.callsAllocated += r.calls;
  }

  /**
   * Finishes the book: decides the human-call and field-visit candidates the chunks held back (`count` of them,
   * read from `archives`), together, so the day's call slots (`slots`) and the policy's field-visit slots go where
   * they add most (`scoreAndDecide`, as one batch would), each written at its output position `ordinalOf(i)`, which
   * also names its decision (`<runId>-<position>`); then writes the output, sorted by position when some rows were
   * decided late, durably, and renames it into place. Nothing is held back when neither calls nor visits are
   * limited.
   */
  async finish(
    deferred: { count: number; archives: () => AccountArchive[]; ordinalOf: (i: number) => number },
    o: {
      state: LiveState;
      now: number;
      runId: string;
      slots: CallSlots | null;
      phases: BookPhases;
      onNote?: (message: string) => void;
    },
  ): Promise<void> {
    this.deferredCount = deferred.count;
    if (deferred.count) {
      o.onNote?.(
        `sharing the call and visit slots among ${deferred.count.toLocaleString('en-US')} call and visit candidates`,
      );
      let t = performance.now();
      let k = 0;
      const { results } = scoreAndDecide(deferred.archives(), o.state, o.now, {
        slots: o.slots,
        newId: () => `${o.runId}-${deferred.ordinalOf(k++)}`,
      });
      o.phases.score += performance.now() - t;
      t = performance.now();
      results.forEach((r, i) => {
        this.writer.write(outputCells(r, deferred.ordinalOf(i)));
        this.treatments[r.treatment]++;
        if (r.call_team !== null) this.callsAllocated++;
      });
      o.phases.write += performance.now() - t;
    }
    const t = performance.now();
    this.closeStaging();
    await finishOutput(this.stagingPath, this.tmpPath, this.format, this.deferredCount > 0);
    fsyncFile(this.tmpPath);
    renameSync(this.tmpPath, this.out);
    o.phases.write += performance.now() - t;
  }

  /**
   * What the summary of a finished book takes from the sink: counts, and the phases in seconds. `callCandidates`
   * and `callsAllocated` are null when calls and visits are unlimited (nothing was rationed).
   */
  counts(rationed: boolean, phases: BookPhases) {
    return {
      treatments: this.treatments,
      callCandidates: rationed ? this.deferredCount : null,
      callsAllocated: rationed ? this.callsAllocated : null,
      phases: { read: phases.read / 1000, score: phases.score / 1000, write: phases.write / 1000 },
    };
  }

  /** After a failure: closes the staging file and removes a partial output. */
  abort(): void {
    try {
      this.closeStaging();
    } catch {
      // the staging file is removed by dispose either way
    }
    rmSync(this.tmpPath, { force: true });
  }

  /** Last, after success or failure: removes the staging file. */
  dispose(): void {
    rmSync(this.stagingPath, { force: true });
  }

  private closeStaging(): void {
    if (this.open) {
      this.open = false; // never close a descriptor twice: its number may belong to another file by then
      this.writer.close();
    }
  }
}
