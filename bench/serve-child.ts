// A server for bench/serve.ts, in its own process so the load generator does not share its CPU.
//   node --import tsx bench/serve-child.ts app|wal|bare <ledger-dir> <key-sha256>
// `app`: the DuckDB ledger alone (every decision committed in DuckDB before the answer); `wal`: the DuckDB ledger
// behind the write-ahead log (every decision synced to the log before the answer, loaded into DuckDB behind).
// Prints `port <n>` when listening.
import { join } from 'node:path';
import Fastify from 'fastify';
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
  process.stdout.write(`port ${(app.server.address() as { port: number }).port}\n`);
} else {
  const source = { modelsRoot: 'models', policyPath: DEFAULT_POLICY_PATH };
  const live = new LiveModels(await loadLiveState(source), source);
  const ledger = await openLedger({
    path: join(dir!, 'ledger.duckdb'),
    ...(mode === 'wal' ? { walDir: join(dir!, 'wal') } : {}),
  });
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
  process.stdout.write(`port ${(app.server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => void app.close().then(() => ledger.close()));
}
