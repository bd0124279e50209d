import { createRng } from '../random.ts';
import { OUT_OF_TIME, TRAIN, VALIDATION } from './split.ts';

/** Seeded stratified assignment of rows to `k` folds: each fold gets its share of positives and negatives. */
export function stratifiedFolds(y: Uint8Array, k: number, seed: number): Uint8Array {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`folds must be an integer >= 2, got ${k}`);
  const rng = createRng(seed, 0xf01d);
  const fold = new Uint8Array(y.length);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === cls) idx.push(i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((r, n) => {
      fold[r] = n % k;
    });
  }
  return fold;
}

/**
 * Roles for a table without time: a stratified `holdout` share reported as the out-of-time split, and a
 * `validation` share of the rest for early stopping and calibration.
 */
export function holdoutRoles(y: Uint8Array, seed: number, holdout = 0.2, validation = 0.2): Uint8Array {
  const parts = stratifiedFolds(y, 20, seed);
  const roles = new Uint8Array(y.length);
  const nHold = Math.round(holdout * 20);
  const nVal = Math.round(validation * (20 - nHold));
  for (let i = 0; i < y.length; i++) {
    const f = parts[i]!;
    roles[i] = f < nHold ? OUT_OF_TIME : f < nHold + nVal ? VALIDATION : TRAIN;
  }
  return roles;
}
