// Bench: batch scoring of a book through the score API's score-and-decide path (`repayrisk score --history`).
//   npx tsx bench/score-book.ts [--accounts 100000] [--keep DIR] [--model DIR] [--floor-ms 3000] [--workers N]
// Generates a synthetic world (or reuses --keep DIR), then scores every account's snapshot on the last date with
// the committed champion and the default policy, writing Parquet. Prints accounts/s, peak RSS, and where the time
// goes on the reading thread: reading (history store + features' prepared history), scoring and deciding (models,
// their driver explanations, the policy; with worker threads — the default, --workers 0 for none — packing the
// chunks and waiting for the workers) and writing; the process's CPU seconds (DuckDB's and the workers' threads
// included) beside the wall.
// Then the in-process floor (issue 15): score-and-decide of the example account of docs/api.md, one account per
// call on this thread, with and without parsing the request body's archive.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { widenYoungGeneration } from '../src/cli/heap-tuning.ts';
import { archiveSchema, toArchive } from '../src/core/scoring/input.ts';
import { generateWorld } from '../src/data/generate.ts';
import { loadBatchState, scoreBook } from '../src/pipeline/score-book.ts';
import { scoreAndDecide } from '../src/service/score-request.ts';

// As the repayrisk command runs (see heap-tuning.ts).
widenYoungGeneration();

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    keep: { type: 'string' },
    model: { type: 'string' },
    'floor-ms': { type: 'string', default: '3000' },
    workers: { type: 'string' },
  },
});
/** The figure for the path before the history store (2,900 accounts/s, same machine kind). */
const BEFORE = 2900;
/** Issue 15's target for the in-process floor, accounts/s on one core. */
const FLOOR_TARGET = 15_000;
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-book-'));
const rss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB peak RSS`;
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
try {
  if (!existsSync(join(dir, 'accounts.csv')) && !existsSync(join(dir, 'accounts.parquet'))) {
    const t0 = performance.now();
    await generateWorld({
      accounts: Number(values.accounts),
      months: 12,
      seed: 3,
      start: '2024-01-01',
      out: dir,
      format: 'csv',
    });
    console.log(
      `generated ${values.accounts} customers × 12 months in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
  const state = await loadBatchState(values.model ? { model: values.model } : {});
  const out = join(mkdtempSync(join(tmpdir(), 'repayrisk-bench-book-out-')), 'book.parquet');
  console.log(`load average before: ${loadavg()[0]!.toFixed(2)} (2 cores; figures are noisy above ~1)`);
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const r = await scoreBook({
    state,
    input: { history: dir },
    out,
    slots: null,
    ...(values.workers ? { workers: Number(values.workers) } : {}),
    onNote: (m) => console.log(`  ${m}`),
  });
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  console.log(
    `scored ${fmt(r.scored)} accounts as of ${r.asOf} in ${s.toFixed(1)} s: ` +
      `${fmt(r.scored / s)} accounts/s (${(r.scored / s / BEFORE).toFixed(1)}x the ${fmt(BEFORE)}/s before the history store), ${rss()}`,
  );
  const { read, score, write } = r.phases;
  const share = (x: number) =>
    `${x.toFixed(1)} s (${((100 * x) / s).toFixed(0)}%, ${((1e6 * x) / r.scored).toFixed(0)} µs/account)`;
  console.log(`  read ${share(read)}; score+decide ${share(score)}; write ${share(write)}`);
  console.log(
    `  CPU ${cpu.toFixed(1)} s over ${s.toFixed(1)} s wall (${(cpu / s).toFixed(2)} cores busy), ` +
      `${fmt((1e6 * cpu) / r.scored)} µs CPU per account` +
      (values.workers === '0'
        ? `; score+decide alone would allow ${fmt(r.scored / score)} accounts/s on one core`
        : ' (scoring on worker threads: score+decide is packing and waiting for them)'),
  );
  rmSync(out, { force: true });

  // The in-process floor: what one core does per account with no HTTP and no ledger.
  const raw = JSON.parse(readFileSync('docs/examples/score-request.json', 'utf8'));
  const archive = toArchive(archiveSchema.parse(raw));
  const now = Date.parse(`${archive.account.as_of_date}T15:00:00Z`);
  const ms = Number(values['floor-ms']);
  const rate = (f: () => void): number => {
    for (let i = 0; i < 2000; i++) f(); // JIT warm-up
    let best = 0;
    for (let rep = 0; rep < 5; rep++) {
      // CPU time, not wall: on a shared machine the thread is not always running.
      let n = 0;
      const c = cpuSeconds();
      const t = performance.now();
      while (performance.now() - t < ms / 5) {
        for (let i = 0; i < 100; i++) f();
        n += 100;
      }
      best = Math.max(best, n / (cpuSeconds() - c));
    }
    return best;
  };
  let k = 0;
  const one = { slots: null, newId: () => `d${k++}` };
  const decided = rate(() => {
    scoreAndDecide([archive], state, now, one);
  });
  const parsed = rate(() => {
    scoreAndDecide([toArchive(archiveSchema.parse(raw))], state, now, one);
  });
  console.log(
    `in-process floor (example account, one per call, one core, best of 5 by CPU time): score-and-decide ` +
      `${fmt(decided)} accounts/s (${(decided / FLOOR_TARGET).toFixed(2)}x issue 15's ${fmt(FLOOR_TARGET)}/s); ` +
      `with parsing the archive (zod) ${fmt(parsed)} accounts/s`,
  );
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
