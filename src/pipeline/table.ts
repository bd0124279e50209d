import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RepayriskError } from '../core/errors.ts';
import { auc } from '../core/metrics/index.ts';
import { takeValues } from '../core/models/rows.ts';
import { createRng } from '../core/random.ts';
import { fitTarget, predictCalibrated, type TargetFit } from '../core/training/fit-target.ts';
import { holdoutRoles, stratifiedFolds } from '../core/training/folds.ts';
import { OUT_OF_TIME, TRAIN, VALIDATION } from '../core/training/split.ts';
import {
  DEFAULT_MAX_CATEGORIES,
  OTHER_LEVEL,
  type TableSpecOptions,
  tableFeatures,
  tableLabels,
  tableMatrix,
} from '../core/training/table-design.ts';
import { DEFAULT_NA_MARKERS, readFeatureTable } from '../data/feature-table.ts';
import { loadArtifact, type WrittenArtifact, writeArtifact } from '../registry/artifact.ts';
import { renderModelReport } from '../report/index.ts';
import { featureSchema, modelFile, reportedModel, targetEntry } from './artifact-parts.ts';
import { fingerprint } from './fingerprint.ts';
import { kindsFor, type TrainRequest } from './kind-choice.ts';
import { creationTime, provenance } from './provenance.ts';

export interface TableTrainOptions extends TableSpecOptions, TrainRequest {
  table: string;
  columns?: readonly string[];
  /**
   * Cell texts read as missing besides empty cells (default `DEFAULT_NA_MARKERS`; `[]` for empty cells
   * only). Recorded in the artifact, so `score --table` reads the same way.
   */
  na?: readonly string[];
}

/** How the manifest says a table's missing values were read. */
function missingValuesText(na: readonly string[]): string {
  const markers = na.length ? ` or, spaces trimmed, exactly ${na.map((m) => `'${m}'`).join(', ')}` : '';
  return (
    `cells that are empty${markers} are missing (NaN); a categorical value not seen at fit is missing, ` +
    `or '${OTHER_LEVEL}' where rare levels were pooled into it; each kind records its handling`
  );
}

/** Trains one model on a feature table (stratified 20% holdout reported as out-of-time) and writes its artifact. */
export async function trainTable(
  o: TableTrainOptions,
): Promise<{ artifact: WrittenArtifact; fit: TargetFit }> {
  const t = await readFeatureTable(o.table, { columns: o.columns, na: o.na ?? DEFAULT_NA_MARKERS });
  const features = tableFeatures(t, o);
  const x = tableMatrix(t, features);
  const { y, positive } = tableLabels(t, o);
  const roles = holdoutRoles(y, o.seed);
  const fit = await fitTarget({
    x,
    y,
    roles,
    features,
    kinds: kindsFor(o.kind, o.params),
    seed: o.seed,
    calibration: o.calibration,
    onProgress: (kind, step, done, total) => o.onProgress?.(`${kind}: ${step} ${done}/${total}`),
  });
  const createdAt = o.createdAt ?? creationTime();
  const target = o.target;
  const meaning = `${target} = ${positive}`;
  const draft = {
    apiVersion: 1,
    name: o.name,
    mode: 'table' as const,
    seed: o.seed,
    request: { kind: o.kind, calibration: o.calibration, params: o.params ?? {} },
    features: featureSchema(features, x),
    missingValues: missingValuesText(t.na),
    targets: { [target]: targetEntry(fit, meaning) },
    split: { ootMonths: null, validationShare: 0.2, outOfTimeFrom: null },
    data: { sha256: fingerprint(x.data, y), rows: x.rows, from: null, to: null, source: basename(o.table) },
    table: {
      target,
      positive,
      id: o.id ?? null,
      categorical: [...(o.categorical ?? [])],
      columns: o.columns ? [...o.columns] : null,
      na: [...t.na],
      maxCategories: o.maxCategories ?? DEFAULT_MAX_CATEGORIES,
    },
    provenance: provenance(createdAt),
  };
  const report = await renderModelReport({
    title: `repayrisk model ${o.name}: ${meaning}`,
    facts: [
      { label: 'created', value: createdAt },
      {
        label: 'table',
        value: `${draft.data.source}: ${x.rows.toLocaleString('en-US')} rows, ${features.length} features`,
      },
      { label: 'seed', value: String(o.seed) },
      { label: 'split', value: 'stratified: 20% holdout (shown as out-of-time), 20% of the rest validation' },
    ],
    models: [reportedModel(target, meaning, fit)],
  });
  const artifact = writeArtifact(
    o.modelsRoot,
    draft,
    { [target]: modelFile(fit) },
    { 'report.html': report },
  );
  return { artifact, fit };
}

export interface CvResult {
  kind: string;
  aucs: number[];
  mean: number;
  sd: number;
}

/**
 * Stratified k-fold cross-validation of each kind on a feature table: each fold is scored by a model fitted on
 * the other folds (20% of them kept for validation / calibration).
 */
export async function crossValidateTable(
  o: Omit<TableTrainOptions, 'modelsRoot' | 'name' | 'createdAt'> & { folds: number },
): Promise<CvResult[]> {
  const t = await readFeatureTable(o.table, { columns: o.columns, na: o.na ?? DEFAULT_NA_MARKERS });
  const { y } = tableLabels(t, o);
  // Column roles are checked once on the whole table, where a refused column's line numbers are right; each
  // fold then learns the categories of the same categorical columns from its own rows.
  const whole = tableFeatures(t, o);
  const spec = { ...o, categorical: whole.filter((f) => f.type === 'categorical').map((f) => f.name) };
  const fold = stratifiedFolds(y, o.folds, o.seed);
  const results: CvResult[] = [];
  for (const k of kindsFor(o.kind, o.params)) {
    const aucs: number[] = [];
    for (let f = 0; f < o.folds; f++) {
      const trainIdx: number[] = [];
      const testIdx: number[] = [];
      for (let i = 0; i < y.length; i++) (fold[i] === f ? testIdx : trainIdx).push(i);
      // Categories are learned from the training folds only, as they would be in production.
      const sub = subsetTable(t, trainIdx);
      const features = tableFeatures(sub, spec);
      const xTrain = tableMatrix(sub, features);
      const yTrain = takeValues(y, trainIdx);
      const roles = new Uint8Array(trainIdx.length);
      const rng = createRng(o.seed, 1000 + f);
      for (let i = 0; i < roles.length; i++) roles[i] = rng.next() < 0.2 ? VALIDATION : TRAIN;
      // fitTarget needs an evaluation split; the test fold plays out-of-time here.
      const xTest = tableMatrix(subsetTable(t, testIdx), features);
      const yTest = takeValues(y, testIdx);
      const x = stack(xTrain, xTest);
      const allY = new Uint8Array([...yTrain, ...yTest]);
      const allRoles = new Uint8Array([...roles, ...new Uint8Array(testIdx.length).fill(OUT_OF_TIME)]);
      const fit = await fitTarget({
        x,
        y: allY,
        roles: allRoles,
        features,
        kinds: [k],
        seed: o.seed,
        calibration: o.calibration,
      });
      aucs.push(auc(predictCalibrated(fit.chosen, xTest), yTest));
      o.onProgress?.(`${k.kind.name}: fold ${f + 1}/${o.folds} AUC ${aucs[aucs.length - 1]!.toFixed(4)}`);
    }
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    const sd = Math.sqrt(aucs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, aucs.length - 1));
    results.push({ kind: k.kind.name, aucs, mean, sd });
  }
  return results;
}

function subsetTable<
  T extends { names: readonly string[]; types: readonly string[]; columns: readonly (readonly unknown[])[] },
>(t: T, idx: readonly number[]) {
  return {
    names: t.names,
    types: t.types,
    columns: t.columns.map((c) => idx.map((i) => c[i] as string | number | boolean | null)),
    rows: idx.length,
  };
}

function stack(
  a: { data: Float64Array; rows: number; cols: number },
  b: { data: Float64Array; rows: number; cols: number },
) {
  const data = new Float64Array((a.rows + b.rows) * a.cols);
  data.set(a.data);
  data.set(b.data, a.rows * a.cols);
  return { data, rows: a.rows + b.rows, cols: a.cols };
}

/**
 * Scores a feature table with a table-mode artifact and writes CSV: the id column (or `row`, 1-based) and
 * `probability`. Columns are matched by name; a missing feature column is an error naming it. Missing-value
 * markers are those recorded at fit (`na` overrides them); an artifact that records none was trained when only
 * empty cells were missing, and is read that way.
 */
export async function scoreTable(o: {
  model: string;
  table: string;
  out: string;
  columns?: readonly string[];
  na?: readonly string[];
}): Promise<number> {
  const art = await loadArtifact(o.model);
  const m = art.manifest;
  if (m.mode !== 'table' || !m.table) {
    throw new RepayriskError(
      'invalid_argument',
      `${o.model} is a ${m.mode} model; score --table needs a model trained with train --table`,
    );
  }
  const t = await readFeatureTable(o.table, {
    columns: o.columns ?? m.table.columns ?? undefined,
    na: o.na ?? m.table.na ?? [],
  });
  const x = tableMatrix(t, m.features);
  const model = art.models[m.table.target]!;
  const p = predictCalibrated(model, x);
  const idCol = m.table.id && t.names.includes(m.table.id) ? t.columns[t.names.indexOf(m.table.id)]! : null;
  const lines = [`${idCol ? m.table.id : 'row'},probability`];
  for (let i = 0; i < t.rows; i++) lines.push(`${idCol ? String(idCol[i]) : i + 1},${p[i]!.toFixed(6)}`);
  writeFileSync(o.out, `${lines.join('\n')}\n`);
  return t.rows;
}
