import { join } from 'node:path';
import { RepayriskError } from '../core/errors.ts';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import { loadArtifact, readManifest, readPointer } from '../registry/artifact.ts';
import { DEFAULT_POLICY_PATH, readPolicyFile } from '../registry/policy-file.ts';
import type { LiveState } from '../service/live-types.ts';

/** Name of the model family whose CHAMPION `repayrisk score` uses by default (`models/repayrisk/CHAMPION`). */
export const MODEL_NAME = 'repayrisk';

/**
 * The models and policy a batch run decides with, as the service holds them (no shadow challenger in batch).
 * `model` defaults to the champion `<modelsRoot>/repayrisk/<CHAMPION>`, `policy` to `policies/default.yaml`.
 * A module of its own (no DuckDB) so the book's scoring workers load it too (book-workers.ts).
 * @throws RepayriskError `io` when there is no champion to default to; ModelError when the artifact fails
 *   strict loading; PolicyError listing every problem of the policy file.
 */
export async function loadBatchState(
  o: { model?: string; policy?: string; modelsRoot?: string } = {},
): Promise<LiveState> {
  const root = o.modelsRoot ?? 'models';
  let dir = o.model;
  if (dir === undefined) {
    const v = readPointer(root, MODEL_NAME, 'CHAMPION');
    if (v === null)
      throw new RepayriskError(
        'io',
        `no --model given and ${join(root, MODEL_NAME, 'CHAMPION')} does not exist; pass --model DIR`,
      );
    dir = join(root, MODEL_NAME, v);
  }
  const mode = readManifest(dir).mode;
  if (mode !== 'snapshots')
    throw new RepayriskError(
      'invalid_argument',
      `${dir} is a ${mode} model; scoring a book needs a model trained with train --history (score --table takes ${mode} models)`,
    );
  const art = await loadArtifact(dir, SNAPSHOT_FEATURES);
  const { willingness, ability } = art.models;
  if (!willingness || !ability)
    throw new RepayriskError('invalid_argument', `${dir}: needs a willingness and an ability model`);
  const policyPath = o.policy ?? DEFAULT_POLICY_PATH;
  return {
    champion: { dir, manifest: art.manifest, version: art.manifest.version, willingness, ability },
    challenger: null,
    policy: await readPolicyFile(policyPath),
    policyPath,
    loadedAt: new Date().toISOString(),
  };
}
