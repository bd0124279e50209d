// A server for bench/serve.ts, in its own process so the load generator does not share its CPU.
//   node --import tsx bench/serve-child.ts default|duckdb|bare <ledger-dir> <key-sha256>
// `default`: the ledger `repayrisk serve` opens by default: the DuckDB file behind the write-ahead log beside it
// (every decision synced to the log before its answer, loaded into DuckDB in the background); `duckdb`: the DuckDB
// file alone (`serve --no-wal`: every decision committed in DuckDB before its answer); `bare`: a fastify route
// answering a constant. Prints `port <n> ledger <kind>` when listening.
import { join } from 'node:path';
import Fastify from 'fastify';
import { serveWalDir } from '../src/cli/actions/serve.ts';
import { widenYoungGeneration } from '../src/cli/heap-tuning.ts';
import { createApp } from '../src/http/app.ts';
import { openLedger } from '../src/ledger/open.ts';
import { DEFAULT_POLICY_PATH } from '../src/registry/policy-file.ts';
import { LiveModels, loadLiveState } from '../src/service/live.ts';

// The young generation `repayrisk serve` runs with (src/cli/heap-tuning.ts).
widenYoungGeneration();
const [mode, dir, sha] = process.argv.slice(2);
if (mode === 'bare') {
  const app = Fastify({ bodyLimit: 20 * 1024 * 1024 });
  const reply = { ok: true, treatment: 'gentle_nudge' };
  app.post('/bare', async () => reply);
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`port ${(app.server.address() as { port: number }).port} ledger none\n`);
} else {
  const source = { modelsRoot: 'models', policyPath: DEFAULT_POLICY_PATH };
  const live = new LiveModels(await loadLiveState(source), source);
  const path = join(dir!, 'ledger.duckdb');
  const walDir = serveWalDir({ ledger: path, ...(mode === 'duckdb' ? { wal: false } : {}) }, undefined);
  const ledger = await openLedger({ path, walDir: walDir ?? false });
  const app = await createApp({
    live,
    ledger,
    keys: [
      {
        id: 'bench',
        sha256: sha!,
        scopes: ['score', 'contacts', 'admin'],
        rateLimit: { max: 1e9, timeWindowMs: 60_000 },
      },
    ],
    limits: { bodyLimitBytes: 64 * 1024 * 1024 },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`port ${(app.server.address() as { port: number }).port} ledger ${ledger.kind}\n`);
  process.on('SIGTERM', () => void app.close().then(() => ledger.close()));
}
