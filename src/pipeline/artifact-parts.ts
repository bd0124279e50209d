import type { FeatureInfo, Matrix } from '../core/models/contract.ts';
import type { TargetFit } from '../core/training/fit-target.ts';
import type { ManifestDraft, ModelFile } from '../registry/artifact.ts';
import type { FeatureSchemaEntry } from '../registry/manifest.ts';
import type { ReportedModel, ScorecardPointsRow } from '../report/types.ts';

/** Feature schema for the manifest: names, types, categories, training range and missing share. */
export function featureSchema(features: readonly FeatureInfo[], x: Matrix): FeatureSchemaEntry[] {
  return features.map((f, j) => {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let missing = 0;
    for (let i = 0; i < x.rows; i++) {
      const v = x.data[i * x.cols + j]!;
      if (Number.isNaN(v)) missing++;
      else {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    const seen = missing < x.rows;
    return {
      name: f.name,
      type: f.type,
      ...(f.categories ? { categories: [...f.categories] } : {}),
      min: seen ? min : null,
      max: seen ? max : null,
      missingShare: x.rows ? missing / x.rows : 0,
    };
  });
}

/** The manifest entry of one fitted target. */
export function targetEntry(
  fit: TargetFit,
  positive: string,
  oracleAuc?: number,
): ManifestDraft['targets'][string] {
  const c = fit.chosen;
  return {
    positive,
    kind: c.kind,
    params: c.params,
    calibration: c.calibrator.method,
    metrics: {
      train: c.evaluation.train,
      validation: c.evaluation.validation,
      outOfTime: c.evaluation.outOfTime,
    },
    candidates: fit.candidates.map((k) => ({
      kind: k.kind,
      outOfTimeLogLoss: k.evaluation.outOfTime.logLoss,
      outOfTimeAuc: k.evaluation.outOfTime.auc,
    })),
    ...(oracleAuc === undefined ? {} : { oracleAuc }),
  };
}

/** The weight file of one fitted target. */
export function modelFile(fit: TargetFit): ModelFile {
  return { model: fit.chosen.fitted.toJSON(), calibrator: fit.chosen.calibrator.toJSON() };
}

/** The report section of one fitted target. */
export function reportedModel(
  target: string,
  positiveMeans: string,
  fit: TargetFit,
  oracleAuc?: number,
): ReportedModel {
  const c = fit.chosen;
  const withPoints = c.fitted as { pointsTable?: () => ScorecardPointsRow[] };
  return {
    target,
    positiveMeans,
    kind: c.kind,
    evaluation: c.evaluation,
    importance: c.fitted.importance(),
    importanceMeasure: c.fitted.importanceMeasure,
    contributionImportance: fit.contributionImportance,
    ...(typeof withPoints.pointsTable === 'function' ? { scorecard: withPoints.pointsTable() } : {}),
    ...(fit.candidates.length > 1
      ? {
          candidates: fit.candidates.map((k) => ({
            kind: k.kind,
            outOfTimeLogLoss: k.evaluation.outOfTime.logLoss,
            outOfTimeAuc: k.evaluation.outOfTime.auc,
            chosen: k === c,
          })),
        }
      : {}),
    ...(oracleAuc === undefined ? {} : { oracleAuc }),
  };
}
