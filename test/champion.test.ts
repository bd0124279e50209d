// The champion committed under models/ is reproducible: retraining it from data-samples/ with the settings its
// manifest records gives the same version, the same weight files byte for byte and the same manifest (but for
// provenance: when, where and by which commit it was made).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { readManifest, readPointer, reproducibleManifest } from '../src/registry/artifact.ts';
import { tmpDir } from './helpers/tmp.ts';

describe('the committed champion model', () => {
  it('is what `npm run train:sample` makes from data-samples/, byte for byte', async () => {
    const version = readPointer('models', 'repayrisk', 'CHAMPION');
    expect(version, 'models/repayrisk/CHAMPION names a version').toMatch(/^v[0-9a-f]{12}$/);
    const dir = join('models', 'repayrisk', version!);
    const m = readManifest(dir);
    const again = await trainSnapshots({
      history: 'data-samples',
      modelsRoot: tmpDir(),
      name: m.name,
      kind: m.request.kind,
      seed: m.seed,
      ootMonths: m.split.ootMonths ?? 3,
      validationShare: m.split.validationShare,
      calibration: m.request.calibration as 'platt' | 'isotonic' | 'auto',
      params: m.request.params,
    });
    expect(again.artifact.version).toBe(version);
    for (const t of Object.values(m.targets)) {
      expect(
        readFileSync(join(again.artifact.dir, t.file)).equals(readFileSync(join(dir, t.file))),
        t.file,
      ).toBe(true);
    }
    expect(reproducibleManifest(readManifest(again.artifact.dir))).toEqual(reproducibleManifest(m));
  }, 120_000);
});
