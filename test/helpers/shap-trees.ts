/**
 * Hand-built and random regression trees, and Shapley values by brute force (every coalition enumerated), for the
 * TreeSHAP tests: independent of the gbdt fitter and of the TreeSHAP algorithms under test.
 */
import { goesLeft, type Tree } from '../../src/core/models/gbdt/tree.ts';
import type { Rng } from '../../src/core/random.ts';

// ---------------------------------------------------------------------------------------------------------
// Tree construction helpers (the test builds trees by hand so it does not depend on the gbdt fitter).

/** A node in nested form; converted to the struct-of-arrays Tree by `toTree`. */
export type Spec =
  | { leaf: number; cover: number }
  | {
      feature: number;
      threshold?: number;
      categories?: number[];
      defaultLeft: boolean;
      left: Spec;
      right: Spec;
    };

/** Flattens a nested spec (pre-order) and sets each split's cover to the sum of its children's. */
export function toTree(root: Spec): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const cats: (Int32Array | null)[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const defaultLeft: number[] = [];
  const value: number[] = [];
  const cover: number[] = [];
  const gain: number[] = [];
  const add = (s: Spec): number => {
    const i = feature.length;
    feature.push(-1);
    threshold.push(Number.NaN);
    cats.push(null);
    left.push(-1);
    right.push(-1);
    defaultLeft.push(0);
    value.push(0);
    cover.push(0);
    gain.push(0);
    if ('leaf' in s) {
      value[i] = s.leaf;
      cover[i] = s.cover;
      return i;
    }
    feature[i] = s.feature;
    if (s.categories) cats[i] = Int32Array.from([...s.categories].sort((a, b) => a - b));
    else threshold[i] = s.threshold!;
    defaultLeft[i] = s.defaultLeft ? 1 : 0;
    const l = add(s.left);
    const r = add(s.right);
    left[i] = l;
    right[i] = r;
    cover[i] = cover[l]! + cover[r]!;
    gain[i] = 1;
    return i;
  };
  add(root);
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    leftCategories: cats,
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft),
    value: Float64Array.from(value),
    cover: Float64Array.from(cover),
    gain: Float64Array.from(gain),
  };
}

export const leaf = (v: number, cover = 1): Spec => ({ leaf: v, cover });

/** Number of category codes a categorical feature takes in the random cases (codes 0..CATS-1). */
export const CATS = 5;

export interface Case {
  tree: Tree;
  x: Float64Array;
  nFeatures: number;
}

/**
 * A random tree of depth ≤ maxDepth over nFeatures columns. Some columns are categorical (codes 0..CATS-1,
 * subset splits); splits reuse an ancestor's feature with probability 0.35 so repeated splits on one path
 * are common; a few leaves have cover 0 to exercise the zero-cover guard.
 */
export function randomTree(rng: Rng, nFeatures: number, maxDepth: number, categorical: boolean[]): Tree {
  const build = (depth: number, ancestors: number[]): Spec => {
    if (depth === maxDepth || (depth > 0 && rng.bernoulli(0.2))) {
      const cover = rng.bernoulli(0.05) ? 0 : 0.1 + 5 * rng.next();
      return leaf(rng.normal(), cover);
    }
    const f =
      ancestors.length > 0 && rng.bernoulli(0.35)
        ? ancestors[rng.int(0, ancestors.length - 1)]!
        : rng.int(0, nFeatures - 1);
    const defaultLeft = rng.bernoulli(0.5);
    const kids = [...ancestors, f];
    if (categorical[f]) {
      const categories: number[] = [];
      for (let c = 0; c < CATS; c++) if (rng.bernoulli(0.5)) categories.push(c);
      return {
        feature: f,
        categories,
        defaultLeft,
        left: build(depth + 1, kids),
        right: build(depth + 1, kids),
      };
    }
    const threshold = Math.round(rng.normal() * 4) / 4; // coarse grid so rows can hit a threshold exactly
    return {
      feature: f,
      threshold,
      defaultLeft,
      left: build(depth + 1, kids),
      right: build(depth + 1, kids),
    };
  };
  return toTree(build(0, []));
}

/**
 * A random row: 20% missing, otherwise a category code or a value on a 1/8 grid (thresholds lie on a 1/4 grid,
 * so rows often sit exactly on a threshold and exercise the `<=`).
 */
export function randomRow(rng: Rng, nFeatures: number, categorical: boolean[]): Float64Array {
  const x = new Float64Array(nFeatures);
  for (let j = 0; j < nFeatures; j++) {
    if (rng.bernoulli(0.2)) x[j] = Number.NaN;
    else if (categorical[j]) x[j] = rng.int(0, CATS - 1);
    else x[j] = Math.round(rng.normal() * 8) / 8;
  }
  return x;
}

export function randomCase(rng: Rng, maxDepth = 5): Case {
  const nFeatures = rng.int(3, 6);
  const categorical = Array.from({ length: nFeatures }, () => rng.bernoulli(0.3));
  const tree = randomTree(rng, nFeatures, maxDepth, categorical);
  return { tree, x: randomRow(rng, nFeatures, categorical), nFeatures };
}

// ---------------------------------------------------------------------------------------------------------
// Brute force, straight from the definitions (independent of the TreeSHAP recursion).

/**
 * v(S): the tree's expected output when the features in bitmask S are fixed to x and the rest are averaged
 * out by training cover. A split node with cover 0 weighs its children 0 (the convention shap.ts documents).
 */
export function coalitionValue(tree: Tree, x: Float64Array, s: number, node = 0): number {
  const f = tree.feature[node]!;
  if (f < 0) return tree.value[node]!;
  const l = tree.left[node]!;
  const r = tree.right[node]!;
  if (s & (1 << f)) return coalitionValue(tree, x, s, goesLeft(tree, node, x[f]!) ? l : r);
  const c = tree.cover[node]!;
  if (c === 0) return 0;
  return (
    (tree.cover[l]! / c) * coalitionValue(tree, x, s, l) +
    (tree.cover[r]! / c) * coalitionValue(tree, x, s, r)
  );
}

function factorial(n: number): number {
  let p = 1;
  for (let i = 2; i <= n; i++) p *= i;
  return p;
}

/** φ_j = Σ_{S ⊆ F\{j}} |S|!(M−|S|−1)!/M! · (v(S ∪ {j}) − v(S)), enumerating every subset. */
export function bruteShap(tree: Tree, x: Float64Array, m: number): Float64Array {
  const v = new Float64Array(1 << m);
  for (let s = 0; s < 1 << m; s++) v[s] = coalitionValue(tree, x, s);
  const phi = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    for (let s = 0; s < 1 << m; s++) {
      if (s & (1 << j)) continue;
      let size = 0;
      for (let t = s; t; t &= t - 1) size++;
      const weight = (factorial(size) * factorial(m - size - 1)) / factorial(m);
      phi[j]! += weight * (v[s | (1 << j)]! - v[s]!);
    }
  }
  return phi;
}
