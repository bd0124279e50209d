import { describe, expect, it } from 'vitest';
import { expectedValue, treeShap } from '../src/core/models/gbdt/shap.ts';
import { goesLeft, leafOf, type Tree } from '../src/core/models/gbdt/tree.ts';
import { createRng } from '../src/core/random.ts';
import { bruteShap, leaf, randomCase, type Spec, toTree } from './helpers/shap-trees.ts';

function shap(tree: Tree, x: Float64Array, m = x.length): Float64Array {
  const phi = new Float64Array(m);
  treeShap(tree, x, phi);
  return phi;
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

function expectMatchesBruteForce(tree: Tree, x: Float64Array, label: string): void {
  const m = x.length;
  const phi = shap(tree, x, m);
  const want = bruteShap(tree, x, m);
  for (let j = 0; j < m; j++) expect(phi[j], `${label}, feature ${j}`).toBeCloseTo(want[j]!, 10);
  expect(sum(phi) + expectedValue(tree), `${label}, local accuracy`).toBeCloseTo(
    tree.value[leafOf(tree, x)]!,
    10,
  );
}

/** Whether x's own root-to-leaf path meets a split feature twice / a categorical split / a NaN it routes. */
function pathTraits(tree: Tree, x: Float64Array): { repeated: boolean; categorical: boolean; nan: boolean } {
  const seen = new Set<number>();
  let repeated = false;
  let categorical = false;
  let nan = false;
  let n = 0;
  while (tree.feature[n]! >= 0) {
    const f = tree.feature[n]!;
    if (seen.has(f)) repeated = true;
    seen.add(f);
    if (tree.leftCategories[n]) categorical = true;
    if (Number.isNaN(x[f]!)) nan = true;
    n = goesLeft(tree, n, x[f]!) ? tree.left[n]! : tree.right[n]!;
  }
  return { repeated, categorical, nan };
}

// ---------------------------------------------------------------------------------------------------------

describe('treeShap', () => {
  it('gives a stump its split feature the whole gap between leaf value and expected value', () => {
    // Left leaf 1 (cover 3), right leaf -1 (cover 1): E = (3·1 + 1·(−1)) / 4 = 0.5.
    const tree = toTree({
      feature: 0,
      threshold: 0.5,
      defaultLeft: false,
      left: leaf(1, 3),
      right: leaf(-1, 1),
    });
    expect(expectedValue(tree)).toBeCloseTo(0.5, 12);
    expect(Array.from(shap(tree, Float64Array.of(0.2, 7)))).toEqual([0.5, 0]); // 1 − 0.5
    expect(Array.from(shap(tree, Float64Array.of(0.9, 7)))).toEqual([-1.5, 0]); // −1 − 0.5
    expect(Array.from(shap(tree, Float64Array.of(Number.NaN, 7)))).toEqual([-1.5, 0]); // missing goes right
  });

  it('gives a single-leaf tree all zeros and its leaf value as the expected value', () => {
    const tree = toTree(leaf(-0.37, 12));
    expect(expectedValue(tree)).toBe(-0.37);
    expect(Array.from(shap(tree, Float64Array.of(1, Number.NaN, 3)))).toEqual([0, 0, 0]);
  });

  it('matches brute-force Shapley values on 400 random trees and rows', () => {
    const rng = createRng(20240611);
    const seen = { repeated: 0, categorical: 0, nan: 0, nanLeft: 0, nanRight: 0, zeroCover: 0 };
    for (let c = 0; c < 400; c++) {
      const { tree, x } = randomCase(rng);
      expectMatchesBruteForce(tree, x, `case ${c}`);
      const t = pathTraits(tree, x);
      if (t.repeated) seen.repeated++;
      if (t.categorical) seen.categorical++;
      if (t.nan) seen.nan++;
      for (let n = 0; n < tree.feature.length; n++) {
        const f = tree.feature[n]!;
        if (f >= 0 && Number.isNaN(x[f]!)) {
          if (tree.defaultLeft[n] === 1) seen.nanLeft++;
          else seen.nanRight++;
        }
      }
      if (tree.cover.some((v) => v === 0)) seen.zeroCover++;
    }
    // The random cases must actually exercise the hard parts, or the agreement above proves little.
    expect(seen.repeated).toBeGreaterThan(50);
    expect(seen.categorical).toBeGreaterThan(50);
    expect(seen.nan).toBeGreaterThan(50);
    expect(seen.nanLeft).toBeGreaterThan(50);
    expect(seen.nanRight).toBeGreaterThan(50);
    expect(seen.zeroCover).toBeGreaterThan(10);
  });

  it('is locally accurate on deeper random trees (sum of phi + expected value = leaf value)', () => {
    const rng = createRng(7);
    for (let c = 0; c < 300; c++) {
      const { tree, x } = randomCase(rng, 10);
      const phi = shap(tree, x);
      for (const v of phi) expect(Number.isFinite(v)).toBe(true);
      expect(sum(phi) + expectedValue(tree), `case ${c}`).toBeCloseTo(tree.value[leafOf(tree, x)]!, 10);
    }
  });

  it('gives a feature the tree never splits on exactly 0', () => {
    const rng = createRng(99);
    let checked = 0;
    for (let c = 0; c < 200; c++) {
      const { tree, x } = randomCase(rng);
      const used = new Set(tree.feature.filter((f) => f >= 0));
      const phi = shap(tree, x);
      for (let j = 0; j < x.length; j++) {
        if (used.has(j)) continue;
        expect(phi[j], `case ${c}, feature ${j}`).toBe(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('adds into phi so an ensemble sums its trees', () => {
    const rng = createRng(3);
    const a = randomCase(rng);
    const alone = shap(a.tree, a.x);
    // Start from what earlier trees left behind; contributions are added leaf by leaf, so compare to rounding.
    const phi = Float64Array.from(alone, (_, j) => 10 * (j + 1));
    treeShap(a.tree, a.x, phi);
    for (let j = 0; j < phi.length; j++) expect(phi[j]).toBeCloseTo(10 * (j + 1) + alone[j]!, 12);
  });

  it('counts a feature split twice on one path once (undoes its earlier extension)', () => {
    // f0 ≤ 0 then f0 ≤ −1 on the left; f1 in between so the repeat is not adjacent.
    const tree = toTree({
      feature: 0,
      threshold: 0,
      defaultLeft: true,
      left: {
        feature: 1,
        threshold: 2,
        defaultLeft: false,
        left: { feature: 0, threshold: -1, defaultLeft: false, left: leaf(3, 1), right: leaf(-2, 2) },
        right: leaf(0.5, 4),
      },
      right: { feature: 0, threshold: 1, defaultLeft: true, left: leaf(1, 3), right: leaf(-1, 5) },
    });
    for (const x0 of [-2, -0.5, 0, 0.5, 2, Number.NaN]) {
      for (const x1 of [1, 3, Number.NaN]) {
        expectMatchesBruteForce(tree, Float64Array.of(x0, x1, 0), `x = (${x0}, ${x1})`);
      }
    }
  });

  it('routes categorical splits and missing values through goesLeft', () => {
    const tree = toTree({
      feature: 2,
      categories: [4, 1],
      defaultLeft: true,
      left: { feature: 0, threshold: 0, defaultLeft: false, left: leaf(2, 2), right: leaf(-1, 1) },
      right: { feature: 2, categories: [0], defaultLeft: false, left: leaf(0.25, 3), right: leaf(-3, 1) },
    });
    expect(tree.threshold[0]).toBeNaN();
    for (const code of [0, 1, 2, 3, 4, Number.NaN]) {
      for (const x0 of [-1, 1, Number.NaN]) {
        expectMatchesBruteForce(tree, Float64Array.of(x0, 0, code), `x = (${x0}, ·, ${code})`);
      }
    }
    // Category 1 goes left at the root; missing goes left there too: same leaf, same attribution.
    expect(shap(tree, Float64Array.of(-1, 0, 1))).toEqual(shap(tree, Float64Array.of(-1, 0, Number.NaN)));
  });

  it('gives finite values when a child, or a whole subtree, has cover 0', () => {
    const tree = toTree({
      feature: 0,
      threshold: 0,
      defaultLeft: false,
      left: { feature: 1, threshold: 0, defaultLeft: false, left: leaf(5, 0), right: leaf(-5, 0) },
      right: { feature: 0, threshold: 1, defaultLeft: false, left: leaf(1, 2), right: leaf(2, 0) },
    });
    expect(tree.cover[1]).toBe(0); // the left subtree was never reached in training
    expect(expectedValue(tree)).toBeCloseTo(1, 12);
    for (const x0 of [-1, 0.5, 2]) {
      for (const x1 of [-1, 1, Number.NaN]) {
        const x = Float64Array.of(x0, x1);
        for (const v of shap(tree, x)) expect(Number.isFinite(v)).toBe(true);
        expectMatchesBruteForce(tree, x, `x = (${x0}, ${x1})`);
      }
    }
  });

  it('handles a path deeper than any seen before (grows its working storage)', () => {
    // A 40-deep chain over 4 features, then a shallow tree again on the grown storage.
    const rng = createRng(41);
    let spec: Spec = leaf(rng.normal(), 1);
    for (let d = 0; d < 40; d++) {
      const other = leaf(rng.normal(), 0.5 + rng.next());
      const f = d % 4;
      const threshold = rng.normal();
      spec = rng.bernoulli(0.5)
        ? { feature: f, threshold, defaultLeft: false, left: spec, right: other }
        : { feature: f, threshold, defaultLeft: true, left: other, right: spec };
    }
    const chain = toTree(spec);
    for (let c = 0; c < 20; c++) {
      const x = Float64Array.from({ length: 4 }, () => (rng.bernoulli(0.2) ? Number.NaN : rng.normal()));
      expectMatchesBruteForce(chain, x, `chain row ${c}`);
    }
    const { tree, x } = randomCase(rng);
    expectMatchesBruteForce(tree, x, 'shallow tree after the chain');
  });

  it('refuses a row or phi too short for the features the tree splits on', () => {
    const tree = toTree({ feature: 3, threshold: 0, defaultLeft: false, left: leaf(1), right: leaf(2) });
    expect(() => treeShap(tree, new Float64Array(4), new Float64Array(3))).toThrow(
      new RangeError('treeShap: node 0 splits on feature 3 but phi has 3 slots'),
    );
    expect(() => treeShap(tree, new Float64Array(3), new Float64Array(4))).toThrow(
      new RangeError('treeShap: node 0 splits on feature 3 but x has 3 values'),
    );
  });
});
