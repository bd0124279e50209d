/**
 * One regression tree of a gbdt ensemble, as struct-of-arrays. Node 0 is the root; a node is a leaf when its
 * `feature` is -1. This is the learned form (what the artifact stores and TreeSHAP walks); scoring uses the
 * flattened forest built from it (forest.ts).
 */
export interface Tree {
  /** Split feature (column index) per node; -1 for a leaf. */
  readonly feature: Int32Array;
  /** Numeric split: a value goes left when `x <= threshold`. Categorical split or leaf: NaN. */
  readonly threshold: Float64Array;
  /**
   * Categorical split: the category codes (sorted ascending) that go left; every other code goes right.
   * `null` for numeric splits and leaves.
   */
  readonly leftCategories: readonly (Int32Array | null)[];
  /** Child node indices; -1 for a leaf. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** 1 when a missing value (NaN) goes left at this node, 0 when it goes right; 0 for a leaf. */
  readonly defaultLeft: Uint8Array;
  /** Leaf value: the tree's contribution to the log-odds (learning rate applied). 0 for an internal node. */
  readonly value: Float64Array;
  /**
   * Training hessian sum that reached the node (TreeSHAP's cover). A split node's cover is the sum of its
   * children's.
   */
  readonly cover: Float64Array;
  /** Loss reduction of the node's split (the gain importance); 0 for a leaf. */
  readonly gain: Float64Array;
}

/** Whether value `v` of the node's split feature goes to the left child. The one routing rule. */
export function goesLeft(tree: Tree, node: number, v: number): boolean {
  if (Number.isNaN(v)) return tree.defaultLeft[node] === 1;
  const cats = tree.leftCategories[node];
  if (cats) return binaryHas(cats, v);
  return v <= tree.threshold[node]!;
}

function binaryHas(sorted: Int32Array, v: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = sorted[mid]!;
    if (m === v) return true;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The leaf row `x` (one value per feature, NaN = missing) reaches, starting at the root. */
export function leafOf(tree: Tree, x: ArrayLike<number>): number {
  let n = 0;
  while (tree.feature[n]! >= 0) {
    n = goesLeft(tree, n, x[tree.feature[n]!]!) ? tree.left[n]! : tree.right[n]!;
  }
  return n;
}
