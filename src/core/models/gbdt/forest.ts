/**
 * Fast scoring: every tree of an ensemble flattened into one set of typed arrays, walked tree by tree over
 * blocks of rows so a tree's nodes stay in cache. A row's margin is summed in tree order whatever the batch,
 * so scoring one row gives exactly what scoring it in a batch gives.
 */
import type { Matrix } from '../contract.ts';
import type { Tree } from './tree.ts';

/** Rows scored per pass over the trees: enough to amortise a tree, few enough to stay in cache. */
const BLOCK = 256;
/** Calls with at most this many rows walk the node links instead of the heap layout (see `margins`). */
const FEW_ROWS = 4;

export interface Forest {
  readonly baseScore: number;
  readonly trees: number;
  /** Log-odds per row: base score + the sum of every tree's leaf value. */
  margins(x: Matrix): Float64Array;
}

/**
 * Flattens trees into one forest. Numeric splits compare against `threshold`; a categorical split stores NaN
 * there (so both comparisons fail and the walk takes the rare path) and its left codes as a bitset.
 * @param categories - number of categories per feature (0 for a numeric feature)
 */
export function flatten(
  trees: readonly Tree[],
  baseScore: number,
  nFeatures: number,
  categories: readonly number[],
): Forest {
  let nodes = 0;
  let words = 0;
  for (const t of trees) {
    nodes += t.feature.length;
    for (const c of t.leftCategories) if (c && c.length > 0) words += (c[c.length - 1]! >>> 5) + 1;
  }
  const feature = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const left = new Int32Array(nodes);
  const right = new Int32Array(nodes);
  const defaultLeft = new Uint8Array(nodes);
  const value = new Float64Array(nodes);
  const catStart = new Int32Array(nodes).fill(-1);
  const catWords = new Int32Array(nodes);
  const bits = new Uint32Array(words);
  const roots = new Int32Array(trees.length);
  let at = 0;
  let w = 0;
  trees.forEach((t, k) => {
    roots[k] = at;
    for (let i = 0; i < t.feature.length; i++) {
      const g = at + i;
      feature[g] = t.feature[i]!;
      threshold[g] = t.threshold[i]!;
      left[g] = t.left[i]! < 0 ? -1 : at + t.left[i]!;
      right[g] = t.right[i]! < 0 ? -1 : at + t.right[i]!;
      defaultLeft[g] = t.defaultLeft[i]!;
      value[g] = t.value[i]!;
      const c = t.leftCategories[i];
      if (c) {
        threshold[g] = Number.NaN;
        catStart[g] = w;
        const nw = c.length > 0 ? (c[c.length - 1]! >>> 5) + 1 : 0;
        catWords[g] = nw;
        for (const code of c) bits[w + (code >>> 5)]! |= 1 << (code & 31);
        w += nw;
      }
    }
    at += t.feature.length;
  });

  /** Missing value or categorical split: the walk's rare path. */
  const slow = (node: number, v: number): number => {
    if (Number.isNaN(v)) return defaultLeft[node] === 1 ? left[node]! : right[node]!;
    const start = catStart[node]!;
    // A categorical code goes left when its bit is set; codes outside the set (or not integers, or beyond the
    // largest stored code, which a shift would wrap) go right, as goesLeft decides.
    const inSet =
      start >= 0 &&
      Number.isInteger(v) &&
      v >= 0 &&
      v < catWords[node]! * 32 &&
      (bits[start + (v >>> 5)]! & (1 << (v & 31))) !== 0;
    return inSet ? left[node]! : right[node]!;
  };

  // Shallow trees are also laid out as complete binary trees (heap order, a short leaf repeated down to the
  // tree's depth) and walked without branches: child = 2h + 1 + goRight. A random walk's branches are
  // mispredicted half the time; the arithmetic walk is about twice as fast (bench/gbdt.ts).
  // - Missing values: each block of rows is copied twice side by side, NaN as −∞ in the first copy and as +∞ in
  //   the second; a node whose missing values go right reads the second copy, so goRight = v > threshold.
  // - Categorical splits (features with at most CAT_CODES categories): the copies hold the code, CAT_MISSING for
  //   a missing value and CAT_INVALID for anything that is not a known code; the node's threshold is +∞ and
  //   its `rightCodes` bitset says which codes go right, so goRight = (v > threshold) | bit v of rightCodes
  //   (a numeric node has no bits, a categorical one never passes +∞).
  const categoryCount = Int32Array.from(categories, (k) => k);
  const depth = new Int32Array(trees.length);
  const heapStart = new Int32Array(trees.length).fill(-1);
  const heapCat = new Uint8Array(trees.length);
  let heapNodes = 0;
  trees.forEach((t, k) => {
    const d = treeDepth(t);
    depth[k] = d;
    let cat = false;
    let ok = d < WALKERS.length;
    t.leftCategories.forEach((c, n) => {
      if (!c) return;
      cat = true;
      if (categoryCount[t.feature[n]!]! > CAT_CODES) ok = false;
    });
    if (ok) {
      heapStart[k] = heapNodes;
      heapCat[k] = cat ? 1 : 0;
      heapNodes += 2 ** (d + 1) - 1;
    }
  });
  const hFeature = new Int32Array(heapNodes);
  const hThreshold = new Float64Array(heapNodes);
  const hRightCodes = new Int32Array(heapNodes);
  const hValue = new Float64Array(heapNodes);
  trees.forEach((t, k) => {
    const start = heapStart[k]!;
    if (start < 0) return;
    const d = depth[k]!;
    const place = (node: number, h: number, level: number): void => {
      const at = start + h;
      if (level === d) {
        hValue[at] = t.value[node]!;
        return;
      }
      if (t.feature[node]! < 0) {
        // A leaf above the bottom: a split that sends every value left (nothing is > +∞, no code goes right).
        hFeature[at] = 0;
        hThreshold[at] = Number.POSITIVE_INFINITY;
        place(node, 2 * h + 1, level + 1);
        place(node, 2 * h + 2, level + 1);
        return;
      }
      const f = t.feature[node]!;
      const cats = t.leftCategories[node];
      if (cats) {
        let right = (1 << CAT_INVALID) | (t.defaultLeft[node] === 1 ? 0 : 1 << CAT_MISSING);
        for (let c = 0; c < categoryCount[f]!; c++) if (!cats.includes(c)) right |= 1 << c;
        hFeature[at] = f;
        hThreshold[at] = Number.POSITIVE_INFINITY;
        hRightCodes[at] = right;
      } else {
        hFeature[at] = f + (t.defaultLeft[node] === 1 ? 0 : nFeatures);
        // "Every value left, missing right" has threshold +∞; +∞ (a missing value) must still go right.
        const th = t.threshold[node]!;
        hThreshold[at] = th === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : th;
      }
      place(t.left[node]!, 2 * h + 1, level + 1);
      place(t.right[node]!, 2 * h + 2, level + 1);
    };
    place(0, 0, 0);
  });
  const anyHeap = heapNodes > 0;

  /** Copies rows b0..b0+m of x into buf (stride 2p): the −∞ copy, then the +∞ copy (codes for categoricals). */
  const fillBlock = (data: Float64Array, p: number, b0: number, m: number, buf: Float64Array): void => {
    const w = 2 * p;
    for (let k = 0; k < m; k++) {
      for (let j = 0; j < p; j++) {
        const v = data[(b0 + k) * p + j]!;
        const cats = categoryCount[j]!;
        if (cats > 0) {
          const code = Number.isNaN(v)
            ? CAT_MISSING
            : Number.isInteger(v) && v >= 0 && v < cats && cats <= CAT_CODES
              ? v
              : CAT_INVALID;
          buf[k * w + j] = code;
          buf[k * w + p + j] = code;
        } else {
          const missing = Number.isNaN(v);
          buf[k * w + j] = missing ? Number.NEGATIVE_INFINITY : v;
          buf[k * w + p + j] = missing ? Number.POSITIVE_INFINITY : v;
        }
      }
    }
  };

  // The block buffer is kept between calls and grown to the largest block seen: a single-row call (the score
  // API) would otherwise allocate and zero BLOCK rows, which cost more than walking the trees. Safe to share
  // because margins is synchronous and never re-entered.
  let buf = new Float64Array(0);
  return {
    baseScore,
    trees: trees.length,
    margins(x: Matrix): Float64Array {
      const { rows: n, cols: p, data } = x;
      const out = new Float64Array(n).fill(baseScore);
      const nt = roots.length;
      const w = 2 * p;
      // A few rows (the score API's) walk the node links: copying a row twice into the block buffer and calling a
      // walker per tree cost more than the branches they save (3.4 against ~1 µs for a row of the champion).
      // Both walks reach the same leaf and add the leaves in tree order: the same sums, bit for bit.
      const heap = anyHeap && n > FEW_ROWS;
      if (heap && buf.length < Math.min(n, BLOCK) * w) buf = new Float64Array(Math.min(n, BLOCK) * w);
      for (let b0 = 0; b0 < n; b0 += BLOCK) {
        const b1 = Math.min(n, b0 + BLOCK);
        const m = b1 - b0;
        if (heap) fillBlock(data, p, b0, m, buf);
        for (let t = 0; t < nt; t++) {
          const hs = heap ? heapStart[t]! : -1;
          if (hs >= 0) {
            const walk = heapCat[t] ? CAT_WALKERS[depth[t]!]! : WALKERS[depth[t]!]!;
            walk(buf, w, m, hFeature, hThreshold, hRightCodes, hValue, hs, out, b0);
            continue;
          }
          const root = roots[t]!;
          for (let i = b0; i < b1; i++) {
            const base = i * p;
            let node = root;
            let f = feature[node]!;
            while (f >= 0) {
              const v = data[base + f]!;
              const th = threshold[node]!;
              if (v <= th) node = left[node]!;
              else if (v > th) node = right[node]!;
              else node = slow(node, v);
              f = feature[node]!;
            }
            out[i]! += value[node]!;
          }
        }
      }
      return out;
    },
  };
}

/** Codes 0..CAT_CODES−1 of a categorical feature fit the heap walk's 32-bit code sets; two codes are reserved. */
const CAT_CODES = 30;
const CAT_INVALID = 30;
const CAT_MISSING = 31;

/** Walks rows 0..m of `buf` (stride w) through one heap-laid tree of a fixed depth, adding leaves to out[o + k]. */
type Walker = (
  buf: Float64Array,
  w: number,
  m: number,
  feature: Int32Array,
  threshold: Float64Array,
  rightCodes: Int32Array,
  value: Float64Array,
  hs: number,
  out: Float64Array,
  o: number,
) => void;

/**
 * One walker per depth 0..8, with the levels unrolled: V8 runs the unrolled walk about twice as fast as a loop
 * over levels (bench/gbdt.ts). The code is built once from these fixed templates; no model data enters it.
 * A comparison adds as 0 or 1, which V8 compiles without a branch.
 */
function walkers(step: string): readonly Walker[] {
  return Array.from(
    { length: 9 },
    (_, d) =>
      new Function(
        'buf',
        'w',
        'm',
        'feature',
        'threshold',
        'rightCodes',
        'value',
        'hs',
        'out',
        'o',
        `for (let k = 0, b = 0; k < m; k++, b += w) { let h = 0; let v = 0; ${step.repeat(d)} out[o + k] += value[hs + h]; }`,
      ) as Walker,
  );
}
const WALKERS = walkers('v = buf[b + feature[hs + h]]; h = 2 * h + 1 + (v > threshold[hs + h]);');
const CAT_WALKERS = walkers(
  'v = buf[b + feature[hs + h]]; h = 2 * h + 1 + ((v > threshold[hs + h]) | ((rightCodes[hs + h] >>> v) & 1));',
);

function treeDepth(t: Tree): number {
  const walk = (n: number): number =>
    t.feature[n]! < 0 ? 0 : 1 + Math.max(walk(t.left[n]!), walk(t.right[n]!));
  return walk(0);
}
