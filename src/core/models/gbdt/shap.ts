/**
 * Exact path-dependent TreeSHAP for one regression tree (Lundberg, Erion & Lee 2018, "Consistent
 * individualized feature attribution for tree ensembles", Algorithm 2).
 *
 * The value function is the path-dependent one: v(S) follows x's branch at a split on a feature in S and
 * otherwise averages both children weighted by training cover. The Shapley values of that game are computed
 * in O(leaves · depth²) instead of O(2^features) by carrying, along each root-to-leaf path, the polynomial
 * "how many subsets of each size reach here" (EXTEND), and removing one feature from it again (UNWIND /
 * UNWOUND_SUM) to get that feature's weight at the leaf.
 *
 * Routing goes through `goesLeft` only, so categorical splits and missing values (NaN) are attributed exactly
 * as the forest scores them.
 */
import { goesLeft, type Tree } from './tree.ts';

// Path working storage, shared by every call and grown (never shrunk) to the deepest tree seen. Each
// recursion level owns a segment that starts right after its parent's, so a tree of depth D needs at most
// (D + 1)(D + 2) / 2 slots. Module-level storage is safe because treeShap is synchronous and never
// re-entered; it keeps the per-row cost at zero allocations when scoring hundreds of trees per request.
let capacity = 0;
let pathFeature = new Int32Array(0);
let pathZero = new Float64Array(0);
let pathOne = new Float64Array(0);
let pathWeight = new Float64Array(0);
// recip[k] = 1 / k. The weight updates divide by small integers in their innermost loops, on the recurrence's
// critical path; multiplying by a table entry instead is measurably faster (divisions are the slowest
// arithmetic here).
let recip = new Float64Array(0);

function ensureCapacity(needed: number): void {
  if (needed <= capacity) return;
  let next = Math.max(64, capacity * 2);
  while (next < needed) next *= 2;
  // Growth can happen mid-recursion, so live segments are copied over; callers re-read the module
  // variables after every recursive call instead of holding on to the old arrays.
  const f = new Int32Array(next);
  const z = new Float64Array(next);
  const o = new Float64Array(next);
  const w = new Float64Array(next);
  f.set(pathFeature);
  z.set(pathZero);
  o.set(pathOne);
  w.set(pathWeight);
  pathFeature = f;
  pathZero = z;
  pathOne = o;
  pathWeight = w;
  recip = new Float64Array(next + 1);
  for (let k = 1; k <= next; k++) recip[k] = 1 / k;
  capacity = next;
}

/**
 * The tree's expected output over the training distribution: the cover-weighted mean of its leaf values,
 * i.e. v(∅) of the path-dependent game, so that `sum(phi) + expectedValue(tree)` is the tree's output for any
 * row. Computed with the same child/parent cover ratios treeShap uses, so local accuracy holds to rounding
 * even if a stored tree's covers do not add up exactly. A split node with cover 0 contributes 0 (it was never
 * reached in training). A single-leaf tree returns its leaf value.
 *
 * @param tree - One regression tree; values are log-odds contributions.
 * @returns The expected log-odds contribution of the tree.
 */
export function expectedValue(tree: Tree): number {
  return expectedFrom(tree, 0);
}

function expectedFrom(tree: Tree, node: number): number {
  if (tree.feature[node]! < 0) return tree.value[node]!;
  const c = tree.cover[node]!;
  if (!(c > 0)) return 0;
  const l = tree.left[node]!;
  const r = tree.right[node]!;
  return (tree.cover[l]! / c) * expectedFrom(tree, l) + (tree.cover[r]! / c) * expectedFrom(tree, r);
}

/**
 * Adds the exact TreeSHAP (path-dependent) contribution of each feature for row `x` into `phi`:
 * `phi[j] += φ_j`. The caller zeroes `phi` and sums over the trees of an ensemble; afterwards
 * `sum(phi) + Σ expectedValue(tree)` equals the ensemble's raw log-odds for `x` (local accuracy).
 * Features the tree never splits on get no contribution (phi is left untouched there).
 *
 * Allocation-free after the first call with a tree of a given depth (the path storage is reused).
 *
 * @param tree - One regression tree; leaf values are log-odds contributions.
 * @param x - One row, one value per feature column (NaN = missing), as the tree was trained on.
 * @param phi - One slot per feature column; contributions are added in log-odds units.
 * @throws RangeError if a split uses a feature index outside `x` or `phi`.
 */
export function treeShap(tree: Tree, x: ArrayLike<number>, phi: Float64Array): void {
  // The root's path entry is a dummy (feature -1, fractions 1) that seeds the subset polynomial with
  // weight 1; leaves skip it when attributing.
  recurse(tree, x, phi, 0, 0, 0, 1, 1, -1);
}

/**
 * One node of Algorithm 2's RECURSE. The parent's path occupies `count` slots from `parentStart`; this node's
 * path is a copy of it extended by the edge that led here (`zeroFraction`, `oneFraction`, `feature`).
 */
function recurse(
  tree: Tree,
  x: ArrayLike<number>,
  phi: Float64Array,
  node: number,
  parentStart: number,
  count: number,
  zeroFraction: number,
  oneFraction: number,
  feature: number,
): void {
  const start = parentStart + count;
  ensureCapacity(start + count + 1);
  // Copy the parent's path so that siblings see it unmodified (the algorithm is path-dependent). A plain
  // loop, not copyWithin: paths are a handful of elements and the builtin's call overhead dominated.
  const pf = pathFeature;
  const pz = pathZero;
  const po = pathOne;
  const pw = pathWeight;
  for (let i = 0; i < count; i++) {
    pf[start + i] = pf[parentStart + i]!;
    pz[start + i] = pz[parentStart + i]!;
    po[start + i] = po[parentStart + i]!;
    pw[start + i] = pw[parentStart + i]!;
  }
  let depth = count; // index of the last element, "unique_depth" in the paper
  extend(start, depth, zeroFraction, oneFraction, feature);

  const split = tree.feature[node]!;
  if (split < 0) {
    const value = tree.value[node]!;
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(start, depth, i);
      const k = start + i;
      phi[pathFeature[k]!]! += w * (pathOne[k]! - pathZero[k]!) * value;
    }
    return;
  }
  if (split >= x.length) {
    throw new RangeError(`treeShap: node ${node} splits on feature ${split} but x has ${x.length} values`);
  }
  if (split >= phi.length) {
    throw new RangeError(`treeShap: node ${node} splits on feature ${split} but phi has ${phi.length} slots`);
  }

  const left = tree.left[node]!;
  const right = tree.right[node]!;
  const hot = goesLeft(tree, node, x[split]!) ? left : right;
  const cold = hot === left ? right : left;
  const cover = tree.cover[node]!;
  // Guard cover 0 (a node training never reached): its children get zero fraction 0 instead of NaN.
  const hotZero = cover > 0 ? tree.cover[hot]! / cover : 0;
  const coldZero = cover > 0 ? tree.cover[cold]! / cover : 0;

  // A feature already on the path (split twice along it) must appear once: undo its earlier extension and
  // fold its fractions into this edge, so the subset polynomial counts the feature once.
  let incomingZero = 1;
  let incomingOne = 1;
  for (let i = 1; i <= depth; i++) {
    if (pathFeature[start + i] === split) {
      incomingZero = pathZero[start + i]!;
      incomingOne = pathOne[start + i]!;
      unwind(start, depth, i);
      depth--;
      break;
    }
  }

  // An edge with both fractions 0 (a zero-cover child off x's path) has weight 0 in every v(S), so its
  // subtree contributes nothing; skipping it also keeps UNWIND from dividing by zero further down.
  const hz = hotZero * incomingZero;
  if (hz !== 0 || incomingOne !== 0) recurse(tree, x, phi, hot, start, depth + 1, hz, incomingOne, split);
  const cz = coldZero * incomingZero;
  if (cz !== 0) recurse(tree, x, phi, cold, start, depth + 1, cz, 0, split);
}

/** EXTEND: append an element and update the subset-size weights for the path grown by one feature. */
function extend(
  start: number,
  depth: number,
  zeroFraction: number,
  oneFraction: number,
  feature: number,
): void {
  const w = pathWeight;
  const k = start + depth;
  pathFeature[k] = feature;
  pathZero[k] = zeroFraction;
  pathOne[k] = oneFraction;
  w[k] = depth === 0 ? 1 : 0;
  const invD1 = recip[depth + 1]!;
  for (let i = depth - 1; i >= 0; i--) {
    const wi = w[start + i]! * invD1;
    w[start + i + 1]! += oneFraction * wi * (i + 1);
    w[start + i] = zeroFraction * wi * (depth - i);
  }
}

/** UNWIND: the exact inverse of EXTEND for the element at `index`, which is then removed from the path. */
function unwind(start: number, depth: number, index: number): void {
  const w = pathWeight;
  const oneFraction = pathOne[start + index]!;
  const zeroFraction = pathZero[start + index]!;
  const r = recip;
  const d1 = depth + 1;
  const invD1 = r[d1]!;
  let nextOne = w[start + depth]!;
  if (oneFraction !== 0) {
    const scale = d1 / oneFraction;
    const zScale = zeroFraction * invD1;
    for (let i = depth - 1; i >= 0; i--) {
      const k = start + i;
      const c = scale * r[i + 1]!;
      const tmp = w[k]!;
      w[k] = nextOne * c;
      nextOne = tmp - nextOne * (c * zScale * (depth - i)); // one multiply on the recurrence, as in unwoundSum
    }
  } else {
    // zeroFraction is non-zero here: edges with both fractions 0 are never put on a path.
    const scale = d1 / zeroFraction;
    for (let i = depth - 1; i >= 0; i--) {
      const k = start + i;
      w[k] = w[k]! * scale * r[depth - i]!;
    }
  }
  for (let i = index; i < depth; i++) {
    const k = start + i;
    pathFeature[k] = pathFeature[k + 1]!;
    pathZero[k] = pathZero[k + 1]!;
    pathOne[k] = pathOne[k + 1]!;
  }
}

/**
 * UNWOUND_SUM: the total subset weight of the path with the element at `index` removed, without modifying the
 * path (the leaf needs it once per element).
 */
function unwoundSum(start: number, depth: number, index: number): number {
  const w = pathWeight;
  const oneFraction = pathOne[start + index]!;
  const zeroFraction = pathZero[start + index]!;
  const r = recip;
  const d1 = depth + 1;
  let nextOne = w[start + depth]!;
  let total = 0;
  if (oneFraction !== 0) {
    const scale = d1 / oneFraction;
    const zScale = zeroFraction * r[d1]!;
    // The loop is a recurrence through nextOne, so its speed is the latency of that chain: keep the chain
    // to one multiply and one subtract by computing the per-step constants off it.
    for (let i = depth - 1; i >= 0; i--) {
      const c = scale * r[i + 1]!;
      const tmp = nextOne * c;
      total += tmp;
      nextOne = w[start + i]! - nextOne * (c * zScale * (depth - i));
    }
  } else if (zeroFraction !== 0) {
    const scale = d1 / zeroFraction;
    for (let i = depth - 1; i >= 0; i--) total += w[start + i]! * scale * r[depth - i]!;
  }
  return total;
}
