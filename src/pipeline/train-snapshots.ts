import { basename } from 'node:path';
import { RepayriskError } from '../core/errors.ts';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import { takeRows, takeValues } from '../core/models/rows.ts';
import { isoOf } from '../core/time/dates.ts';
import { fitTarget, type TargetFit } from '../core/training/fit-target.ts';
import { labelTarget, TARGET_MEANING, TARGETS, type Target } from '../core/training/labels.ts';
import { describeComparison, ORACLE_MARGIN, type OracleComparison } from '../core/training/leak-guard.ts';
import { outOfTimeSplit } from '../core/training/split.ts';
import { loadSnapshotDataset } from '../data/snapshot-dataset.ts';
import { type WrittenArtifact, writeArtifact } from '../registry/artifact.ts';
import { renderModelReport } from '../report/index.ts';
import { featureSchema, modelFile, reportedModel, targetEntry } from './artifact-parts.ts';
import { fingerprint } from './fingerprint.ts';
import { kindsFor, type TrainRequest } from './kind-choice.ts';
import { againstOracle } from './oracle.ts';
import { creationTime, provenance } from './provenance.ts';

export interface TrainSnapshotsOptions extends TrainRequest {
  history: string;
  ootMonths: number;
  validationShare: number;
  /**
   * On a synthetic history, write the artifact even when a model's out-of-time AUC is above the oracle by more
   * than noise (a leak), with a warning instead of an error. For research on leaks only. Default false.
   */
  allowAboveOracle?: boolean;
}

export interface TrainResult {
  artifact: WrittenArtifact;
  fits: Record<Target, TargetFit>;
  oracleAuc: Partial<Record<Target, number>>;
  /** Per target, every candidate against the oracle on the same out-of-time rows (synthetic histories only). */
  oracle: Partial<Record<Target, OracleComparison[]>>;
  /** Loud warnings for the caller to show: models above the oracle when `allowAboveOracle` let them through. */
  warnings: string[];
  snapshots: number;
}

/**
 * The figures of every model against the oracle (those above it marked), what that means and what usually
 * causes it.
 */
function aboveOracleMessage(all: readonly OracleComparison[]): string {
  const above = all.filter((c) => c.above).length;
  return [
    `${above === 1 ? 'a model ranks' : `${above} models rank`} the out-of-time snapshots better than the generator's true probabilities (the oracle), by more than the noise of the comparison (max(${ORACLE_MARGIN.floor}, ${ORACLE_MARGIN.sigmas} DeLong standard errors of the paired AUC difference)):`,
    ...all.map((c) => `  ${c.above ? 'ABOVE the oracle:' : 'within noise:   '} ${describeComparison(c)}`),
    'No model can beat the truth that generated the outcomes: a feature sees the future. The usual cause is a history',
    "column that a later payment rewrote, e.g. installments.paid_date holding the account's last payment date rather",
    'than the date the instalment was paid in full (map it to the date each instalment was cleared, or supply a',
    'payments table), or an outcome copied into an accounts column.',
  ].join('\n');
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
  const features = SNAPSHOT_FEATURES;
  const kinds = kindsFor(o.kind, o.params);
  const fits = {} as Record<Target, TargetFit>;
  const oracleAuc: Partial<Record<Target, number>> = {};
  const oracle: Partial<Record<Target, OracleComparison[]>> = {};
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
    // Every candidate, not only the kept one: they share the features, and any of them above the truth is a leak.
    const cs = againstOracle(ds, target, lab, roles, fits[target].candidates);
    if (cs.length) {
      oracle[target] = cs;
      oracleAuc[target] = cs[0]!.oracleAuc;
    }
  }
  const comparisons = Object.values(oracle).flat();
  const above = comparisons.filter((c) => c.above);
  const warnings: string[] = [];
  if (above.length) {
    const msg = aboveOracleMessage(comparisons);
    if (!o.allowAboveOracle) {
      throw new RepayriskError(
        'refused',
        `train refused: ${msg}\nNo artifact was written. To train anyway for research on leaks, pass --allow-above-oracle.`,
      );
    }
    warnings.push(
      `WARNING (--allow-above-oracle): ${msg}\nThe artifact was written; its quality figures are not to be believed.`,
    );
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
      ...(comparisons.length ? [{ label: 'leak guard', value: leakGuardFact(comparisons, above) }] : []),
    ],
    models: TARGETS.map((t) => reportedModel(t, TARGET_MEANING[t], fits[t], oracleAuc[t])),
  });
  const artifact = writeArtifact(
    o.modelsRoot,
    draft,
    { willingness: modelFile(fits.willingness), ability: modelFile(fits.ability) },
    { 'report.html': report },
  );
  return { artifact, fits, oracleAuc, oracle, warnings, snapshots: ds.x.rows };
}

/** One line for the report: the guard passed (with the closest model) or was overridden (with who broke it). */
function leakGuardFact(all: readonly OracleComparison[], above: readonly OracleComparison[]): string {
  if (above.length) return `OVERRIDDEN (--allow-above-oracle): ${above.map(describeComparison).join('; ')}`;
  const closest = all.reduce((a, b) => (b.excess - b.margin > a.excess - a.margin ? b : a));
  return `passed: no model above the oracle by more than noise (closest: ${describeComparison(closest)})`;
}
