import cluster, { type Worker } from 'node:cluster';
import { RepayriskError } from '../../core/errors.ts';

/**
 * `repayrisk serve --workers N`: N worker processes (node:cluster) listen on one port and share one PostgreSQL
 * ledger; this primary starts them, restarts one that dies, and on SIGTERM/SIGINT has each drain and waits for
 * them all. Workers run the ordinary single-process serve (actions/serve.ts), told by `isClusterWorker`.
 */

/** Environment variable carrying the API keys (hashes only, never a plain key) from the primary to its workers. */
export const CLUSTER_KEYS_ENV = 'REPAYRISK_CLUSTER_KEYS';

/** What a worker tells the primary once it listens. */
interface ReadyMessage {
  type: 'repayrisk-ready';
  address: string;
}

/** More restarts than this within `RESTART_WINDOW_MS` is a crash loop: the primary stops rather than spin. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** True in a worker process of `serve --workers N`. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * A worker that has stopped lets go of its channel to the primary (which would otherwise keep it alive), so it
 * exits; outside a cluster, nothing.
 */
export function leaveCluster(): void {
  cluster.worker?.disconnect();
}

/** A worker tells the primary it listens on `address` (the primary prints the banner once, for all). */
export function reportReady(address: string): void {
  process.send?.({ type: 'repayrisk-ready', address } satisfies ReadyMessage);
}

/**
 * Refuses `--workers N > 1` where several processes cannot share the ledger: a DuckDB file is opened by one
 * process only (its lock), and a write-ahead log has one writer (it holds the directory's lock and keeps today's
 * counts in its memory).
 * @throws RepayriskError (invalid_argument) saying why and what to use instead.
 */
export function checkWorkers(
  workers: number,
  o: { databaseUrl: string | undefined; wal: string | undefined },
): void {
  if (workers <= 1) return;
  if (!o.databaseUrl)
    throw new RepayriskError(
      'invalid_argument',
      `--workers ${workers}: several processes cannot share the DuckDB ledger (one process holds its file); set DATABASE_URL to a PostgreSQL database, which every worker shares, or run --workers 1`,
    );
  if (o.wal)
    throw new RepayriskError(
      'invalid_argument',
      `--workers ${workers} with --wal ${o.wal}: a write-ahead log has one writing process (it holds the log's lock and today's counts in memory); drop --wal so the workers share PostgreSQL directly, or run --workers 1`,
    );
}

/** One JSON log line on stdout, as the workers' pino lines are (level 30 info, 40 warn, 50 error). */
function log(level: 30 | 40 | 50, msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ level, time: Date.now(), pid: process.pid, role: 'primary', ...extra, msg })}\n`,
  );
}

/**
 * Runs the primary: forks `workers` workers with `env` added to theirs, resolves with the address once every one
 * listens (the caller prints the banner), and keeps them running: a worker that dies after it listened is
 * replaced; one that dies before (a bad DATABASE_URL, a busy port) stops them all and the process exits 1.
 * SIGTERM/SIGINT are passed on as SIGTERM (each worker drains, actions/serve.ts) and the primary exits when the
 * last one has, 0 when each did.
 * @throws RepayriskError (io) when the first workers fail to start.
 */
export function runPrimary(workers: number, env: Record<string, string>): Promise<string> {
  let closing = false;
  let started = false;
  let failed = false;
  const ready = new Set<Worker>();
  const restarts: number[] = [];
  let exitCode = 0;

  const fork = () => {
    const w = cluster.fork(env);
    w.on('message', (m: ReadyMessage) => {
      if (m?.type !== 'repayrisk-ready') return;
      ready.add(w);
      log(30, `worker pid ${w.process.pid} serving`, { worker_pid: w.process.pid });
      if (!started && ready.size === workers) {
        started = true;
        resolveStart(m.address);
      }
    });
    return w;
  };

  const stopAll = (signal: NodeJS.Signals) => {
    closing = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };

  let resolveStart: (address: string) => void = () => undefined;
  const start = new Promise<string>((resolve, reject) => {
    resolveStart = resolve;
    cluster.on('exit', (w, code, signal) => {
      const was = ready.delete(w);
      // A worker still starting when the stop came has no handler yet and dies of the SIGTERM: not a failure.
      const stoppedEarly = closing && !was && signal === 'SIGTERM';
      // The exit code says how the stop went; a worker that died earlier was logged and replaced.
      if (closing && code !== 0 && !stoppedEarly) exitCode = 1;
      const alive = Object.keys(cluster.workers ?? {}).length;
      if (closing) {
        if (alive === 0) {
          log(30, 'stopped: every worker has exited', { exit_code: exitCode });
          process.exit(exitCode);
        }
        return;
      }
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!was || !started) {
        // It never listened, or the service never came up: restarting would fail the same way.
        if (!failed) {
          failed = true;
          stopAll('SIGTERM');
          reject(
            new RepayriskError(
              'io',
              `a worker (pid ${w.process.pid}) exited (${how}) before it was serving; see its error above`,
            ),
          );
        }
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        log(50, `workers died ${restarts.length} times within ${RESTART_WINDOW_MS / 1000} s: stopping`);
        stopAll('SIGTERM');
        return;
      }
      log(40, `worker pid ${w.process.pid} exited (${how}): starting another`, { worker_pid: w.process.pid });
      fork();
    });
  });

  for (let i = 0; i < workers; i++) fork();
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    log(30, `${signal}: each worker finishes its requests in flight, then flushes and exits`, { signal });
    stopAll('SIGTERM');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return start;
}
