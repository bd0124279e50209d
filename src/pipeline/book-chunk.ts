import type { DecisionTreatment } from '../core/schema/enums.ts';
import type { AccountArchive } from '../core/scoring/score.ts';
import type { CopyArchives } from '../data/copy-archives.ts';
import { csvLine } from '../data/csv-writer.ts';
import type { LiveState } from '../service/live-types.ts';
import { type ScoredAccount, scoreAndDecide } from '../service/score-request.ts';

/**
 * What deciding one chunk of a book gives: the staging CSV lines of its final rows (in chunk order), their
 * treatment counts, and the positions in the chunk of the human calls left for the book-wide capacity pass.
 * Plain data, so a worker thread can hand it back (book-workers.ts).
 */
export interface ChunkResult {
  /** `csvLine` of `outputCells` for each final row, in chunk order. */
  lines: string;
  rows: number;
  treatments: Partial<Record<DecisionTreatment, number>>;
  /** Final rows whose human call took a team's slot. */
  calls: number;
  /** Chunk positions of the human-call and field-visit candidates (only when `deferRationed`). */
  deferred: number[];
}

/**
 * Scores and decides one chunk of a book with unlimited calls and visits (`scoreAndDecide`, the score API's path),
 * decision ids `<runId>-<n>` from `ns` (the accounts' output positions). With `deferRationed` (the run has a call
 * or a field-visit capacity, which is the whole book's, not a chunk's) human calls and field visits are not final
 * yet: they are left out of `lines` and listed in `deferred`, for `BookSink.finish` to ration book-wide.
 */
export function decideChunk(
  archives: readonly AccountArchive[],
  ns: ArrayLike<number>,
  state: LiveState,
  now: number,
  runId: string,
  deferRationed: boolean,
): ChunkResult {
  let k = 0;
  const { results } = scoreAndDecide(archives, state, now, {
    slots: null,
    visitSlots: null,
    newId: () => `${runId}-${ns[k++]!}`,
  });
  const treatments: Partial<Record<DecisionTreatment, number>> = {};
  const deferred: number[] = [];
  let lines = '';
  let rows = 0;
  let calls = 0;
  results.forEach((r, i) => {
    // Capacity only ever changes human calls and field visits (decideBatch): every other decision is final now.
    if (deferRationed && (r.treatment === 'human_call' || r.treatment === 'field_visit')) {
      deferred.push(i);
      return;
    }
    lines += csvLine(outputCells(r, ns[i]!));
    rows++;
    treatments[r.treatment] = (treatments[r.treatment] ?? 0) + 1;
    if (r.call_team !== null) calls++;
  });
  return { lines, rows, treatments, calls, deferred };
}

/**
 * `decideChunk` over rows `from .. to` of a history copy's date: the rows with an output position (`ns[r]` > 0;
 * 0 marks a row that cannot be scored), built into archives here, so a worker holding the copy's date needs no
 * packed archives. `deferred` holds row numbers (not chunk positions).
 */
export function decideCopyRange(
  copy: CopyArchives,
  from: number,
  to: number,
  ns: Int32Array,
  state: LiveState,
  now: number,
  runId: string,
  deferRationed: boolean,
): ChunkResult {
  const rows: number[] = [];
  const archives: AccountArchive[] = [];
  for (let r = from; r < to; r++)
    if (ns[r]! > 0) {
      rows.push(r);
      archives.push(copy.archive(r));
    }
  const result = decideChunk(
    archives,
    rows.map((r) => ns[r]!),
    state,
    now,
    runId,
    deferRationed,
  );
  result.deferred = result.deferred.map((i) => rows[i]!);
  return result;
}

/** The staging row of a scored account: BOOK_OUTPUT's cells in order, then its output position `n`. */
export function outputCells(r: ScoredAccount, n: number): (string | number | boolean | null)[] {
  const o = r.offer;
  return [
    r.decision_id,
    r.account_id,
    r.as_of_date,
    r.decided_at,
    r.scores.willingness,
    r.scores.ability,
    r.scores.expected_recovery,
    r.segment,
    r.treatment,
    r.channel,
    r.earliest_contact_at,
    o ? o.monthly_payment : null,
    o ? o.term_months : null,
    o ? o.term_extension_months : null,
    o ? o.interest_relief : null,
    o ? o.apr : null,
    o ? o.affordable : null,
    r.reason_codes.join('|'),
    r.guardrails.length ? r.guardrails.join('|') : null,
    r.model_version,
    r.policy_version,
    r.experiment_arm,
    r.call_team,
    n,
  ];
}
