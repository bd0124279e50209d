// Bench: `repayrisk serve --workers N` on one PostgreSQL (issue 15 item 3): single-account POST /v1/score of the
// example account under autocannon, every decision committed to PostgreSQL before the answer, for each N given.
//   npx tsx bench/serve-workers.ts [--workers 1,2] [--duration 10] [--connections 50] [--capacity 0]
// PostgreSQL: DATABASE_URL, else a throwaway cluster (test/helpers/postgres.ts); each N gets a fresh schema.
// --capacity K > 0 serves a policy with K call slots a day (the limited append and its advisory lock on the path).
// Start-up (models loaded by every worker) is not timed. Rounds alternate N to share the machine's drift.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
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

/** Every process: parent and CPU time used so far (ms), from /proc (Linux; empty elsewhere). */
function processes(): Map<number, { ppid: number; cpuMs: number; cmd: string }> {
  const out = new Map<number, { ppid: number; cpuMs: number; cmd: string }>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    try {
      const raw = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
      out.set(Number(d), { ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * 10, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU (ms) of `root` and every process below it. */
function treeCpu(all: ReturnType<typeof processes>, root: number | undefined): number {
  if (root === undefined) return 0;
  let ms = all.get(root)?.cpuMs ?? 0;
  for (const [pid, p] of all) if (p.ppid === root) ms += treeCpu(all, pid);
  return ms;
}

/**
 * Where a measured run's CPU went, per request: the serving processes (primary and workers) and the throwaway
 * PostgreSQL (its postmaster, found by the port in its command line, and its backends). With every core busy,
 * CPU per request is what sets requests/s; it tells whether a second worker made each request dearer.
 */
function cpuSplit(servePid: number, pgPort: string) {
  const all = processes();
  const postmaster = [...all].find(
    ([, p]) => p.cmd.includes(`-p ${pgPort} `) && !p.cmd.includes('pg_ctl'),
  )?.[0];
  return {
    primary: all.get(servePid)?.cpuMs ?? 0,
    serve: treeCpu(all, servePid),
    postgres: treeCpu(all, postmaster),
  };
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
      const pgPort = new URL(pg.url).port;
      const before = cpuSplit(child.pid!, pgPort);
      const r = await autocannon({
        url: `${address}/v1/score`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        connections,
        duration,
      });
      const after = cpuSplit(child.pid!, pgPort);
      await stop(child);
      const e = results.get(n) ?? { rps: [], p50: [], p99: [] };
      e.rps.push(r.requests.average);
      e.p50.push(r.latency.p50);
      e.p99.push(r.latency.p99);
      results.set(n, e);
      console.log(
        `  round ${round + 1}, --workers ${n}: ${Math.round(r.requests.average).toLocaleString('en-US')} requests/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms${r.errors || r.non2xx ? ` (errors ${r.errors}, non-2xx ${r.non2xx})` : ''}`,
      );
      if (r.requests.total > 0 && after.serve > 0) {
        const us = (ms: number) => Math.round((ms * 1000) / r.requests.total);
        const workers = after.serve - after.primary - (before.serve - before.primary);
        const pgUs = us(after.postgres - before.postgres);
        console.log(
          `    CPU per request: workers ${us(workers)} µs, primary ${us(after.primary - before.primary)} µs, PostgreSQL ${pgUs} µs; load average ${loadavg()[0]!.toFixed(1)}`,
        );
      }
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
