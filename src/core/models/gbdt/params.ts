/**
 * Hyperparameters of the `gbdt` kind, validated by name (STYLE §3). Defaults are XGBoost's `hist` method's
 * where they have an equivalent, except the learning rate and row / column subsampling, which are set for
 * early-stopped credit data (a smaller rate with early stopping generalises better on a few thousand rows).
 */
import { z } from 'zod';
import { ModelError } from '../contract.ts';
import { parseKindParams } from '../kind-helpers.ts';

const direction = z.union([z.literal(-1), z.literal(0), z.literal(1)]);

export const gbdtParamsSchema = z.strictObject({
  nTrees: z.number().int().min(1).max(100_000).default(500),
  growth: z.enum(['depthwise', 'leafwise']).default('depthwise'),
  maxDepth: z.number().int().min(0).max(64).default(4),
  maxLeaves: z.number().int().min(0).max(1_000_000).default(0),
  learningRate: z.number().gt(0).max(1).default(0.05),
  l2: z.number().min(0).default(1),
  minChildWeight: z.number().min(0).default(1),
  minSplitGain: z.number().min(0).default(0),
  subsample: z.number().gt(0).max(1).default(0.8),
  colsampleByTree: z.number().gt(0).max(1).default(0.8),
  maxBins: z.number().int().min(2).max(255).default(255),
  catSmooth: z.number().min(0).default(10),
  earlyStoppingRounds: z.number().int().min(0).default(50),
  monotone: z.record(z.string().min(1), direction).default({}),
});

const GBDT_ALLOWED = {
  nTrees: 'an integer in [1, 100000]',
  growth: "'depthwise' or 'leafwise'",
  maxDepth: 'an integer in [0, 64] (0 = no limit, leafwise only)',
  maxLeaves: 'an integer in [0, 1000000] (0 = no limit, depthwise only)',
  learningRate: 'a number in (0, 1]',
  l2: 'a number >= 0',
  minChildWeight: 'a number >= 0',
  minSplitGain: 'a number >= 0',
  subsample: 'a number in (0, 1]',
  colsampleByTree: 'a number in (0, 1]',
  maxBins: 'an integer in [2, 255]',
  catSmooth: 'a number >= 0',
  earlyStoppingRounds: 'an integer >= 0 (0 = no early stopping)',
  monotone: 'an object of feature name to -1, 0 or 1',
} as const;

/**
 * Hyperparameters of the gbdt kind.
 * - `nTrees` (default 500): boosting rounds at most (fewer when early stopping ends the fit).
 * - `growth` (default 'depthwise'): 'depthwise' splits every splittable leaf of a depth before the next
 *   depth (XGBoost's default); 'leafwise' always splits the leaf with the largest gain next (LightGBM's).
 * - `maxDepth` (default 4): deepest split level; 0 = no limit (only with leafwise and a `maxLeaves`).
 * - `maxLeaves` (default 0 = no limit): leaves per tree at most; with leafwise growth and 0, 31 is used.
 * - `learningRate` (default 0.05): shrinkage of every leaf value.
 * - `l2` (default 1): λ in the leaf weight −G / (H + λ) and the split gain.
 * - `minChildWeight` (default 1): least hessian sum (Σ w·p·(1−p)) in a child.
 * - `minSplitGain` (default 0): least loss reduction for a split (XGBoost's γ).
 * - `subsample` (default 0.8): share of training rows drawn (Bernoulli, seeded) for each tree.
 * - `colsampleByTree` (default 0.8): share of features drawn for each tree (at least one).
 * - `maxBins` (default 255): value bins per feature at most; missing values get a bin of their own on top.
 * - `catSmooth` (default 10): added to a category's hessian when categories are ordered by G / (H + s) for a
 *   categorical split, so rare categories do not lead the order.
 * - `earlyStoppingRounds` (default 50): stop when validation log-loss has not improved for this many rounds
 *   and keep the best round's trees; 0 or no validation data = build all `nTrees`.
 * - `monotone` (default {}): feature name → +1 (the probability never falls as the value rises), −1 (never
 *   rises) or 0; overrides the feature's own `monotone`. Numeric features only; honoured exactly.
 */
export type GbdtParams = z.output<typeof gbdtParamsSchema>;

/** Validates raw gbdt hyperparameters over the defaults. @throws ModelError naming every bad field */
export function parseGbdtParams(raw: unknown): GbdtParams {
  const p = parseKindParams('gbdt', gbdtParamsSchema, GBDT_ALLOWED, raw);
  if (p.maxDepth === 0 && p.growth === 'depthwise' && p.maxLeaves === 0) {
    throw new ModelError(
      "gbdt: maxDepth 0 (no limit) needs growth 'leafwise' or a maxLeaves limit, got growth 'depthwise' " +
        'and maxLeaves 0: the trees would grow until every leaf is pure',
    );
  }
  return p;
}

/** Leaves per tree at most, after the growth-specific defaults (Infinity = no limit). */
export function leafLimit(p: GbdtParams): number {
  if (p.maxLeaves > 0) return p.maxLeaves;
  return p.growth === 'leafwise' ? 31 : Number.POSITIVE_INFINITY;
}

/** Deepest level a split may sit at (Infinity = no limit). */
export function depthLimit(p: GbdtParams): number {
  return p.maxDepth > 0 ? p.maxDepth : Number.POSITIVE_INFINITY;
}
