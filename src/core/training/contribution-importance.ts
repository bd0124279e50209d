/**
 * Kind-agnostic feature importance: the mean absolute per-row contribution to the log-odds, read through the
 * model contract's `explain`. For gbdt `explain` is exact TreeSHAP, so this is "importance by mean |SHAP|"; for
 * logistic it is mean |coef·(x − mean)|, for scorecard mean |coef·(WoE − mean WoE)|, for mlp mean |occlusion|.
 * Unlike each kind's own `importance()` it is on one scale for every kind, so two kinds can be compared.
 */
import type { Contribution, Fitted, Matrix } from '../models/contract.ts';
import { takeRows } from '../models/rows.ts';
import { createRng } from '../random.ts';

/** Rows explained by default: enough for stable means, few enough that every kind explains them in seconds. */
export const CONTRIBUTION_ROWS = 2000;

/** Stream of the row sample, apart from the streams the split, folds and kinds draw from. */
const STREAM_SAMPLE = 0xc0a7;

export interface ContributionSampleOptions {
  /** At most this many rows are explained (a positive integer). */
  maxRows: number;
  /** Seed of the row sample, used only when `x` has more than `maxRows` rows. */
  seed: number;
}

/**
 * The rows explained: all rows (in order) when there are at most `maxRows`, else a seeded sample without
 * replacement of `maxRows` of them, in ascending order.
 * @throws RangeError when `maxRows` is not a positive integer.
 */
export function contributionSample(rows: number, o: ContributionSampleOptions): Int32Array {
  if (!Number.isInteger(o.maxRows) || o.maxRows < 1)
    throw new RangeError(`maxRows must be a positive integer, got ${o.maxRows}`);
  const all = Int32Array.from({ length: rows }, (_, i) => i);
  if (rows <= o.maxRows) return all;
  // Partial Fisher–Yates: the first maxRows slots end up a uniform sample.
  const rng = createRng(o.seed, STREAM_SAMPLE);
  for (let i = 0; i < o.maxRows; i++) {
    const j = rng.int(i, rows - 1);
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return all.subarray(0, o.maxRows).sort();
}

/**
 * Mean over rows of |contribution to the log-odds| per feature, from `fitted.explain`, over all rows of `x` or a
 * seeded sample of `maxRows` of them (see `contributionSample`). Contributions are matched by feature name
 * (explain sorts them by magnitude). Every feature of the model is listed, 0 when it never contributes;
 * sorted largest first, ties by feature name. An empty `x` gives 0 for every feature.
 * @throws SchemaMismatchError (from explain) when `x` does not have one column per feature.
 * @throws RangeError when `maxRows` is not a positive integer.
 */
export function meanAbsContribution(fitted: Fitted, x: Matrix, o: ContributionSampleOptions): Contribution[] {
  const sample = contributionSample(x.rows, o);
  const xs = sample.length === x.rows ? x : takeRows(x, sample);
  const sums = new Map<string, number>(fitted.features.map((f) => [f.name, 0]));
  for (let i = 0; i < xs.rows; i++) {
    for (const c of fitted.explain(xs, i)) {
      const s = sums.get(c.feature);
      if (s === undefined) throw new RangeError(`explain returned unknown feature '${c.feature}'`);
      sums.set(c.feature, s + Math.abs(c.contribution));
    }
  }
  return [...sums]
    .map(([feature, s]) => ({ feature, contribution: xs.rows > 0 ? s / xs.rows : 0 }))
    .sort((a, b) => b.contribution - a.contribution || a.feature.localeCompare(b.feature));
}
