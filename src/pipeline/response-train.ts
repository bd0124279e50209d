/**
 * `repayrisk train --history DIR --response`: fits the treatment-response models (core/uplift) on a history's
 * logged treatments, propensities and outcomes, and writes them as a response artifact beside the scoring model.
 */
import { basename } from 'node:path';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import type { MetricSummary } from '../core/metrics/types.ts';
import { KINDS } from '../core/models/kinds.ts';
import { TREATMENTS } from '../core/schema/enums.ts';
import { isoOf } from '../core/time/dates.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { outOfTimeSplit } from '../core/training/split.ts';
import { fitResponses, type ResponseFit } from '../core/uplift/fit-responses.ts';
import { DEFAULT_SUPPORT, type SupportRule } from '../core/uplift/overlap.ts';
import { LIFT_BASIS } from '../core/uplift/score-lift.ts';
import { type ResponseManifestDraft, writeResponseArtifact } from '../registry/response-artifact.ts';
import { loadScoringModel } from '../service/live.ts';
import { fingerprint } from './fingerprint.ts';
import { creationTime, provenance } from './provenance.ts';
import { readLoggedColumns } from './response-data.ts';
import { responseReport } from './response-report.ts';

/**
 * gbdt settings of the response models: depth 4 so a tree can split on the treatment and two account traits
 * below it (the interactions that make a treatment's effect differ between accounts), early stopped.
 */
export const RESPONSE_GBDT_PARAMS = {
  nTrees: 300,
  maxDepth: 4,
  learningRate: 0.08,
  earlyStoppingRounds: 30,
  minChildWeight: 5,
};

/** Default weight of the score lift in each treatment's average with its own arm (docs/strategy.md, "Learner"). */
export const DEFAULT_LIFT_BLEND = 0.5;

export interface TrainResponseOptions {
  history: string;
  modelsRoot: string;
  /**
   * Scoring-model artifact folder whose willingness and ability scores the per-treatment score lifts are fitted on
   * (recorded in the artifact; the responses then need that model's scores). Absent: the arms alone.
   */
  model?: string;
  /** Weight of the score lift in each treatment's average with its own arm, in [0, 1]; default 0.5. */
  liftBlend?: number;
  /** Fit the bags on folds of accounts (cross-fitting the score lift); default true when bags >= 2. */
  crossFit?: boolean;
  /** Artifact name; default 'repayrisk-response'. */
  name?: string;
  seed: number;
  ootMonths: number;
  validationShare: number;
  /** Model kind of every arm; default 'gbdt'. */
  kind?: string;
  params?: unknown;
  calibration?: 'platt' | 'isotonic' | 'auto';
  weighting?: 'ipw' | 'none';
  maxWeight?: number;
  support?: SupportRule;
  /** Independently seeded fits averaged per outcome; default 3. */
  bags?: number;
  createdAt?: string;
  onProgress?: (message: string) => void;
}

export interface TrainResponseResult {
  dir: string;
  version: string;
  existed: boolean;
  fit: ResponseFit;
  snapshots: number;
  outOfTimeFrom: string;
}

/** An integer per account, in order of first appearance (the folds of cross-fitting are drawn per account). */
function accountGroups(ids: readonly string[]): Int32Array {
  const seen = new Map<string, number>();
  return Int32Array.from(ids, (id) => {
    let g = seen.get(id);
    if (g === undefined) {
      g = seen.size;
      seen.set(id, g);
    }
    return g;
  });
}

/**
 * Fits and writes the response artifact.
 * @throws ModelError (unknown kind, artifact clash), RangeError (too few months for the out-of-time split).
 */
export async function trainResponse(o: TrainResponseOptions): Promise<TrainResponseResult> {
  const say = o.onProgress ?? (() => {});
  const kindName = o.kind ?? 'gbdt';
  const kind = KINDS[kindName];
  if (!kind)
    throw new Error(`--response-kind: expected one of ${Object.keys(KINDS).join(', ')}, got ${kindName}`);
  const params = kind.parseParams(o.params ?? (kindName === 'gbdt' ? RESPONSE_GBDT_PARAMS : {}));
  const data = await readLoggedColumns(
    o.history,
    (d) => Date.parse(`${d}T12:00:00Z`),
    (n) => say(`response data: ${n} logged snapshots`),
  );
  say(`scores: ${o.model ? 'scoring the snapshots' : 'none (no scoring model)'}`);
  const scoring = o.model ? await loadScoringModel(o.model) : null;
  const scores = scoring && {
    willingness: predictCalibrated(scoring.willingness, data.x),
    ability: predictCalibrated(scoring.ability, data.x),
    version: scoring.version,
  };
  const split = outOfTimeSplit(data.asOf, data.accountIds, {
    ootMonths: o.ootMonths,
    validationShare: o.validationShare,
    seed: o.seed,
  });
  const learner = {
    method: 's-learner' as const,
    kind: kindName,
    params,
    calibration: o.calibration ?? 'platt',
    weighting: o.weighting ?? 'ipw',
    maxWeight: o.maxWeight ?? 10,
    bags: o.bags ?? 3,
    crossFit: o.crossFit ?? (o.bags ?? 3) >= 2,
  };
  const support = o.support ?? DEFAULT_SUPPORT;
  say(`response models: ${kindName} × ${learner.bags} per outcome, treatment as a feature`);
  const fit = await fitResponses(
    {
      x: data.x,
      treatment: data.treatment,
      propensity: data.propensity,
      paid: data.paid,
      overdue: data.overdue,
      dpd: data.dpd,
      roles: split.roles,
      groups: accountGroups(data.accountIds),
      ...(scores ? { scores } : {}),
    },
    {
      kind,
      params,
      features: SNAPSHOT_FEATURES,
      seed: o.seed,
      calibration: learner.calibration,
      weighting: learner.weighting,
      maxWeight: learner.maxWeight,
      bags: learner.bags,
      support,
      liftBlend: o.liftBlend ?? DEFAULT_LIFT_BLEND,
      crossFit: learner.crossFit,
    },
  );
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const d of data.asOf) {
    first = Math.min(first, d);
    last = Math.max(last, d);
  }
  const metric = (m: MetricSummary | null) =>
    m && { rows: m.rows, positives: m.positives, auc: m.auc, logLoss: m.logLoss, ece: m.ece };
  const arms: ResponseManifestDraft['arms'] = {};
  for (const t of TREATMENTS) {
    const a = fit.arms[t];
    if (a) arms[t] = { rows: a.rows, pay: metric(a.pay), cover: metric(a.cover) };
  }
  const weights = {
    pay: fit.members.pay.map((m) => ({ model: m.fitted.toJSON(), calibrator: m.calibrator.toJSON() })),
    cover: fit.members.cover.map((m) => ({ model: m.fitted.toJSON(), calibrator: m.calibrator.toJSON() })),
  };
  const outOfTimeFrom = isoOf(split.ootStartDay);
  const draft: ResponseManifestDraft = {
    artifact: 'treatment-response',
    name: o.name ?? 'repayrisk-response',
    seed: o.seed,
    learner,
    features: SNAPSHOT_FEATURES.map((f) => ({
      name: f.name,
      type: f.type,
      ...(f.categories ? { categories: [...f.categories] } : {}),
    })),
    arms,
    notFitted: fit.notFitted,
    overlap: { cells: 'delinquency bucket', rule: support, table: fit.overlap },
    ...(fit.lift && scoring
      ? {
          scoreLift: {
            scoringModel: { version: scoring.version, source: basename(scoring.dir) },
            basis: [...LIFT_BASIS],
            blend: fit.lift.blend,
            coef: Object.fromEntries(
              Object.entries(fit.lift.coef).map(([t, c]) => [t, { pay: [...c.pay], cover: [...c.cover] }]),
            ),
          },
        }
      : {}),
    split: { ootMonths: o.ootMonths, validationShare: o.validationShare, outOfTimeFrom },
    data: {
      sha256: fingerprint(data.x.data, data.asOf, data.treatment, data.propensity, data.paid),
      rows: data.x.rows,
      from: data.x.rows ? isoOf(first) : null,
      to: data.x.rows ? isoOf(last) : null,
      source: basename(o.history),
    },
    provenance: provenance(o.createdAt ?? creationTime()),
  };
  say('report: out-of-time figures, calibration and Qini charts');
  const report = await responseReport(
    data,
    split.roles,
    fit,
    support,
    [
      { label: 'created', value: draft.provenance.createdAt },
      { label: 'seed', value: String(o.seed) },
      {
        label: 'history',
        value: `${draft.data.source}: ${data.x.rows.toLocaleString('en-US')} logged delinquent snapshots, ${draft.data.from} .. ${draft.data.to}`,
      },
      { label: 'out-of-time from', value: outOfTimeFrom },
      {
        label: 'learner',
        value: `pooled ${kindName} (treatment as a feature), ${learner.weighting} weights, ${learner.bags} bag(s)${learner.crossFit ? ' on account folds (cross-fitted)' : ''}${fit.lift && scoring ? `; averaged (lift weight ${fit.lift.blend}) with a per-treatment logit lift over hold in the scores of ${scoring.version}` : '; no score lift'}`,
      },
    ],
    scores ?? undefined,
  );
  say('write: the artifact');
  const written = writeResponseArtifact(o.modelsRoot, draft, weights, { 'report.html': report });
  return { ...written, fit, snapshots: data.x.rows, outOfTimeFrom };
}
