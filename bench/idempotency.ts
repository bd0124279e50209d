// What an Idempotency-Key costs (issue 14): POST /v1/contacts in process (app.inject) against a DuckDB ledger file,
// with and without a key, one request at a time and 32 at once, alternating rounds so load drift hits both alike.
// Prints requests/s, CPU per request and the keyed/unkeyed ratio measured in the same run.
//   npx tsx bench/idempotency.ts [requests per round, default 1500] [rounds, default 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/http/app.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { makeContact } from '../test/helpers/account.ts';
import { bearer, committedState, FakeLive, PLAIN, testKeys } from '../test/helpers/service.ts';

const N = Number(process.argv[2] ?? 1500);
const ROUNDS = Number(process.argv[3] ?? 3);
const state = await committedState();
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-idem-'));
let file = 0;

/** One round: `n` posts of one contact each, `concurrency` at a time; requests/s and CPU ms per request. */
async function round(keyed: boolean, concurrency: number, n: number) {
  const ledger = await openDuckDbLedger(join(dir, `ledger-${++file}.duckdb`));
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys({ max: 1e9, timeWindowMs: 60_000 }),
  });
  const base = Date.now() - 3_600_000;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const k = next++;
        const contact = makeContact({ account_id: `B${k % 500}`, ts: new Date(base - k).toISOString() });
        const headers: Record<string, string> = { ...bearer(PLAIN.all), 'content-type': 'application/json' };
        if (keyed) headers['idempotency-key'] = `bench-${k}`;
        const r = await app.inject({
          method: 'POST',
          url: '/v1/contacts',
          headers,
          payload: JSON.stringify({ contacts: [contact] }),
        });
        if (r.statusCode !== 201) throw new Error(`request ${k}: ${r.statusCode} ${r.body}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await app.close();
  await ledger.close();
  return { rps: n / seconds, cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `POST /v1/contacts, one contact per request, DuckDB ledger; ${N} requests x ${ROUNDS} rounds each`,
);
for (const concurrency of [1, 32]) {
  const n = concurrency === 1 ? Math.min(N, 400) : N;
  const plain: { rps: number; cpuMs: number }[] = [];
  const keyed: { rps: number; cpuMs: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    plain.push(await round(false, concurrency, n));
    keyed.push(await round(true, concurrency, n));
  }
  const p = median(plain.map((x) => x.rps));
  const k = median(keyed.map((x) => x.rps));
  console.log(
    `concurrency ${String(concurrency).padStart(2)}: without key ${p.toFixed(0)} req/s (${median(plain.map((x) => x.cpuMs)).toFixed(2)} ms CPU/req), ` +
      `with key ${k.toFixed(0)} req/s (${median(keyed.map((x) => x.cpuMs)).toFixed(2)} ms CPU/req); ratio ${(k / p).toFixed(2)} (medians of ${ROUNDS})`,
  );
}
rmSync(dir, { recursive: true, force: true });
