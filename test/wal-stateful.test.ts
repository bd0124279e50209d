// The issue-14 model-based test (test/helpers/ledger-model.ts: retries with and without Idempotency-Key, skewed
// clocks, odd ids, single and batch scores) over the write-ahead ledger, with a loader that runs every
// millisecond in batches of 7 operations: the oracle's reads and the score path's caps meet records in the log
// only, records being loaded and records in DuckDB, in every mix.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { commandArbs, executedTotal, newModel, type World } from './helpers/ledger-model.ts';
import { committedState, counterIds, FakeLive, T0, testKeys } from './helpers/service.ts';

const SEED = Number(process.env.REPAYRISK_STATEFUL_SEED ?? 20261205);
const RUNS = Number(process.env.REPAYRISK_WAL_STATEFUL_RUNS ?? 8);

describe('stateful: the API over the write-ahead ledger (WAL over DuckDB, loading every millisecond)', () => {
  // On a RAM disk when there is one: this is about what the ledger holds, not about sync latency.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'repayrisk-wal-stateful-'));
  let state: LiveState;
  let w: World;
  beforeAll(async () => {
    state = await committedState();
    const ledger = await openWalLedger(await openDuckDbLedger(join(dir, 'ledger.duckdb')), join(dir, 'wal'), {
      loadDelayMs: 1,
      loadBatch: 7,
    });
    const clock = { now: Date.parse(T0) };
    const app = await createApp({
      live: new FakeLive(state),
      ledger,
      keys: testKeys({ max: 1_000_000_000, timeWindowMs: 60_000 }),
      now: () => clock.now,
      newId: counterIds('wsf'),
    });
    w = { app, ledger, clock, guardrails: state.policy.guardrails, runs: 0, executed: new Map() };
  });
  afterAll(async () => {
    await w?.app.close();
    await w?.ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no decision breaks a cap or cooldown the oracle counts; refused and replayed requests record nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbs(), { maxCommands: 400, size: 'max' }), async (cmds) => {
        await fc.asyncModelRun(() => ({ model: newModel(w), real: w }), cmds);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const kinds = [...w.executed.entries()].sort((a, b) => b[1] - a[1]);
    console.info(
      `wal-stateful: ${executedTotal(w)} commands in ${w.runs} runs; ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    expect(executedTotal(w)).toBeGreaterThan(500);
  }, 600_000);
});
