/**
 * Fitting treatment-response models from logged history (docs/strategy.md says why this learner). One pooled
 * model of P(pay | x, t) on every logged snapshot and one of P(cover | pay, x, t) on those that paid, the
 * treatment t a categorical feature beside the snapshot features (an S-learner on the existing gbdt kind, whose
 * trees split on the treatment where it changes the response: the interactions are learned, not declared). Rows
 * are weighted by their inverse propensity (normalised to mean 1, capped) so the rarely logged treatments are not
 * drowned by the common ones, and `bags` fits with different seeds are averaged. Each fit is calibrated on
 * held-out accounts.
 */

import { summarise } from '../metrics/index.ts';
import type { MetricSummary } from '../metrics/types.ts';
import { fitCalibrator } from '../models/calibration.ts';
import type { FeatureInfo, Matrix, ModelKind } from '../models/contract.ts';
import { takeRows, takeValues } from '../models/rows.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import { type CalibratedModel, predictCalibrated } from '../training/fit-target.ts';
import { OUT_OF_TIME, TRAIN, VALIDATION } from '../training/split.ts';
import { armView, meanModel, TREATMENT_FEATURE, withTreatment } from './ensemble.ts';
import { type OverlapRow, overlapTable, responseCellOf, type SupportRule } from './overlap.ts';
import type { ResponseSet } from './response-set.ts';

/** The two outcomes the response models predict. */
export const RESPONSE_OUTCOMES = ['pay', 'cover'] as const;
export type ResponseOutcome = (typeof RESPONSE_OUTCOMES)[number];

/** Logged history, one entry per delinquent snapshot with a logged treatment and an outcome. */
export interface LoggedHistory {
  /** Point-in-time snapshot features, one row per snapshot. */
  x: Matrix;
  /** Logged treatment index (TREATMENTS) per snapshot. */
  treatment: Uint8Array;
  /** Probability the logging policy gave the logged treatment, in (0, 1]. */
  propensity: Float64Array;
  /** Amount paid within 30 days (currency). */
  paid: Float64Array;
  /** Overdue at the snapshot (currency). */
  overdue: Float64Array;
  dpd: Float64Array;
  /** TRAIN / VALIDATION / OUT_OF_TIME per snapshot. */
  roles: Uint8Array;
}

export interface ResponseFitOptions {
  kind: ModelKind;
  params: unknown;
  /** The snapshot features (the treatment column is added after them). */
  features: readonly FeatureInfo[];
  seed: number;
  calibration: 'platt' | 'isotonic' | 'auto';
  /** 'ipw': weight rows by 1/propensity, normalised to mean 1 and capped at `maxWeight`; 'none': unweighted. */
  weighting: 'ipw' | 'none';
  maxWeight: number;
  /** Independently seeded fits averaged per outcome (>= 1). */
  bags: number;
  support: SupportRule;
}

/** Calibrated metrics of the response of one treatment on its own logged out-of-time snapshots. */
export interface ArmFigures {
  /** Logged snapshots with this treatment, per role. */
  rows: { train: number; validation: number; outOfTime: number };
  /** null when the out-of-time snapshots of the arm hold a single class (or none). */
  pay: MetricSummary | null;
  cover: MetricSummary | null;
}

/** Result of fitting: the usable set, the fitted members, per-arm figures, the overlap table. */
export interface ResponseFit {
  set: ResponseSet;
  /** The fitted pooled models per outcome (bags of them), on snapshot features + treatment. */
  members: Record<ResponseOutcome, CalibratedModel[]>;
  arms: Partial<Record<Treatment, ArmFigures>>;
  /** Treatments the set has no response for, and why. */
  notFitted: Partial<Record<Treatment, string>>;
  /** Overlap of the logging policy on the training period (TRAIN and VALIDATION rows). */
  overlap: OverlapRow[];
}

/** Least rows of either class an outcome needs in each of train and validation. */
export const MIN_CLASS_ROWS = 20;

/**
 * Fits the response models. Treatments never logged in the training period get no response; the support table
 * says for which kinds of account each logged treatment's response may be used.
 * @throws RangeError when an outcome has too few rows of a class to fit.
 */
export async function fitResponses(h: LoggedHistory, o: ResponseFitOptions): Promise<ResponseFit> {
  if (!(Number.isInteger(o.bags) && o.bags >= 1))
    throw new RangeError(`bags: expected an integer >= 1, got ${o.bags}`);
  const n = h.x.rows;
  const x = withTreatment(h.x, h.treatment);
  const features = [...o.features, TREATMENT_FEATURE];
  const all = Array.from({ length: n }, (_, i) => i);
  const paidRows = all.filter((i) => h.paid[i]! > 0);
  const labels: Record<ResponseOutcome, { rows: number[]; y: Uint8Array }> = {
    pay: { rows: all, y: Uint8Array.from(all, (i) => (h.paid[i]! > 0 ? 1 : 0)) },
    cover: {
      rows: paidRows,
      y: Uint8Array.from(paidRows, (i) => (h.paid[i]! >= h.overdue[i]! - 0.005 ? 1 : 0)),
    },
  };
  const members = { pay: [] as CalibratedModel[], cover: [] as CalibratedModel[] };
  for (const outcome of RESPONSE_OUTCOMES) {
    const { rows, y } = labels[outcome];
    const part = (role: number) => {
      const idx: number[] = [];
      const local: number[] = [];
      rows.forEach((r, j) => {
        if (h.roles[r] === role) {
          idx.push(r);
          local.push(j);
        }
      });
      return { x: takeRows(x, idx), y: takeValues(y, local), rows: idx };
    };
    const train = part(TRAIN);
    const validation = part(VALIDATION);
    for (const [name, p] of [
      ['train', train],
      ['validation', validation],
    ] as const) {
      const pos = p.y.reduce((s, v) => s + v, 0);
      if (Math.min(pos, p.y.length - pos) < MIN_CLASS_ROWS)
        throw new RangeError(
          `response ${outcome}: the ${name} rows hold ${pos} positives and ${p.y.length - pos} negatives; each needs at least ${MIN_CLASS_ROWS}`,
        );
    }
    const weights = o.weighting === 'ipw' ? ipwWeights(h.propensity, train.rows, o.maxWeight) : undefined;
    for (let b = 0; b < o.bags; b++) {
      const fitted = await o.kind.fit(train.x, train.y, {
        seed: o.seed + 7919 * b + (outcome === 'cover' ? 1 : 0),
        params: o.params,
        features,
        validation: { x: validation.x, y: validation.y },
        ...(weights ? { weights } : {}),
      });
      const calibrator = fitCalibrator(o.calibration, fitted.predictProba(validation.x), validation.y);
      members[outcome].push({ fitted, calibrator });
    }
  }
  return assemble(h, members, o.support);
}

/**
 * The response set of fitted pooled members: one view per treatment logged in the training period, the
 * overlap table and support of that period, and each arm's out-of-time figures.
 */
export function assemble(
  h: LoggedHistory,
  members: Record<ResponseOutcome, CalibratedModel[]>,
  support: SupportRule,
): ResponseFit {
  const arms: ResponseFit['arms'] = {};
  const notFitted: ResponseFit['notFitted'] = {};
  const cells: number[] = [];
  const logged: number[] = [];
  for (let i = 0; i < h.x.rows; i++) {
    if (h.roles[i] === OUT_OF_TIME) continue;
    cells.push(responseCellOf(h.dpd[i]!));
    logged.push(h.treatment[i]!);
  }
  const seen = TREATMENTS.filter((_, k) => logged.includes(k));
  for (const t of TREATMENTS) if (!seen.includes(t)) notFitted[t] = 'never logged in the training period';
  const overlap = overlapTable(cells, logged, support);
  const set = responseSetOf(members, seen, overlap);
  for (const t of seen) arms[t] = armFigures(h, TREATMENTS.indexOf(t), set.arms[t]!);
  return { set, members, arms, notFitted, overlap };
}

/**
 * The response set of fitted pooled members: a view per treatment in `treatments`, support from the overlap
 * table (never for a treatment without a view).
 */
export function responseSetOf(
  members: Record<ResponseOutcome, readonly CalibratedModel[]>,
  treatments: readonly Treatment[],
  overlap: readonly OverlapRow[],
): ResponseSet {
  const pay = meanModel(members.pay);
  const cover = meanModel(members.cover);
  const set: ResponseSet = { arms: {}, support: [] };
  for (const t of treatments) {
    const k = TREATMENTS.indexOf(t);
    set.arms[t] = { pay: armView(pay, k), cover: armView(cover, k) };
  }
  set.support = overlap.map((r) => r.supported.filter((t) => set.arms[t] !== undefined));
  return set;
}

function armFigures(
  h: LoggedHistory,
  k: number,
  arm: { pay: CalibratedModel; cover: CalibratedModel },
): ArmFigures {
  const rows = { train: 0, validation: 0, outOfTime: 0 };
  const oot: number[] = [];
  for (let i = 0; i < h.x.rows; i++) {
    if (h.treatment[i] !== k) continue;
    const r = h.roles[i];
    if (r === TRAIN) rows.train++;
    else if (r === VALIDATION) rows.validation++;
    else {
      rows.outOfTime++;
      oot.push(i);
    }
  }
  const paid = oot.filter((i) => h.paid[i]! > 0);
  const figure = (idx: number[], m: CalibratedModel, label: (i: number) => number) => {
    const y = Uint8Array.from(idx, label);
    const pos = y.reduce((s, v) => s + v, 0);
    return pos > 0 && pos < y.length ? summarise(predictCalibrated(m, takeRows(h.x, idx)), y) : null;
  };
  return {
    rows,
    pay: figure(oot, arm.pay, (i) => (h.paid[i]! > 0 ? 1 : 0)),
    cover: figure(paid, arm.cover, (i) => (h.paid[i]! >= h.overdue[i]! - 0.005 ? 1 : 0)),
  };
}

/** 1/propensity over `rows`, normalised to mean 1, then capped at `max` (a few rare choices must not dominate). */
export function ipwWeights(propensity: Float64Array, rows: readonly number[], max: number): Float64Array {
  const w = Float64Array.from(rows, (i) => 1 / propensity[i]!);
  const mean = w.reduce((s, v) => s + v, 0) / (w.length || 1);
  for (let j = 0; j < w.length; j++) w[j] = Math.min(max, w[j]! / mean);
  return w;
}
