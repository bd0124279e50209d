// Bench: `repayrisk serve --workers N` on one PostgreSQL (issue 15 item 3): single-account POST /v1/score of the
// example account under autocannon, every decision committed to PostgreSQL before the answer, for each N given.
//   npx tsx bench/serve-workers.ts [--workers 1,2] [--duration 10] [--connections 50] [--capacity 0]
// PostgreSQL: DATABASE_URL, else a throwaway cluster (test/helpers/postgres.ts); each N gets a fresh schema.
// --capacity K > 0 serves a policy with K call slots a day (the limited append and its advisory lock on the path).
// Start-up (models loaded by every worker) is not timed. Rounds alternate N to share the machine's drift.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { hashKey } from '../src/http/auth.ts';
import { findPostgres } from '../test/helpers/postgres.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    capacity: { type: 'string', default: '0' },
  },
});
const counts = values.workers.split(',').map(Number);
const duration = Number(values.duration);
const connections = Number(values.connections);
const capacity = Number(values.capacity);
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-workers-'));
const key = 'rr_bench_workers_key';
const keysFile = join(dir, 'keys.yaml');
writeFileSync(
  keysFile,
  `- id: bench\n  sha256: ${hashKey(key)}\n  scopes: [score, contacts, admin]\n  rateLimit: { max: 100000000, timeWindowMs: 60000 }\n`,
);
let policyArgs: string[] = [];
if (capacity > 0) {
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    `${readFileSync('policies/default.yaml', 'utf8')}\ncapacity: { total_slots: ${capacity} }\n`,
  );
  policyArgs = ['--policy', policy];
}

const found = findPostgres();
if (!found.available) throw new Error(`no PostgreSQL: ${found.reason}`);
const pg = await found.start();
const body = readFileSync('docs/examples/score-request.json', 'utf8');

function serve(workers: number, url: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(
    process.execPath,
    [
      'bin/repayrisk.js',
      'serve',
      '--port',
      '0',
      '--workers',
      String(workers),
      '--keys',
      keysFile,
      '--no-watch',
      ...policyArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' } },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /repayrisk serving on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, address: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`serve --workers ${workers} exited ${code}:\n${err}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

console.log(
  `serve --workers N on PostgreSQL (${found.how}); ${availableParallelism()} cores; ${connections} connections, ${duration} s per round${capacity ? `; ${capacity} call slots a day` : ''}`,
);
const results = new Map<number, { rps: number[]; p50: number[]; p99: number[] }>();
try {
  for (let round = 0; round < 2; round++) {
    const order = round % 2 ? [...counts].reverse() : counts;
    for (const n of order) {
      const { child, address } = await serve(n, await pg.freshSchema());
      // A short warm-up (JIT, pools) before the measured run.
      await autocannon({
        url: `${address}/v1/score`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        connections,
        duration: 2,
      });
      const r = await autocannon({
        url: `${address}/v1/score`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        connections,
        duration,
      });
      await stop(child);
      const e = results.get(n) ?? { rps: [], p50: [], p99: [] };
      e.rps.push(r.requests.average);
      e.p50.push(r.latency.p50);
      e.p99.push(r.latency.p99);
      results.set(n, e);
      console.log(
        `  round ${round + 1}, --workers ${n}: ${Math.round(r.requests.average).toLocaleString('en-US')} requests/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms${r.errors || r.non2xx ? ` (errors ${r.errors}, non-2xx ${r.non2xx})` : ''}`,
      );
    }
  }
  const base = results.get(counts[0]!)!;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const n of counts) {
    const e = results.get(n)!;
    console.log(
      `--workers ${n}: ${Math.round(mean(e.rps)).toLocaleString('en-US')} requests/s (mean of ${e.rps.length}), ${(mean(e.rps) / mean(base.rps)).toFixed(2)}x --workers ${counts[0]}; p99 ${e.p99.join(' / ')} ms`,
    );
  }
} finally {
  await pg.stop();
}
