// Bench: the batch score-and-decide path of book scoring and the batch route (issues 12 and 15), stage by stage,
// on one core, with µs and heap bytes allocated per account.
//   npx tsx bench/score-decide.ts [--accounts 4000] [--keep DIR] [--chunk 1000] [--seconds 2] [--profile]
// Generates a small synthetic world (or reuses --keep DIR), builds its typed copy, and takes the last date's
// snapshots as the book path builds them (CopyArchives). Then, with the committed champion and the default policy,
// times each stage over chunks of --chunk accounts (the book's chunk order of magnitude): the features, the two
// calibrated predictions, the drivers (TreeSHAP of both models + top 3), scoreArchives as a whole, decideBatch
// (unlimited calls), and scoreAndDecide (all of it + records). µs are CPU µs per account of the cheapest of several
// rounds (the machine is shared); bytes are the V8 heap growth per account over one chunk with the young generation
// made large enough that no collection runs inside the chunk (the bench re-runs itself with those flags).
// --profile runs only scoreAndDecide for --seconds (for `node --cpu-prof`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decideBatch } from '../src/core/policy/batch.ts';
import type { ContactRow } from '../src/core/schema/tables.ts';
import { type AccountArchive, archiveFeatures, scoreArchives } from '../src/core/scoring/score.ts';
import { predictCalibrated } from '../src/core/training/fit-target.ts';
import { CopyArchives } from '../src/data/copy-archives.ts';
import { generateWorld } from '../src/data/generate.ts';
import { defaultCopyPath, ingestHistory, openCopy, readCopyDay } from '../src/data/history-copy.ts';
import { DEFAULT_POLICY_PATH } from '../src/registry/policy-file.ts';
import { loadLiveState } from '../src/service/live.ts';
import { scoreAndDecide } from '../src/service/score-request.ts';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '4000' },
    keep: { type: 'string' },
    chunk: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
  },
});

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  // Again with an exposed collector and 256 MiB semi-spaces: a chunk's garbage then stays in the young generation
  // and the heap's growth over the chunk is what it allocated.
  execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      '--expose-gc',
      '--min-semi-space-size=256',
      '--max-semi-space-size=256',
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit' },
  );
  process.exit(0);
}

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-score-decide-'));
const chunk = Number(values.chunk);
const seconds = Number(values.seconds);
try {
  if (!existsSync(join(dir, 'accounts.csv'))) {
    await generateWorld({
      accounts: Number(values.accounts),
      months: 12,
      seed: 3,
      start: '2024-01-01',
      out: dir,
      format: 'csv',
    });
  }
  if (!existsSync(defaultCopyPath(dir))) await ingestHistory(dir);
  const { file, meta } = openCopy(defaultCopyPath(dir), dir);
  const last = meta.dates.at(-1)!;
  const asOf = new Date(last.day * 86_400_000).toISOString().slice(0, 10);
  const day = readCopyDay(file, meta, asOf);
  file.close();
  const copy = new CopyArchives(day);
  const archives: AccountArchive[] = [];
  for (let r = 0; r < day.rows; r++) if (copy.check(r, 'accounts') === null) archives.push(copy.archive(r));
  const state = await loadLiveState({ modelsRoot: 'models', policyPath: DEFAULT_POLICY_PATH });
  const now = Date.parse(`${asOf}T15:00:00Z`);
  let id = 0;
  const newId = () => `d${id++}`;
  const chunks: AccountArchive[][] = [];
  for (let i = 0; i + chunk <= archives.length; i += chunk) chunks.push(archives.slice(i, i + chunk));
  if (chunks.length === 0) throw new Error(`fewer than --chunk ${chunk} scorable accounts`);
  const items = chunks.map((c) => {
    const s = scoreArchives(c, state.champion);
    return c.map((a, i) => ({ account: a.account, scores: s[i]!, contacts: a.contacts as ContactRow[] }));
  });
  const xs = chunks.map((c) => archiveFeatures(c));
  const { willingness: wm, ability: am } = state.champion;

  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  /** CPU µs per account of the cheapest of 5 rounds of about `seconds`/5 each, after one warm-up pass. */
  const time = (f: (k: number) => unknown): number => {
    for (let k = 0; k < chunks.length; k++) f(k);
    let best = Number.POSITIVE_INFINITY;
    let k = 0;
    for (let round = 0; round < 5; round++) {
      const t0 = cpuUs();
      let n = 0;
      while (cpuUs() - t0 < (seconds * 1e6) / 5) {
        f(k);
        n += chunk;
        k = (k + 1) % chunks.length;
      }
      best = Math.min(best, (cpuUs() - t0) / n);
    }
    return best;
  };
  /**
   * Heap bytes per account allocated by one call over chunk 0 (no collection inside it: see above): the median of
   * five calls, as a collection V8 starts anyway now and then (finishing old-generation marking) shows as a
   * smaller or negative growth.
   */
  const bytes = (f: (k: number) => unknown): number => {
    f(0);
    const got: number[] = [];
    for (let rep = 0; rep < 5; rep++) {
      gc();
      const m0 = process.memoryUsage();
      const keep = f(0);
      const m1 = process.memoryUsage();
      if (keep === undefined) console.log('');
      got.push((m1.heapUsed - m0.heapUsed + (m1.arrayBuffers - m0.arrayBuffers)) / chunk);
    }
    return got.sort((a, b) => a - b)[2]!;
  };
  if (values.profile) {
    const t0 = cpuUs();
    let k = 0;
    while (cpuUs() - t0 < seconds * 1e6) {
      scoreAndDecide(chunks[k]!, state, now, { newId, slots: null });
      k = (k + 1) % chunks.length;
    }
    process.exit(0);
  }
  const stages: [string, (k: number) => unknown][] = [
    ['features (archiveFeatures)', (k) => archiveFeatures(chunks[k]!)],
    ['predict (2 calibrated models)', (k) => [predictCalibrated(wm, xs[k]!), predictCalibrated(am, xs[k]!)]],
    ['scoreArchives (+ TreeSHAP drivers)', (k) => scoreArchives(chunks[k]!, state.champion)],
    ['decideBatch (unlimited calls)', (k) => decideBatch(items[k]!, now, state.policy, null)],
    ['scoreAndDecide (all + records)', (k) => scoreAndDecide(chunks[k]!, state, now, { newId, slots: null })],
  ];
  const [up1] = loadavg();
  console.log(
    `score-decide: ${archives.length.toLocaleString('en-US')} accounts of ${asOf} in chunks of ${chunk}, champion ${state.champion.version}, node ${process.version}, load ${up1!.toFixed(1)}`,
  );
  const rows: { label: string; us: number; b: number }[] = [];
  for (const [label, f] of stages) {
    const us = time(f);
    const b = bytes(f);
    rows.push({ label, us, b });
    console.log(
      `  ${label.padEnd(38)} ${us.toFixed(2).padStart(8)} µs/account  ${Math.round(b).toLocaleString('en-US').padStart(7)} B/account`,
    );
  }
  const [f, p, s, d, all] = rows as [
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
    (typeof rows)[0],
  ];
  console.log(
    `  drivers (scoreArchives − features − predict): ${(s.us - f.us - p.us).toFixed(2)} µs/account, ${Math.round(s.b - f.b - p.b).toLocaleString('en-US')} B/account`,
  );
  console.log(
    `  records etc. (scoreAndDecide − scoreArchives − decideBatch): ${(all.us - s.us - d.us).toFixed(2)} µs/account, ${Math.round(all.b - s.b - d.b).toLocaleString('en-US')} B/account`,
  );
  console.log(
    `  scoreAndDecide: ${Math.round(1e6 / all.us).toLocaleString('en-US')} accounts/s on one core (load ${loadavg()[0]!.toFixed(1)})`,
  );
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
