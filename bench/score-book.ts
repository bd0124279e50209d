// Bench: batch scoring of a book through the score API's score-and-decide path (`repayrisk score --history`).
//   npx tsx bench/score-book.ts [--accounts 100000] [--keep DIR] [--model DIR]
// Generates a synthetic world (or reuses --keep DIR), then scores every account's snapshot on the last date with
// the committed champion and the default policy, writing Parquet. Prints accounts/s, peak RSS, and where the time
// goes: reading (history store + features), scoring (models and their driver explanations) and deciding.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateWorld } from '../src/data/generate.ts';
import { loadBatchState, scoreBook } from '../src/pipeline/score-book.ts';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    keep: { type: 'string' },
    model: { type: 'string' },
  },
});
/** The figure for the path before the history store (2,900 accounts/s, same machine kind). */
const BEFORE = 2900;
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-book-'));
const rss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB peak RSS`;
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
  const t0 = performance.now();
  const r = await scoreBook({ state, input: { history: dir }, out, slots: null });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `scored ${r.scored.toLocaleString('en-US')} accounts as of ${r.asOf} in ${s.toFixed(1)} s: ` +
      `${Math.round(r.scored / s).toLocaleString('en-US')} accounts/s (${(r.scored / s / BEFORE).toFixed(1)}x the ${BEFORE.toLocaleString('en-US')}/s before the history store), ${rss()}`,
  );
  rmSync(out, { force: true });
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
