import { z } from 'zod';

/** Layout version of manifest.json. A manifest with a higher apiVersion comes from a newer repayrisk. */
export const API_VERSION = 1;

const metricSummary = z.object({
  rows: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
  auc: z.number(),
  ks: z.number(),
  gini: z.number(),
  brier: z.number(),
  logLoss: z.number(),
  ece: z.number(),
});

const featureSchema = z.object({
  name: z.string().min(1),
  type: z.enum(['numeric', 'categorical']),
  categories: z.array(z.string()).optional(),
  /** Range and missing share seen in training (numeric: min/max; categorical: code range). */
  min: z.number().nullable(),
  max: z.number().nullable(),
  missingShare: z.number().min(0).max(1),
});
export type FeatureSchemaEntry = z.infer<typeof featureSchema>;

const targetEntry = z.object({
  /** What the positive class means. */
  positive: z.string(),
  kind: z.string(),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  params: z.unknown(),
  calibration: z.string(),
  metrics: z.object({ train: metricSummary, validation: metricSummary, outOfTime: metricSummary }),
  candidates: z.array(z.object({ kind: z.string(), outOfTimeLogLoss: z.number(), outOfTimeAuc: z.number() })),
  oracleAuc: z.number().optional(),
});
export type TargetEntry = z.infer<typeof targetEntry>;

export const manifestSchema = z.object({
  apiVersion: z.number().int().positive(),
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  version: z.string().regex(/^v[0-9a-f]{12}$/),
  /** `snapshots`: point-in-time features of a history; `table`: a team's own feature table. */
  mode: z.enum(['snapshots', 'table']),
  seed: z.number().int().nonnegative(),
  /** What was asked for, so the artifact can be retrained exactly: kind choice, calibration, hyperparameters. */
  request: z.object({ kind: z.string(), calibration: z.string(), params: z.record(z.string(), z.unknown()) }),
  features: z.array(featureSchema),
  missingValues: z.string(),
  targets: z.record(z.string(), targetEntry),
  split: z.object({
    ootMonths: z.number().int().nullable(),
    validationShare: z.number(),
    outOfTimeFrom: z.string().nullable(),
  }),
  data: z.object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    rows: z.number().int().nonnegative(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    source: z.string(),
  }),
  table: z
    .object({
      target: z.string(),
      positive: z.string(),
      id: z.string().nullable(),
      categorical: z.array(z.string()),
      columns: z.array(z.string()).nullable(),
      /** Cell texts read as missing besides empty cells; absent in artifacts made when only empty cells were. */
      na: z.array(z.string()).optional(),
      /** Most levels per categorical column (rarer ones pooled into '(other)'); absent before there was a cap. */
      maxCategories: z.number().int().min(2).optional(),
    })
    .optional(),
  /** Where and when it was made. Excluded from the version hash and from reproducibility comparisons. */
  provenance: z.object({
    createdAt: z.string(),
    gitCommit: z.string().nullable(),
    node: z.string(),
    packages: z.record(z.string(), z.string()),
  }),
});
export type Manifest = z.infer<typeof manifestSchema>;
