import { bucketOf, LOGGED_TREATMENT_COUNT } from './response.ts';

/** What the historical policy could see of a delinquent account (observables only, never the latents). */
export interface LoggingView {
  dpd: number;
  /** Share of the last 6 due instalments paid by their next snapshot (the old scorecard's main input). */
  recentPaidShare: number;
  unemployed: boolean;
  hardship: boolean;
  vulnerable: boolean;
  suppressed: boolean;
  canCall: boolean;
  canMessage: boolean;
  legalEligible: boolean;
}

/** Preference logits of the old policy by bucket, in TREATMENTS order (hold, nudge, plan, call, legal). */
const BASE: readonly (readonly number[])[] = [
  [0.6, 1.6, -0.6, 0.0, 0],
  [-0.4, 0.6, 0.4, 1.0, 0],
  [-0.8, 0.0, 0.7, 1.2, 0],
  [-1.0, -0.6, 0.5, 1.0, 1.0],
  [-0.6, -1.0, 0.2, 0.6, 1.3],
];

/** Floor mixed into every available treatment so each keeps a propensity the backtests can reweight. */
const EXPLORATION = 0.1;

/**
 * The historical ("logging") policy: a stochastic rule over observables. Returns the probability of each
 * treatment (TREATMENTS order); unavailable treatments get 0. It was lawful: suppressed accounts are held,
 * calls need a callable phone, legal needs every prerequisite.
 */
export function loggingPolicy(v: LoggingView): Float64Array {
  // The first five treatments only: the old policy never visited or placed (TREATMENTS' later entries).
  const p = new Float64Array(LOGGED_TREATMENT_COUNT);
  if (v.suppressed) {
    p[0] = 1;
    return p;
  }
  const base = BASE[bucketOf(v.dpd)]!;
  const avail = [true, v.canMessage, true, v.canCall, v.legalEligible];
  const logits = base.map((b, t) => {
    let l = b;
    if (t === 1) l += 1.2 * (v.recentPaidShare - 0.5);
    if (t === 2) l += (v.hardship ? 1.2 : 0) + (v.unemployed ? 0.6 : 0);
    if (t === 3) l -= 0.8 * (v.recentPaidShare - 0.5) + (v.vulnerable ? 0.5 : 0);
    return l;
  });
  let z = 0;
  let k = 0;
  for (let t = 0; t < p.length; t++) {
    if (!avail[t]) continue;
    p[t] = Math.exp(logits[t]!);
    z += p[t]!;
    k++;
  }
  for (let t = 0; t < p.length; t++) if (avail[t]) p[t] = (1 - EXPLORATION) * (p[t]! / z) + EXPLORATION / k;
  return p;
}
