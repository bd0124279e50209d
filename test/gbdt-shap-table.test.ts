import { describe, expect, it } from 'vitest';
import { matrix } from '../src/core/models/contract.ts';
import { flatten } from '../src/core/models/gbdt/forest.ts';
import { gbdtKind } from '../src/core/models/gbdt/gbdt.ts';
import { expectedValue, treeShap } from '../src/core/models/gbdt/shap.ts';
import { compileShap } from '../src/core/models/gbdt/shap-table.ts';
import { leafOf, type Tree } from '../src/core/models/gbdt/tree.ts';
import { createRng, type Rng } from '../src/core/random.ts';
import {
  bruteShap,
  CATS,
  leaf,
  randomCase,
  randomRow,
  randomTree,
  type Spec,
  toTree,
} from './helpers/shap-trees.ts';

/** The tables' Shapley values of row x over `trees`. */
function tabled(trees: readonly Tree[], x: Float64Array): Float64Array {
  const phi = new Float64Array(x.length);
  compileShap(trees, x.length).addInto(x, 0, phi);
  return phi;
}

/** The reference recursion (shap.ts) summed over `trees`. */
function reference(trees: readonly Tree[], x: Float64Array): Float64Array {
  const phi = new Float64Array(x.length);
  for (const t of trees) treeShap(t, x, phi);
  return phi;
}

function expectClose(got: Float64Array, want: Float64Array, label: string, tolerance = 1e-9): void {
  expect(got.length).toBe(want.length);
  for (let j = 0; j < want.length; j++) {
    const diff = Math.abs(got[j]! - want[j]!);
    expect(diff, `${label}, feature ${j}: ${got[j]} vs ${want[j]}`).toBeLessThanOrEqual(tolerance);
  }
}

/** A forest of random trees over one column layout, and rows for it. */
function randomForest(rng: Rng, trees: number, maxDepth: number, nFeatures: number) {
  const categorical = Array.from({ length: nFeatures }, () => rng.bernoulli(0.3));
  return {
    trees: Array.from({ length: trees }, () => randomTree(rng, nFeatures, maxDepth, categorical)),
    row: () => randomRow(rng, nFeatures, categorical),
  };
}

describe('compileShap (per-leaf tables)', () => {
  it('matches brute-force Shapley values and the reference recursion on 400 random trees', () => {
    const rng = createRng(20240611);
    let tabledTrees = 0;
    for (let c = 0; c < 400; c++) {
      const { tree, x } = randomCase(rng);
      const got = tabled([tree], x);
      expectClose(got, bruteShap(tree, x, x.length), `case ${c} vs brute force`);
      expectClose(got, reference([tree], x), `case ${c} vs treeShap`, 1e-12);
      let sum = expectedValue(tree);
      for (const v of got) sum += v;
      expect(Math.abs(sum - tree.value[leafOf(tree, x)]!), `case ${c}, local accuracy`).toBeLessThan(1e-9);
      tabledTrees += compileShap([tree], x.length).tabled;
    }
    expect(tabledTrees).toBe(400); // depth ≤ 5: every tree fits its tables
  });

  it('sums an ensemble like the reference, for many rows of one compiled model', () => {
    const rng = createRng(5);
    const { trees, row } = randomForest(rng, 60, 6, 9);
    const explainer = compileShap(trees, 9);
    expect(explainer.tabled).toBe(60);
    // Rows side by side in one buffer, explained at their offsets, as a model's matrix is.
    const rows = Array.from({ length: 300 }, row);
    const data = new Float64Array(rows.length * 9);
    rows.forEach((r, i) => {
      data.set(r, i * 9);
    });
    rows.forEach((r, i) => {
      const phi = new Float64Array(9);
      explainer.addInto(data, i * 9, phi);
      expectClose(phi, reference(trees, r), `row ${i}`);
    });
  });

  it('explains a block of rows tree by tree (addRows) bit for bit as row by row, a recursive tree included', () => {
    const rng = createRng(77);
    const { trees, row } = randomForest(rng, 40, 6, 9);
    // And a 14-deep chain over 12 distinct features, more than the tables take: it stays on the recursion.
    let spec: Spec = leaf(rng.normal(), 1);
    for (let d = 0; d < 14; d++) {
      const other = leaf(rng.normal(), 0.5 + rng.next());
      spec = { feature: d % 12, threshold: rng.normal(), defaultLeft: d % 2 === 0, left: spec, right: other };
    }
    const chain = toTree(spec);
    const explainer = compileShap([...trees, chain], 12);
    expect(explainer.tabled).toBe(40);
    // Rows of 12 values (the chain reads up to 11) at a stride of 15 after an offset of 4, as a block of a
    // wider matrix; the block's contributions start at phi[0], one row of 12 slots after another.
    const rows = Array.from({ length: 37 }, () => {
      const r = new Float64Array(12);
      r.set(row());
      for (let j = 9; j < 12; j++) r[j] = rng.bernoulli(0.2) ? Number.NaN : rng.normal();
      return r;
    });
    const data = new Float64Array(4 + rows.length * 15).fill(99);
    rows.forEach((r, i) => {
      data.set(r, 4 + i * 15);
    });
    const block = new Float64Array(rows.length * 12);
    explainer.addRows(data, 4, 15, rows.length, block);
    rows.forEach((r, i) => {
      const one = new Float64Array(12);
      explainer.addInto(r, 0, one);
      for (let j = 0; j < 12; j++)
        expect(
          Object.is(block[i * 12 + j], one[j]),
          `row ${i}, feature ${j}: ${block[i * 12 + j]} vs ${one[j]}`,
        ).toBe(true);
      expectClose(one, reference([...trees, chain], r), `row ${i} vs treeShap`);
    });
  });

  it('adds into phi (a caller sums several models or starts from earlier trees)', () => {
    const rng = createRng(3);
    const { tree, x } = randomCase(rng);
    const alone = tabled([tree], x);
    const phi = Float64Array.from(alone, (_, j) => 10 * (j + 1));
    compileShap([tree], x.length).addInto(x, 0, phi);
    for (let j = 0; j < phi.length; j++) expect(phi[j]).toBeCloseTo(10 * (j + 1) + alone[j]!, 12);
  });

  it('keeps a tree with too many features on one path on the exact recursion, still exact', () => {
    // A 14-deep chain over 12 distinct features: 12 > the table limit of 10 features per path.
    const rng = createRng(41);
    let spec: Spec = leaf(rng.normal(), 1);
    for (let d = 0; d < 14; d++) {
      const other = leaf(rng.normal(), 0.5 + rng.next());
      const threshold = rng.normal();
      const f = d % 12;
      spec = rng.bernoulli(0.5)
        ? { feature: f, threshold, defaultLeft: false, left: spec, right: other }
        : { feature: f, threshold, defaultLeft: true, left: other, right: spec };
    }
    const chain = toTree(spec);
    const { tree: small } = randomCase(createRng(9));
    const explainer = compileShap([chain, small], 12);
    expect(explainer.tabled).toBe(1);
    for (let c = 0; c < 10; c++) {
      const x = Float64Array.from({ length: 12 }, () => (rng.bernoulli(0.2) ? Number.NaN : rng.normal()));
      const phi = new Float64Array(12);
      explainer.addInto(x, 0, phi);
      const want = bruteShap(chain, x, 12);
      const sub = reference([small], x);
      expectClose(
        phi,
        want.map((v, j) => v + sub[j]!),
        `chain row ${c}`,
      );
    }
  });

  it('routes odd categorical values as goesLeft does (non-codes and huge integers go right)', () => {
    // Category 1 goes left; 2^32 + 1 has the same low bits as 1 but is not a code.
    const tree = toTree({
      feature: 0,
      categories: [1, 3],
      defaultLeft: true,
      left: { feature: 1, threshold: 0, defaultLeft: false, left: leaf(2, 2), right: leaf(-1, 1) },
      right: leaf(0.5, 3),
    });
    for (const code of [0, 1, 3, CATS - 1, -1, 1.5, 2 ** 32 + 1, 1e9, Number.POSITIVE_INFINITY, Number.NaN]) {
      for (const x1 of [-1, 1, Number.NaN]) {
        const x = Float64Array.of(code, x1);
        expectClose(tabled([tree], x), reference([tree], x), `x = (${code}, ${x1})`, 1e-12);
        expectClose(tabled([tree], x), bruteShap(tree, x, 2), `x = (${code}, ${x1}) vs brute force`);
      }
    }
  });

  it('gives a single-leaf tree and features never split on exactly 0', () => {
    const x = Float64Array.of(1, Number.NaN, 3);
    expect(Array.from(tabled([toTree(leaf(-0.37, 12))], x))).toEqual([0, 0, 0]);
    const stump = toTree({
      feature: 2,
      threshold: 0,
      defaultLeft: false,
      left: leaf(1, 3),
      right: leaf(-1, 1),
    });
    const phi = tabled([stump], x);
    expect(phi[0]).toBe(0);
    expect(phi[1]).toBe(0);
    expect(phi[2]).toBeCloseTo(-1.5, 12); // −1 − E, E = (3 − 1) / 4
  });

  it('refuses a tree that splits on a feature the rows do not have', () => {
    const tree = toTree({ feature: 3, threshold: 0, defaultLeft: false, left: leaf(1), right: leaf(2) });
    expect(() => compileShap([tree], 3)).toThrow(
      new RangeError('tree 0: node 0 splits on feature 3 but rows have 3 values'),
    );
  });

  it("gives a fitted gbdt model's shap the reference values of its own trees", async () => {
    const rng = createRng(11);
    const n = 3000;
    const p = 6;
    const data = new Float64Array(n * p);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) data[i * p + j] = rng.bernoulli(0.05) ? Number.NaN : rng.normal();
      data[i * p + 5] = rng.int(0, 3); // a categorical column
      const logit = data[i * p]! - 0.5 * (data[i * p + 1]! || 0) + (data[i * p + 5] === 2 ? 1 : 0);
      y[i] = rng.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    }
    const x = matrix(data, n, p);
    const features = Array.from({ length: p }, (_, j) =>
      j === 5
        ? { name: `f${j}`, type: 'categorical' as const, categories: ['a', 'b', 'c', 'd'] }
        : { name: `f${j}`, type: 'numeric' as const },
    );
    const model = await gbdtKind.fit(x, y, {
      seed: 1,
      params: gbdtKind.parseParams({ nTrees: 40, maxDepth: 5, earlyStoppingRounds: 0 }),
      features,
    });
    const margins = model.margins(x);
    for (let i = 0; i < 200; i++) {
      const row = data.subarray(i * p, i * p + p);
      const { base, phi } = model.shap(x, i);
      expectClose(phi, reference(model.trees, Float64Array.from(row)), `row ${i}`);
      let sum = base;
      for (const v of phi) sum += v;
      expect(Math.abs(sum - margins[i]!), `row ${i}, local accuracy`).toBeLessThan(1e-9);
    }
  });
});

describe('flatten (forest scoring) on odd categorical values', () => {
  it('routes them as leafOf does, also on trees too deep for the heap walk', () => {
    // A categorical root (code 1 left) over a 10-deep chain: deeper than the heap walkers, so the generic walk
    // and its bitset decide; 2^32 + 1 shares the low bits of 1 but is not a code.
    let chain: Spec = leaf(0.25, 1);
    for (let d = 0; d < 10; d++)
      chain = { feature: 1, threshold: d, defaultLeft: false, left: leaf(-d, 1), right: chain };
    const tree = toTree({
      feature: 0,
      categories: [1, 3],
      defaultLeft: true,
      left: chain,
      right: leaf(5, 2),
    });
    const forest = flatten([tree], 0, 2, [4, 0]);
    for (const code of [0, 1, 3, -1, 1.5, 2 ** 32 + 1, 2 ** 32 + 3, Number.NaN]) {
      for (const x1 of [-1, 4.5, 20]) {
        const x = Float64Array.of(code, x1);
        expect(forest.margins(matrix(x, 1, 2))[0], `x = (${code}, ${x1})`).toBe(tree.value[leafOf(tree, x)]!);
      }
    }
  });
});
