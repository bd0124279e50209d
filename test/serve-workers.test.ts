import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess } from './helpers/cli.ts';
import { findPostgres, type TestPostgres } from './helpers/postgres.ts';
import {
  killServes,
  postJson,
  type ServeProcess,
  startServe,
  stopServe,
  writeKeysFile,
} from './helpers/serve-process.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Several `repayrisk serve` processes on one PostgreSQL ledger (issue 15 item 3): call capacity is spent once
 * across processes, a contact recorded through one process caps the next decision of the other, and
 * `--workers N` runs, restarts and drains its workers. The DuckDB ledger and --wal refuse N > 1.
 */

const ROOT = join(import.meta.dirname, '..');
const example = JSON.parse(readFileSync(join(ROOT, 'docs/examples/score-request.json'), 'utf8')) as {
  account: Record<string, unknown>;
};

/** The example archive as another account (the example customer is one the default policy would call). */
function archive(id: string): unknown {
  const a = structuredClone(example);
  a.account.account_id = id;
  a.account.customer_id = `C-${id}`;
  return a;
}

/**
 * The default policy with every cell choosing a call and `slots` call slots a day: each account the guardrails
 * allow to be called asks for one.
 */
function callPolicy(dir: string, slots: number): string {
  const text = readFileSync(join(ROOT, 'policies/default.yaml'), 'utf8')
    .replace(/^version: .*$/m, `version: every-cell-calls-${slots}`)
    .replace(/^( {2}(?:high|low)_willingness_(?:high|low)_ability): \[.*\].*$/gm, '$1: [human_call]');
  const path = join(dir, `calls-${slots}.yaml`);
  writeFileSync(path, `${text}\ncapacity: { total_slots: ${slots} }\n`);
  return path;
}

interface Scored {
  treatment: string;
  call_team: string | null;
  guardrails: string[];
  reason_codes: string[];
}

async function score(s: ServeProcess, key: string, agent: Agent, id: string): Promise<Scored> {
  const r = await postJson(`${s.url}/v1/score`, archive(id), { key, agent });
  if (r.status !== 200) throw new Error(`POST /v1/score ${id}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as Scored;
}

/** The worker processes of a `serve --workers N` primary. */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

async function until<T>(
  what: string,
  f: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('serve --workers refuses a ledger one process owns', () => {
  it('says why and what to use instead, for the DuckDB ledger and for --wal', async () => {
    const saved = process.env.DATABASE_URL;
    try {
      delete process.env.DATABASE_URL;
      const duck = await cliInProcess('serve', '--workers', '2', '--port', '0');
      expect(duck.code).not.toBe(0);
      expect(duck.err).toMatch(/--workers 2: several processes cannot share the DuckDB ledger/);
      expect(duck.err).toMatch(/set DATABASE_URL to a PostgreSQL database/);
      process.env.DATABASE_URL = 'postgres://nobody@127.0.0.1:1/none';
      const wal = await cliInProcess('serve', '--workers', '3', '--wal', 'var/wal', '--port', '0');
      expect(wal.code).not.toBe(0);
      expect(wal.err).toMatch(/--workers 3 with --wal var\/wal: a write-ahead log has one writing process/);
      expect(wal.err).toMatch(/drop --wal/);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});

const postgres = findPostgres();
if (!postgres.available) {
  describe.skip(`several serve processes on one PostgreSQL (skipped: ${postgres.reason})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
} else {
  describe(`several serve processes on one PostgreSQL (${postgres.how})`, () => {
    let server: TestPostgres;
    const dir = tmpDir('repayrisk-workers-');
    let keys: { path: string; key: string };
    let agent: Agent;
    beforeAll(async () => {
      server = await postgres.start();
      keys = writeKeysFile(dir);
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });
    afterEach(async () => {
      agent?.destroy();
      await killServes();
    });

    /** Starts `serve` on `url`'s PostgreSQL with `policy`, its DuckDB path unused. */
    const serveOn = (url: string, policy: string, more: string[] = []) =>
      startServe({
        ledger: join(dir, 'unused.duckdb'),
        keys: keys.path,
        args: ['--no-watch', '--policy', policy, ...more],
        env: { DATABASE_URL: url },
        timeoutMs: 90_000,
      });

    it('two processes with K call slots hand out exactly K calls under concurrent load', async () => {
      // Batches, so that each request asks for several slots at once: two processes reading the same count near
      // the end of the day's slots would each spend what is left, were the ledger not to refuse the second.
      const K = 30;
      const url = await server.freshSchema();
      const policy = callPolicy(dir, K);
      const [a, b] = await Promise.all([serveOn(url, policy), serveOn(url, policy)]);
      agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const batches = Array.from({ length: 16 }, (_, j) =>
        Array.from({ length: 10 }, (_, i) => `K-${j}-${i}`),
      );
      const ids = batches.flat();
      const answers = (
        await Promise.all(
          batches.map(async (batch, j) => {
            const r = await postJson(
              `${(j % 2 ? a : b).url}/v1/score`,
              { accounts: batch.map(archive) },
              { key: keys.key, agent },
            );
            if (r.status !== 200) throw new Error(`batch ${j}: ${r.status} ${r.text}`);
            return (JSON.parse(r.text) as { results: Scored[] }).results;
          }),
        )
      ).flat();
      expect(answers).toHaveLength(ids.length);
      const called = answers.filter((r) => r.call_team !== null);
      expect(called).toHaveLength(K);
      for (const r of called) expect(r.treatment).toBe('human_call');
      // Every other account spilled to its next-best treatment, as when the day's slots are gone.
      for (const r of answers.filter((x) => x.call_team === null)) expect(r.treatment).not.toBe('human_call');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const n = await client.query('SELECT count(*)::int AS n FROM decisions WHERE call_team IS NOT NULL');
        expect(n.rows[0].n).toBe(K);
        const all = await client.query('SELECT count(*)::int AS n FROM decisions');
        expect(all.rows[0].n).toBe(ids.length);
      } finally {
        await client.end();
      }
    }, 180_000);

    it('seven calls recorded through one process cap the eighth decided by the other (US pack: 7 in 7 days)', async () => {
      const url = await server.freshSchema();
      const policy = callPolicy(dir, 100);
      const [a, b] = await Promise.all([serveOn(url, policy), serveOn(url, policy)]);
      agent = new Agent({ keepAlive: true });
      const id = 'CAP-1';
      const now = Date.now();
      const call = (i: number) => ({
        account_id: id,
        ts: new Date(now - (i + 1) * 3_600_000).toISOString(),
        channel: 'call',
        outcome: 'no_answer',
        promise_amount: null,
        promise_date: null,
        agent_id: 'agent-1',
      });
      const record = async (from: number, to: number) => {
        const r = await postJson(
          `${a.url}/v1/contacts`,
          { contacts: Array.from({ length: to - from }, (_, k) => call(from + k)) },
          { key: keys.key, agent },
        );
        expect(r.status, r.text).toBe(201);
      };
      await record(0, 6);
      const sixth = await score(b, keys.key, agent, id);
      expect(sixth.treatment).toBe('human_call');
      await record(6, 7);
      const eighth = await score(b, keys.key, agent, id);
      expect(eighth.treatment).not.toBe('human_call');
      expect(eighth.guardrails.join(' ')).toMatch(/cap/);
    }, 180_000);

    it('--workers 2 serves on one port, restarts a worker that dies, and drains on SIGTERM', async () => {
      const url = await server.freshSchema();
      const policy = callPolicy(dir, 3);
      const s = await serveOn(url, policy, ['--workers', '2']);
      expect(s.streams().stderr).toMatch(/2 worker processes sharing this port/);
      const pid = s.child.pid!;
      const first = await until(
        'two workers',
        () => childPids(pid),
        (p) => p.length === 2,
      );
      agent = new Agent({ keepAlive: false });
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => score(s, keys.key, agent, `W-${i}`)),
      );
      expect(answers.filter((r) => r.call_team !== null)).toHaveLength(3);
      process.kill(first[0]!, 'SIGKILL');
      const after = await until(
        'a replacement worker',
        () => childPids(pid),
        (p) => p.length === 2 && !p.includes(first[0]!),
      );
      expect(after).toContain(first[1]!);
      // The replacement says it serves (the primary logs each worker that listens), then answers like the other.
      const fresh = after.find((p) => p !== first[1])!;
      await until(
        'the replacement serving',
        () => s.output(),
        (out) => out.includes(`"worker_pid":${fresh},"msg":"worker pid ${fresh} serving"`),
      );
      const more = await Promise.all([0, 1, 2, 3].map((i) => score(s, keys.key, agent, `R-${i}`)));
      expect(more).toHaveLength(4);
      const exit = await stopServe(s, 'SIGTERM', 60_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(childPids(pid)).toEqual([]);
    }, 240_000);
  });
}
