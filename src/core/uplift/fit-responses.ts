/**
 * Fitting treatment-response models from logged history (docs/strategy.md says why this learner). One pooled
 * model of P(pay | x, t) on every logged snapshot and one of P(cover | pay, x, t) on those that paid, the
 * treatment t a categorical feature beside the snapshot features (an S-learner on the existing gbdt kind, whose
 * trees split on the treatment where it changes the response: the interactions are learned, not declared). Rows
 * are weighted by their inverse propensity (normalised to mean 1, capped) so the rarely logged treatments are not
 * drowned by the common ones, and `bags` fits with different seeds are averaged. Each fit is calibrated on
 * held-out accounts. Given the scoring model's scores, each treatment's arm is then averaged with the hold arm
 * moved by a per-treatment logit lift in the scores' bilinear basis (score-lift.ts), fitted on the same rows.
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
import { predictResponses, type ResponseSet, type ScoreLift } from './response-set.ts';
import { fitLift } from './score-lift.ts';

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
  /**
   * Account of each snapshot (any integer id per account): with `crossFit` the bags are fitted on folds of
   * accounts, so a snapshot's out-of-fold prediction never comes from a model that saw its account.
   */
  groups?: Int32Array;
  /** The scoring model's scores per snapshot and its version; absent = no score lift (the arms alone). */
  scores?: { willingness: Float64Array; ability: Float64Array; version: string };
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
  /** Weight of the lifted hold arm in each treatment's average with its own arm (with scores), in [0, 1]. */
  liftBlend: number;
  /**
   * Cross-fitting (needs `bags` >= 2 and `groups`): bag b is fitted on the training accounts outside fold b, and
   * the score lift is fitted on out-of-fold hold predictions, so the offset of a row never carries that row's own
   * noise (the lift of a small effect is otherwise biased towards what the trees already memorised).
   */
  crossFit: boolean;
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
  /** The score lift averaged with the arms (absent without scores). */
  lift?: ScoreLift;
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
  if (!(o.liftBlend >= 0 && o.liftBlend <= 1))
    throw new RangeError(`liftBlend: expected a number in [0, 1], got ${o.liftBlend}`);
  if (o.crossFit && (o.bags < 2 || !h.groups))
    throw new RangeError(`crossFit: needs at least 2 bags (got ${o.bags}) and the account of each snapshot`);
  const fold = o.crossFit ? foldsOf(h.groups!, o.bags, o.seed) : null;
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
      // A fold is left out by a zero weight (no copy of the training rows per bag).
      let bagWeights = weights;
      if (fold) {
        bagWeights = weights ? Float64Array.from(weights) : new Float64Array(train.rows.length).fill(1);
        train.rows.forEach((r, j) => {
          if (fold[r] === b) bagWeights![j] = 0;
        });
      }
      const fitted = await o.kind.fit(train.x, train.y, {
        seed: o.seed + 7919 * b + (outcome === 'cover' ? 1 : 0),
        params: o.params,
        features,
        validation: { x: validation.x, y: validation.y },
        ...(bagWeights ? { weights: bagWeights } : {}),
      });
      const calibrator = fitCalibrator(o.calibration, fitted.predictProba(validation.x), validation.y);
      members[outcome].push({ fitted, calibrator });
    }
  }
  const lift = h.scores ? fitScoreLifts(h, h.scores, members, o, fold) : undefined;
  return assemble(h, members, o.support, lift);
}

/**
 * Per logged treatment other than hold, the logit lift over the (bagged) hold arm in the scores' basis, for P(pay)
 * on the treatment's TRAIN snapshots and for P(cover | pay) on those that paid, inverse-propensity weighted as the
 * arms are.
 */
function fitScoreLifts(
  h: LoggedHistory,
  scores: NonNullable<LoggedHistory['scores']>,
  members: Record<ResponseOutcome, CalibratedModel[]>,
  o: ResponseFitOptions,
  fold: Uint8Array | null,
): ScoreLift | undefined {
  const hold = TREATMENTS.indexOf('hold');
  // Cross-fitted: every training-period row (its fold's bag never saw it; validation rows no bag saw). Otherwise
  // the TRAIN rows, whose hold predictions come from models fitted on them.
  const trainRows: number[] = [];
  for (let i = 0; i < h.x.rows; i++)
    if (h.roles[i] === TRAIN || (fold && h.roles[i] === VALIDATION)) trainRows.push(i);
  if (!trainRows.some((i) => h.treatment[i] === hold)) return undefined;
  const coef: ScoreLift['coef'] = {};
  const holdOf = (m: CalibratedModel[], rows: number[]) => {
    const x = takeRows(h.x, rows);
    if (!fold) return predictCalibrated(armView(meanModel(m), hold), x);
    const mean = predictCalibrated(armView(meanModel(m), hold), x);
    const own = m.map((b) => predictCalibrated(armView(b, hold), x));
    return Float64Array.from(rows, (r, j) => (h.roles[r] === TRAIN ? own[fold[r]!]![j]! : mean[j]!));
  };
  TREATMENTS.forEach((t, k) => {
    if (k === hold) return;
    const rows = trainRows.filter((i) => h.treatment[i] === k);
    const paid = rows.filter((i) => h.paid[i]! > 0);
    if (rows.length < MIN_CLASS_ROWS || paid.length < MIN_CLASS_ROWS) return;
    const liftFit = (idx: number[], m: CalibratedModel[], y: (i: number) => number) =>
      Array.from(
        fitLift({
          w: Float64Array.from(idx, (i) => scores.willingness[i]!),
          a: Float64Array.from(idx, (i) => scores.ability[i]!),
          base: holdOf(m, idx),
          y: Float64Array.from(idx, y),
          weight:
            o.weighting === 'ipw'
              ? ipwWeights(h.propensity, idx, o.maxWeight)
              : new Float64Array(idx.length).fill(1),
        }),
      );
    coef[t] = {
      pay: liftFit(rows, members.pay, (i) => (h.paid[i]! > 0 ? 1 : 0)),
      cover: liftFit(paid, members.cover, (i) => (h.paid[i]! >= h.overdue[i]! - 0.005 ? 1 : 0)),
    };
  });
  return { scoringVersion: scores.version, blend: o.liftBlend, coef };
}

/**
 * The response set of fitted pooled members: one view per treatment logged in the training period, the
 * overlap table and support of that period, and each arm's out-of-time figures.
 */
export function assemble(
  h: LoggedHistory,
  members: Record<ResponseOutcome, CalibratedModel[]>,
  support: SupportRule,
  lift?: ScoreLift,
): ResponseFit {
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
  const set = responseSetOf(members, seen, overlap, lift);
  const arms = armFigures(h, set, seen);
  return { set, members, arms, notFitted, overlap, ...(lift ? { lift } : {}) };
}

/**
 * The response set of fitted pooled members: a view per treatment in `treatments`, support from the overlap
 * table (never for a treatment without a view), and the score lift averaged with the arms when there is one.
 */
export function responseSetOf(
  members: Record<ResponseOutcome, readonly CalibratedModel[]>,
  treatments: readonly Treatment[],
  overlap: readonly OverlapRow[],
  lift?: ScoreLift,
): ResponseSet {
  const pay = meanModel(members.pay);
  const cover = meanModel(members.cover);
  const set: ResponseSet = { arms: {}, support: [] };
  for (const t of treatments) {
    const k = TREATMENTS.indexOf(t);
    set.arms[t] = { pay: armView(pay, k), cover: armView(cover, k) };
  }
  set.support = overlap.map((r) => r.supported.filter((t) => set.arms[t] !== undefined));
  if (lift) set.lift = lift;
  return set;
}

/**
 * Each fitted arm's calibrated figures on its own out-of-time snapshots, from the set's predictions (the score lift
 * included when the set has one).
 */
function armFigures(h: LoggedHistory, set: ResponseSet, seen: readonly Treatment[]): ResponseFit['arms'] {
  const oot: number[] = [];
  for (let i = 0; i < h.x.rows; i++) if (h.roles[i] === OUT_OF_TIME) oot.push(i);
  const scores = h.scores && {
    willingness: Float64Array.from(oot, (i) => h.scores!.willingness[i]!),
    ability: Float64Array.from(oot, (i) => h.scores!.ability[i]!),
    version: h.scores.version,
  };
  const pred = predictResponses(
    set,
    takeRows(h.x, oot),
    Float64Array.from(oot, (i) => h.dpd[i]!),
    scores,
  );
  const arms: ResponseFit['arms'] = {};
  for (const t of seen) {
    const k = TREATMENTS.indexOf(t);
    const rows = { train: 0, validation: 0, outOfTime: 0 };
    for (let i = 0; i < h.x.rows; i++) {
      if (h.treatment[i] !== k) continue;
      const r = h.roles[i];
      if (r === TRAIN) rows.train++;
      else if (r === VALIDATION) rows.validation++;
      else rows.outOfTime++;
    }
    // Positions in `oot` of the arm's own snapshots, and of those that paid.
    const own = oot.flatMap((i, j) => (h.treatment[i] === k ? [j] : []));
    const paid = own.filter((j) => h.paid[oot[j]!]! > 0);
    const figure = (js: number[], p: Float64Array, label: (i: number) => number) => {
      const y = Uint8Array.from(js, (j) => label(oot[j]!));
      const pos = y.reduce((s, v) => s + v, 0);
      return pos > 0 && pos < y.length
        ? summarise(
            Float64Array.from(js, (j) => p[j]!),
            y,
          )
        : null;
    };
    arms[t] = {
      rows,
      pay: figure(own, pred.pPay[k]!, (i) => (h.paid[i]! > 0 ? 1 : 0)),
      cover: figure(paid, pred.pCover[k]!, (i) => (h.paid[i]! >= h.overdue[i]! - 0.005 ? 1 : 0)),
    };
  }
  return arms;
}

/** Fold (0 .. k−1) of each snapshot from its account: a seeded integer hash, so an account's snapshots share one. */
export function foldsOf(groups: Int32Array, k: number, seed: number): Uint8Array {
  return Uint8Array.from(groups, (g) => {
    let x = (Math.imul(g ^ seed, 0x9e3779b1) + 0x7f4a7c15) | 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return ((x ^ (x >>> 16)) >>> 0) % k;
  });
}

/** 1/propensity over `rows`, normalised to mean 1, then capped at `max` (a few rare choices must not dominate). */
export function ipwWeights(propensity: Float64Array, rows: readonly number[], max: number): Float64Array {
  const w = Float64Array.from(rows, (i) => 1 / propensity[i]!);
  const mean = w.reduce((s, v) => s + v, 0) / (w.length || 1);
  for (let j = 0; j < w.length; j++) w[j] = Math.min(max, w[j]! / mean);
  return w;
}
