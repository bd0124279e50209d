/**
 * Shapes of evaluation results, shared by the metrics functions (src/core/metrics) and the HTML model report
 * (src/report). Probabilities are in [0, 1]; rates are fractions, not percentages.
 */

/** Headline discrimination and calibration figures on one data split. */
export interface MetricSummary {
  rows: number;
  positives: number;
  auc: number;
  /** Kolmogorov–Smirnov statistic: max distance between the score CDFs of positives and negatives, in [0, 1]. */
  ks: number;
  /** 2·AUC − 1. */
  gini: number;
  brier: number;
  logLoss: number;
  /** Expected calibration error over `CALIBRATION_BINS` equal-count bins: Σ (n_b / n) |mean p − observed rate|. */
  ece: number;
}

export interface RocCurve {
  /** False-positive rate and true-positive rate at each distinct threshold, from (0,0) to (1,1). */
  fpr: number[];
  tpr: number[];
}

export interface KsCurve {
  /** Score thresholds ascending, and the cumulative share of positives / negatives with score <= threshold. */
  threshold: number[];
  cumPositives: number[];
  cumNegatives: number[];
  /** Threshold where the gap is largest, and the gap (= KS). */
  atThreshold: number;
  ks: number;
}

export interface CalibrationBin {
  /** Bin edges on the predicted probability. */
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export interface LiftRow {
  /** 1 = the highest-scored tenth. */
  decile: number;
  count: number;
  positives: number;
  rate: number;
  /** rate / overall rate. */
  lift: number;
  /** Share of all positives captured in deciles 1..decile. */
  cumulativeCapture: number;
}

export interface HistogramBin {
  lower: number;
  upper: number;
  positives: number;
  negatives: number;
}

export interface PsiRow {
  /** Feature name, or 'score' for the model's output. */
  name: string;
  psi: number;
  /** Usual credit-risk reading: < 0.1 stable, 0.1–0.25 watch, > 0.25 act. */
  verdict: 'stable' | 'watch' | 'act';
}

/** Everything the model report needs about one fitted model on its evaluation splits. */
export interface Evaluation {
  train: MetricSummary;
  validation: MetricSummary;
  outOfTime: MetricSummary;
  /** Curves and tables are on the out-of-time split. */
  roc: RocCurve;
  ksCurve: KsCurve;
  calibration: CalibrationBin[];
  lift: LiftRow[];
  scoreHistogram: HistogramBin[];
  /** PSI of the score and of every feature, training → out-of-time. */
  psi: PsiRow[];
}
