// Bench: a backtest of 2 policies (plus the logged decisions) over about 1,000,000 delinquent snapshots.
//   npx tsx bench/backtest.ts [--snapshots 1000000] [--bootstrap 50] [--keep DIR]
// Generates a synthetic world big enough (or reuses --keep DIR), then times `runBacktest` with the default
// policy and the plan-first challenger. Prints wall time, snapshots/s and peak RSS.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { widenYoungGeneration } from '../src/cli/heap-tuning.ts';
import { generateWorld } from '../src/data/generate.ts';
import { runBacktest } from '../src/pipeline/backtest.ts';

// As the repayrisk command runs (see heap-tuning.ts).
widenYoungGeneration();

const { values } = parseArgs({
  options: {
    snapshots: { type: 'string', default: '1000000' },
    bootstrap: { type: 'string', default: '50' },
    keep: { type: 'string' },
  },
});
const target = Number(values.snapshots);
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-backtest-'));
const rss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB peak RSS`;
try {
  if (!existsSync(join(dir, 'accounts.parquet'))) {
    // About 0.053 delinquent snapshots per customer-month in the default world (measured).
    const accounts = Math.ceil(target / (0.053 * 24));
    const t0 = performance.now();
    await generateWorld({ accounts, months: 24, seed: 9, start: '2023-01-01', out: dir, format: 'parquet' });
    console.log(
      `generated ${accounts.toLocaleString('en-US')} customers × 24 months in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
  const t0 = performance.now();
  const r = await runBacktest({
    history: dir,
    policy: 'policies/default.yaml',
    challenger: 'policies/challenger-plan-first.yaml',
    bootstrapSamples: Number(values.bootstrap),
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `backtest: ${r.snapshots.toLocaleString('en-US')} snapshots × 2 policies (+ logged) in ${s.toFixed(1)} s: ` +
      `${Math.round(r.snapshots / s).toLocaleString('en-US')} snapshots/s, ${values.bootstrap} bootstrap samples, ${rss()}`,
  );
  for (const p of r.policies)
    console.log(
      `  ${p.role}: DR recovery ${p.overall.recovery.doubly_robust?.toFixed(2)}, simulation ${p.overall.recovery.simulation?.toFixed(2)}`,
    );
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
