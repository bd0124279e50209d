/**
 * Growing one regression tree on binned data from gradient and hessian histograms (second-order boosting, as
 * XGBoost's `hist` method). A leaf's histogram holds Σg and Σh per bin of every feature; the best split of a
 * feature is a scan over its bins; when a leaf splits, the smaller child's histogram is built from its rows
 * and the larger child's is the parent's minus the smaller's (the subtraction trick halves the work).
 *
 * Leaf weight w = clamp(−G / (H + λ), lo, hi); a leaf costs G·w + ½(H + λ)·w² (the second-order loss), and a
 * split's gain is the parent's cost minus its children's. Monotone constraints (XGBoost's exact scheme): a
 * split on a feature constrained +1 is allowed only when wL <= wR, and then every leaf below the left child is
 * bounded above by (wL + wR) / 2 and every leaf below the right child below by it (−1 mirrors this), so every
 * tree, and hence their sum, is monotone in that feature for any values of the others.
 */
import type { GrowContext, GrowScratch, TreeBuild } from './grow-types.ts';

export type { GrowContext, GrowScratch, TreeBuild } from './grow-types.ts';

interface Split {
  gain: number;
  feature: number;
  /** Numeric: rows with value bin <= bin go left. */
  bin: number;
  /** Categorical: 1 per value bin that goes left (absent categories follow the missing direction). */
  catLeft: Uint8Array | null;
  /** Missing goes left; null when the leaf had no missing value of this feature (decided at the split). */
  defaultLeft: boolean | null;
  GL: number;
  HL: number;
  HR: number;
  wL: number;
  wR: number;
}

interface Open {
  node: number;
  start: number;
  end: number;
  G: number;
  H: number;
  depth: number;
  lo: number;
  hi: number;
  /** Σg, Σh per bin of every feature; null for a leaf that can never split. */
  hist: Float64Array | null;
  split: Split | null;
}

function clamp(w: number, lo: number, hi: number): number {
  return w < lo ? lo : Math.min(w, hi);
}

/** Second-order cost of a leaf with sums (G, H) and weight w. */
function cost(G: number, H: number, w: number, l2: number): number {
  return w * (G + 0.5 * (H + l2) * w);
}

/**
 * Grows one tree over the rows idx[0..count) (the tree's row sample; `idx` is reordered so every leaf's rows
 * are contiguous) using only the features in `feats`.
 */
export function growTree(ctx: GrowContext, s: GrowScratch, count: number, feats: Int32Array): TreeBuild {
  const { params } = ctx;
  const build: TreeBuild = {
    feature: [],
    bin: [],
    catLeft: [],
    defaultLeft: [],
    left: [],
    right: [],
    weight: [],
    cover: [],
    gain: [],
    start: [],
    end: [],
  };
  const newNode = (start: number, end: number, H: number): number => {
    const id = build.feature.length;
    build.feature.push(-1);
    build.bin.push(-1);
    build.catLeft.push(null);
    build.defaultLeft.push(0);
    build.left.push(-1);
    build.right.push(-1);
    build.weight.push(0);
    build.cover.push(H);
    build.gain.push(0);
    build.start.push(start);
    build.end.push(end);
    return id;
  };

  const rootHist = s.takeHist();
  buildHist(ctx, s, rootHist, 0, count, feats);
  let G = 0;
  let H = 0;
  for (let k = 0; k < count; k++) {
    const r = s.idx[k]!;
    G += s.gh[2 * r]!;
    H += s.gh[2 * r + 1]!;
  }
  const root: Open = {
    node: newNode(0, count, H),
    start: 0,
    end: count,
    G,
    H,
    depth: 0,
    lo: Number.NEGATIVE_INFINITY,
    hi: Number.POSITIVE_INFINITY,
    hist: rootHist,
    split: null,
  };
  const finals: Open[] = [];
  const open: Open[] = [];
  const consider = (o: Open) => {
    o.split = o.hist ? bestSplit(ctx, o, o.hist, feats) : null;
    if (o.split) open.push(o);
    else {
      if (o.hist) s.releaseHist(o.hist);
      finals.push(o);
    }
  };
  consider(root);
  let leaves = 1;
  while (open.length > 0 && leaves < ctx.maxLeaves) {
    const at = pickNext(open, ctx.depthwise);
    const o = open[at]!;
    open.splice(at, 1);
    const sp = o.split!;
    const mid = partition(ctx, s, o, sp);
    const defaultLeft = sp.defaultLeft ?? sp.HL >= sp.HR;
    const n = o.node;
    build.feature[n] = sp.feature;
    build.bin[n] = sp.bin;
    build.defaultLeft[n] = defaultLeft ? 1 : 0;
    build.gain[n] = sp.gain;
    if (sp.catLeft) {
      // Categories absent from this leaf go where missing values go.
      const mask = sp.catLeft;
      const hist = o.hist!;
      const off = ctx.offset[sp.feature]!;
      for (let b = 0; b < mask.length; b++) if (hist[2 * (off + b) + 1] === 0) mask[b] = defaultLeft ? 1 : 0;
      build.catLeft[n] = mask;
    }
    // Children: the smaller one's histogram from its rows, the larger one's by subtraction (in place). A child
    // that can never split (too deep, too light) needs none.
    const depthOk = o.depth + 1 < ctx.maxDepth;
    const needL = depthOk && sp.HL >= 2 * params.minChildWeight;
    const needR = depthOk && sp.HR >= 2 * params.minChildWeight;
    const leftSmaller = mid - o.start <= o.end - mid;
    let histL: Float64Array | null = null;
    let histR: Float64Array | null = null;
    if (needL || needR) {
      const small = s.takeHist();
      if (leftSmaller) buildHist(ctx, s, small, o.start, mid, feats);
      else buildHist(ctx, s, small, mid, o.end, feats);
      const smallNeeded = leftSmaller ? needL : needR;
      const largeNeeded = leftSmaller ? needR : needL;
      if (largeNeeded) subtractHist(ctx, o.hist!, small, feats);
      else s.releaseHist(o.hist!);
      if (!smallNeeded) s.releaseHist(small);
      const large = largeNeeded ? o.hist : null;
      const kept = smallNeeded ? small : null;
      histL = leftSmaller ? kept : large;
      histR = leftSmaller ? large : kept;
    } else s.releaseHist(o.hist!);
    const GL = sp.GL;
    const GR = o.G - sp.GL;
    const mono = ctx.monotone[sp.feature]!;
    let loL = o.lo;
    let hiL = o.hi;
    let loR = o.lo;
    let hiR = o.hi;
    if (mono !== 0) {
      const m = (sp.wL + sp.wR) / 2;
      if (mono > 0) {
        hiL = m;
        loR = m;
      } else {
        loL = m;
        hiR = m;
      }
    }
    const l: Open = {
      node: newNode(o.start, mid, sp.HL),
      start: o.start,
      end: mid,
      G: GL,
      H: sp.HL,
      depth: o.depth + 1,
      lo: loL,
      hi: hiL,
      hist: histL,
      split: null,
    };
    const r: Open = {
      node: newNode(mid, o.end, sp.HR),
      start: mid,
      end: o.end,
      G: GR,
      H: sp.HR,
      depth: o.depth + 1,
      lo: loR,
      hi: hiR,
      hist: histR,
      split: null,
    };
    build.left[n] = l.node;
    build.right[n] = r.node;
    leaves++;
    consider(l);
    consider(r);
  }
  for (const o of open) {
    if (o.hist) s.releaseHist(o.hist);
    finals.push(o);
  }
  for (const o of finals) {
    build.weight[o.node] = clamp(-o.G / (o.H + params.l2), o.lo, o.hi);
  }
  return build;
}

/** Depthwise: shallowest first, then largest gain; leafwise: largest gain. Ties: the older node. */
function pickNext(open: Open[], depthwise: boolean): number {
  let best = 0;
  for (let i = 1; i < open.length; i++) {
    const a = open[i]!;
    const b = open[best]!;
    if (depthwise && a.depth !== b.depth) {
      if (a.depth < b.depth) best = i;
      continue;
    }
    const ga = a.split!.gain;
    const gb = b.split!.gain;
    if (ga > gb || (ga === gb && a.node < b.node)) best = i;
  }
  return best;
}

function buildHist(
  ctx: GrowContext,
  s: GrowScratch,
  hist: Float64Array,
  start: number,
  end: number,
  feats: Int32Array,
): void {
  const { offset, cols: p } = ctx;
  const X = ctx.slots;
  const { idx, gh } = s;
  const nf = feats.length;
  for (let f = 0; f < nf; f++) {
    const j = feats[f]!;
    hist.fill(0, 2 * offset[j]!, 2 * (offset[j]! + ctx.valueBins[j]! + 1));
  }
  if (nf === p) {
    for (let k = start; k < end; k++) {
      const r = idx[k]!;
      const g = gh[2 * r]!;
      const h = gh[2 * r + 1]!;
      const base = r * p;
      for (let j = 0; j < p; j++) {
        const slot = X[base + j]! << 1;
        hist[slot]! += g;
        hist[slot + 1]! += h;
      }
    }
    return;
  }
  for (let k = start; k < end; k++) {
    const r = idx[k]!;
    const g = gh[2 * r]!;
    const h = gh[2 * r + 1]!;
    const base = r * p;
    for (let f = 0; f < nf; f++) {
      const slot = X[base + feats[f]!]! << 1;
      hist[slot]! += g;
      hist[slot + 1]! += h;
    }
  }
}

function subtractHist(ctx: GrowContext, parent: Float64Array, small: Float64Array, feats: Int32Array): void {
  for (let f = 0; f < feats.length; f++) {
    const j = feats[f]!;
    const from = 2 * ctx.offset[j]!;
    const to = 2 * (ctx.offset[j]! + ctx.valueBins[j]! + 1);
    for (let i = from; i < to; i++) parent[i]! -= small[i]!;
  }
}

/** Reorders idx[o.start..o.end) stably into the rows that go left, then right; returns the boundary. */
function partition(ctx: GrowContext, s: GrowScratch, o: Open, sp: Split): number {
  const j = sp.feature;
  // Column-major bins: a partition reads one feature of scattered rows, so one column keeps it in cache.
  const col = ctx.columns.subarray(j * ctx.rows, (j + 1) * ctx.rows);
  const missing = ctx.valueBins[j]!;
  const defaultLeft = sp.defaultLeft ?? sp.HL >= sp.HR;
  const { idx, tmp } = s;
  let nl = o.start;
  let nr = 0;
  // A side per bin, then a branch-free loop: every row is written to both places and only one count moves
  // (the side of a row is a coin flip to the branch predictor).
  const side = new Int32Array(missing + 1);
  for (let b = 0; b < missing; b++) side[b] = sp.catLeft ? sp.catLeft[b]! : b <= sp.bin ? 1 : 0;
  side[missing] = defaultLeft ? 1 : 0;
  for (let k = o.start; k < o.end; k++) {
    const r = idx[k]!;
    const l = side[col[r]!]!;
    idx[nl] = r;
    tmp[nr] = r;
    nl += l;
    nr += 1 - l;
  }
  idx.set(tmp.subarray(0, nr), nl);
  return nl;
}

/** The best split of an open leaf over `feats`, or null when no split gains more than minSplitGain. */
function bestSplit(ctx: GrowContext, o: Open, hist: Float64Array, feats: Int32Array): Split | null {
  const { l2, minChildWeight: mcw, minSplitGain } = ctx.params;
  const { G, H, lo, hi } = o;
  const parentCost = cost(G, H, clamp(-G / (H + l2), lo, hi), l2);
  let best: Split | null = null;
  let bestGain = minSplitGain;

  const tryCut = (
    j: number,
    GL: number,
    HL: number,
    defaultLeft: boolean | null,
    bin: number,
    order: Int32Array | null,
    prefix: number,
  ) => {
    const HR = H - HL;
    if (HL < mcw || HR < mcw || HL <= 0 || HR <= 0) return;
    const GR = G - GL;
    const wL = clamp(-GL / (HL + l2), lo, hi);
    const wR = clamp(-GR / (HR + l2), lo, hi);
    const mono = ctx.monotone[j]!;
    if ((mono > 0 && wL > wR) || (mono < 0 && wL < wR)) return;
    const gain = parentCost - cost(GL, HL, wL, l2) - cost(GR, HR, wR, l2);
    if (!(gain > bestGain)) return;
    bestGain = gain;
    let catLeft: Uint8Array | null = null;
    if (order) {
      catLeft = new Uint8Array(ctx.valueBins[j]!);
      for (let q = 0; q < prefix; q++) catLeft[order[q]!] = 1;
    }
    best = { gain, feature: j, bin, catLeft, defaultLeft, GL, HL, HR, wL, wR };
  };

  for (let f = 0; f < feats.length; f++) {
    const j = feats[f]!;
    const off = ctx.offset[j]!;
    const nb = ctx.valueBins[j]!;
    const gm = hist[2 * (off + nb)]!;
    const hm = hist[2 * (off + nb) + 1]!;
    if (!ctx.categorical[j]) {
      let GL = 0;
      let HL = 0;
      for (let b = 0; b < nb; b++) {
        GL += hist[2 * (off + b)]!;
        HL += hist[2 * (off + b) + 1]!;
        if (HL === 0) continue;
        if (b < nb - 1) tryCut(j, GL, HL, hm > 0 ? false : null, b, null, 0);
        if (hm > 0) {
          // Every value left and missing right is a split too (it separates missing from present).
          if (b === nb - 1) tryCut(j, GL, HL, false, b, null, 0);
          else tryCut(j, GL + gm, HL + hm, true, b, null, 0);
        }
      }
      continue;
    }
    // Categorical: order the present categories by G / (H + catSmooth) and cut the order (LightGBM's way).
    const present: number[] = [];
    for (let b = 0; b < nb; b++) if (hist[2 * (off + b) + 1]! > 0) present.push(b);
    if (present.length === 0) continue;
    const smooth = ctx.params.catSmooth;
    const ratio = (b: number) => hist[2 * (off + b)]! / (hist[2 * (off + b) + 1]! + smooth);
    present.sort((a, b) => ratio(a) - ratio(b) || a - b);
    const order = Int32Array.from(present);
    let GL = 0;
    let HL = 0;
    for (let q = 0; q < order.length; q++) {
      const b = order[q]!;
      GL += hist[2 * (off + b)]!;
      HL += hist[2 * (off + b) + 1]!;
      if (q < order.length - 1) tryCut(j, GL, HL, hm > 0 ? false : null, -1, order, q + 1);
      if (hm > 0) {
        if (q === order.length - 1) tryCut(j, GL, HL, false, -1, order, q + 1);
        else tryCut(j, GL + gm, HL + hm, true, -1, order, q + 1);
      }
    }
  }
  return best;
}
