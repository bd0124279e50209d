/**
 * Exact path-dependent TreeSHAP with per-leaf tables precomputed once per model ("Fast TreeSHAP v2", Yang 2021,
 * "Fast TreeSHAP: Accelerating SHAP Value Computation for Trees"), for the request path: the same Shapley values
 * as `treeShap` (shap.ts, Lundberg et al.'s Algorithm 2, kept as the reference), at a fraction of the cost.
 *
 * Why it works. For a leaf with value v whose root path meets the distinct features u_1..u_d, let z_i be the
 * product of the cover ratios of the path's edges on u_i (the share of training cover that follows them) and
 * o_i ∈ {0, 1} whether the row follows every one of those edges. The leaf adds to φ(u_i)
 *
 *     v · (o_i − z_i) · Σ_{S ⊆ others} |S|!(d−|S|−1)!/d! · Π_{j∈S} o_j · Π_{j∉S, j≠i} z_j
 *
 * which is what the EXTEND/UNWIND recursion evaluates. The z's are fixed by the tree; only the bit pattern o
 * depends on the row. So every leaf stores its d contributions for each of its 2^d patterns, and explaining a
 * row is: one pass over the tree's nodes to find each leaf's pattern, then d table reads per leaf — O(L·d) per
 * tree instead of O(L·d²) with divisions, and no recursion.
 *
 * Trees whose tables would be large (many distinct features on a path) keep the reference recursion, so the
 * result is exact for any tree and the memory stays bounded.
 */
import { treeShap } from './shap.ts';
import type { Tree } from './tree.ts';

/** A leaf with more distinct path features than this keeps its tree on the reference recursion. */
const MAX_PATH_FEATURES = 10;
/** Table entries per tree at most (8 bytes each); a larger tree keeps the reference recursion. */
const MAX_TREE_ENTRIES = 1 << 16;

/** Exact TreeSHAP of one ensemble, compiled for repeated rows. */
export interface ShapExplainer {
  /** Trees explained from their tables (the rest use the reference recursion). */
  readonly tabled: number;
  /**
   * Adds every tree's Shapley values for the row `x[offset .. offset + nFeatures)` into `phi` (one slot per
   * feature, log-odds); the caller zeroes `phi`. Allocates nothing. Not re-entrant: it reuses one scratch array.
   */
  addInto(x: Float64Array, offset: number, phi: Float64Array): void;
  /**
   * `addInto` for `rows` rows at once: row r is `x[offset + r·stride ..)` and its values go to
   * `phi[r·nFeatures .. (r + 1)·nFeatures)` (zeroed by the caller). Tree-major — every row through one tree before
   * the next tree — so a tree's tables stay in the L1 cache across the rows instead of the whole ensemble's tables
   * being streamed through it for every row. Each row still adds the trees in the same order, so its values are
   * bit for bit those of `addInto`. Allocates nothing; not re-entrant.
   */
  addRows(x: Float64Array, offset: number, stride: number, rows: number, phi: Float64Array): void;
}

/**
 * Compiles the trees of an ensemble for {@link ShapExplainer.addInto}.
 * @param nFeatures - columns of a row; every split feature must be below it.
 * @throws RangeError when a split uses a feature index outside 0..nFeatures−1.
 */
export function compileShap(trees: readonly Tree[], nFeatures: number): ShapExplainer {
  const built = trees.map((t, k) => buildTree(t, k, nFeatures));
  const tabled = built.filter((b) => b !== null) as TreeTables[];
  let splits = 0;
  let leaves = 0;
  let pathEntries = 0;
  let entries = 0;
  let words = 0;
  let maxNodes = 1;
  for (const b of tabled) {
    const t = b.tree;
    maxNodes = Math.max(maxNodes, t.feature.length);
    for (let n = 0; n < t.feature.length; n++) if (t.feature[n]! >= 0) splits++;
    leaves += b.leaves.length;
    for (const l of [...b.leaves, ...b.twigs]) {
      pathEntries += l.features.length;
      entries += l.table.length;
    }
    for (const c of t.leftCategories) if (c && c.length > 0) words += (c[c.length - 1]! >>> 5) + 1;
  }
  // Every tabled tree in one flat set of typed arrays, tree by tree: the splits that pass patterns down (parent
  // before child), then the twigs (splits over two leaves, with their tables), then the single leaves. Node
  // numbers (node, left, right) are local to the tree: they index the per-row pattern scratch.
  const splitStart = new Int32Array(tabled.length + 1);
  const twigStart = new Int32Array(tabled.length);
  const leafStart = new Int32Array(tabled.length + 1);
  const sNode = new Int32Array(splits);
  const sFeature = new Int32Array(splits);
  const sThreshold = new Float64Array(splits);
  const sLeft = new Int32Array(splits);
  const sRight = new Int32Array(splits);
  const sDefaultLeft = new Uint8Array(splits);
  const sCatStart = new Int32Array(splits).fill(-1);
  const sCatWords = new Int32Array(splits);
  const bits = new Uint32Array(words);
  const sBit = new Int32Array(splits); // the pattern bit of the split's feature on its path
  const sFresh = new Int32Array(splits); // −1 when the split is the first on its path to use its feature, else 0
  const sDepth = new Int32Array(splits); // twigs: d, where their features and table start
  const sFeatureStart = new Int32Array(splits);
  const sTableStart = new Int32Array(splits);
  const lNode = new Int32Array(leaves);
  const lDepth = new Int32Array(leaves);
  const lFeatureStart = new Int32Array(leaves);
  const lTableStart = new Int32Array(leaves);
  const pathFeatures = new Int32Array(pathEntries);
  const table = new Float64Array(entries);
  let sAt = 0;
  let lAt = 0;
  let fAt = 0;
  let eAt = 0;
  let w = 0;
  /** Appends split n of tree b, and its table when it is a twig. */
  const addSplit = (b: TreeTables, n: number, twig: LeafTable | null): void => {
    const t = b.tree;
    sNode[sAt] = n;
    sFeature[sAt] = t.feature[n]!;
    sThreshold[sAt] = t.threshold[n]!;
    sLeft[sAt] = t.left[n]!;
    sRight[sAt] = t.right[n]!;
    sDefaultLeft[sAt] = t.defaultLeft[n]!;
    sBit[sAt] = b.bit[n]!;
    sFresh[sAt] = b.fresh[n] === 1 ? -1 : 0;
    const c = t.leftCategories[n];
    if (c) {
      sThreshold[sAt] = Number.NaN; // both comparisons fail: the walk takes the categorical path
      sCatStart[sAt] = w;
      const nw = c.length > 0 ? (c[c.length - 1]! >>> 5) + 1 : 0;
      sCatWords[sAt] = nw;
      for (const code of c) bits[w + (code >>> 5)]! |= 1 << (code & 31);
      w += nw;
    }
    if (twig) {
      sDepth[sAt] = twig.features.length;
      sFeatureStart[sAt] = fAt;
      sTableStart[sAt] = eAt;
      pathFeatures.set(twig.features, fAt);
      table.set(twig.table, eAt);
      fAt += twig.features.length;
      eAt += twig.table.length;
    }
    sAt++;
  };
  tabled.forEach((b, k) => {
    const t = b.tree;
    const twigs = new Map(b.twigs.map((g) => [g.node, g]));
    splitStart[k] = sAt;
    for (let n = 0; n < t.feature.length; n++) if (t.feature[n]! >= 0 && !twigs.has(n)) addSplit(b, n, null);
    twigStart[k] = sAt;
    for (const g of b.twigs) addSplit(b, g.node, g);
    leafStart[k] = lAt;
    for (const l of b.leaves) {
      lNode[lAt] = l.node;
      lDepth[lAt] = l.features.length;
      lFeatureStart[lAt] = fAt;
      lTableStart[lAt] = eAt;
      pathFeatures.set(l.features, fAt);
      table.set(l.table, eAt);
      fAt += l.features.length;
      eAt += l.table.length;
      lAt++;
    }
  });
  splitStart[tabled.length] = sAt;
  leafStart[tabled.length] = lAt;
  const recursive = trees.filter((_, k) => built[k] === null);

  /** Missing value or categorical split: the same rule as `goesLeft` (tree.ts). */
  const slowLeft = (q: number, v: number): boolean => {
    if (Number.isNaN(v)) return sDefaultLeft[q] === 1;
    const start = sCatStart[q]!;
    // A code goes left when its bit is set; anything that is not a stored code (negative, fractional, beyond the
    // largest code) goes right, as a binary search of the sorted codes would decide.
    return (
      start >= 0 &&
      Number.isInteger(v) &&
      v >= 0 &&
      v < sCatWords[q]! * 32 &&
      (bits[start + (v >>> 5)]! & (1 << (v & 31))) !== 0
    );
  };
  const mask = new Int32Array(maxNodes);
  const nTabled = tabled.length;

  const addRows = (
    x: Float64Array,
    offset: number,
    stride: number,
    rows: number,
    phi: Float64Array,
  ): void => {
    // Locals, not the closure's variables: V8 keeps them in registers across the loops (about 2x faster).
    const pattern = mask;
    const node = sNode;
    const feature = sFeature;
    const threshold = sThreshold;
    const toLeft = sLeft;
    const toRight = sRight;
    const bit = sBit;
    const fresh = sFresh;
    const twigDepth = sDepth;
    const twigFeatureStart = sFeatureStart;
    const twigTableStart = sTableStart;
    const leafNode = lNode;
    const depth = lDepth;
    const featureStart = lFeatureStart;
    const tableStart = lTableStart;
    const pathFeature = pathFeatures;
    const values = table;
    const width = nFeatures;
    for (let k = 0; k < nTabled; k++) {
      const s0 = splitStart[k]!;
      const t0 = twigStart[k]!;
      const s1 = splitStart[k + 1]!;
      const l0 = leafStart[k]!;
      const l1 = leafStart[k + 1]!;
      for (let r = 0; r < rows; r++) {
        const at = offset + r * stride;
        const out = r * width;
        // Splits come parent before child, so one forward pass carries each node's pattern down: the child x
        // goes to keeps the node's bit (sets it, on the path's first split of that feature); the other clears it.
        // Selected with masks, not branches: which way a row goes is unpredictable.
        pattern[0] = 0;
        for (let q = s0; q < t0; q++) {
          const m = pattern[node[q]!]!;
          const v = x[at + feature[q]!]!;
          const th = threshold[q]!;
          let goLeft = v <= th;
          if (!goLeft && !(v > th)) goLeft = slowLeft(q, v);
          const b = bit[q]!;
          const hot = m | (b & fresh[q]!);
          const cold = m & ~b;
          const sel = goLeft ? -1 : 0; // all ones when x goes left
          pattern[toLeft[q]!] = (hot & sel) | (cold & ~sel);
          pattern[toRight[q]!] = (cold & sel) | (hot & ~sel);
        }
        for (let q = t0; q < s1; q++) {
          const v = x[at + feature[q]!]!;
          const th = threshold[q]!;
          let goLeft = v <= th;
          if (!goLeft && !(v > th)) goLeft = slowLeft(q, v);
          const d = twigDepth[q]!;
          const base = twigTableStart[q]! + (2 * pattern[node[q]!]! + (goLeft ? 1 : 0)) * d;
          const fs = twigFeatureStart[q]!;
          for (let i = 0; i < d; i++) phi[out + pathFeature[fs + i]!]! += values[base + i]!;
        }
        for (let l = l0; l < l1; l++) {
          const d = depth[l]!;
          const base = tableStart[l]! + pattern[leafNode[l]!]! * d;
          const fs = featureStart[l]!;
          for (let i = 0; i < d; i++) phi[out + pathFeature[fs + i]!]! += values[base + i]!;
        }
      }
    }
    if (recursive.length > 0)
      for (let r = 0; r < rows; r++) {
        const row = x.subarray(offset + r * stride, offset + r * stride + nFeatures);
        const own = phi.subarray(r * nFeatures, (r + 1) * nFeatures);
        for (const t of recursive) treeShap(t, row, own);
      }
  };

  return {
    tabled: nTabled,
    addInto(x: Float64Array, offset: number, phi: Float64Array): void {
      addRows(x, offset, nFeatures, 1, phi);
    },
    addRows,
  };
}

interface LeafTable {
  node: number;
  /** The distinct features of the leaf's path, in order of first split (bit i of a pattern is features[i]). */
  features: Int32Array;
  /** Entry pattern·d + i: the leaf's contribution to φ(features[i]) for that pattern. */
  table: Float64Array;
}

interface TreeTables {
  tree: Tree;
  bit: Int32Array;
  fresh: Uint8Array;
  /** Leaves whose sibling is a split (or the root leaf). */
  leaves: LeafTable[];
  /**
   * Splits whose children are both leaves, each with one table for its two leaves: the two share their path
   * features, so entry (p·2 + goesLeft)·d + i sums both leaves' contributions for the split's own pattern p and
   * the row's direction there. Half the reads and additions of two leaf tables.
   */
  twigs: LeafTable[];
}

/** The leaf tables of one tree, or null when they would exceed the limits above. */
function buildTree(tree: Tree, k: number, nFeatures: number): TreeTables | null {
  const m = tree.feature.length;
  const bit = new Int32Array(m);
  const fresh = new Uint8Array(m);
  const leaves: { node: number; features: number[]; zero: number[] }[] = [];
  let entries = 0;
  let tooBig = false;
  // Depth-first over the paths, carrying the distinct features met so far and their zero fractions.
  const walk = (node: number, features: number[], zero: number[]): void => {
    const f = tree.feature[node]!;
    if (f < 0) {
      leaves.push({ node, features, zero });
      const d = features.length;
      if (d > MAX_PATH_FEATURES) tooBig = true;
      else entries += d << d;
      return;
    }
    if (f >= nFeatures)
      throw new RangeError(
        `tree ${k}: node ${node} splits on feature ${f} but rows have ${nFeatures} values`,
      );
    let pos = features.indexOf(f);
    fresh[node] = pos < 0 ? 1 : 0;
    if (pos < 0) pos = features.length;
    bit[node] = 1 << pos;
    const cover = tree.cover[node]!;
    for (const child of [tree.left[node]!, tree.right[node]!]) {
      // A split node training never reached (cover 0) gives both children zero fraction 0, as treeShap does.
      const ratio = cover > 0 ? tree.cover[child]! / cover : 0;
      const fs = features.slice();
      const zs = zero.slice();
      if (pos < fs.length) zs[pos] = zs[pos]! * ratio;
      else {
        fs.push(f);
        zs.push(ratio);
      }
      walk(child, fs, zs);
    }
  };
  walk(0, [], []);
  if (tooBig || entries > MAX_TREE_ENTRIES) return null;
  const tables = new Map(
    leaves.map((l) => [
      l.node,
      { node: l.node, features: Int32Array.from(l.features), table: leafTable(tree.value[l.node]!, l.zero) },
    ]),
  );
  const twigs: LeafTable[] = [];
  for (let n = 0; n < m; n++) {
    const l = tables.get(tree.left[n]!);
    const r = tables.get(tree.right[n]!);
    if (tree.feature[n]! < 0 || !l || !r) continue;
    tables.delete(l.node);
    tables.delete(r.node);
    const d = l.features.length;
    const table = new Float64Array(2 * (d << d));
    const b = bit[n]!;
    for (let p = 0; p < 1 << d; p++) {
      const hot = fresh[n] === 1 ? p | b : p;
      const cold = p & ~b;
      for (let i = 0; i < d; i++) {
        // Row goes left: the left leaf sees the hot pattern; goes right: the right leaf does.
        table[(2 * p + 1) * d + i] = l.table[hot * d + i]! + r.table[cold * d + i]!;
        table[2 * p * d + i] = l.table[cold * d + i]! + r.table[hot * d + i]!;
      }
    }
    twigs.push({ node: n, features: l.features, table });
  }
  return { tree, bit, fresh, leaves: [...tables.values()], twigs };
}

/**
 * A leaf's contributions for every pattern: entry p·d + i = v (o_i − z_i) Σ_k c_k k!(d−1−k)!/d!, where c_k sums,
 * over the subsets S of size k of the other features, Π_{j∈S} o_j Π_{j∉S} z_j (o_j = bit j of p).
 */
function leafTable(value: number, zero: readonly number[]): Float64Array {
  const d = zero.length;
  const out = new Float64Array(d << d);
  if (d === 0) return out;
  // weight[k] = k!(d−1−k)!/d!, the Shapley weight of a coalition of k of the d−1 other features.
  const weight = new Float64Array(d);
  for (let k = 0; k < d; k++) weight[k] = (factorial(k) * factorial(d - 1 - k)) / factorial(d);
  const c = new Float64Array(d);
  for (let p = 0; p < 1 << d; p++) {
    for (let i = 0; i < d; i++) {
      // c = Π_{j≠i} (z_j + o_j·t) as a polynomial in t: coefficient k counts the coalitions of size k.
      c.fill(0);
      c[0] = 1;
      let deg = 0;
      for (let j = 0; j < d; j++) {
        if (j === i) continue;
        const z = zero[j]!;
        if ((p >> j) & 1) {
          for (let q = deg + 1; q >= 1; q--) c[q] = c[q]! * z + c[q - 1]!;
          c[0] = c[0]! * z;
          deg++;
        } else for (let q = 0; q <= deg; q++) c[q] = c[q]! * z;
      }
      let sum = 0;
      for (let q = 0; q <= deg; q++) sum += c[q]! * weight[q]!;
      out[p * d + i] = value * (((p >> i) & 1) - zero[i]!) * sum;
    }
  }
  return out;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}
