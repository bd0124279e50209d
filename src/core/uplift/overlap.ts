/**
 * Overlap of the logging policy: which treatments it actually took, and how often, for each kind of account.
 * A response model for a treatment is only as good as the logged examples behind it; where the logging policy
 * (almost) never took a treatment for such accounts, a fitted model would be extrapolating, so it is not used
 * there (DESIGN §6: reported, never extrapolated silently).
 *
 * "Kind of account" is the delinquency bucket: the logging policy's preferences change most with days past due
 * (legal only from 90 days, calls rarer for the newly late), and a decision always knows its bucket.
 */
import { BUCKETS, bucketOfDays } from '../backtest/buckets.ts';
import { RepayriskError } from '../errors.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';

/** The cells of the overlap table, one per delinquency bucket. */
export const RESPONSE_CELLS = BUCKETS;

/** Index into RESPONSE_CELLS of a snapshot with `dpd` days past due (>= 1). */
export function responseCellOf(dpd: number): number {
  return bucketOfDays(dpd);
}

/** When a treatment counts as supported in a cell: enough logged examples, and a large enough share. */
export interface SupportRule {
  /** Least share of the cell's logged snapshots that got the treatment, in [0, 1]. */
  minShare: number;
  /** Least number of the cell's logged snapshots that got the treatment. */
  minCount: number;
}

/** Default support rule: 2% of the cell and at least 50 logged snapshots. */
export const DEFAULT_SUPPORT: SupportRule = { minShare: 0.02, minCount: 50 };

/** One cell of the overlap table. Counts and shares in TREATMENTS order. */
export interface OverlapRow {
  cell: string;
  /** Logged snapshots of the cell. */
  snapshots: number;
  counts: Record<Treatment, number>;
  shares: Record<Treatment, number>;
  /** Treatments whose fitted response may be used for accounts of this cell. */
  supported: Treatment[];
}

/**
 * The overlap table of logged treatments by cell.
 * @param cells - cell index per logged snapshot (RESPONSE_CELLS)
 * @param treatments - logged treatment index per snapshot (TREATMENTS)
 * @throws RepayriskError (invalid_argument) for a bad rule or mismatched lengths.
 */
export function overlapTable(
  cells: ArrayLike<number>,
  treatments: ArrayLike<number>,
  rule: SupportRule = DEFAULT_SUPPORT,
): OverlapRow[] {
  if (!(rule.minShare >= 0 && rule.minShare <= 1))
    throw new RepayriskError('invalid_argument', `support minShare: expected [0, 1], got ${rule.minShare}`);
  if (!(Number.isInteger(rule.minCount) && rule.minCount >= 1))
    throw new RepayriskError(
      'invalid_argument',
      `support minCount: expected an integer >= 1, got ${rule.minCount}`,
    );
  if (cells.length !== treatments.length)
    throw new RepayriskError(
      'invalid_argument',
      `overlapTable: ${cells.length} cells but ${treatments.length} treatments`,
    );
  const counts = RESPONSE_CELLS.map(() => new Array<number>(TREATMENTS.length).fill(0));
  for (let i = 0; i < cells.length; i++) counts[cells[i]!]![treatments[i]!]!++;
  return RESPONSE_CELLS.map((cell, c) => {
    const row = counts[c]!;
    const n = row.reduce((s, v) => s + v, 0);
    const share = (k: number) => (n ? row[k]! / n : 0);
    return {
      cell,
      snapshots: n,
      counts: Object.fromEntries(TREATMENTS.map((t, k) => [t, row[k]!])) as Record<Treatment, number>,
      shares: Object.fromEntries(TREATMENTS.map((t, k) => [t, share(k)])) as Record<Treatment, number>,
      supported: TREATMENTS.filter((_, k) => row[k]! >= rule.minCount && share(k) >= rule.minShare),
    };
  });
}
