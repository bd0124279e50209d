// What the write-ahead log buys (issue 15 item 2), measured in one run on this machine's disk:
//  A. the log alone: appends/s and fdatasyncs per append with 1, 16 and 64 concurrent writers, group commit
//     against a baseline log that does one write + fdatasync per append (the same frames, the same file system);
//  B. the ledger: appendContacts/s through the WAL over DuckDB against the DuckDB ledger alone (whose own COMMIT
//     groups concurrent appends too), same writers;
//  C. the score path's reads: contactsFor + callSlotsUsed per account, WAL (windows in memory) against DuckDB;
//  D. POST /v1/score in process (app.inject, 50 at a time, 20 accounts), every decision durable, over each ledger.
// Figures on a shared machine are noisy; the ratios, measured side by side, are what to read.
//   npx tsx bench/wal.ts [seconds per case, default 1.5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/http/app.ts';
import type { ContactRecord, Ledger } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { encodeFrame } from '../src/ledger/wal/frame.ts';
import { nodeWalFs } from '../src/ledger/wal/fs.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import { WalLog } from '../src/ledger/wal/log.ts';
import { bearer, committedState, FakeLive, PLAIN, scoreBody, testKeys } from '../test/helpers/service.ts';

const SECONDS = Number(process.argv[2] ?? 1.5);
const WRITERS = [1, 16, 64];
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-wal-'));
let seq = 0;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');

function contact(n: number, account = `A${n % 500}`): ContactRecord {
  const at = new Date(T0 + n).toISOString();
  return {
    contact_id: `c-${n}`,
    account_id: account,
    ts: at,
    channel: 'call',
    outcome: 'no_answer',
    promise_amount: null,
    promise_date: null,
    agent_id: 'agent-7',
    recorded_at: at,
    decision_id: null,
    reported_ts: null,
  };
}
const payload = Buffer.from(JSON.stringify({ t: 'contacts', rows: [contact(1)], answer: null }));

/** Runs `writers` closed-loop writers of `op` for SECONDS; operations per second. */
async function closedLoop(
  writers: number,
  op: (n: number) => Promise<unknown>,
): Promise<{ n: number; perS: number }> {
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) await op(n++);
    }),
  );
  return { n, perS: n / ((performance.now() - t0) / 1000) };
}

/** The baseline: every append its own write + fdatasync, one at a time (no grouping). */
async function perAppendSyncLog(file: string) {
  const fd = await nodeWalFs.openAppend(file);
  let tail: Promise<unknown> = Promise.resolve();
  let syncs = 0;
  return {
    append(p: Buffer): Promise<void> {
      const frame = encodeFrame(p);
      const run = tail.then(async () => {
        await nodeWalFs.write(fd, frame, 0, frame.length);
        await nodeWalFs.fdatasync(fd);
        syncs++;
      });
      tail = run;
      return run;
    },
    syncs: () => syncs,
    close: () => nodeWalFs.close(fd),
  };
}

const rows: string[][] = [];
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

console.log(`A. log alone (${SECONDS} s per case, ${payload.length}-byte records)`);
for (const w of WRITERS) {
  const base = await perAppendSyncLog(join(dir, `baseline-${++seq}.wal`));
  const b = await closedLoop(w, () => base.append(payload));
  const baseSyncs = base.syncs() / b.n;
  await base.close();
  const { log } = await WalLog.open(join(dir, `log-${++seq}`), () => undefined);
  const g = await closedLoop(w, () => log.append(payload));
  const s = log.stats();
  await log.close();
  rows.push([
    `${w}`,
    fmt(b.perS),
    baseSyncs.toFixed(2),
    fmt(g.perS),
    (s.syncs / s.appends).toFixed(3),
    `${(g.perS / b.perS).toFixed(1)}x`,
  ]);
}
console.table(
  rows.map(([w, bs, bsy, gs, gsy, r]) => ({
    writers: w,
    'per-append sync: appends/s': bs,
    'syncs/append': bsy,
    'group commit: appends/s': gs,
    'syncs/append ': gsy,
    ratio: r,
  })),
);

console.log('B. ledger appendContacts (one contact each, unkeyed)');
const ledgerRows: Record<string, string>[] = [];
for (const w of WRITERS) {
  const duck = await openDuckDbLedger(join(dir, `duck-${++seq}.duckdb`));
  let k = seq * 10_000_000;
  const d = await closedLoop(w, () => duck.appendContacts([contact(k++)]));
  await duck.close();
  const wal = await openWalLedger(
    await openDuckDbLedger(join(dir, `duck-${++seq}.duckdb`)),
    join(dir, `wal-${seq}`),
  );
  k = seq * 10_000_000;
  const v = await closedLoop(w, () => wal.appendContacts([contact(k++)]));
  const s = wal.logStats();
  const left = wal.unloaded();
  const t = performance.now();
  await wal.close(); // loads what is left
  ledgerRows.push({
    writers: `${w}`,
    'duckdb: appends/s': fmt(d.perS),
    'wal+duckdb: appends/s': fmt(v.perS),
    'log syncs/append': (s.syncs / s.appends).toFixed(3),
    'unloaded at end': `${left} (loaded in ${fmt(performance.now() - t)} ms at close)`,
    ratio: `${(v.perS / d.perS).toFixed(1)}x`,
  });
}
console.table(ledgerRows);

console.log(
  'C. score-path reads of accounts read before: contactsFor(1 account) + callSlotsUsed(start of day), one at a time',
);
async function reads(ledger: Ledger): Promise<number> {
  await ledger.appendContacts(Array.from({ length: 2000 }, (_, i) => contact(i)));
  for (let a = 0; a < 500; a++) await ledger.contactsFor([`A${a}`], T0 - 86_400_000); // warm: each account once
  let n = 0;
  const r = await closedLoop(1, async () => {
    await ledger.contactsFor([`A${n++ % 500}`], T0 - 86_400_000);
    await ledger.callSlotsUsed(T0);
  });
  return r.perS;
}
const duckR = await openDuckDbLedger(join(dir, `duck-${++seq}.duckdb`));
const dR = await reads(duckR);
await duckR.close();
const walR = await openWalLedger(
  await openDuckDbLedger(join(dir, `duck-${++seq}.duckdb`)),
  join(dir, `wal-${seq}`),
);
const wR = await reads(walR);
await walR.close();
console.table([
  { 'duckdb: reads/s': fmt(dR), 'wal+duckdb: reads/s': fmt(wR), ratio: `${(wR / dR).toFixed(1)}x` },
]);

console.log('D. POST /v1/score in process (app.inject), 50 at a time, every decision durable');
const state = await committedState();
async function scoring(ledger: Ledger): Promise<number> {
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys({ max: 1e9, timeWindowMs: 60_000 }),
  });
  const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify(scoreBody({ account_id: `S${i}` })));
  const headers = { ...bearer(PLAIN.all), 'content-type': 'application/json' };
  let bad = 0;
  const r = await closedLoop(50, async (k) => {
    const res = await app.inject({ method: 'POST', url: '/v1/score', headers, payload: bodies[k % 20]! });
    if (res.statusCode !== 200) bad++;
  });
  await app.close();
  await ledger.close();
  if (bad) throw new Error(`${bad} score requests failed`);
  return r.perS;
}
const sD = await scoring(await openDuckDbLedger(join(dir, `duck-${++seq}.duckdb`)));
const sW = await scoring(
  await openWalLedger(await openDuckDbLedger(join(dir, `duck-${++seq}.duckdb`)), join(dir, `wal-${seq}`)),
);
console.table([
  { 'duckdb: requests/s': fmt(sD), 'wal+duckdb: requests/s': fmt(sW), ratio: `${(sW / sD).toFixed(1)}x` },
]);

rmSync(dir, { recursive: true, force: true });
