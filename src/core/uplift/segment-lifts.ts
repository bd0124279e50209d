/**
 * Per-segment lift tables estimated from fitted treatment responses: the fallback an expected-value policy uses
 * where no fitted response applies (DESIGN §6: default numbers come from a fitted artifact, never from a
 * generator's truth). A lift is on the logit scale over the scores, as the policy reads it:
 * P(pay | t) = σ(logit(willingness) + pay), P(cover | pay, t) = σ(logit(ability) + cover).
 */
import { logit } from '../models/contract.ts';
import { SEGMENTS, type Segment } from '../policy/schema.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import type { PredictedResponses } from './response-set.ts';

/** How one lift was estimated. */
export type LiftSource =
  /** mean over the segment's accounts inside the treatment's logged support */
  | 'segment'
  /** too few such accounts in the segment: mean over every segment's */
  | 'pooled'
  /** never inside the support, priced as a stated proxy treatment that is (e.g. a field visit as a call) */
  | 'proxy'
  /** no account inside the treatment's support at all (nor its proxy's): no evidence it adds anything, so hold's */
  | 'as_hold';

export interface EstimatedLift {
  pay: number;
  cover: number;
  source: LiftSource;
  /** Accounts the mean is over (0 for `as_hold`). */
  n: number;
  /** The treatment whose estimate a `proxy` lift copies. */
  proxy?: Treatment;
}

export type LiftTable = Record<Segment, Record<Treatment, EstimatedLift>>;

/** Least accounts of a segment inside a treatment's support for a segment's own mean. */
export const MIN_SEGMENT_ROWS = 20;

const clampP = (p: number) => Math.min(1 - 1e-6, Math.max(1e-6, p));

/**
 * Lift tables from fitted responses: for each segment and treatment, the mean over accounts inside the
 * treatment's logged support of logit(P̂(pay | t)) − logit(willingness) and logit(P̂(cover | pay, t)) −
 * logit(ability). Outside the support a fitted response is never used, here as in the decisions.
 * @param segment - each account's segment (index into SEGMENTS)
 * @param proxies - for a treatment with no account inside its support, a treatment to price it as (when that
 *   one has an estimate); otherwise it is priced as hold
 * @throws RangeError when the lengths differ.
 */
export function estimateLifts(
  pred: PredictedResponses,
  willingness: ArrayLike<number>,
  ability: ArrayLike<number>,
  segment: ArrayLike<number>,
  proxies: Partial<Record<Treatment, Treatment>> = {},
  minRows = MIN_SEGMENT_ROWS,
): LiftTable {
  const n = pred.rows;
  if (willingness.length !== n || ability.length !== n || segment.length !== n)
    throw new RangeError(
      `estimateLifts: ${n} predictions but ${willingness.length} willingness, ${ability.length} ability, ${segment.length} segments`,
    );
  const T = TREATMENTS.length;
  const S = SEGMENTS.length;
  const sumPay = new Float64Array(S * T);
  const sumCover = new Float64Array(S * T);
  const count = new Float64Array(S * T);
  for (let i = 0; i < n; i++) {
    const s = segment[i]!;
    const lw = logit(clampP(willingness[i]!));
    const la = logit(clampP(ability[i]!));
    for (let k = 0; k < T; k++) {
      if (!pred.supported[i * T + k]) continue;
      const c = s * T + k;
      sumPay[c]! += logit(clampP(pred.pPay[k]![i]!)) - lw;
      sumCover[c]! += logit(clampP(pred.pCover[k]![i]!)) - la;
      count[c]!++;
    }
  }
  const pooled = (k: number) => {
    let p = 0;
    let c = 0;
    let m = 0;
    for (let s = 0; s < S; s++) {
      p += sumPay[s * T + k]!;
      c += sumCover[s * T + k]!;
      m += count[s * T + k]!;
    }
    return { p, c, m };
  };
  const table = {} as LiftTable;
  SEGMENTS.forEach((seg, s) => {
    const row = {} as Record<Treatment, EstimatedLift>;
    const own = (k: number): EstimatedLift | null => {
      const c = s * T + k;
      const m = count[c]!;
      if (m >= minRows) return { pay: sumPay[c]! / m, cover: sumCover[c]! / m, source: 'segment', n: m };
      const all = pooled(k);
      if (all.m >= minRows) return { pay: all.p / all.m, cover: all.c / all.m, source: 'pooled', n: all.m };
      return null;
    };
    const hold = own(TREATMENTS.indexOf('hold')) ?? { pay: 0, cover: 0, source: 'as_hold' as const, n: 0 };
    TREATMENTS.forEach((t, k) => {
      const proxy = proxies[t];
      const viaProxy = proxy ? own(TREATMENTS.indexOf(proxy)) : null;
      row[t] =
        own(k) ??
        (viaProxy && proxy
          ? { ...viaProxy, source: 'proxy', proxy }
          : { pay: hold.pay, cover: hold.cover, source: 'as_hold', n: 0 });
    });
    table[seg] = row;
  });
  return table;
}
