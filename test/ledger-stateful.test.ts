import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.ts';
import type { Ledger } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openPostgresLedger } from '../src/ledger/postgres.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { commandArbs, executedTotal, newModel, type World } from './helpers/ledger-model.ts';
import { findPostgres, type TestPostgres } from './helpers/postgres.ts';
import { committedState, counterIds, FakeLive, T0, testKeys } from './helpers/service.ts';

/**
 * Issue 14: no retry, clock or identifier gets a contact past a cap. fast-check model-based commands drive one app
 * per ledger (the real DuckDB file, and PostgreSQL where one can be started) with random sequences of contact
 * posts (retried with and without Idempotency-Key, ts skewed within and beyond the 5-minute tolerance, odd but
 * valid ids and ids that must be refused), single and batch score requests with repeated accounts, and a clock
 * that moves forward. test/helpers/ledger-model.ts holds the model and its oracle: it counts the contacts the API
 * accepted and checks that no decision breaks a cap, the conversation cooldown or an open promise, that refused
 * and replayed requests record nothing, that a batch records one decision per distinct account, and that the
 * ledger holds exactly the accepted contacts under exactly the ids sent.
 *
 * Each fast-check run gets its own accounts and keys (a run tag in every id), so the runs share one app and one
 * ledger; a failure shrinks to a short command list and fast-check prints it with the seed to replay it.
 * REPAYRISK_STATEFUL_SEED and REPAYRISK_STATEFUL_RUNS change the seed and the number of runs.
 */

const SEED = Number(process.env.REPAYRISK_STATEFUL_SEED ?? 20261204);
const DUCKDB_RUNS = Number(process.env.REPAYRISK_STATEFUL_RUNS ?? 60);
const MAX_COMMANDS = 400;
/** Issue 14 asks for at least this many commands per CI run against the DuckDB ledger. */
const MIN_COMMANDS = 10_000;

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

async function worldOn(ledger: Ledger): Promise<World> {
  const clock = { now: Date.parse(T0) };
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys({ max: 1_000_000_000, timeWindowMs: 60_000 }),
    now: () => clock.now,
    newId: counterIds('sf'),
  });
  return { app, ledger, clock, guardrails: state.policy.guardrails, runs: 0, executed: new Map() };
}

async function runModel(w: World, numRuns: number, seed: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.commands(commandArbs(), { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
      await fc.asyncModelRun(() => ({ model: newModel(w), real: w }), cmds);
    }),
    { seed, numRuns },
  );
}

function summary(name: string, w: World, ms: number): string {
  const kinds = [...w.executed.entries()].sort((a, b) => b[1] - a[1]);
  return `ledger-stateful (${name}): ${executedTotal(w)} commands in ${w.runs} runs, ${(ms / 1000).toFixed(1)} s; ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`;
}

describe('stateful: the API over the DuckDB ledger', () => {
  // On a RAM disk when there is one: this test is about what the ledger holds, and each commit's fsync would be
  // most of its time (bench/serve.ts measures the durable path).
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'repayrisk-stateful-'));
  let w: World;
  beforeAll(async () => {
    w = await worldOn(await openDuckDbLedger(join(dir, 'ledger.duckdb')));
  });
  afterAll(async () => {
    await w?.app.close();
    await w?.ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('policy the oracle reads: caps and cooldown the default policy sets', () => {
    // The oracle takes its numbers from the loaded policy; this pins them so a policy change is seen here.
    expect(state.policy.guardrails.caps.call).toEqual({ attempts: 7, days: 7 });
    expect(state.policy.guardrails.conversation_cooldown_days).toBe(7);
  });

  it(`no decision breaks a cap or cooldown the oracle counts; refused and replayed requests record nothing (>= ${MIN_COMMANDS} commands)`, async () => {
    const t0 = performance.now();
    await runModel(w, DUCKDB_RUNS, SEED);
    console.info(summary('duckdb', w, performance.now() - t0));
    expect(executedTotal(w)).toBeGreaterThanOrEqual(MIN_COMMANDS);
  }, 600_000);
});

const postgres = findPostgres();
if (postgres.available) {
  describe(`stateful: the API over the PostgreSQL ledger (${postgres.how})`, () => {
    let pgServer: TestPostgres;
    let w: World;
    beforeAll(async () => {
      pgServer = await postgres.start();
      w = await worldOn(await openPostgresLedger(await pgServer.freshSchema()));
    }, 120_000);
    afterAll(async () => {
      await w?.app.close();
      await w?.ledger.close();
      await pgServer?.stop();
    });

    it('no decision breaks a cap or cooldown the oracle counts; refused and replayed requests record nothing', async () => {
      const t0 = performance.now();
      await runModel(w, Math.max(1, Math.round(DUCKDB_RUNS / 6)), SEED + 1);
      console.info(summary('postgres', w, performance.now() - t0));
    }, 600_000);
  });
} else {
  describe.skip(`stateful: the API over the PostgreSQL ledger (skipped: ${postgres.reason})`, () => {
    it('runs when DATABASE_URL is set or PostgreSQL binaries are installed', () => {});
  });
}
