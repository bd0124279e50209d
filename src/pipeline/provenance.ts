import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const PACKAGES = [
  '@duckdb/node-api',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  'ml-matrix',
  'zod',
];

/** Versions of the packages that shape a model, plus repayrisk's own. */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  out.repayrisk = own.version;
  for (const p of PACKAGES) {
    try {
      out[p] = (require(`${p}/package.json`) as { version: string }).version;
    } catch {
      out[p] = 'unknown';
    }
  }
  return out;
}

/** The git commit of the working tree, or null outside a git checkout. */
export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/**
 * The creation time to record: SOURCE_DATE_EPOCH (seconds) when set, as reproducible builds do, so a retrain
 * can be byte-identical; otherwise now.
 */
export function creationTime(
  env: NodeJS.ProcessEnv = process.env,
  now: () => Date = () => new Date(),
): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return now().toISOString();
}

/** The manifest's provenance block: when, by which commit, Node and package versions. */
export function provenance(createdAt: string) {
  return { createdAt, gitCommit: gitCommit(), node: process.version, packages: packageVersions() };
}
