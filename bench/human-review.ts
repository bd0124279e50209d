// What reading the review requests costs the score path (issue 16 item 4): POST /v1/score in process (app.inject,
// 50 requests at a time, 20 accounts each), every decision durable, over DuckDB and the WAL over DuckDB, with the
// ledger's review read as shipped against the same ledger whose review read answers "none" at once (the floor).
// The ledger holds 2,000 accounts with a standing request; the scored accounts have none (the common case), then
// half of them have one; the cases alternate over three rounds and the medians are shown. Figures on a shared machine are noisy: read the ratios, measured side by side.
//   npx tsx bench/human-review.ts [seconds per case, default 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/http/app.ts';
import type { Ledger, ReviewEventRecord } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import { bearer, committedState, FakeLive, PLAIN, scoreBody, T0, testKeys } from '../test/helpers/service.ts';

const SECONDS = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-review-'));
const NOW = Date.parse(T0);
const state = await committedState();
let n = 0;

const request = (account: string): ReviewEventRecord => ({
  event_id: `r-${++n}`,
  account_id: account,
  kind: 'requested',
  ts: new Date(NOW - 3_600_000).toISOString(),
  reported_ts: null,
  recorded_at: new Date(NOW - 3_600_000).toISOString(),
  channel: 'web',
  case_ref: null,
  agent_id: null,
  outcome: null,
});

/** Score requests per second over `ledger`, 50 in flight, 20 accounts each (account ids from `prefix`). */
async function rate(ledger: Ledger, prefix: string): Promise<number> {
  let id = 0;
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys(),
    now: () => NOW,
    newId: () => `d-${prefix}-${++id}-${n++}`,
  });
  const body = (k: number) => ({
    accounts: Array.from({ length: 20 }, (_, i) =>
      scoreBody({ account_id: `${prefix}${(k * 20 + i) % 2000}` }),
    ),
  });
  let done = 0;
  let k = 0;
  const end = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(PLAIN.score),
        payload: body(k++),
      });
      if (r.statusCode !== 200) throw new Error(r.body);
      done++;
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  await app.close();
  return done / SECONDS;
}

/** The same ledger, its review read answering "no requests" at once. */
const floorOf = (l: Ledger): Ledger =>
  new Proxy(l, {
    get(t, p, r) {
      if (p === 'reviewEvents') return async () => new Map();
      const v = Reflect.get(t, p, r);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });

const rows: string[] = [];
for (const kind of ['duckdb', 'wal+duckdb'] as const) {
  const k = ++n;
  const db = await openDuckDbLedger(join(dir, `l-${k}.duckdb`));
  const ledger = kind === 'duckdb' ? db : await openWalLedger(db, join(dir, `wal-${k}`), { loadDelayMs: 20 });
  // 2,000 accounts that asked (prefix R), none of those scored in the first case (prefix S).
  for (let i = 0; i < 2000; i += 500)
    await ledger.appendReviewEvents(Array.from({ length: 500 }, (_, j) => request(`R${i + j}`)));
  for (let i = 0; i < 2000; i += 2) await ledger.appendReviewEvents([request(`H${i}`)]);
  await rate(ledger, 'W'); // warm-up: JIT, prepared statements
  // Alternated, three rounds each; medians.
  const runs: Record<'floor' | 'none' | 'half', number[]> = { floor: [], none: [], half: [] };
  for (let round = 0; round < 3; round++) {
    runs.floor.push(await rate(floorOf(ledger), 'S'));
    runs.none.push(await rate(ledger, 'S'));
    runs.half.push(await rate(ledger, 'H'));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  const [floor, none, half] = [med(runs.floor), med(runs.none), med(runs.half)];
  rows.push(
    `| ${kind} | ${floor.toFixed(0)} | ${none.toFixed(0)} (${((none / floor) * 100).toFixed(0)}%) | ${half.toFixed(0)} (${((half / floor) * 100).toFixed(0)}%) |`,
  );
  await ledger.close();
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `score requests/s (20 accounts each, 50 in flight, ${SECONDS} s per case, median of 3 alternated rounds)\n| ledger | review read skipped (floor) | as shipped, no scored account asked | as shipped, half asked |\n|---|---|---|---|\n${rows.join('\n')}\n`,
);
