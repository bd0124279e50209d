import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { RepayriskError } from '../../core/errors.ts';
import type { ServeOptions } from '../actions/serve.ts';
import { intOption } from '../options.ts';

/** The folder the package is installed in: its committed champion and default policy ship there. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The defaults of `--models` and `--policy`, looked for in the working directory, then in the package. */
export const SERVE_DEFAULTS = { models: 'models', policy: join('policies', 'default.yaml') } as const;

/** Declares `repayrisk serve`; fastify, the ledger (DuckDB or PostgreSQL) and the models load only when it runs. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the score API (POST /v1/score, /v1/contacts, …; docs/api.md) with the champion model')
    .option('--port <n>', 'port', intOption('--port', 0, 65535), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option(
      '--models <dir>',
      'models root holding repayrisk/CHAMPION, relative to the working directory (default: ./models, else the package’s models/)',
    )
    .option(
      '--policy <file>',
      'policy file, relative to the working directory (default: ./policies/default.yaml, else the package’s)',
    )
    .option(
      '--response <dir>',
      'treatment-response artifact (train --response): an expected-value policy prices treatments from its fitted per-account responses inside the logged support (docs/strategy.md)',
    )
    .option('--ledger <file>', 'DuckDB ledger file (ignored when DATABASE_URL is set)', 'var/ledger.duckdb')
    .option(
      '--wal <dir>',
      'write-ahead log directory: decisions and contacts are durable once synced to the log (group commit) and loaded into the ledger in the background (default with the DuckDB ledger: <ledger>-wal beside its file; none with DATABASE_URL) (docs/ledger.md)',
    )
    .option('--no-wal', 'no write-ahead log: every request commits in the ledger itself before its answer')
    .option(
      '--workers <n>',
      'worker processes sharing the port and one PostgreSQL ledger (DATABASE_URL; not with the DuckDB ledger or --wal, which one process owns); a worker that dies is restarted (docs/ledger.md)',
      intOption('--workers', 1, 256),
      1,
    )
    .option('--keys <file>', 'API keys (YAML/JSON: id, sha256, scopes); default $REPAYRISK_API_KEYS_FILE')
    .option('--no-watch', 'do not reload when CHAMPION, CHALLENGER or the policy file change')
    .option(
      '--drain-timeout <seconds>',
      'after SIGTERM/SIGINT, how long requests in flight may take before their connections are closed',
      intOption('--drain-timeout', 0, 3600),
      10,
    )
    .action(async (o: ServeOptions) => (await import('../actions/serve.ts')).serveAction(o));
}

const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
const isFile = (p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() === true;

/**
 * Where `--models` or `--policy` points. Both are read the same way: a given path against the working directory; the
 * default first in the working directory, then in the package (so `npm start` and `npx repayrisk serve` from a
 * checkout serve the committed champion and the default policy, and a project's own `models/` wins).
 * @throws RepayriskError (io) naming every place it looked.
 */
export function resolveServeInput(
  what: 'models' | 'policy',
  given: string | undefined,
  cwd: string,
  packageRoot = PACKAGE_ROOT,
): string {
  const ok = what === 'models' ? isDir : isFile;
  const noun = what === 'models' ? 'models root (a folder holding repayrisk/CHAMPION)' : 'policy file';
  if (given !== undefined) {
    const p = resolve(cwd, given);
    if (ok(p)) return p;
    throw new RepayriskError(
      'io',
      `--${what} ${given}: no ${noun} at ${p}${isAbsolute(given) ? '' : ` (resolved against the working directory ${cwd})`}`,
    );
  }
  const candidates = [resolve(cwd, SERVE_DEFAULTS[what]), resolve(packageRoot, SERVE_DEFAULTS[what])];
  const found = candidates.find(ok);
  if (found) return found;
  throw new RepayriskError(
    'io',
    `no ${noun}: looked in the working directory (${candidates[0]}) and in the package (${candidates[1]}); pass --${what}`,
  );
}
