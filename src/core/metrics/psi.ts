/**
 * Population stability index: how far a variable's distribution moved between a reference sample
 * (`expected`, e.g. training) and a later one (`actual`, e.g. out-of-time or live traffic).
 */
import { binOf, checkBins, equalCountEdges } from './probability.ts';
import type { PsiRow } from './types.ts';

/** Bin proportions are floored at this value so an empty bin gives a large but finite term, not ln(0). */
export const PSI_FLOOR = 1e-4;

/** Verdict thresholds: below `watch` is stable, above `act` calls for action. */
export const PSI_THRESHOLDS = { watch: 0.1, act: 0.25 } as const;

/**
 * PSI = Σ_b (a_b − e_b)·ln(a_b / e_b), where e_b and a_b are the shares of `expected` and `actual` in bin b.
 *
 * Bins: up to `bins` equal-count bins whose edges are quantiles of the non-missing `expected` values,
 * deduplicated, so a discrete variable gets (at most) one bin per distinct value and tied values never
 * straddle an edge; values of `actual` beyond the reference range fall into the first / last bin. NaN
 * (missing) is a bin of its own in both samples. Each share is floored at {@link PSI_FLOOR} (not renormalised),
 * so a bin present in one sample only contributes a large finite term.
 *
 * @returns PSI >= 0 (0 for identical distributions).
 * @throws RangeError when either sample is empty or `bins` is not a positive integer.
 */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>, bins = 10): number {
  checkBins('psi', bins);
  if (expected.length === 0) throw new RangeError('psi: expected sample is empty');
  if (actual.length === 0) throw new RangeError('psi: actual sample is empty');
  let present = 0;
  for (let i = 0; i < expected.length; i++) if (!Number.isNaN(expected[i])) present++;
  const ref = new Float64Array(present);
  for (let i = 0, j = 0; i < expected.length; i++) {
    const v = expected[i]!;
    if (!Number.isNaN(v)) ref[j++] = v;
  }
  ref.sort();
  const edges = equalCountEdges(ref, bins);
  const m = edges.length + 1;
  // Bin m is the missing bin.
  const e = shares(expected, edges, m);
  const a = shares(actual, edges, m);
  let s = 0;
  for (let b = 0; b <= m; b++) {
    const eb = Math.max(PSI_FLOOR, e[b]!);
    const ab = Math.max(PSI_FLOOR, a[b]!);
    s += (ab - eb) * Math.log(ab / eb);
  }
  return s;
}

function shares(values: ArrayLike<number>, edges: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    c[Number.isNaN(v) ? m : binOf(edges, v)]!++;
  }
  for (let b = 0; b <= m; b++) c[b]! /= values.length;
  return c;
}

/**
 * Usual credit-risk reading of a PSI value: < 0.1 'stable', 0.1–0.25 (inclusive) 'watch', > 0.25 'act'.
 * @throws RangeError when `v` is NaN or negative.
 */
export function psiVerdict(v: number): 'stable' | 'watch' | 'act' {
  if (!(v >= 0)) throw new RangeError(`psiVerdict: PSI must be a number >= 0, got ${v}`);
  if (v < PSI_THRESHOLDS.watch) return 'stable';
  if (v <= PSI_THRESHOLDS.act) return 'watch';
  return 'act';
}

/**
 * PSI of one variable with its verdict, for the report's stability table.
 * @param name - feature name, or 'score' for the model output.
 * @param bins - as for {@link psi}, default 10.
 * @throws RangeError as for {@link psi}.
 */
export function psiRow(
  name: string,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  bins = 10,
): PsiRow {
  const v = psi(expected, actual, bins);
  return { name, psi: v, verdict: psiVerdict(v) };
}
