/**
 * The synthetic world's knobs: every constant that shapes the book, in one place, so docs/synthetic-world.md
 * can name them and a team can turn them. Amounts are in currency units, rates are per month.
 */
export const KNOBS = {
  /** Months simulated before the first snapshot, so the earliest snapshots already have 12 months of history. */
  burnInMonths: 12,
  /** Product mix of new accounts. */
  productMix: { card: 0.4, personal_loan: 0.3, bnpl: 0.2, auto: 0.1 },
  /** Probability that a customer whose account was paid off opens a new one (after 1–3 months). */
  renewal: 0.85,
  /** Monthly hazard of losing a job (employed; self-employed ×1.5) and of finding one again. */
  jobLossHazard: 0.006,
  reemploymentHazard: 0.12,
  /** Income while unemployed, as a fraction of the usual income (benefits). */
  unemployedIncomeFactor: 0.35,
  /** Monthly probability of an unobserved expense shock (illness, repair) and its size in months of slack. */
  expenseShockHazard: 0.005,
  /** Willingness: w = trait + drift, drift(t) = rho * drift(t-1) + N(0, sd). */
  willingnessDriftRho: 0.85,
  willingnessDriftSd: 0.05,
  /** On-time payment of a current account: logit = intercept + w * bW + a * bA. */
  onTime: { intercept: 2.6, bW: 1.1, bA: 0.9 },
  /** Days an on-time payment comes ahead of the due date: early + earlyPerW * w + N(0, sd), within [0, 20]. */
  timing: { early: 5, earlyPerW: 5, sd: 1.0 },
  /** Share of missed payments that are still made late within the month (no delinquency at the next snapshot). */
  lateWithinMonth: 0.25,
  /** Delinquent accounts, by bucket 1-30 / 31-60 / 61-90 / 91-180 / 181+: logit intercepts of P(pay) and P(cover|pay). */
  payIntercept: [3.3, 1.5, 0.7, 0.0, -0.8],
  coverIntercept: [3.2, 1.4, 0.6, 0.0, -0.5],
  /** Slopes of P(pay) and P(cover|pay) on the latents (w = willingness, a = ability). */
  pay: { bW: 1.2, bA: 0.6 },
  cover: { bW: 0.3, bA: 1.3 },
  /** Mean fraction of the overdue amount paid when a payment does not cover it (uniform on [0.15, 0.95]). */
  partialMean: 0.55,
  /** Share of covering payments that also pay the instalment falling due in the window. */
  coverIncludesCurrent: 0.85,
  /** Accounts leave the book (charged off and passed to recoveries) past this many days past due. */
  exitDaysPastDue: 180,
  /** Late fee added to the balance when an instalment is missed. */
  lateFee: 25,
} as const;

export type Knobs = typeof KNOBS;
