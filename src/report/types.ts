import type { Evaluation } from '../core/metrics/types.ts';
import type { ScorecardPointsRow } from '../core/models/contract.ts';

export type { ScorecardPointsRow };

import type { Contribution } from '../core/models/contract.ts';

/** One candidate kind when several were fitted (`--kind auto`). */
export interface KindComparison {
  kind: string;
  outOfTimeLogLoss: number;
  outOfTimeAuc: number;
  chosen: boolean;
}

/** One fitted model as the report shows it. */
export interface ReportedModel {
  /** e.g. 'willingness' or 'ability' or the target column in feature-table mode. */
  target: string;
  /** What a positive label means, in words (e.g. "pays anything within 30 days"). */
  positiveMeans: string;
  kind: string;
  evaluation: Evaluation;
  importance: Contribution[];
  importanceMeasure: string;
  /**
   * Kind-agnostic importance: mean |contribution to the log-odds| per feature from the model's `explain` (exact
   * TreeSHAP for gbdt), over `rows` out-of-time rows, largest first. Shown beside `importance` when given.
   */
  contributionImportance?: { values: Contribution[]; rows: number };
  scorecard?: ScorecardPointsRow[];
  candidates?: KindComparison[];
  /** AUC of the generator's true probabilities on the same out-of-time rows, when the data is synthetic. */
  oracleAuc?: number;
}

/** Input of the self-contained HTML model report. */
export interface ModelReportInput {
  title: string;
  /** Key facts shown at the top: artifact version, created at, seed, data fingerprint, rows, date ranges. */
  facts: { label: string; value: string }[];
  models: ReportedModel[];
}
