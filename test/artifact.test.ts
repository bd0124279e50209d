import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURES, featureInfos } from '../src/core/features/definitions.ts';
import { ModelError } from '../src/core/models/contract.ts';
import { promote } from '../src/pipeline/promote.ts';
import { trainSnapshots } from '../src/pipeline/train-snapshots.ts';
import { loadArtifact, readPointer } from '../src/registry/artifact.ts';
import { tmpDir } from './helpers/tmp.ts';

const SAMPLE = 'data-samples';
const CURRENT = featureInfos(FEATURES);

describe('model artifacts', () => {
  const root = tmpDir();
  const root2 = tmpDir();
  let dir: string;
  const opts = {
    history: SAMPLE,
    name: 'repayrisk',
    kind: 'logistic',
    seed: 3,
    ootMonths: 3,
    validationShare: 0.2,
    calibration: 'platt' as const,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  beforeAll(async () => {
    dir = (await trainSnapshots({ ...opts, modelsRoot: root })).artifact.dir;
  });

  it('writes manifest, both weight files and a report', () => {
    expect(readdirSync(dir).sort()).toEqual([
      'ability.model.json',
      'manifest.json',
      'report.html',
      'willingness.model.json',
    ]);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.seed).toBe(3);
    expect(m.features.map((f: { name: string }) => f.name)).toEqual(FEATURES.map((f) => f.name));
    expect(Object.keys(m.targets)).toEqual(['willingness', 'ability']);
    expect(m.data.rows).toBeGreaterThan(1000);
    expect(m.data.from).toBe('2024-01-01');
    expect(m.provenance.createdAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('is byte-identical when trained again on the same data and seed', async () => {
    const again = (await trainSnapshots({ ...opts, modelsRoot: root2 })).artifact;
    expect(again.version).toBe(dir.split('/').pop());
    for (const f of readdirSync(dir)) {
      expect(readFileSync(join(again.dir, f)).equals(readFileSync(join(dir, f))), f).toBe(true);
    }
    // Training once more into the same folder finds the identical artifact and leaves it alone.
    const same = (await trainSnapshots({ ...opts, modelsRoot: root })).artifact;
    expect(same.existed).toBe(true);
  });

  it('loads strictly and scores with what it saved', async () => {
    const a = await loadArtifact(dir, CURRENT);
    expect(Object.keys(a.models)).toEqual(['willingness', 'ability']);
  });

  /** A copy of the artifact with one file edited, loaded; returns the error message. */
  async function tampered(edit: (copy: string) => void, expected = CURRENT): Promise<string> {
    const copy = join(tmpDir(), 'copy');
    cpSync(dir, copy, { recursive: true });
    edit(copy);
    const err = await loadArtifact(copy, expected).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    return (err as Error).message;
  }
  const editJson = (path: string, f: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(readFileSync(path, 'utf8'));
    f(j);
    writeFileSync(path, `${JSON.stringify(j, null, 2)}\n`);
  };

  it('refuses a corrupted weight file', async () => {
    const msg = await tampered((c) => {
      const p = join(c, 'willingness.model.json');
      writeFileSync(p, readFileSync(p, 'utf8').replace(/(\d)\.(\d)/, '$1.9$2'));
    });
    expect(msg).toMatch(/willingness\.model\.json: checksum mismatch/);
  });

  it('refuses a changed feature list, naming what differs', async () => {
    const fewer = CURRENT.filter((f) => f.name !== 'log_income');
    const msg = await tampered(() => {}, [...fewer, { name: 'bureau_score', type: 'numeric' }]);
    expect(msg).toContain('missing: bureau_score; unexpected: log_income');
  });

  it('refuses an unknown kind', async () => {
    const msg = await tampered((c) =>
      editJson(join(c, 'manifest.json'), (m) => {
        (m.targets as Record<string, { kind: string }>).ability!.kind = 'xgboost';
      }),
    );
    expect(msg).toMatch(
      /target 'ability' has unknown model kind 'xgboost' \(known: logistic, scorecard, mlp, gbdt\)/,
    );
  });

  it('refuses a manifest from a newer apiVersion', async () => {
    const msg = await tampered((c) =>
      editJson(join(c, 'manifest.json'), (m) => {
        m.apiVersion = 2;
      }),
    );
    expect(msg).toMatch(/apiVersion 2 is newer than this repayrisk understands \(1\); upgrade repayrisk/);
  });

  it('promotes the first model, then refuses a worse candidate and says why', async () => {
    const first = await promote(dir, SAMPLE, { maxAucDrop: 0.005, maxEceRise: 0.01 });
    expect(first.promoted).toBe(true);
    expect(readPointer(root, 'repayrisk', 'CHAMPION')).toBe(first.candidate);
    // A deliberately weak candidate: a logistic squeezed to almost nothing by a huge penalty.
    const weak = await trainSnapshots({
      ...opts,
      modelsRoot: root,
      kind: 'logistic',
      params: { logistic: { l2: 1e6 } },
    });
    const r = await promote(weak.artifact.dir, SAMPLE, { maxAucDrop: 0.005, maxEceRise: 0.01 });
    expect(r.promoted).toBe(false);
    expect(r.reasons.join('\n')).toMatch(
      /willingness: out-of-time AUC 0\.\d{4} is 0\.\d{4} below the champion's 0\.\d{4} \(allowed drop 0\.005\)|expected calibration error/,
    );
    expect(readPointer(root, 'repayrisk', 'CHAMPION')).toBe(first.candidate);
  });
});
