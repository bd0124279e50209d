import {
  calibrationTable,
  ksCurve,
  liftByDecile,
  psiRow,
  rocCurve,
  scoreHistogram,
  summarise,
} from '../metrics/index.ts';
import type { Evaluation } from '../metrics/types.ts';
import { type Calibrator, fitCalibrator } from '../models/calibration.ts';
import type { Contribution, FeatureInfo, Fitted, Labels, Matrix, ModelKind } from '../models/contract.ts';
import { column, takeRows, takeValues } from '../models/rows.ts';
import { CONTRIBUTION_ROWS, meanAbsContribution } from './contribution-importance.ts';
import { OUT_OF_TIME, TRAIN, VALIDATION } from './split.ts';

/** A fitted kind plus the calibrator fitted on validation data: the unit that scores. */
export interface CalibratedModel {
  fitted: Fitted;
  calibrator: Calibrator;
}

/** Calibrated P(positive) per row. */
export function predictCalibrated(m: CalibratedModel, x: Matrix): Float64Array {
  return m.calibrator.applyAll(m.fitted.predictProba(x));
}

export interface Candidate extends CalibratedModel {
  kind: string;
  params: unknown;
  evaluation: Evaluation;
}

export interface TargetFit {
  chosen: Candidate;
  candidates: Candidate[];
  rows: { train: number; validation: number; outOfTime: number };
  /**
   * The chosen candidate's mean |contribution to the log-odds| per feature (its `explain`, e.g. exact TreeSHAP for
   * gbdt), over `rows` out-of-time rows (all of them, or a seeded sample), largest first.
   */
  contributionImportance: { values: Contribution[]; rows: number };
}

export interface FitTargetInput {
  x: Matrix;
  y: Labels;
  /** TRAIN / VALIDATION / OUT_OF_TIME per row of x. */
  roles: Uint8Array;
  features: readonly FeatureInfo[];
  kinds: readonly { kind: ModelKind; params: unknown }[];
  seed: number;
  calibration: 'platt' | 'isotonic' | 'auto';
  /**
   * At most this many out-of-time rows are explained for the contribution importance (a sample drawn with `seed`
   * when there are more); default CONTRIBUTION_ROWS (2,000).
   */
  contributionRows?: number;
  onProgress?: (kind: string, step: string, done: number, total: number) => void;
}

function indices(roles: Uint8Array, role: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < roles.length; i++) if (roles[i] === role) out.push(i);
  return Int32Array.from(out);
}

/**
 * Fits every candidate kind on the training rows, calibrates each on the validation rows, evaluates all on
 * train / validation / out-of-time, and chooses the candidate with the lowest out-of-time log-loss. For the
 * chosen one only, measures the mean |contribution| per feature on (a seeded sample of) the out-of-time rows.
 * @throws RangeError when a split has no rows or a single class (nothing to fit or evaluate).
 */
export async function fitTarget(input: FitTargetInput): Promise<TargetFit> {
  const { x, y, roles } = input;
  const idx = {
    train: indices(roles, TRAIN),
    validation: indices(roles, VALIDATION),
    outOfTime: indices(roles, OUT_OF_TIME),
  };
  for (const [name, rows] of Object.entries(idx)) {
    const ys = takeValues(y, rows);
    const pos = ys.reduce((s, v) => s + v, 0);
    if (rows.length === 0 || pos === 0 || pos === rows.length) {
      throw new RangeError(
        `the ${name} split has ${rows.length} rows and ${pos} positives: both classes are needed`,
      );
    }
  }
  const parts = {
    train: { x: takeRows(x, idx.train), y: takeValues(y, idx.train) },
    validation: { x: takeRows(x, idx.validation), y: takeValues(y, idx.validation) },
    outOfTime: { x: takeRows(x, idx.outOfTime), y: takeValues(y, idx.outOfTime) },
  };
  const candidates: Candidate[] = [];
  for (const { kind, params } of input.kinds) {
    const fitted = await kind.fit(parts.train.x, parts.train.y, {
      seed: input.seed,
      params,
      features: input.features,
      validation: parts.validation,
      onProgress: (p) => input.onProgress?.(kind.name, p.step, p.done, p.total),
    });
    const calibrator = fitCalibrator(
      input.calibration,
      fitted.predictProba(parts.validation.x),
      parts.validation.y,
    );
    const model = { fitted, calibrator };
    const evaluation = evaluate(model, parts, input.features);
    candidates.push({ kind: kind.name, params, fitted, calibrator, evaluation });
  }
  const chosen = candidates.reduce((best, c) =>
    c.evaluation.outOfTime.logLoss < best.evaluation.outOfTime.logLoss ? c : best,
  );
  const sample = { maxRows: input.contributionRows ?? CONTRIBUTION_ROWS, seed: input.seed };
  return {
    chosen,
    candidates,
    rows: { train: idx.train.length, validation: idx.validation.length, outOfTime: idx.outOfTime.length },
    contributionImportance: {
      values: meanAbsContribution(chosen.fitted, parts.outOfTime.x, sample),
      rows: Math.min(sample.maxRows, idx.outOfTime.length),
    },
  };
}

type Part = { x: Matrix; y: Labels };

/** Metrics on every split, curves and tables on out-of-time, PSI train → out-of-time of the score and features. */
export function evaluate(
  model: CalibratedModel,
  parts: { train: Part; validation: Part; outOfTime: Part },
  features: readonly FeatureInfo[],
): Evaluation {
  const p = {
    train: predictCalibrated(model, parts.train.x),
    validation: predictCalibrated(model, parts.validation.x),
    outOfTime: predictCalibrated(model, parts.outOfTime.x),
  };
  const oot = parts.outOfTime;
  return {
    train: summarise(p.train, parts.train.y),
    validation: summarise(p.validation, parts.validation.y),
    outOfTime: summarise(p.outOfTime, oot.y),
    roc: rocCurve(p.outOfTime, oot.y),
    ksCurve: ksCurve(p.outOfTime, oot.y),
    calibration: calibrationTable(p.outOfTime, oot.y),
    lift: liftByDecile(p.outOfTime, oot.y),
    scoreHistogram: scoreHistogram(p.outOfTime, oot.y),
    psi: [
      psiRow('score', p.train, p.outOfTime),
      ...features.map((f, j) => psiRow(f.name, column(parts.train.x, j), column(oot.x, j))),
    ],
  };
}
