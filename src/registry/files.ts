import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelError } from '../core/models/contract.ts';

/** Lower-case hex sha256 of bytes or text. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes a file durably and atomically: temp file in the same folder, fsync, rename over the target. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Publishes a versioned artifact folder `dir` (its name is the content's version) with `files`, `extras` and
 * `manifest.json`, written to a temporary folder beside it and renamed, so a reader never sees half a folder.
 * Artifacts are never overwritten: when `dir` exists, `sameManifest(dir)` and the files' text must match what would
 * be written (a re-run of the same training), else it throws.
 * @returns whether the folder already existed.
 */
export function publishArtifactFolder(
  dir: string,
  files: Record<string, string>,
  extras: Record<string, string>,
  manifest: object,
  sameManifest: (dir: string) => boolean,
): boolean {
  if (existsSync(dir)) {
    const same =
      sameManifest(dir) &&
      Object.entries(files).every(
        ([f, c]) => existsSync(join(dir, f)) && readFileSync(join(dir, f), 'utf8') === c,
      );
    if (!same) throw new ModelError(`${dir} exists with different content; artifacts are never overwritten`);
    return true;
  }
  const base = dirname(dir);
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `.tmp-${dir.slice(base.length + 1)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    for (const [f, c] of Object.entries({ ...files, ...extras })) writeFileSync(join(tmp, f), c);
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return false;
}
