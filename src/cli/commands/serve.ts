import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { RepayriskError } from '../../core/errors.ts';
import { createApp } from '../../http/app.ts';
import { type ApiKey, hashKey, parseApiKeys } from '../../http/auth.ts';
import { openLedger } from '../../ledger/open.ts';
import { DEFAULT_POLICY_PATH } from '../../registry/policy-file.ts';
import { LiveModels, loadLiveState } from '../../service/live.ts';
import { intOption } from '../options.ts';

interface ServeOptions {
  port: number;
  host: string;
  models: string;
  policy: string;
  ledger: string;
  keys?: string;
  watch: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the score API (POST /v1/score, /v1/contacts, …; docs/api.md) with the champion model')
    .option('--port <n>', 'port', intOption('--port', 0, 65535), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--models <dir>', 'models root holding repayrisk/CHAMPION', 'models')
    .option('--policy <file>', 'policy file', DEFAULT_POLICY_PATH)
    .option('--ledger <file>', 'DuckDB ledger file (ignored when DATABASE_URL is set)', 'var/ledger.duckdb')
    .option('--keys <file>', 'API keys (YAML/JSON: id, sha256, scopes); default $REPAYRISK_API_KEYS_FILE')
    .option('--no-watch', 'do not reload when CHAMPION, CHALLENGER or the policy file change')
    .action(async (o: ServeOptions) => {
      await serve(o);
    });
}

async function loadKeys(path: string | undefined): Promise<{ keys: ApiKey[]; oneTime: string | null }> {
  const file = path ?? process.env.REPAYRISK_API_KEYS_FILE;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new RepayriskError('io', `cannot read API keys file ${file}: ${(e as Error).message}`);
    }
    return { keys: parseApiKeys(text, file), oneTime: null };
  }
  // No keys configured: a key for this run only, printed once, never stored.
  const plain = `rr_${randomBytes(18).toString('base64url')}`;
  return {
    keys: [{ id: 'one-time', sha256: hashKey(plain), scopes: ['score', 'contacts', 'admin'] }],
    oneTime: plain,
  };
}

async function serve(o: ServeOptions): Promise<void> {
  const source = { modelsRoot: o.models, policyPath: o.policy };
  const live = new LiveModels(await loadLiveState(source), source);
  const databaseUrl = process.env.DATABASE_URL;
  const ledger = await openLedger(databaseUrl ? { databaseUrl } : { path: o.ledger });
  const { keys, oneTime } = await loadKeys(o.keys);
  const app = await createApp({ live, ledger, keys, logger: { level: process.env.LOG_LEVEL ?? 'info' } });
  if (o.watch)
    live.watch((r) => {
      if (r instanceof Error) app.log.error({ err: r.message }, 'reload failed');
      else app.log.info({ reload: r }, 'models and policy reloaded');
    });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // fastify's close waits for in-flight requests; the ledger is closed (flushed) after them.
    void app
      .close()
      .then(() => live.close())
      .then(() => ledger.close())
      .then(
        () => {
          process.exitCode = 0;
        },
        (e: unknown) => {
          app.log.error({ err: String(e) }, 'shutdown failed');
          process.exitCode = 1;
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  const address = await app.listen({ port: o.port, host: o.host });
  const state = live.current();
  const where = databaseUrl ? 'PostgreSQL (DATABASE_URL)' : o.ledger;
  const key = oneTime ?? '<your API key>';
  process.stdout.write(
    [
      `repayrisk serving on ${address}`,
      `  model ${state.champion.version}${state.challenger ? ` (challenger ${state.challenger.version} in shadow)` : ''}, policy ${state.policy.version}, ledger ${where}`,
      oneTime
        ? `  no API keys configured (--keys or REPAYRISK_API_KEYS_FILE): a one-time key for this run, all scopes:\n    ${oneTime}`
        : `  ${keys.length} API key(s) from configuration`,
      '  try:',
      `    curl -s -H 'authorization: Bearer ${key}' -H 'content-type: application/json' \\`,
      `      --data @docs/examples/score-request.json ${address}/v1/score`,
      `  API: docs/api.md, ${address}/openapi.json; stop with Ctrl-C (SIGTERM finishes in-flight requests)`,
      '',
    ].join('\n'),
  );
}
