// Bench: the score API under load (autocannon on 127.0.0.1), against a bare fastify route in the same conditions.
//   npx tsx bench/serve.ts [--duration 10] [--connections 50]
// Each server runs in its own child process; autocannon runs here. Prints requests/s and p50/p99 latency of
// single-account scoring (DuckDB ledger, every decision committed before the answer) and of a bare route that
// returns a constant, their ratio, and accounts/s for batches of 1,000 accounts per request.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { hashKey } from '../src/http/auth.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-serve-'));
const key = 'rr_bench_key';
const children: ChildProcess[] = [];

function start(mode: 'app' | 'bare'): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/serve-child.ts', mode, dir, hashKey(key)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, body: string, conns: number, headers: Record<string, string>): Promise<Run> {
  const r = await autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    connections: conns,
    duration,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

const show = (label: string, r: Run, unit = 'requests/s') =>
  console.log(
    `  ${label.padEnd(44)} ${Math.round(r.rps).toLocaleString('en-US').padStart(8)} ${unit}  p50 ${r.p50} ms  p99 ${r.p99} ms` +
      (r.errors || r.non2xx ? `  (errors ${r.errors}, non-2xx ${r.non2xx})` : ''),
  );

try {
  const [bare, app] = await Promise.all([start('bare'), start('app')]);
  const single = readFileSync('docs/examples/score-request.json', 'utf8');
  const archive = JSON.parse(single);
  const batch = JSON.stringify({
    accounts: Array.from({ length: 1000 }, (_, i) => ({
      ...archive,
      account: { ...archive.account, account_id: `B${i}` },
    })),
  });
  const auth = { authorization: `Bearer ${key}` };
  console.log(`score API bench: ${connections} connections, ${duration} s per run, node ${process.version}`);
  // Warm both servers up (JIT, model code paths, ledger file) before measuring.
  await load(`http://127.0.0.1:${bare}/bare`, single, 10, {});
  await load(`http://127.0.0.1:${app}/v1/score`, single, 10, auth);
  const b = await load(`http://127.0.0.1:${bare}/bare`, single, connections, {});
  show('bare fastify route (constant reply)', b);
  const s = await load(`http://127.0.0.1:${app}/v1/score`, single, connections, auth);
  show('POST /v1/score, one account', s);
  console.log(
    `  ratio: single-account scoring at ${((100 * s.rps) / b.rps).toFixed(1)}% of the bare route's throughput`,
  );
  const many = await load(`http://127.0.0.1:${app}/v1/score`, batch, 4, auth);
  show('POST /v1/score, 1,000 accounts per request (4 conns)', many);
  console.log(`  batch: ${Math.round(many.rps * 1000).toLocaleString('en-US')} accounts/s`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
