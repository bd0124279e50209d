import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { isAbsolute, relative, resolve } from 'node:path';
import { RepayriskError } from '../../core/errors.ts';
import { createApp } from '../../http/app.ts';
import { type ApiKey, hashKey, parseApiKeys } from '../../http/auth.ts';
import { closeWithDeadline } from '../../http/drain.ts';
import { openLedger, walDirBeside } from '../../ledger/open.ts';
import { LiveModels, loadLiveState } from '../../service/live.ts';
import { resolveServeInput } from '../commands/serve.ts';
import {
  CLUSTER_KEYS_ENV,
  checkWorkers,
  isClusterWorker,
  leaveCluster,
  reportReady,
  runPrimary,
} from './serve-cluster.ts';

/** What `repayrisk serve` was given, parsed by commander. */
export interface ServeOptions {
  port: number;
  host: string;
  models?: string;
  policy?: string;
  /** Response artifact folder: fitted per-account treatment responses for an expected-value policy. */
  response?: string;
  ledger: string;
  /**
   * Write-ahead log directory: decisions and contacts are durable once synced there (docs/ledger.md). Left out,
   * the DuckDB ledger logs beside its file (`<ledger>-wal`) and PostgreSQL has none; `false` (`--no-wal`): none.
   */
  wal?: string | false;
  keys?: string;
  /** Worker processes (node:cluster) sharing the port and a PostgreSQL ledger; 1 = this process serves. */
  workers: number;
  watch: boolean;
  drainTimeout: number;
}

/** After the drain deadline closed every connection, how long the ledger may take to flush before a forced exit. */
const FORCED_EXIT_GRACE_MS = 10_000;

/** A path as short as it reads unambiguously: relative when inside the working directory, else absolute. */
function shown(p: string, cwd: string): string {
  const r = relative(cwd, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
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
    keys: [{ id: 'one-time', sha256: hashKey(plain), scopes: ['score', 'contacts', 'admin', 'audit'] }],
    oneTime: plain,
  };
}

const busyPort = (port: number, host: string) =>
  new RepayriskError(
    'io',
    `port ${port} on ${host} is already in use (another repayrisk serve?): stop that process or pass --port`,
  );

/**
 * Fails fast on a port another process holds, before the ledger is opened: a second `npm start` should say the
 * port is busy, not that the ledger file is locked by the first.
 */
function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'EADDRINUSE' ? busyPort(port, host) : listenError(e, port, host)),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => done()));
  });
}

function listenError(e: NodeJS.ErrnoException, port: number, host: string): Error {
  if (e.code === 'EADDRINUSE') return busyPort(port, host);
  if (e.code === 'EACCES')
    return new RepayriskError('io', `not allowed to listen on ${host}:${port} (EACCES)`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
    return new RepayriskError('io', `cannot listen on ${host}: no such local address (${e.code})`);
  return e;
}

/**
 * The write-ahead log `serve` writes, or null: `--wal DIR`; else, over the DuckDB ledger, the log beside its file
 * (the durability point by default: one group-committed `fdatasync` for all concurrent requests instead of a DuckDB
 * commit per request, docs/ledger.md); none with `--no-wal`, or over PostgreSQL (shared by several instances,
 * each of which would keep its own log and counts).
 */
export function serveWalDir(
  o: Pick<ServeOptions, 'wal' | 'ledger'>,
  databaseUrl: string | undefined,
): string | null {
  if (o.wal === false) return null;
  if (o.wal) return o.wal;
  return databaseUrl ? null : walDirBeside(o.ledger);
}

/**
 * `repayrisk serve`: checks its inputs and the port, opens the ledger, listens, and drains on SIGTERM/SIGINT.
 * @throws RepayriskError (io) when an input is missing, the port is taken, or the ledger cannot be opened.
 */
export async function serveAction(o: ServeOptions): Promise<void> {
  const cwd = process.cwd();
  const source = {
    modelsRoot: resolveServeInput('models', o.models, cwd),
    policyPath: resolveServeInput('policy', o.policy, cwd),
    ...(o.response ? { responseDir: resolve(cwd, o.response) } : {}),
  };
  const workers = o.workers ?? 1;
  const worker = isClusterWorker();
  checkWorkers(workers, { databaseUrl: process.env.DATABASE_URL, wal: o.wal || undefined });
  // A worker takes the primary's keys (hashes), so a one-time key printed once works on every worker.
  const fromPrimary = worker ? process.env[CLUSTER_KEYS_ENV] : undefined;
  const { keys, oneTime } = fromPrimary
    ? { keys: parseApiKeys(fromPrimary, `${CLUSTER_KEYS_ENV} (from the primary)`), oneTime: null }
    : await loadKeys(o.keys);
  // A worker's port is the primary's to check: the primary's listening socket is shared, a probe would collide.
  if (!worker) await checkPortFree(o.port, o.host);
  if (workers > 1 && !worker) {
    const address = await runPrimary(workers, { [CLUSTER_KEYS_ENV]: JSON.stringify(keys) });
    printBanner({ address, workers, oneTime, keys: keys.length, o, cwd, source });
    return;
  }
  const live = new LiveModels(await loadLiveState(source), source);
  const databaseUrl = process.env.DATABASE_URL;
  const walDir = serveWalDir(o, databaseUrl);
  let ledger: Awaited<ReturnType<typeof openLedger>>;
  try {
    ledger = await openLedger({
      ...(databaseUrl ? { databaseUrl } : { path: o.ledger }),
      // The log's notices (a torn tail cut at open, …) go to stderr, for the operator.
      walDir: walDir ?? false,
    });
  } catch (e) {
    live.close();
    throw e instanceof RepayriskError ? e : new RepayriskError('io', (e as Error).message);
  }
  const app = await createApp({ live, ledger, keys, logger: { level: process.env.LOG_LEVEL ?? 'info' } });

  let address: string;
  try {
    address = await app.listen({ port: o.port, host: o.host });
  } catch (e) {
    // Nothing may keep the process alive after a failed start: the ledger, the app and the watchers are closed.
    await app.close().catch(() => undefined);
    live.close();
    await ledger.close().catch(() => undefined);
    throw listenError(e as NodeJS.ErrnoException, o.port, o.host);
  }
  if (o.watch)
    live.watch((r) => {
      if (r instanceof Error) app.log.error({ err: r.message }, 'reload failed');
      else app.log.info({ reload: r }, 'models and policy reloaded');
    });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    const drainMs = o.drainTimeout * 1000;
    app.log.info(
      { signal, drain_timeout_s: o.drainTimeout },
      'shutting down: finishing in-flight requests, then flushing the ledger',
    );
    try {
      const report = await closeWithDeadline(app, drainMs, (dropped, connections) => {
        app.log.warn(
          { drain_timeout_s: o.drainTimeout, dropped_requests: dropped, dropped_connections: connections },
          `drain deadline passed: closing ${connections} connection(s) with ${dropped.length} unanswered request(s)`,
        );
        // The ledger's flush gets a grace period of its own; a stop must end even if it hangs.
        setTimeout(() => {
          app.log.error({ grace_ms: FORCED_EXIT_GRACE_MS }, 'the ledger did not close in time: forced exit');
          process.exit(1);
        }, FORCED_EXIT_GRACE_MS).unref();
      });
      live.close();
      await ledger.close();
      app.log.info(
        {
          drained: report.drained,
          dropped_requests: report.dropped.length,
          dropped_connections: report.droppedConnections,
          elapsed_ms: report.elapsedMs,
        },
        'stopped',
      );
      process.exitCode = 0;
    } catch (e) {
      app.log.error({ err: String(e) }, 'shutdown failed');
      process.exitCode = 1;
    }
    // A worker's channel to the primary would keep it alive: let go so it exits (the primary counts the exits).
    leaveCluster();
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  if (worker) {
    reportReady(address);
    return;
  }
  printBanner({ address, workers: 1, oneTime, keys: keys.length, o, cwd, source, state: live.current() });
}

/**
 * The banner, for the person at the terminal, on stderr: stdout carries the JSON log lines, which a log shipper
 * keeps, and the one-time key must never land there. With workers, the primary prints it (it loads no model).
 */
function printBanner(b: {
  address: string;
  workers: number;
  oneTime: string | null;
  keys: number;
  o: ServeOptions;
  cwd: string;
  source: { modelsRoot: string; policyPath: string };
  state?: ReturnType<LiveModels['current']>;
}): void {
  const { address, oneTime, o, cwd, source, state } = b;
  const databaseUrl = process.env.DATABASE_URL;
  const wal = serveWalDir(o, databaseUrl);
  const where = `${databaseUrl ? 'PostgreSQL (DATABASE_URL)' : o.ledger}${wal ? `, write-ahead log ${wal}` : ''}`;
  const key = oneTime ?? '<your API key>';
  process.stderr.write(
    [
      `repayrisk serving on ${address}`,
      state
        ? `  model ${state.champion.version}${state.challenger ? ` (challenger ${state.challenger.version} in shadow)` : ''}, policy ${state.policy.version}, ledger ${where}`
        : `  ${b.workers} worker processes sharing this port, ledger ${where}`,
      `  models ${shown(source.modelsRoot, cwd)}, policy file ${shown(source.policyPath, cwd)}`,
      ...(state?.response
        ? [`  treatment responses ${state.response.manifest.version} from ${shown(state.response.dir, cwd)}`]
        : []),
      oneTime
        ? `  no API keys configured (--keys or REPAYRISK_API_KEYS_FILE): a one-time key for this run, all scopes:\n    ${oneTime}\n  (repayrisk keys create --id NAME --scopes score,contacts makes a lasting one)`
        : `  ${b.keys} API key(s) from configuration`,
      '  try:',
      `    curl -s -H 'authorization: Bearer ${key}' -H 'content-type: application/json' \\`,
      `      --data @docs/examples/score-request.json ${address}/v1/score`,
      `  API: docs/api.md, ${address}/openapi.json; stop with Ctrl-C (SIGTERM finishes in-flight requests within ${o.drainTimeout} s)`,
      '',
    ].join('\n'),
  );
}
