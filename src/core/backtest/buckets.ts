/** Delinquency buckets of the backtest breakdowns, by days past due. */
export const BUCKETS = ['1-30', '31-60', '61-90', '91-180', '181+'] as const;

/** Index into BUCKETS for days past due (≥ 1). */
export function bucketOfDays(dpd: number): number {
  if (dpd <= 30) return 0;
  if (dpd <= 60) return 1;
  if (dpd <= 90) return 2;
  if (dpd <= 180) return 3;
  return 4;
}
