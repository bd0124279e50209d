// Bench: the point-in-time features of every delinquent snapshot of a CSV (or Parquet) history, as `repayrisk
// train` builds them (loadSnapshotDataset through the history store).
//   npx tsx bench/features-large.ts --dir DIR [--limit 1000000] [--compare]
// DIR is a generated world (e.g. `repayrisk generate --accounts 786164 --months 24 --seed 5 --format csv`, which
// gives 1,002,818 delinquent snapshots). Prints wall time, CPU time (all threads), snapshots/s and peak RSS; with
// --compare, the same build again with every CSV read whole by DuckDB and checked in SQL (the design before the
// byte-level cut), and the ratio. Peak RSS is the process's, so run --compare only for the time ratio.
import { parseArgs } from 'node:util';
import { widenYoungGeneration } from '../src/cli/heap-tuning.ts';
import { loadSnapshotDataset } from '../src/data/snapshot-dataset.ts';

// As the repayrisk command runs (see heap-tuning.ts).
widenYoungGeneration();

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    limit: { type: 'string', default: '1000000' },
    compare: { type: 'boolean', default: false },
  },
});
if (!values.dir) throw new Error('bench/features-large.ts needs --dir DIR (a generated history folder)');
const limit = Number(values.limit);

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function build(cut: boolean): Promise<{ secs: number; cpuSecs: number; rows: number }> {
  const t0 = performance.now();
  const c0 = cpu();
  const ds = await loadSnapshotDataset(values.dir!, { limit, store: { cut } });
  return { secs: (performance.now() - t0) / 1000, cpuSecs: cpu() - c0, rows: ds.x.rows };
}

const now = await build(true);
const rss = process.resourceUsage().maxRSS / 1024;
console.log(
  `features  ${now.rows.toLocaleString('en-US')} delinquent snapshots of ${values.dir}: ${now.secs.toFixed(1)} s wall, ` +
    `${now.cpuSecs.toFixed(1)} s CPU (all threads), ${Math.round(now.rows / now.secs).toLocaleString('en-US')} snapshots/s, peak RSS ${(rss / 1024).toFixed(2)} GiB`,
);
if (values.compare) {
  const before = await build(false);
  console.log(
    `before    every CSV read whole by DuckDB, checked in SQL: ${before.secs.toFixed(1)} s wall, ${before.cpuSecs.toFixed(1)} s CPU; ` +
      `the byte-level cut is ${(before.secs / now.secs).toFixed(1)}x faster (${(before.cpuSecs / now.cpuSecs).toFixed(1)}x less CPU)`,
  );
}
