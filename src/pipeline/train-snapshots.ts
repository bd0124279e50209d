import { basename } from 'node:path';
import { FEATURES, featureInfos } from '../core/features/definitions.ts';
import { auc } from '../core/metrics/index.ts';
import { takeRows, takeValues } from '../core/models/rows.ts';
import { isoOf } from '../core/time/dates.ts';
import { fitTarget, type TargetFit } from '../core/training/fit-target.ts';
import { labelTarget, TARGET_MEANING, TARGETS, type Target } from '../core/training/labels.ts';
import { OUT_OF_TIME, outOfTimeSplit } from '../core/training/split.ts';
import { loadSnapshotDataset } from '../data/snapshot-dataset.ts';
import { type WrittenArtifact, writeArtifact } from '../registry/artifact.ts';
import { renderModelReport } from '../report/index.ts';
import { featureSchema, modelFile, reportedModel, targetEntry } from './artifact-parts.ts';
import { fingerprint } from './fingerprint.ts';
import { kindsFor, type TrainRequest } from './kind-choice.ts';
import { creationTime, provenance } from './provenance.ts';

export interface TrainSnapshotsOptions extends TrainRequest {
  history: string;
  ootMonths: number;
  validationShare: number;
}

export interface TrainResult {
  artifact: WrittenArtifact;
  fits: Record<Target, TargetFit>;
  oracleAuc: Partial<Record<Target, number>>;
  snapshots: number;
}

/**
 * Trains the willingness and ability models on a history folder (DESIGN §4), evaluates them out of time,
 * and writes one artifact with both models and the HTML report.
 */
export async function trainSnapshots(o: TrainSnapshotsOptions): Promise<TrainResult> {
  const say = o.onProgress ?? (() => {});
  const ds = await loadSnapshotDataset(o.history, {
    onProgress: (n) => say(`features: ${n} delinquent snapshots`),
  });
  const split = outOfTimeSplit(ds.asOf, ds.accountIds, {
    ootMonths: o.ootMonths,
    validationShare: o.validationShare,
    seed: o.seed,
  });
  const features = featureInfos(FEATURES);
  const kinds = kindsFor(o.kind, o.params);
  const fits = {} as Record<Target, TargetFit>;
  const oracleAuc: Partial<Record<Target, number>> = {};
  for (const target of TARGETS) {
    const lab = labelTarget(target, ds.paid30, ds.overdue);
    const roles = takeValues(split.roles, lab.rows);
    fits[target] = await fitTarget({
      x: takeRows(ds.x, lab.rows),
      y: lab.y,
      roles,
      features,
      kinds,
      seed: o.seed,
      calibration: o.calibration,
      onProgress: (kind, step, done, total) => say(`${target} ${kind}: ${step} ${done}/${total}`),
    });
    if (ds.hasTruth) {
      const truth = target === 'willingness' ? ds.truePay : ds.trueCover;
      const p: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < lab.rows.length; i++) {
        const t = truth[lab.rows[i]!]!;
        if (roles[i] === OUT_OF_TIME && !Number.isNaN(t)) {
          p.push(t);
          y.push(lab.y[i]!);
        }
      }
      if (p.length) oracleAuc[target] = auc(p, y);
    }
  }
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const d of ds.asOf) {
    first = Math.min(first, d);
    last = Math.max(last, d);
  }
  const createdAt = o.createdAt ?? creationTime();
  const draft = {
    apiVersion: 1,
    name: o.name,
    mode: 'snapshots' as const,
    seed: o.seed,
    request: { kind: o.kind, calibration: o.calibration, params: o.params ?? {} },
    features: featureSchema(features, ds.x),
    missingValues:
      'NaN marks a missing value; each kind records its own handling (indicator or bin) in its weights',
    targets: Object.fromEntries(
      TARGETS.map((t) => [t, targetEntry(fits[t], TARGET_MEANING[t], oracleAuc[t])]),
    ),
    split: {
      ootMonths: o.ootMonths,
      validationShare: o.validationShare,
      outOfTimeFrom: isoOf(split.ootStartDay),
    },
    data: {
      sha256: fingerprint(ds.x.data, ds.asOf, ds.paid30, ds.overdue),
      rows: ds.x.rows,
      from: ds.x.rows ? isoOf(first) : null,
      to: ds.x.rows ? isoOf(last) : null,
      source: basename(o.history),
    },
    provenance: provenance(createdAt),
  };
  const report = await renderModelReport({
    title: `repayrisk model ${o.name}: willingness and ability`,
    facts: [
      { label: 'created', value: createdAt },
      { label: 'seed', value: String(o.seed) },
      {
        label: 'history',
        value: `${draft.data.source}: ${ds.x.rows.toLocaleString('en-US')} delinquent snapshots, ${draft.data.from} .. ${draft.data.to}`,
      },
      { label: 'out-of-time from', value: draft.split.outOfTimeFrom },
      { label: 'data sha256', value: draft.data.sha256.slice(0, 16) },
    ],
    models: TARGETS.map((t) => reportedModel(t, TARGET_MEANING[t], fits[t], oracleAuc[t])),
  });
  const artifact = writeArtifact(
    o.modelsRoot,
    draft,
    { willingness: modelFile(fits.willingness), ability: modelFile(fits.ability) },
    { 'report.html': report },
  );
  return { artifact, fits, oracleAuc, snapshots: ds.x.rows };
}
