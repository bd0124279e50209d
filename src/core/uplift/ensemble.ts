/**
 * Model views the response set needs: the mean of several calibrated models (bagging: independently seeded fits
 * whose errors partly cancel, which matters more for a difference of two predictions than for either one), and
 * a pooled model seen as one treatment's model (its treatment column fixed).
 */
import type { Calibrator } from '../models/calibration.ts';
import type { FeatureInfo, Fitted, Matrix } from '../models/contract.ts';
import { TREATMENTS } from '../schema/enums.ts';
import { type CalibratedModel, predictCalibrated } from '../training/fit-target.ts';

/** The categorical feature the pooled response models take after the snapshot features. */
export const TREATMENT_FEATURE: FeatureInfo = {
  name: 'treatment',
  type: 'categorical',
  categories: TREATMENTS,
};

/** `x` with the treatment appended as a last categorical column: the code `k` on every row, or each row's own. */
export function withTreatment(x: Matrix, k: number | ArrayLike<number>): Matrix {
  const c = x.cols + 1;
  const out = new Float64Array(x.rows * c);
  for (let i = 0; i < x.rows; i++) {
    out.set(x.data.subarray(i * x.cols, (i + 1) * x.cols), i * c);
    out[i * c + x.cols] = typeof k === 'number' ? k : k[i]!;
  }
  return { data: out, rows: x.rows, cols: c };
}

const IDENTITY: Calibrator = {
  method: 'none',
  apply: (p) => p,
  applyAll: (p) => Float64Array.from(p),
  toJSON: () => ({ method: 'none' }),
};

/**
 * The mean calibrated probability of `members` as one model (its own calibration is the identity: each member is
 * calibrated). `explain` and `importance` are the first member's, for the reports.
 */
export function meanModel(members: readonly CalibratedModel[]): CalibratedModel {
  if (!members.length) throw new RangeError('meanModel: no members');
  if (members.length === 1) return members[0]!;
  const first = members[0]!.fitted;
  const fitted: Fitted = {
    kind: first.kind,
    features: first.features,
    importanceMeasure: first.importanceMeasure,
    predictProba(x) {
      const out = new Float64Array(x.rows);
      for (const m of members) {
        const p = predictCalibrated(m, x);
        for (let i = 0; i < x.rows; i++) out[i]! += p[i]! / members.length;
      }
      return out;
    },
    explain: (x, row) => first.explain(x, row),
    importance: () => first.importance(),
    toJSON: () => first.toJSON(),
  };
  return { fitted, calibrator: IDENTITY };
}

/** A pooled model (snapshot features + treatment) seen as the model of treatment `k` on snapshot features. */
export function armView(m: CalibratedModel, k: number): CalibratedModel {
  const f = m.fitted;
  return {
    calibrator: m.calibrator,
    fitted: {
      kind: f.kind,
      features: f.features.slice(0, -1),
      importanceMeasure: f.importanceMeasure,
      predictProba: (x) => f.predictProba(withTreatment(x, k)),
      explain: (x, row) => f.explain(withTreatment(x, k), row),
      importance: () => f.importance(),
      toJSON: () => f.toJSON(),
    },
  };
}
