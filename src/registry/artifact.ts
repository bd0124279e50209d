import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CalibratorJson, loadCalibrator } from '../core/models/calibration.ts';
import { type FeatureInfo, ModelError, type ModelJson } from '../core/models/contract.ts';
import { KINDS } from '../core/models/kinds.ts';
import type { CalibratedModel } from '../core/training/fit-target.ts';
import { publishArtifactFolder, sha256, writeFileAtomic } from './files.ts';
import { API_VERSION, type Manifest, manifestSchema } from './manifest.ts';

/** What one target's weight file holds: the fitted kind's JSON and its calibrator. */
export interface ModelFile {
  model: ModelJson;
  calibrator: CalibratorJson;
}

/** Manifest fields the writer fills in: version, file names and checksums. */
export type ManifestDraft = Omit<Manifest, 'version' | 'targets'> & {
  targets: Record<string, Omit<Manifest['targets'][string], 'file' | 'sha256'>>;
};

export interface WrittenArtifact {
  dir: string;
  version: string;
  /** True when an identical artifact already existed (same data, seed and code): nothing was written. */
  existed: boolean;
}

/** The manifest without `provenance`: what must be identical for two artifacts to be the same model. */
export function reproducibleManifest(m: Manifest): Omit<Manifest, 'provenance'> {
  const { provenance: _p, ...rest } = m;
  return rest;
}

/**
 * Writes an artifact under `root/<name>/<version>/`: manifest.json, one `<target>.model.json` per target, and any
 * extra files (e.g. report.html). The version is a hash of the weights, features and seed, so the same data and
 * seed give the same version. Written into a temporary folder and renamed into place; never overwritten.
 * @throws ModelError when the version exists with different content.
 */
export function writeArtifact(
  root: string,
  draft: ManifestDraft,
  models: Record<string, ModelFile>,
  extras: Record<string, string> = {},
): WrittenArtifact {
  const files: Record<string, string> = {};
  const targets: Manifest['targets'] = {};
  for (const [t, m] of Object.entries(models)) {
    const file = `${t}.model.json`;
    files[file] = `${JSON.stringify(m)}\n`;
    const entry = draft.targets[t];
    if (!entry) throw new ModelError(`no manifest entry for target '${t}'`);
    targets[t] = { ...entry, file, sha256: sha256(files[file]) };
  }
  const identity = JSON.stringify({
    name: draft.name,
    mode: draft.mode,
    seed: draft.seed,
    features: draft.features,
    table: draft.table ?? null,
    data: draft.data.sha256,
    weights: Object.fromEntries(Object.entries(targets).map(([t, e]) => [t, e.sha256])),
  });
  const version = `v${sha256(identity).slice(0, 12)}`;
  const manifest: Manifest = manifestSchema.parse({ ...draft, apiVersion: API_VERSION, version, targets });
  const base = join(root, draft.name);
  const dir = join(base, version);
  const existed = publishArtifactFolder(
    dir,
    files,
    extras,
    manifest,
    (d) =>
      JSON.stringify(reproducibleManifest(readManifest(d))) ===
      JSON.stringify(reproducibleManifest(manifest)),
  );
  return { dir, version, existed };
}

/** Reads and validates manifest.json, refusing newer layouts first so their errors make sense. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new ModelError(`${dir}: no manifest.json; is this a model artifact folder?`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const api = (raw as { apiVersion?: unknown })?.apiVersion;
  if (typeof api === 'number' && api > API_VERSION) {
    throw new ModelError(
      `${path}: apiVersion ${api} is newer than this repayrisk understands (${API_VERSION}); upgrade repayrisk to load it`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelError(`${path}: invalid manifest: ${issues}`);
  }
  return parsed.data;
}

export interface LoadedArtifact {
  dir: string;
  manifest: Manifest;
  models: Record<string, CalibratedModel>;
}

/**
 * Loads an artifact strictly: manifest valid and not from a newer apiVersion, every weight file present with the
 * recorded sha256, every kind known, and — when `expectedFeatures` is given — the feature schema equal to it.
 * @throws ModelError naming what differs.
 */
export async function loadArtifact(
  dir: string,
  expectedFeatures?: readonly FeatureInfo[],
): Promise<LoadedArtifact> {
  const manifest = readManifest(dir);
  if (expectedFeatures) checkFeatureSchema(manifest.features, expectedFeatures, dir);
  const models: Record<string, CalibratedModel> = {};
  for (const [t, e] of Object.entries(manifest.targets)) {
    const path = join(dir, e.file);
    if (!existsSync(path)) throw new ModelError(`${dir}: weight file ${e.file} of target '${t}' is missing`);
    const text = readFileSync(path, 'utf8');
    const sum = sha256(text);
    if (sum !== e.sha256) {
      throw new ModelError(
        `${path}: checksum mismatch (sha256 ${sum.slice(0, 12)}…, manifest says ${e.sha256.slice(0, 12)}…); the file was changed or corrupted`,
      );
    }
    const kind = KINDS[e.kind];
    if (!kind)
      throw new ModelError(
        `${dir}: target '${t}' has unknown model kind '${e.kind}' (known: ${Object.keys(KINDS).join(', ')})`,
      );
    const json = JSON.parse(text) as ModelFile;
    if (json.model?.kind !== e.kind) {
      throw new ModelError(`${path}: holds a '${json.model?.kind}' model, the manifest says '${e.kind}'`);
    }
    const names = (json.model.features ?? []).map((f) => f.name).join(',');
    if (names !== manifest.features.map((f) => f.name).join(',')) {
      throw new ModelError(`${path}: its features differ from the manifest's feature schema`);
    }
    models[t] = { fitted: await kind.load(json.model), calibrator: loadCalibrator(json.calibrator) };
  }
  return { dir, manifest, models };
}

/** Lists how two feature schemas differ: missing, unexpected, reordered, retyped. Empty when equal. */
export function featureSchemaDiff(have: readonly FeatureInfo[], want: readonly FeatureInfo[]): string[] {
  const h = have.map((f) => f.name);
  const w = want.map((f) => f.name);
  const out: string[] = [];
  const missing = w.filter((n) => !h.includes(n));
  const unexpected = h.filter((n) => !w.includes(n));
  if (missing.length) out.push(`missing: ${missing.join(', ')}`);
  if (unexpected.length) out.push(`unexpected: ${unexpected.join(', ')}`);
  if (!missing.length && !unexpected.length && h.join() !== w.join())
    out.push('same features in a different order');
  for (const f of want) {
    const g = have.find((x) => x.name === f.name);
    if (g && g.type !== f.type) out.push(`${f.name}: type ${g.type}, expected ${f.type}`);
    if (g && f.categories && JSON.stringify(g.categories ?? []) !== JSON.stringify(f.categories)) {
      out.push(`${f.name}: categories ${(g.categories ?? []).join('|')}, expected ${f.categories.join('|')}`);
    }
  }
  return out;
}

function checkFeatureSchema(have: readonly FeatureInfo[], want: readonly FeatureInfo[], dir: string): void {
  const diff = featureSchemaDiff(have, want);
  if (diff.length)
    throw new ModelError(`${dir}: the model's feature schema differs from this build's: ${diff.join('; ')}`);
}

/** Versions present under `root/<name>/`, sorted. */
export function listVersions(root: string, name: string): string[] {
  const base = join(root, name);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => /^v[0-9a-f]{12}$/.test(d))
    .sort();
}

/** The version a pointer file (CHAMPION / CHALLENGER) names, or null. */
export function readPointer(root: string, name: string, pointer: 'CHAMPION' | 'CHALLENGER'): string | null {
  const p = join(root, name, pointer);
  if (!existsSync(p)) return null;
  return readFileSync(p, 'utf8').trim() || null;
}

/** Moves a pointer atomically to `version` (which must exist). */
export function writePointer(
  root: string,
  name: string,
  pointer: 'CHAMPION' | 'CHALLENGER',
  version: string,
): void {
  if (!existsSync(join(root, name, version, 'manifest.json'))) {
    throw new ModelError(`cannot point ${pointer} at ${name}/${version}: no such artifact`);
  }
  writeFileAtomic(join(root, name, pointer), `${version}\n`);
}
