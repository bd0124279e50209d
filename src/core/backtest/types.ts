import type { Treatment } from '../schema/enums.ts';

/**
 * What a backtest reports (DESIGN §8). Money is in currency units; "per snapshot" figures are means over the
 * replayed delinquent snapshots. Every figure says which estimator produced it.
 */

/**
 * `simulation`: the synthetic world's truth (expected recovery of the chosen treatment); `ipw`: inverse propensity
 * weighting of realised recoveries on logged history; `doubly_robust`: the policy's own response model corrected by
 * the weighted residuals of the logged treatment.
 */
export const ESTIMATORS = ['simulation', 'ipw', 'doubly_robust'] as const;
export type Estimator = (typeof ESTIMATORS)[number];

/** A mean with its 95% bootstrap interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

/** Figures of a policy over a group of snapshots (all, one segment, one bucket, one month). */
export interface GroupFigures {
  /** Group key: 'all', a segment name, a delinquency bucket ('1-30' …), or a month 'YYYY-MM'. */
  key: string;
  snapshots: number;
  /** Share of snapshots per treatment. */
  treatment_mix: Record<Treatment, number>;
  /** Mean expected recovery per snapshot, by estimator (null where the estimator does not apply). */
  recovery: Record<Estimator, number | null>;
  /** Mean contact cost per snapshot (treatment + channel cost of the decision). */
  cost: number;
  /** recovery − cost, by estimator. */
  net: Record<Estimator, number | null>;
  /** Mean P(the overdue amount is covered within 30 days), by estimator. */
  cure_rate: Record<Estimator, number | null>;
}

/** One policy replayed over the history. */
export interface PolicyBacktest {
  /** 'champion' for --policy, 'challenger' for --challenger, 'logged' for the historical decisions. */
  role: 'champion' | 'challenger' | 'logged';
  policy_version: string;
  snapshots: number;
  accounts: number;
  overall: GroupFigures;
  /** Intervals of the overall means, by estimator. */
  intervals: {
    recovery: Record<Estimator, Estimate | null>;
    net: Record<Estimator, Estimate | null>;
    cure_rate: Record<Estimator, Estimate | null>;
  };
  /** Non-hold decisions per distinct account. */
  contacts_per_account: number;
  /** How often each guardrail fired. */
  guardrail_hits: Record<string, number>;
  by_segment: GroupFigures[];
  by_bucket: GroupFigures[];
  by_month: GroupFigures[];
  /**
   * Treatment mix over a willingness × ability grid (deciles of each score): for the heatmap. `share` is the
   * share of the cell's snapshots that got `treatment`.
   */
  heatmap: {
    willingness_bin: number;
    ability_bin: number;
    snapshots: number;
    treatment: Treatment;
    share: number;
  }[];
  /** Off-policy diagnostics: effective sample size of the IPW weights and where overlap is poor. */
  overlap: { ess: number; ess_share: number; warnings: string[] };
  /** How accounts moved through the stages of the staged flow (stages.ts). */
  stage_transitions: StageTransitions;
}

/**
 * Accounts moving between the stages of the staged flow, from one decision in a stage to their next in another
 * (stages.ts). Stage numbers are 0-based positions in `stages`.
 */
export interface StageTransitions {
  /** Stage names: the policy's own `staging`, else the ladder of DESIGN §6 (reminder, call, visit, agency_or_legal). */
  stages: string[];
  /** True when the stages are the policy's own. */
  staged: boolean;
  /** Per month ('YYYY-MM'), accounts whose decision moved from stage `from` to stage `to` (up or down). */
  by_month: { month: string; from: number; to: number; accounts: number }[];
  /** Over the whole replay: accounts moving up one stage, k → k + 1, for each k. */
  escalations: { from: number; to: number; accounts: number }[];
  /** Moves up by more than one stage at once (a staged policy makes them only past a stage ruled out). */
  skipped: number;
}

/** Challenger minus champion, paired over the same snapshots, by estimator. */
export interface PolicyDifference {
  recovery: Record<Estimator, Estimate | null>;
  net: Record<Estimator, Estimate | null>;
  cure_rate: Record<Estimator, Estimate | null>;
}

/**
 * What a month's PSI is measured against: `training`, the scores of the very snapshots the model was fitted on (the
 * history is its training data, by fingerprint); `training-months`, the scores of this history's snapshots dated
 * in the model's training period (before its out-of-time months); `none`, neither is available (PSI NaN, 'n/a').
 */
export type StabilityReference = 'training' | 'training-months' | 'none';

/** Score stability of a model artifact over time (credit-risk PSI bands: < 0.1 stable, 0.1–0.25 watch, > 0.25 act). */
export interface StabilityRow {
  month: string;
  snapshots: number;
  target: 'willingness' | 'ability';
  auc: number;
  ks: number;
  /** PSI of the month's scores against the model's training scores (see `reference`); NaN without a reference. */
  psi: number;
  verdict: 'stable' | 'watch' | 'act' | 'n/a';
  /** What the PSI was measured against; absent in reports written before it was recorded (the first month). */
  reference?: StabilityReference;
}

/** Promises to pay of a group of snapshots, matched to payments (core/promises/match.ts). */
export interface PromiseRate {
  /** 'all', a segment name, or a treatment. */
  key: string;
  /** Promises made in the group's snapshot windows. */
  promises: number;
  kept: number;
  broken: number;
  /** Not settled by the end of the history (left out of the rate). */
  open: number;
  /** kept / (kept + broken); null when none was settled. */
  kept_rate: number | null;
}

/**
 * Promise-kept rates of the history (what happened under the logged treatments): each snapshot's promises are those
 * made in the `window_days` after its decision (until the next snapshot's), by the snapshot's segment (the champion's
 * thresholds) and by its logged treatment.
 */
export interface PromiseRates {
  window_days: number;
  overall: PromiseRate;
  by_segment: PromiseRate[];
  by_treatment: PromiseRate[];
}

/** The whole backtest, as `backtest.json` holds it. */
export interface BacktestReport {
  history: string;
  model_version: string;
  /** The decision instant of each snapshot: its as_of_date at this UTC time. */
  decision_time_utc: string;
  snapshots: number;
  seed: number;
  bootstrap_samples: number;
  /** What happened under the historical policy: realised mean recovery and cure rate per snapshot. */
  realised: { recovery: number; cure_rate: number };
  /** Which estimators had what they need (truth for simulation; treatments + propensities + outcomes for IPW/DR). */
  estimators: Record<Estimator, boolean>;
  policies: PolicyBacktest[];
  /** Present when a challenger was given. */
  difference: PolicyDifference | null;
  stability: StabilityRow[];
  /** Promise-kept rates; null when the history has no payments table (absent in reports written before them). */
  promises?: PromiseRates | null;
}
