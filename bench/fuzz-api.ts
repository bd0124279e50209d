// Fuzz bench: malformed and odd requests against the real service over HTTP (issue 14: >= 100,000, 0 5xx).
//   npm run bench:fuzz -- [--requests 100000] [--seed 1] [--concurrency 16]
// The server runs in a child process (createApp over a DuckDB ledger in a temp folder, on /dev/shm when present;
// listening on port 0), so its RSS is its own. Requests: mutated score and contacts bodies (test/helpers/fuzz-bodies.ts), random JSON and random
// text, odd and invalid ids (lone surrogates, 20,000 characters, controls, emoji, RTL), skewed and out-of-range
// timestamps, Idempotency-Key retries, reuse and odd keys, wrong content types and methods, unknown paths, audit
// reads with odd ids and queries, missing, unknown and wrong-scope keys, odd request ids, oversized headers and
// bodies, and raw bytes that are not HTTP at all. Prints the count per status, every 5xx (expected: none) and
// connection error, and the server's RSS before and after. Exits 1 on any 5xx.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';

const CHILD = process.argv[2] === '--child';
const KEY = 'rr_fuzz_key_7f3a';
const SCORE_ONLY = 'rr_fuzz_score_only_1c2d';

if (CHILD) await child();
else await main();

/** The server: the real app over a DuckDB ledger; answers `rss` messages with its resident set size. */
async function child(): Promise<void> {
  const dir = process.argv[3]!;
  const { createApp } = await import('../src/http/app.ts');
  const { hashKey } = await import('../src/http/auth.ts');
  const { openLedger } = await import('../src/ledger/open.ts');
  const { DEFAULT_POLICY_PATH } = await import('../src/registry/policy-file.ts');
  const { LiveModels, loadLiveState } = await import('../src/service/live.ts');
  const source = { modelsRoot: 'models', policyPath: DEFAULT_POLICY_PATH };
  const live = new LiveModels(await loadLiveState(source), source);
  const ledger = await openLedger({ path: join(dir, 'ledger.duckdb') });
  const rateLimit = { max: 1e9, timeWindowMs: 60_000 };
  const app = await createApp({
    live,
    ledger,
    keys: [
      { id: 'fuzz', sha256: hashKey(KEY), scopes: ['score', 'contacts', 'admin', 'audit'], rateLimit },
      { id: 'scorer', sha256: hashKey(SCORE_ONLY), scopes: ['score'], rateLimit },
    ],
    limits: { maxBatch: 50, maxContacts: 200, bodyLimitBytes: 1024 * 1024 },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  // The bench went away (finished or crashed): do not outlive it.
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m) => {
    if (m === 'rss') process.send!({ rss: process.memoryUsage().rss, counts: await ledger.counts() });
    if (m === 'stop') {
      await app.close();
      await ledger.close();
      process.exit(0);
    }
  });
  process.send!({ port: (app.server.address() as { port: number }).port });
}

interface Req {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Raw bytes for the socket (not HTTP, or broken HTTP); the answer is whatever comes back. */
  raw?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  const total = Number(values.requests);
  const seed = Number(values.seed);
  const concurrency = Number(values.concurrency);
  const progressEvery = Math.max(1, Math.round(total / 10));
  const { BAD_IDS, ODD_IDS, isoAt } = await import('../test/helpers/ledger-model.ts');
  const { contactMutations, mutate, scoreMutations, unicode } = await import(
    '../test/helpers/fuzz-bodies.ts'
  );
  const { makeAccount } = await import('../test/helpers/account.ts');
  const { makeInstallments } = await import('../test/helpers/service.ts');

  // The ledger on a RAM disk when there is one: this bench is about answers and memory, not fsync speed.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'repayrisk-fuzz-'));
  const server: ChildProcess = fork(new URL(import.meta.url).pathname, ['--child', dir], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ask = <T>(msg: string, field: string) =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (field in m) {
          server.off('message', on);
          resolve(m as T);
        }
      };
      server.on('message', on);
      if (msg) server.send(msg);
    });
  const { port } = await ask<{ port: number }>('', 'port');
  const rss = () => ask<{ rss: number; counts: { decisions: number; contacts: number } }>('rss', 'rss');

  // ---- request generators ------------------------------------------------------------------------------------
  const now = Date.now();
  const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const archive = (id: unknown, over: Record<string, unknown> = {}) => ({
    account: {
      ...makeAccount({ as_of_date: new Date(now - 86_400_000).toISOString().slice(0, 10) }),
      account_id: id,
      ...over,
    },
    installments: makeInstallments(new Date(now - 86_400_000).toISOString().slice(0, 10)),
    contacts: [],
  });
  const contactRow = (id: unknown, ts: string, over: Record<string, unknown> = {}) => ({
    account_id: id,
    ts,
    channel: 'call',
    outcome: 'no_answer',
    promise_amount: null,
    promise_date: null,
    agent_id: 'fuzz-agent',
    ...over,
  });
  const anyId = fc.oneof(
    fc.constantFrom(...ODD_IDS, ...Object.values(BAD_IDS)),
    unicode,
    fc.string({ unit: 'binary', minLength: 120, maxLength: 140 }),
  );
  const tsText = fc.oneof(
    fc.integer({ min: -10 * 86_400_000, max: 2 * 3_600_000 }).map((d) => isoAt(now + d, 0)),
    fc.integer({ min: 299_000, max: 301_000 }).map((d) => isoAt(now + d, 330)),
    fc.constantFrom(
      '2099-01-01T00:00:00Z',
      '1999-12-31T23:59:59Z',
      '0000-01-01T00:00:00Z',
      '+275760-09-13T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-11-25T25:00:00Z',
      '2026-11-25T15:00:00+24:00',
      '2026-11-25',
      '',
      'now',
    ),
  );
  const asOf = fc.constantFrom(
    '0000-01-01',
    '9999-12-31',
    '1999-12-31',
    '2026-02-29',
    new Date(now + 3 * 86_400_000).toISOString().slice(0, 10),
    '2026-11-01',
  );
  const idemKey = fc.oneof(
    fc.constantFrom('', ' ', 'k'.repeat(256), 'k'.repeat(255), 'tab\tkey', 'ключ', '\u00ff\u00fe'),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }),
  );
  // Every UTF-8 byte percent-encoded (encodeURIComponent throws on a lone surrogate; its UTF-8 is U+FFFD's).
  const pct = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const headerValue = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

  const gen: fc.Arbitrary<Req>[] = [];
  const add = (weight: number, arb: fc.Arbitrary<Req>) => {
    for (let i = 0; i < weight; i++) gen.push(arb);
  };
  add(
    4,
    scoreMutations.map(({ base, ms }) => ({
      kind: 'score: mutated body',
      method: 'POST',
      path: '/v1/score',
      headers: auth,
      body: JSON.stringify(mutate(base, ms)),
    })),
  );
  add(
    3,
    contactMutations.map(({ base, ms }) => ({
      kind: 'contacts: mutated body',
      method: 'POST',
      path: '/v1/contacts',
      headers: auth,
      body: JSON.stringify(mutate(base, ms)),
    })),
  );
  add(
    2,
    fc
      .record({ v: fc.jsonValue({ maxDepth: 4 }), path: fc.constantFrom('/v1/score', '/v1/contacts') })
      .map(({ v, path }) => ({
        kind: 'random JSON',
        method: 'POST',
        path,
        headers: auth,
        body: JSON.stringify(v),
      })),
  );
  add(
    1,
    fc
      .record({
        s: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })),
        path: fc.constantFrom('/v1/score', '/v1/contacts'),
      })
      .map(({ s, path }) => ({ kind: 'random text', method: 'POST', path, headers: auth, body: s })),
  );
  add(
    3,
    fc
      .record({ ids: fc.array(anyId, { minLength: 1, maxLength: 5 }), single: fc.boolean(), asOf })
      .map(({ ids, single, asOf }) => ({
        kind: 'score: odd ids, repeats, dates',
        method: 'POST',
        path: '/v1/score',
        headers: auth,
        body: JSON.stringify(
          single
            ? archive(ids[0], { as_of_date: asOf })
            : { accounts: [...ids, ids[0]].map((id) => archive(id)) },
        ),
      })),
  );
  add(
    3,
    fc
      .record({ rows: fc.array(fc.record({ id: anyId, ts: tsText }), { minLength: 1, maxLength: 5 }) })
      .map(({ rows }) => ({
        kind: 'contacts: odd ids, skewed ts',
        method: 'POST',
        path: '/v1/contacts',
        headers: auth,
        body: JSON.stringify({ contacts: rows.map((r) => contactRow(r.id, r.ts)) }),
      })),
  );
  add(
    2,
    fc
      .record({
        key: idemKey,
        n: fc.integer({ min: 0, max: 30 }),
        path: fc.constantFrom('/v1/score', '/v1/contacts'),
        other: fc.boolean(),
      })
      .map(({ key, n, path, other }) => ({
        kind: 'Idempotency-Key: retries, reuse, odd keys',
        method: 'POST',
        path,
        headers: { ...auth, 'idempotency-key': headerValue(key) || `k-${n}` },
        body:
          path === '/v1/score'
            ? JSON.stringify(archive(`idem-${n}${other ? '-b' : ''}`))
            : JSON.stringify({
                contacts: [
                  contactRow(`idem-${n}`, isoAt(now - n * 60_000, 0), other ? { channel: 'sms' } : {}),
                ],
              }),
      })),
  );
  add(
    2,
    fc
      .record({
        id: anyId,
        q: fc.constantFrom(
          '',
          '?limit=0',
          '?limit=1001',
          '?limit=-1',
          '?limit=abc',
          '?since=yesterday',
          '?until=2099-01-01T00:00:00Z',
          '?cursor=%00',
          '?cursor=zzz',
          '?since=2026-01-01T00:00:00Z&until=2025-01-01T00:00:00Z',
          '?limit=1&limit=2',
          '?%ZZ',
        ),
        what: fc.constantFrom('contacts', 'decisions', 'other'),
        raw: fc.constantFrom('', '%ED%A0%80', '%FF', '%', '..%2F..%2F', 'a%00b'),
      })
      .map(({ id, q, what, raw }) => ({
        kind: 'audit reads: odd ids and queries',
        method: 'GET',
        path: `/v1/accounts/${raw || pct(id).slice(0, 3000)}/${what}${q}`,
        headers: { authorization: `Bearer ${KEY}` },
      })),
  );
  add(
    2,
    fc
      .record({
        method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST'),
        path: fc.constantFrom(
          '/v1/score',
          '/v1/contacts',
          '/v1/decisions/x',
          '/v1/models',
          '/v1/policy',
          '/metrics',
          '/openapi.json',
          '/healthz',
          '/readyz',
          '/nope',
          `/${'a'.repeat(5000)}`,
          '/v1/score?x=%ZZ',
          '//v1//score',
          '/v1/decisions/%ED%A0%80',
        ),
        key: fc.constantFrom(KEY, SCORE_ONLY, 'wrong', ''),
      })
      .map(({ method, path, key }) => ({
        kind: 'methods, paths, scopes',
        method,
        path,
        headers: (key ? { authorization: `Bearer ${key}` } : {}) as Record<string, string>,
      })),
  );
  add(
    2,
    fc
      .record({
        ct: fc.constantFrom(
          'text/plain',
          'application/xml',
          'application/json; charset=utf-16',
          'APPLICATION/JSON',
          'multipart/form-data; boundary=x',
          '',
        ),
        auth: fc.constantFrom(`Bearer ${KEY}`, 'Bearer', 'Basic Zm9vOmJhcg==', `bearer ${KEY}`, ''),
        rid: fc.oneof(fc.constant(''), fc.string({ unit: 'binary-ascii', maxLength: 300 })),
        big: fc.constantFrom(0, 0, 0, 20_000, 70_000),
        bodySize: fc.constantFrom(0, 10, 1024 * 1024 + 10),
        path: fc.constantFrom('/v1/score', '/v1/contacts'),
      })
      .map(({ ct, auth: a, rid, big, bodySize, path }) => ({
        kind: 'headers: content types, auth, request ids, sizes',
        method: 'POST',
        path,
        headers: {
          ...(ct ? { 'content-type': ct } : {}),
          ...(a ? { authorization: a } : {}),
          ...(rid ? { 'x-request-id': headerValue(rid) } : {}),
          ...(big ? { 'x-pad': 'p'.repeat(big) } : {}),
        },
        body: bodySize ? `{"pad":"${'x'.repeat(bodySize)}"}` : '',
      })),
  );
  add(
    1,
    fc
      .constantFrom(
        'GARBAGE\r\n\r\n',
        'GET / HTTP/9.9\r\n\r\n',
        'POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a"',
        'POST /v1/score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzz\r\n',
        'GET /healthz HTTP/1.1\r\nHost: x\r\nX: \u0000\r\n\r\n',
        '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
        `GET /${'%'.repeat(100)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      )
      .map((raw) => ({ kind: 'raw bytes', method: '', path: '', headers: {}, raw })),
  );

  const reqs = fc.sample(fc.oneof(...gen), { seed, numRuns: total });

  // ---- sending ------------------------------------------------------------------------------------------------
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const byStatus = new Map<string, number>();
  const byKind = new Map<string, Map<string, number>>();
  const fiveXx: string[] = [];
  const connErrors = new Map<string, number>();
  const count = (kind: string, status: string) => {
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    const k = byKind.get(kind) ?? new Map<string, number>();
    k.set(status, (k.get(status) ?? 0) + 1);
    byKind.set(kind, k);
  };

  function sendHttp(r: Req): Promise<string> {
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = { ...r.headers };
      if (r.body !== undefined) headers['content-length'] = Buffer.byteLength(r.body);
      const q = http.request(
        { host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 500)
              fiveXx.push(
                `${r.kind}: ${r.method} ${r.path.slice(0, 200)} ${r.body?.slice(0, 300) ?? ''} -> ${status} ${Buffer.concat(chunks).toString().slice(0, 300)}`,
              );
            resolve(String(status));
          });
          res.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
        },
      );
      q.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      if (r.body !== undefined) q.write(r.body);
      q.end();
    });
  }

  function sendRaw(r: Req): Promise<string> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      let data = '';
      s.setTimeout(5000, () => s.destroy());
      s.on('data', (d) => {
        data += d.toString('latin1');
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
        const status = m ? m[1]! : 'closed without an answer';
        if (m && Number(m[1]) >= 500) fiveXx.push(`raw ${JSON.stringify(r.raw)} -> ${data.slice(0, 300)}`);
        resolve(status);
      });
      s.write(Buffer.from(r.raw!, 'latin1'));
      s.end();
    });
  }

  // Warm-up (JIT, model, ledger) before the first RSS reading.
  console.error(`  server on port ${port}; warming up`);
  for (let i = 0; i < 200; i++) await sendHttp(reqs[i % reqs.length]!);
  const before = await rss();
  const started = performance.now();
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        const status = await (r.raw === undefined ? sendHttp(r) : sendRaw(r));
        if (status.startsWith('error')) connErrors.set(status, (connErrors.get(status) ?? 0) + 1);
        count(r.kind, status);
        if (++done % progressEvery === 0)
          console.error(`  ${done} requests, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await rss();
  server.send('stop');
  await new Promise((r) => server.once('exit', r));
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });

  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  console.log(
    `fuzz-api: ${done} requests over HTTP in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)}/s, seed ${seed}, concurrency ${concurrency})`,
  );
  console.log(
    `by status:  ${sorted(byStatus)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
  );
  for (const [kind, m] of [...byKind.entries()].sort())
    console.log(
      `  ${kind.padEnd(50)} ${sorted(m)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ')}`,
    );
  console.log(`5xx:        ${fiveXx.length}`);
  for (const x of fiveXx.slice(0, 10)) console.log(`  ${x}`);
  console.log(
    `conn. errors: ${[...connErrors.values()].reduce((a, b) => a + b, 0)} ${JSON.stringify(Object.fromEntries(connErrors))}`,
  );
  console.log(
    `server RSS: ${mib(before.rss)} before, ${mib(after.rss)} after (${after.rss >= before.rss ? '+' : ''}${mib(after.rss - before.rss)})`,
  );
  console.log(`ledger:     ${after.counts.decisions} decisions, ${after.counts.contacts} contacts recorded`);
  process.exitCode = fiveXx.length ? 1 : 0;
}
