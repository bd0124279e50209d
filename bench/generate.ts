// Bench: generating a synthetic world at scale.
//   npx tsx bench/generate.ts [--accounts 100000] [--months 24] [--format csv|parquet]
// Prints rows/s, MB/s and peak RSS, and the ratio to a baseline that writes the same number of rows of
// fixed text (the cost of formatting and I/O alone), so the simulation's own share is visible.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TABLES } from '../src/core/schema/tables.ts';
import { CsvTableWriter } from '../src/data/csv-writer.ts';
import { generateWorld } from '../src/data/generate.ts';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    months: { type: 'string', default: '24' },
    format: { type: 'string', default: 'csv' },
  },
});
const accounts = Number(values.accounts);
const months = Number(values.months);
const format = values.format === 'parquet' ? 'parquet' : 'csv';
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-gen-'));
try {
  const t0 = performance.now();
  const r = await generateWorld({ accounts, months, seed: 1, start: '2024-01-01', out: dir, format });
  const secs = (performance.now() - t0) / 1000;
  const rows = Object.values(r.rows).reduce((a, b) => a + b, 0);
  const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  const peak = process.resourceUsage().maxRSS / 1024;

  // Baseline: the same number of account rows, fixed content, through the same writer.
  const base = join(dir, 'baseline.csv');
  const row = TABLES.accounts.columns.map((c) => (c.kind.type === 'bool' ? true : c.name.length));
  const t1 = performance.now();
  const w = new CsvTableWriter(base, TABLES.accounts);
  for (let i = 0; i < rows; i++) w.write(row);
  w.close();
  const baseSecs = (performance.now() - t1) / 1000;

  console.log(`generate ${accounts.toLocaleString('en-US')} accounts x ${months} months (${format})`);
  for (const [t, n] of Object.entries(r.rows))
    console.log(`  ${t.padEnd(13)} ${n.toLocaleString('en-US').padStart(12)} rows`);
  console.log(`  wall time      ${secs.toFixed(1)} s`);
  console.log(
    `  throughput     ${Math.round(rows / secs).toLocaleString('en-US')} rows/s, ${(bytes / 1e6 / secs).toFixed(1)} MB/s on disk`,
  );
  console.log(`  peak RSS       ${peak.toFixed(0)} MiB`);
  console.log(
    `  baseline       ${Math.round(rows / baseSecs).toLocaleString('en-US')} rows/s writing fixed rows; generation takes ${(secs / baseSecs).toFixed(1)}x the baseline`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
