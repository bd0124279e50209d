import type { Labels, Matrix } from '../../src/core/models/contract.ts';
import { matrix, sigmoid } from '../../src/core/models/contract.ts';
import { createRng, type Rng } from '../../src/core/random.ts';

/** Seeded rows from `draw`, labels drawn from sigmoid(logOdds(row)), and the true probabilities. */
export function simulate(
  seed: number,
  n: number,
  draw: (rng: Rng) => number[],
  logOdds: (row: number[]) => number,
): { x: Matrix; y: Labels; p: Float64Array } {
  const rng = createRng(seed);
  const flat: number[] = [];
  let cols = 0;
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = draw(rng);
    cols = r.length;
    flat.push(...r);
    p[i] = sigmoid(logOdds(r));
    y[i] = rng.bernoulli(p[i]!) ? 1 : 0;
  }
  return { x: matrix(Float64Array.from(flat), n, cols), y, p };
}
