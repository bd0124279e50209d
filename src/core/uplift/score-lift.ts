/**
 * A treatment's lift over hold on the logit scale, as a declared function of the two scores: logit P(y | x, t) =
 * logit P(y | x, hold) + β_t · φ(w, a), with φ the bilinear basis (1, w, a, w·a) of the willingness and ability
 * scores (probabilities). The hold arm (the pooled model's) carries the account's level; the lift carries how the
 * treatment's effect changes with the scores, fitted by a weighted logistic regression with the hold arm's logit as
 * offset on the snapshots logged with the treatment. Four coefficients per treatment and outcome are estimated from
 * all of a treatment's rows at once, so a small effect (a nudge's point of P(pay)) is not lost in the noise of two
 * tree ensembles' predictions near 0.9 (docs/strategy.md, "Learner"). Pure: no I/O.
 */
import { logit, sigmoid } from '../models/contract.ts';

/** Names of the basis terms, in coefficient order (written into the artifact beside the coefficients). */
export const LIFT_BASIS = ['1', 'w', 'a', 'w*a'] as const;
export const LIFT_TERMS = LIFT_BASIS.length;

/** Writes φ(w, a) into `out` at `at` (LIFT_TERMS values). */
export function liftBasis(w: number, a: number, out: Float64Array, at = 0): void {
  out[at] = 1;
  out[at + 1] = w;
  out[at + 2] = a;
  out[at + 3] = w * a;
}

/** β · φ(w, a): the logit lift of one row. */
export function liftOf(coef: ArrayLike<number>, w: number, a: number): number {
  return coef[0]! + coef[1]! * w + coef[2]! * a + coef[3]! * w * a;
}

/** `p` moved by `lift` on the logit scale. */
export function lifted(p: number, lift: number): number {
  return sigmoid(logit(p) + lift);
}

/** Rows of a lift fit: scores, the hold arm's probability, the outcome and a weight, one entry per row. */
export interface LiftRows {
  w: ArrayLike<number>;
  a: ArrayLike<number>;
  /** The hold arm's predicted probability for the row (its logit is the offset). */
  base: ArrayLike<number>;
  y: ArrayLike<number>;
  weight: ArrayLike<number>;
}

/**
 * Fits β of logit P(y) = logit(base) + β·φ(w, a) by Newton's method on the weighted log-likelihood with a ridge
 * penalty `ridge`·|β|² (on every term but the intercept; it keeps the fit finite when a treatment's rows span a
 * narrow range of scores).
 * @throws RangeError for mismatched lengths or no rows.
 */
export function fitLift(r: LiftRows, ridge = 1, iterations = 50): Float64Array {
  const n = r.y.length;
  for (const [k, v] of Object.entries(r))
    if (v.length !== n) throw new RangeError(`fitLift: ${k} has ${v.length} rows, y has ${n}`);
  if (n === 0) throw new RangeError('fitLift: no rows');
  const K = LIFT_TERMS;
  const phi = new Float64Array(n * K);
  const offset = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    liftBasis(r.w[i]!, r.a[i]!, phi, i * K);
    offset[i] = logit(r.base[i]!);
  }
  const beta = new Float64Array(K);
  const g = new Float64Array(K);
  const h = new Float64Array(K * K);
  for (let it = 0; it < iterations; it++) {
    g.fill(0);
    h.fill(0);
    for (let j = 1; j < K; j++) {
      g[j] = -ridge * beta[j]!;
      h[j * K + j] = ridge;
    }
    for (let i = 0; i < n; i++) {
      let z = offset[i]!;
      for (let j = 0; j < K; j++) z += beta[j]! * phi[i * K + j]!;
      const p = sigmoid(z);
      const wt = r.weight[i]!;
      const d = wt * (r.y[i]! - p);
      const v = wt * p * (1 - p);
      for (let j = 0; j < K; j++) {
        const pj = phi[i * K + j]!;
        g[j]! += d * pj;
        for (let l = 0; l <= j; l++) h[j * K + l]! += v * pj * phi[i * K + l]!;
      }
    }
    for (let j = 0; j < K; j++) for (let l = j + 1; l < K; l++) h[j * K + l] = h[l * K + j]!;
    const step = solve(h, g, K);
    let size = 0;
    for (let j = 0; j < K; j++) {
      beta[j]! += step[j]!;
      size = Math.max(size, Math.abs(step[j]!));
    }
    if (size < 1e-9) break;
  }
  return beta;
}

/** Solves the symmetric positive definite system h·s = g (Gaussian elimination with partial pivoting; K is 4). */
function solve(h: Float64Array, g: Float64Array, K: number): Float64Array {
  const m = Float64Array.from(h);
  const b = Float64Array.from(g);
  for (let c = 0; c < K; c++) {
    let piv = c;
    for (let r = c + 1; r < K; r++) if (Math.abs(m[r * K + c]!) > Math.abs(m[piv * K + c]!)) piv = r;
    if (piv !== c) {
      for (let j = 0; j < K; j++) [m[c * K + j], m[piv * K + j]] = [m[piv * K + j]!, m[c * K + j]!];
      [b[c], b[piv]] = [b[piv]!, b[c]!];
    }
    const d = m[c * K + c]!;
    if (!(Math.abs(d) > 1e-300)) return new Float64Array(K);
    for (let r = c + 1; r < K; r++) {
      const f = m[r * K + c]! / d;
      for (let j = c; j < K; j++) m[r * K + j]! -= f * m[c * K + j]!;
      b[r]! -= f * b[c]!;
    }
  }
  const s = new Float64Array(K);
  for (let c = K - 1; c >= 0; c--) {
    let v = b[c]!;
    for (let j = c + 1; j < K; j++) v -= m[c * K + j]! * s[j]!;
    s[c] = v / m[c * K + c]!;
  }
  return s;
}
