/**
 * Pure evaluation metrics for binary scores: discrimination (AUC, Gini, KS, ROC), probability quality
 * (Brier, log-loss, calibration), report tables (lift, histogram) and stability (PSI).
 */
export { auc, gini, ks, ksCurve, MAX_CURVE_POINTS, rocCurve } from './discrimination.ts';
export { brier, CALIBRATION_BINS, calibrationTable, ece, LOG_LOSS_EPS, logLoss } from './probability.ts';
export { PSI_FLOOR, PSI_THRESHOLDS, psi, psiRow, psiVerdict } from './psi.ts';
export { summarise } from './summary.ts';
export { liftByDecile, scoreHistogram } from './tables.ts';
export type * from './types.ts';
