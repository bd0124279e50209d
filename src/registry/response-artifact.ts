/**
 * The treatment-response artifact: a sibling of the scoring model under `models/<name>/<version>/` holding the
 * pooled response models (P(pay | x, t) and P(cover | pay, x, t), `bags` fits each), the per-treatment figures,
 * the overlap table and the support it implies, and (apiVersion 2) the per-treatment score lift with the version of
 * the scoring model whose scores it was fitted on. Written to a temporary folder and renamed, never overwritten;
 * loaded strictly: manifest valid, every weight file present with its recorded sha256, known kinds, the feature
 * schema this build expects (plus the treatment column), support only for treatments with a response.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadCalibrator } from '../core/models/calibration.ts';
import { type FeatureInfo, ModelError } from '../core/models/contract.ts';
import { KINDS } from '../core/models/kinds.ts';
import { TREATMENTS, type Treatment } from '../core/schema/enums.ts';
import type { CalibratedModel } from '../core/training/fit-target.ts';
import { TREATMENT_FEATURE } from '../core/uplift/ensemble.ts';
import { RESPONSE_OUTCOMES, type ResponseOutcome, responseSetOf } from '../core/uplift/fit-responses.ts';
import { RESPONSE_CELLS } from '../core/uplift/overlap.ts';
import type { ResponseSet, ScoreLift } from '../core/uplift/response-set.ts';
import { LIFT_BASIS, LIFT_TERMS } from '../core/uplift/score-lift.ts';
import { featureSchemaDiff, type ModelFile } from './artifact.ts';
import { publishArtifactFolder, sha256 } from './files.ts';

/** Layout version of a response manifest (2: the score lift; 1, without one, still loads). */
export const RESPONSE_API_VERSION = 2;

const treatment = z.enum(TREATMENTS as unknown as [Treatment, ...Treatment[]]);
const metrics = z
  .object({ rows: z.number(), positives: z.number(), auc: z.number(), logLoss: z.number(), ece: z.number() })
  .nullable();
const modelEntry = z.strictObject({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
/**
 * A number per treatment; a treatment missing from the file (added to TREATMENTS after the artifact was written)
 * was never logged for it, so it reads as 0: outside the support, never a fitted response.
 */
const perTreatment = (v: z.ZodNumber) =>
  z
    .partialRecord(treatment, v)
    .transform((r) => Object.fromEntries(TREATMENTS.map((t) => [t, r[t] ?? 0])) as Record<Treatment, number>);
const overlapRow = z.strictObject({
  cell: z.string(),
  snapshots: z.number().int().nonnegative(),
  counts: perTreatment(z.number().int().nonnegative()),
  shares: perTreatment(z.number().min(0).max(1)),
  supported: z.array(treatment),
});

export const responseManifestSchema = z
  .strictObject({
    apiVersion: z.number().int().positive(),
    artifact: z.literal('treatment-response'),
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    version: z.string().regex(/^v[0-9a-f]{12}$/),
    seed: z.number().int().nonnegative(),
    learner: z.strictObject({
      method: z.literal('s-learner'),
      kind: z.string(),
      params: z.unknown(),
      calibration: z.string(),
      weighting: z.enum(['ipw', 'none']),
      maxWeight: z.number().positive(),
      bags: z.number().int().min(1),
      /** Bags fitted on folds of accounts and the score lift on out-of-fold predictions (absent in older artifacts). */
      crossFit: z.boolean().optional(),
    }),
    /**
     * Per-treatment logit lift over the hold arm in the scores' basis, averaged with each arm (blend = the lift's
     * weight); valid only with the scores of `scoringModel.version`. Absent: the arms alone.
     */
    scoreLift: z
      .strictObject({
        scoringModel: z.strictObject({ version: z.string().min(1), source: z.string() }),
        basis: z
          .array(z.string())
          .refine((b) => b.join() === LIFT_BASIS.join(), { message: `expected [${LIFT_BASIS.join(', ')}]` }),
        blend: z.number().min(0).max(1),
        coef: z.partialRecord(
          treatment,
          z.strictObject({
            pay: z.array(z.number()).length(LIFT_TERMS),
            cover: z.array(z.number()).length(LIFT_TERMS),
          }),
        ),
      })
      .optional(),
    /** The snapshot features, in order; the models take the treatment as one more categorical column. */
    features: z.array(
      z.strictObject({
        name: z.string(),
        type: z.enum(['numeric', 'categorical']),
        categories: z.array(z.string()).optional(),
      }),
    ),
    models: z.strictObject({ pay: z.array(modelEntry).min(1), cover: z.array(modelEntry).min(1) }),
    /** Treatments with a response, with their logged rows and out-of-time figures on their own snapshots. */
    arms: z.partialRecord(
      treatment,
      z.strictObject({
        rows: z.strictObject({
          train: z.number().int(),
          validation: z.number().int(),
          outOfTime: z.number().int(),
        }),
        pay: metrics,
        cover: metrics,
      }),
    ),
    notFitted: z.partialRecord(treatment, z.string()),
    overlap: z.strictObject({
      cells: z.literal('delinquency bucket'),
      rule: z.strictObject({ minShare: z.number().min(0).max(1), minCount: z.number().int().min(1) }),
      table: z.array(overlapRow),
    }),
    split: z.strictObject({
      ootMonths: z.number().int(),
      validationShare: z.number(),
      outOfTimeFrom: z.string(),
    }),
    data: z.strictObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      rows: z.number().int().nonnegative(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      source: z.string(),
    }),
    provenance: z.object({ createdAt: z.string() }).passthrough(),
  })
  // The layout says whether there is a score lift (the writer writes 1 for the arms alone, 2 with a lift), and the
  // hold arm is the lift's base: a manifest that says otherwise was not written by repayrisk and is refused, not
  // read half-way.
  .superRefine((m, ctx) => {
    const lifted = m.apiVersion >= 2;
    if ((m.scoreLift !== undefined) !== lifted)
      ctx.addIssue({
        code: 'custom',
        path: ['scoreLift'],
        message: lifted
          ? `required by apiVersion ${m.apiVersion} (an artifact of the arms alone is apiVersion 1)`
          : 'not part of apiVersion 1 (an artifact with a score lift is apiVersion 2)',
      });
    if (m.scoreLift?.coef.hold)
      ctx.addIssue({
        code: 'custom',
        path: ['scoreLift', 'coef', 'hold'],
        message: 'the hold arm is the base the lifts move; it has no lift of its own',
      });
  });
export type ResponseManifest = z.infer<typeof responseManifestSchema>;

/** What the writer fills in: version, model files and checksums. */
export type ResponseManifestDraft = Omit<ResponseManifest, 'apiVersion' | 'version' | 'models'>;

/**
 * Writes a response artifact under `root/<name>/<version>/` (manifest.json, `<outcome>.<bag>.model.json`, extras).
 * The version hashes the weights, features, learner, seed, data and overlap, so the same data and seed give the
 * same version.
 * @throws ModelError when the version exists with different content.
 */
export function writeResponseArtifact(
  root: string,
  draft: ResponseManifestDraft,
  weights: Record<ResponseOutcome, readonly ModelFile[]>,
  extras: Record<string, string> = {},
): { dir: string; version: string; existed: boolean } {
  const files: Record<string, string> = {};
  const models = { pay: [], cover: [] } as ResponseManifest['models'];
  for (const o of RESPONSE_OUTCOMES)
    weights[o].forEach((w, b) => {
      const file = `${o}.${b}.model.json`;
      const text = `${JSON.stringify(w)}\n`;
      files[file] = text;
      models[o].push({ file, sha256: sha256(text) });
    });
  const identity = JSON.stringify({
    name: draft.name,
    seed: draft.seed,
    learner: draft.learner,
    features: draft.features,
    data: draft.data.sha256,
    overlap: draft.overlap,
    ...(draft.scoreLift ? { scoreLift: draft.scoreLift } : {}),
    models,
  });
  const version = `v${sha256(identity).slice(0, 12)}`;
  const manifest = responseManifestSchema.parse({
    ...draft,
    // Layout 1 when there is no score lift, so an artifact of the arms alone reads as it always did.
    apiVersion: draft.scoreLift ? RESPONSE_API_VERSION : 1,
    version,
    models,
  });
  const base = join(root, draft.name);
  const dir = join(base, version);
  const existed = publishArtifactFolder(
    dir,
    files,
    extras,
    manifest,
    (d) =>
      JSON.stringify({ ...readResponseManifest(d), provenance: null }) ===
      JSON.stringify({ ...manifest, provenance: null }),
  );
  return { dir, version, existed };
}

/** Reads and validates a response manifest. @throws ModelError naming every problem. */
export function readResponseManifest(dir: string): ResponseManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path))
    throw new ModelError(`${dir}: no manifest.json; is this a response artifact folder?`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const api = (raw as { apiVersion?: unknown })?.apiVersion;
  if (typeof api === 'number' && api > RESPONSE_API_VERSION)
    throw new ModelError(
      `${path}: apiVersion ${api} is newer than this repayrisk understands (${RESPONSE_API_VERSION}); upgrade repayrisk to load it`,
    );
  const kind = (raw as { artifact?: unknown })?.artifact;
  if (kind !== 'treatment-response')
    throw new ModelError(
      `${path}: not a treatment-response artifact (artifact: ${JSON.stringify(kind)}); a scoring model is loaded with loadArtifact`,
    );
  const parsed = responseManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelError(`${path}: invalid response manifest: ${issues}`);
  }
  return parsed.data;
}

/** A loaded response artifact: its manifest and the ResponseSet the policies use. */
export interface LoadedResponse {
  dir: string;
  manifest: ResponseManifest;
  set: ResponseSet;
}

/** The score lift of a manifest as the response set takes it (undefined without one). */
export function scoreLiftOf(m: ResponseManifest): ScoreLift | undefined {
  const l = m.scoreLift;
  return l && { scoringVersion: l.scoringModel.version, blend: l.blend, coef: l.coef };
}

/**
 * Loads a response artifact strictly. With `scoringVersion` (the scoring model the caller will score with), an
 * artifact whose score lift was fitted on another scoring model is refused: its lifts read the scores of a model
 * that is not there, and predicting with them would be silently wrong.
 * @throws ModelError for a missing or changed weight file, an unknown kind, a feature schema other than
 *   `expectedFeatures` (+ treatment), overlap cells other than this build's, support claimed for a treatment
 *   without a response, a lift for a treatment without one, or a score lift fitted on another scoring model.
 */
export async function loadResponseArtifact(
  dir: string,
  expectedFeatures: readonly FeatureInfo[],
  scoringVersion?: string,
): Promise<LoadedResponse> {
  const manifest = readResponseManifest(dir);
  const lift = scoreLiftOf(manifest);
  if (lift && scoringVersion !== undefined && lift.scoringVersion !== scoringVersion)
    throw new ModelError(
      `${dir}: the response models' score lift was fitted on scoring model ${lift.scoringVersion}, but the scoring model in use is ${scoringVersion}; refit them on it (train --response --model DIR) or use ${lift.scoringVersion}`,
    );
  const diff = featureSchemaDiff(manifest.features as FeatureInfo[], expectedFeatures);
  if (diff.length)
    throw new ModelError(
      `${dir}: the response models' feature schema differs from this build's: ${diff.join('; ')}`,
    );
  const want = [...manifest.features.map((f) => f.name), TREATMENT_FEATURE.name].join(',');
  const kind = KINDS[manifest.learner.kind];
  if (!kind)
    throw new ModelError(
      `${dir}: unknown model kind '${manifest.learner.kind}' (known: ${Object.keys(KINDS).join(', ')})`,
    );
  const members = { pay: [] as CalibratedModel[], cover: [] as CalibratedModel[] };
  for (const o of RESPONSE_OUTCOMES) {
    for (const e of manifest.models[o]) {
      const path = join(dir, e.file);
      if (!existsSync(path)) throw new ModelError(`${dir}: weight file ${e.file} (${o}) is missing`);
      const text = readFileSync(path, 'utf8');
      const sum = sha256(text);
      if (sum !== e.sha256)
        throw new ModelError(
          `${path}: checksum mismatch (sha256 ${sum.slice(0, 12)}…, manifest says ${e.sha256.slice(0, 12)}…); the file was changed or corrupted`,
        );
      const json = JSON.parse(text) as ModelFile;
      if (json.model?.kind !== manifest.learner.kind)
        throw new ModelError(
          `${path}: holds a '${json.model?.kind}' model, the manifest says '${manifest.learner.kind}'`,
        );
      if ((json.model.features ?? []).map((f) => f.name).join(',') !== want)
        throw new ModelError(`${path}: its features differ from the manifest's features plus 'treatment'`);
      members[o].push({ fitted: await kind.load(json.model), calibrator: loadCalibrator(json.calibrator) });
    }
  }
  const table = manifest.overlap.table;
  if (table.map((r) => r.cell).join() !== RESPONSE_CELLS.join())
    throw new ModelError(
      `${dir}: overlap cells ${table.map((r) => r.cell).join(', ')}, expected ${RESPONSE_CELLS.join(', ')}`,
    );
  const treatments = Object.keys(manifest.arms) as Treatment[];
  for (const r of table)
    for (const t of r.supported)
      if (!treatments.includes(t))
        throw new ModelError(
          `${dir}: overlap cell ${r.cell} lists '${t}' as supported, but '${t}' has no response`,
        );
  for (const t of Object.keys(lift?.coef ?? {}) as Treatment[])
    if (!treatments.includes(t) || !treatments.includes('hold'))
      throw new ModelError(
        `${dir}: scoreLift has coefficients for '${t}', which has no response to lift (or no hold arm)`,
      );
  return { dir, manifest, set: responseSetOf(members, treatments, table, lift) };
}
