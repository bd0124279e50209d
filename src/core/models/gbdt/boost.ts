/**
 * The boosting loop of the gbdt kind: binary log-loss, one tree per round on the gradients of the current
 * margins, each tree's leaves shrunk by the learning rate, early stopping on validation log-loss.
 */
import { createRng } from '../../random.ts';
import type { FeatureInfo, FitProgress, Labels, Matrix } from '../contract.ts';
import { binMatrix, type FeatureBins, learnBins, valueBins } from './bins.ts';
import { type GrowContext, type GrowScratch, growTree, type TreeBuild } from './grow.ts';
import { depthLimit, type GbdtParams, leafLimit } from './params.ts';
import { leafOf, type Tree } from './tree.ts';

export interface BoostResult {
  baseScore: number;
  bins: FeatureBins[];
  /** Trees in bin terms (what the artifact stores); `trees` are the same in raw-value terms. */
  builds: TreeBuild[];
  trees: Tree[];
  /** Rounds run (>= builds.length when early stopping dropped the rounds after the best). */
  rounds: number;
  /** Validation log-loss of the kept trees; null without validation data. */
  validationLogLoss: number | null;
}

export interface BoostInput {
  x: Matrix;
  y: Labels;
  weights: Float64Array | undefined;
  features: readonly FeatureInfo[];
  /** −1, 0 or +1 per feature (already resolved from params and features). */
  monotone: Int8Array;
  params: GbdtParams;
  seed: number;
  validation: { x: Matrix; y: Labels } | undefined;
  onProgress: ((p: FitProgress) => void) | undefined;
}

export function boost(input: BoostInput): BoostResult {
  const { x, y, weights, features, params } = input;
  const n = x.rows;
  const p = x.cols;
  const bins = learnBins(x, features, params.maxBins);
  const nb = Int32Array.from(bins, valueBins);
  const offset = new Int32Array(p);
  let total = 0;
  for (let j = 0; j < p; j++) {
    offset[j] = total;
    total += nb[j]! + 1;
  }
  const slots = binMatrix(x, bins, offset);
  const columns = new Uint8Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) columns[j * n + i] = slots[i * p + j]! - offset[j]!;
  const ctx: GrowContext = {
    params,
    slots,
    columns,
    rows: n,
    cols: p,
    valueBins: nb,
    offset,
    categorical: Uint8Array.from(features, (f) => (f.type === 'categorical' ? 1 : 0)),
    monotone: input.monotone,
    maxDepth: depthLimit(params),
    maxLeaves: leafLimit(params),
    depthwise: params.growth === 'depthwise',
  };
  const pool: Float64Array[] = [];
  const scratch: GrowScratch = {
    idx: new Int32Array(n),
    tmp: new Int32Array(n),
    gh: new Float64Array(2 * n),
    takeHist: () => pool.pop() ?? new Float64Array(2 * total),
    releaseHist: (h) => {
      pool.push(h);
    },
  };

  // Start from the (weighted) training log-odds.
  let sw = 0;
  let swy = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i]! : 1;
    sw += w;
    swy += w * y[i]!;
  }
  const prior = swy / sw;
  const baseScore = Math.log(prior / (1 - prior));
  const margin = new Float64Array(n).fill(baseScore);
  const valid = input.validation;
  const vMargin = valid ? new Float64Array(valid.x.rows).fill(baseScore) : null;
  const early = valid && params.earlyStoppingRounds > 0 ? params.earlyStoppingRounds : 0;

  const rng = createRng(input.seed, 0x9bd7);
  const inBag = new Uint8Array(n);
  const nFeat = Math.max(1, Math.round(params.colsampleByTree * p));
  const allFeats = Int32Array.from({ length: p }, (_, j) => j);
  const builds: TreeBuild[] = [];
  const trees: Tree[] = [];
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestRounds = 0;
  let rounds = 0;
  let lastLoss = Number.NaN;
  const row = new Float64Array(p);
  for (let t = 0; t < params.nTrees; t++) {
    const { gh, idx } = scratch;
    for (let i = 0; i < n; i++) {
      const pr = 1 / (1 + Math.exp(-margin[i]!));
      const w = weights ? weights[i]! : 1;
      gh[2 * i] = w * (pr - y[i]!);
      gh[2 * i + 1] = w * pr * (1 - pr);
    }
    let count = 0;
    if (params.subsample < 1) {
      for (let i = 0; i < n; i++) {
        const take = rng.next() < params.subsample;
        inBag[i] = take ? 1 : 0;
        if (take) idx[count++] = i;
      }
    } else {
      for (let i = 0; i < n; i++) idx[i] = i;
      count = n;
    }
    const feats = nFeat === p ? allFeats : sampleFeatures(rng, p, nFeat);
    const build = growTree(ctx, scratch, count, feats);
    const tree = toTree(build, bins, params.learningRate);
    // In-bag rows: each leaf's rows are a segment of idx. The rest: walk the tree.
    for (let node = 0; node < build.feature.length; node++) {
      if (build.feature[node] !== -1) continue;
      const v = tree.value[node]!;
      for (let k = build.start[node]!; k < build.end[node]!; k++) margin[idx[k]!]! += v;
    }
    if (count < n) {
      for (let i = 0; i < n; i++) {
        if (inBag[i]) continue;
        margin[i]! += tree.value[binLeaf(build, columns, n, i, nb)]!;
      }
    }
    builds.push(build);
    trees.push(tree);
    rounds = t + 1;
    let detail: Record<string, number> | undefined;
    if (valid && vMargin) {
      const vx = valid.x;
      let loss = 0;
      for (let i = 0; i < vx.rows; i++) {
        for (let j = 0; j < p; j++) row[j] = vx.data[i * p + j]!;
        vMargin[i]! += tree.value[leafOf(tree, row)]!;
        const m = vMargin[i]!;
        // log(1 + e^{-m}) for y = 1, log(1 + e^{m}) for y = 0, computed stably.
        const z = valid.y[i] === 1 ? -m : m;
        loss += z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
      }
      loss /= vx.rows;
      lastLoss = loss;
      detail = { validationLogLoss: loss };
      if (loss < bestLoss) {
        bestLoss = loss;
        bestRounds = t + 1;
      }
    }
    input.onProgress?.({ step: 'tree', done: t + 1, total: params.nTrees, ...(detail ? { detail } : {}) });
    if (early > 0 && t + 1 - bestRounds >= early) break;
  }
  const keep = early > 0 ? bestRounds : builds.length;
  return {
    baseScore,
    bins,
    builds: builds.slice(0, keep),
    trees: trees.slice(0, keep),
    rounds,
    validationLogLoss: valid ? (early > 0 ? bestLoss : lastLoss) : null,
  };
}

/** `k` of the `p` feature indices, drawn without replacement, ascending. */
function sampleFeatures(rng: ReturnType<typeof createRng>, p: number, k: number): Int32Array {
  const all = Int32Array.from({ length: p }, (_, j) => j);
  for (let i = 0; i < k; i++) {
    const r = rng.int(i, p - 1);
    const t = all[i]!;
    all[i] = all[r]!;
    all[r] = t;
  }
  return all.subarray(0, k).sort();
}

/** The leaf a binned row reaches in a tree under construction. */
function binLeaf(b: TreeBuild, columns: Uint8Array, n: number, row: number, nb: Int32Array): number {
  let node = 0;
  for (;;) {
    const j = b.feature[node]!;
    if (j < 0) return node;
    const v = columns[j * n + row]!;
    const mask = b.catLeft[node];
    const left = v === nb[j] ? b.defaultLeft[node] === 1 : mask ? mask[v] === 1 : v <= b.bin[node]!;
    node = left ? b.left[node]! : b.right[node]!;
  }
}

/** A tree in bin terms → the same tree on raw values (thresholds from the bin edges, category codes). */
export function toTree(b: TreeBuild, bins: readonly FeatureBins[], learningRate: number): Tree {
  const m = b.feature.length;
  const threshold = new Float64Array(m).fill(Number.NaN);
  const leftCategories: (Int32Array | null)[] = new Array(m).fill(null);
  const value = new Float64Array(m);
  for (let node = 0; node < m; node++) {
    const j = b.feature[node]!;
    if (j < 0) {
      value[node] = b.weight[node]! * learningRate;
      continue;
    }
    const fb = bins[j]!;
    if (fb.type === 'numeric') {
      const s = b.bin[node]!;
      threshold[node] = s < fb.upper.length ? fb.upper[s]! : Number.POSITIVE_INFINITY;
    } else {
      const mask = b.catLeft[node]!;
      const codes: number[] = [];
      fb.categoryBin.forEach((bin, code) => {
        if (mask[bin] === 1) codes.push(code);
      });
      leftCategories[node] = Int32Array.from(codes);
    }
  }
  return {
    feature: Int32Array.from(b.feature),
    threshold,
    leftCategories,
    left: Int32Array.from(b.left),
    right: Int32Array.from(b.right),
    defaultLeft: Uint8Array.from(b.defaultLeft),
    value,
    cover: Float64Array.from(b.cover),
    gain: Float64Array.from(b.gain),
  };
}
