/**
 * The figures of a response artifact's HTML report, from the history it was fitted on: per fitted arm, the
 * calibration of P(pay | t) on its own out-of-time snapshots and the Qini curve of its predicted uplift over hold,
 * and the overlap table of the training period.
 */
import { calibrationTable, ece, summarise } from '../core/metrics/index.ts';
import { takeRows } from '../core/models/rows.ts';
import { TREATMENTS } from '../core/schema/enums.ts';
import { OUT_OF_TIME } from '../core/training/split.ts';
import type { ResponseFit } from '../core/uplift/fit-responses.ts';
import type { SupportRule } from '../core/uplift/overlap.ts';
import { qiniCurve } from '../core/uplift/qini.ts';
import { predictResponses, type ScoreInputs } from '../core/uplift/response-set.ts';
import { type ReportedArm, renderResponseReport } from '../report/response-html.ts';
import type { LoggedColumns } from './response-data.ts';

/**
 * Renders the report of `fit` on the out-of-time snapshots of `data` (roles from the fit's split); `scores` (every
 * row of `data`) when the fit has a score lift.
 */
export function responseReport(
  data: LoggedColumns,
  roles: Uint8Array,
  fit: ResponseFit,
  support: SupportRule,
  facts: { label: string; value: string }[],
  scores?: ScoreInputs,
): Promise<string> {
  const rows: number[] = [];
  for (let i = 0; i < roles.length; i++) if (roles[i] === OUT_OF_TIME) rows.push(i);
  const x = takeRows(data.x, rows);
  const pred = predictResponses(
    fit.set,
    x,
    rows.map((i) => data.dpd[i]!),
    scores && {
      willingness: rows.map((i) => scores.willingness[i]!),
      ability: rows.map((i) => scores.ability[i]!),
      version: scores.version,
    },
  );
  const T = TREATMENTS.length;
  const hold = TREATMENTS.indexOf('hold');
  const paid = (i: number) => (data.paid[i]! > 0 ? 1 : 0);
  const arms: ReportedArm[] = [];
  TREATMENTS.forEach((t, k) => {
    const figures = fit.arms[t];
    if (!figures) return;
    const own: number[] = [];
    rows.forEach((i, j) => {
      if (data.treatment[i] === k) own.push(j);
    });
    const p = Float64Array.from(own, (j) => pPay(j, k));
    const y = Uint8Array.from(own, (j) => paid(rows[j]!));
    const positives = y.reduce((s, v) => s + v, 0);
    const calibration =
      positives > 0 && positives < y.length
        ? { bins: calibrationTable(p, y), ece: ece(p, y), auc: summarise(p, y).auc }
        : null;
    let qini: ReportedArm['qini'] = null;
    if (t !== 'hold' && fit.arms.hold) {
      const pair: number[] = [];
      rows.forEach((i, j) => {
        const logged = data.treatment[i];
        if ((logged === k || logged === hold) && pred.supported[j * T + k] && pred.supported[j * T + hold])
          pair.push(j);
      });
      const treated = Uint8Array.from(pair, (j) => (data.treatment[rows[j]!] === k ? 1 : 0));
      const nTreated = treated.reduce((s, v) => s + v, 0);
      if (nTreated > 0 && nTreated < pair.length)
        qini = qiniCurve(
          Float64Array.from(pair, (j) => pPay(j, k) - pPay(j, hold)),
          treated,
          Uint8Array.from(pair, (j) => paid(rows[j]!)),
          Float64Array.from(pair, (j) => 1 / data.propensity[rows[j]!]!),
        );
    }
    arms.push({ treatment: t, rows: figures.rows, calibration, qini });
  });
  return renderResponseReport({
    title: 'repayrisk treatment-response models',
    facts,
    treatments: TREATMENTS,
    overlap: fit.overlap,
    rule: `at least ${(support.minShare * 100).toFixed(0)}% and ${support.minCount} logged snapshots of the bucket`,
    arms,
    notFitted: fit.notFitted as Record<string, string>,
  });

  function pPay(j: number, k: number): number {
    return pred.pPay[k]![j]!;
  }
}
