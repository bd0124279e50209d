/**
 * Qini (uplift) curves from logged data: how many extra payers targeting the accounts with the largest predicted
 * uplift first would bring, against targeting at random. Rows are accounts that got either the treatment or the
 * control (hold), weighted by inverse propensity so each group stands for the whole population.
 */

/** One point of a Qini curve. */
export interface QiniPoint {
  /** Share of the rows targeted (those with the largest predicted uplift), in [0, 1]. */
  share: number;
  /** Incremental positives per row of the population when that share is treated (Radcliffe's Qini, normalised). */
  gain: number;
}

export interface QiniCurve {
  points: QiniPoint[];
  /**
   * Mean gap between the curve and the random-targeting line (0 at share 0 to the curve's end): > 0 when the
   * predicted uplift ranks the accounts better than chance.
   */
  coefficient: number;
  treated: number;
  control: number;
}

/**
 * The Qini curve of `uplift` at `steps` equally spaced shares. Gain at a prefix = (Yt − Yc · Nt / Nc) / N, with
 * Yt, Nt the weighted positives and weight of the treated rows in the prefix, Yc, Nc the control's, N the total
 * weight (0 while the prefix holds no control row).
 * @throws RangeError on mismatched lengths or a non-positive weight.
 */
export function qiniCurve(
  uplift: ArrayLike<number>,
  treated: ArrayLike<number>,
  y: ArrayLike<number>,
  weight: ArrayLike<number>,
  steps = 20,
): QiniCurve {
  const n = uplift.length;
  if (treated.length !== n || y.length !== n || weight.length !== n)
    throw new RangeError(
      `qiniCurve: ${n} uplifts, ${treated.length} treatment flags, ${y.length} outcomes, ${weight.length} weights`,
    );
  let total = 0;
  let nTreated = 0;
  for (let i = 0; i < n; i++) {
    if (!(weight[i]! > 0)) throw new RangeError(`qiniCurve: weight[${i}] must be > 0, got ${weight[i]}`);
    total += weight[i]!;
    if (treated[i]) nTreated++;
  }
  // Largest predicted uplift first; ties in input order, so the curve is deterministic.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => uplift[b]! - uplift[a]! || a - b);
  const gains = new Float64Array(n + 1);
  let yt = 0;
  let nt = 0;
  let yc = 0;
  let nc = 0;
  order.forEach((i, k) => {
    const w = weight[i]!;
    if (treated[i]) {
      yt += w * y[i]!;
      nt += w;
    } else {
      yc += w * y[i]!;
      nc += w;
    }
    gains[k + 1] = nc > 0 ? (yt - (yc * nt) / nc) / total : 0;
  });
  const end = gains[n]!;
  const points: QiniPoint[] = [];
  let gap = 0;
  for (let s = 0; s <= steps; s++) {
    const share = s / steps;
    const gain = gains[Math.round(share * n)]!;
    points.push({ share, gain });
    gap += gain - share * end;
  }
  return { points, coefficient: gap / (steps + 1), treated: nTreated, control: n - nTreated };
}
