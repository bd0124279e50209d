// Soak: the stateful ledger model of test/ledger-stateful.test.ts, for a million commands (issue 14).
//   npm run bench:soak -- [--commands 1000000] [--seed 1] [--ledger duckdb|postgres] [--max-per-run 400]
//                         [--fresh-every 50000]
//                         [--without idempotency,skew,badIds,oddIds,repeats] [--show 3] [--dir /dev/shm]
// One app over one ledger (a DuckDB file in a temp folder, or PostgreSQL at DATABASE_URL); random command lists
// (contact posts with retries, Idempotency-Key replays and reuse, skewed clocks, odd and invalid ids; single and
// batch score requests with repeats; clock advances; audits of the ledger) run one after another, each list with
// its own accounts and keys, until the command count is reached. A failed check is a violation: it ends its list
// (the model cannot follow a service that did something else) and the next list starts. Prints commands run,
// commands/s, violations by kind with the first example of each, and exits 1 when there was any.
// `--without` leaves families of input out, to look past a known defect at the others.
// Every `--fresh-every` commands the soak moves to a new, empty ledger (a new DuckDB file, or a new PostgreSQL
// schema): every command counts the ledger's rows to check that refused and replayed requests record nothing, and
// that count grows with the table (two runs on PostgreSQL slowed from 173 to 137 commands/s by 100,000). Each list
// has its own accounts and keys, so no list ever spans two ledgers' worth of state it needs.
// PostgreSQL: DATABASE_URL when set, else a throwaway cluster as the ledger tests start one.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { createApp } from '../src/http/app.ts';
import type { Ledger } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openPostgresLedger } from '../src/ledger/postgres.ts';
import {
  ALL_FAMILIES,
  commandArbs,
  executedTotal,
  type Families,
  newModel,
  type World,
} from '../test/helpers/ledger-model.ts';
import { findPostgres, type TestPostgres } from '../test/helpers/postgres.ts';
import { committedState, counterIds, FakeLive, T0, testKeys } from '../test/helpers/service.ts';

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    ledger: { type: 'string', default: 'duckdb' },
    'max-per-run': { type: 'string', default: '400' },
    without: { type: 'string', default: '' },
    show: { type: 'string', default: '3' },
    dir: { type: 'string' },
    'fresh-every': { type: 'string', default: '50000' },
  },
});
const target = Number(values.commands);
const seed = Number(values.seed);
const maxPerRun = Number(values['max-per-run']);
const show = Number(values.show);
const freshEvery = Number(values['fresh-every']);
if (!Number.isInteger(freshEvery) || freshEvery < 1)
  throw new Error(`--fresh-every: expected a positive integer, got '${values['fresh-every']}'`);
const families: Partial<Families> = {};
for (const f of values.without.split(',').filter(Boolean)) {
  if (!(f in ALL_FAMILIES))
    throw new Error(`--without: unknown family '${f}'; known: ${Object.keys(ALL_FAMILIES).join(', ')}`);
  families[f as keyof Families] = false;
}

// The ledger file goes to a RAM disk when there is one: the soak is about what the ledger holds, not fsync speed
// (bench/serve.ts measures the durable path); --dir puts it elsewhere.
const base = values.dir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const dir = mkdtempSync(join(base, 'repayrisk-soak-'));
if (values.ledger !== 'duckdb' && values.ledger !== 'postgres')
  throw new Error(`--ledger: expected duckdb or postgres, got '${values.ledger}'`);
let postgres: TestPostgres | null = null;
if (values.ledger === 'postgres') {
  const found = findPostgres();
  if (!found.available) throw new Error(`--ledger postgres: ${found.reason}`);
  postgres = await found.start();
}
let ledgers = 0;
/** A new, empty ledger. */
async function openFresh(): Promise<Ledger> {
  ledgers++;
  if (postgres) return openPostgresLedger(await postgres.freshSchema());
  return openDuckDbLedger(join(dir, `ledger-${ledgers}.duckdb`));
}

const state = await committedState();
const clock = { now: Date.parse(T0) };
const newId = counterIds(`soak${seed}`);
const appOver = (ledger: Ledger) =>
  createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys({ max: 1_000_000_000, timeWindowMs: 60_000 }),
    now: () => clock.now,
    newId,
  });
let ledger = await openFresh();
let app = await appOver(ledger);
const held = { decisions: 0, contacts: 0 };
const violations = new Map<string, { count: number; examples: string[] }>();
const world: World = {
  app,
  ledger,
  clock,
  guardrails: state.policy.guardrails,
  runs: 0,
  executed: new Map(),
  onViolation: (category, message) => {
    const v = violations.get(category) ?? { count: 0, examples: [] };
    v.count++;
    if (v.examples.length < show)
      v.examples.push(message.length > 1200 ? `${message.slice(0, 1200)}…` : message);
    violations.set(category, v);
  },
};

const arbs = fc.commands(commandArbs(families), { maxCommands: maxPerRun, size: 'max' });
const started = performance.now();
let lists = 0;
let otherErrors = 0;
let lastReport = 0;
let sinceFresh = 0;
while (executedTotal(world) < target) {
  const [cmds] = fc.sample(arbs, { seed: seed * 1_000_003 + lists, numRuns: 1 });
  lists++;
  try {
    await fc.asyncModelRun(() => ({ model: newModel(world, families), real: world }), cmds!);
  } catch (e) {
    // Checks report through onViolation before they throw; anything else (a crash in the harness) is counted too.
    if (!String((e as Error).message).startsWith('[')) {
      otherErrors++;
      world.onViolation!('harness error', String((e as Error).stack ?? e));
    }
  }
  const n = executedTotal(world);
  if (n - sinceFresh >= freshEvery && n < target) {
    sinceFresh = n;
    const c = await ledger.counts();
    held.decisions += c.decisions;
    held.contacts += c.contacts;
    await app.close();
    await ledger.close();
    ledger = await openFresh();
    app = await appOver(ledger);
    world.ledger = ledger;
    world.app = app;
    world.lastCounts = undefined;
  }
  if (n - lastReport >= 50_000) {
    lastReport = n;
    const s = (performance.now() - started) / 1000;
    console.error(
      `  ${n} commands, ${(n / s).toFixed(0)}/s, ${[...violations.values()].reduce((a, v) => a + v.count, 0)} violations`,
    );
  }
}
const seconds = (performance.now() - started) / 1000;
const total = executedTotal(world);
const violationCount = [...violations.values()].reduce((a, v) => a + v.count, 0);
const last = await ledger.counts();
await app.close();
await ledger.close();
await postgres?.stop();
rmSync(dir, { recursive: true, force: true });

console.log(
  `ledger soak (${values.ledger}, seed ${seed}${values.without ? `, without ${values.without}` : ''})`,
);
console.log(
  `commands run:    ${total} in ${lists} lists, ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} commands/s)`,
);
console.log(
  `by kind:         ${[...world.executed.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log(
  `ledgers held:   ${held.decisions + last.decisions} decisions, ${held.contacts + last.contacts} contacts in ${ledgers} ledger(s) of up to ${freshEvery} commands`,
);
console.log(`violations:      ${violationCount}${otherErrors ? ` (${otherErrors} harness errors)` : ''}`);
for (const [category, v] of [...violations.entries()].sort((a, b) => b[1].count - a[1].count)) {
  console.log(`  ${v.count} × ${category}`);
  for (const ex of v.examples) console.log(`      e.g. ${ex}`);
}
process.exitCode = violationCount ? 1 : 0;
