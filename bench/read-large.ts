// Bench: streaming a large file through the validating reader.
//   npx tsx bench/read-large.ts [--gb 2]
// Builds an accounts CSV of about the given size from the committed sample (its rows repeated), then reads it
// with readTable. Prints rows/s, MB/s and peak RSS (flat memory shows it streams), and the ratio to a DuckDB
// count(*) over the same file: the cost of parsing and validating every cell in JS on top of DuckDB's scan.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TABLES } from '../src/core/schema/tables.ts';
import { sqlString, withDuckDB } from '../src/data/duckdb.ts';
import { readTable } from '../src/data/reader.ts';

const { values } = parseArgs({ options: { gb: { type: 'string', default: '2' } } });
const target = Number(values.gb) * 1e9;
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-read-'));
const path = join(dir, 'accounts.csv');
try {
  const text = readFileSync('data-samples/accounts.csv', 'utf8');
  const nl = text.indexOf('\n');
  const header = text.slice(0, nl + 1);
  const body = text.slice(nl + 1);
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  let size = header.length;
  while (size < target) {
    writeSync(fd, body);
    size += body.length;
  }
  closeSync(fd);
  const bytes = statSync(path).size;

  const t0 = performance.now();
  const n0 = await withDuckDB(async (conn) => {
    const r = await conn.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM read_csv(${sqlString(path)}, all_varchar = true, header = true)`,
    );
    return Number(r.getRowObjectsJson()[0]!.n);
  });
  const scan = (performance.now() - t0) / 1000;

  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  let maxRss = rssBefore;
  let n = 0;
  const t1 = performance.now();
  for await (const b of readTable(path, TABLES.accounts)) {
    n += b.length;
    if (n % 262_144 < b.length) maxRss = Math.max(maxRss, process.memoryUsage().rss / 2 ** 20);
  }
  const secs = (performance.now() - t1) / 1000;
  if (n !== n0) throw new Error(`reader saw ${n} rows, DuckDB counted ${n0}`);

  console.log(
    `read ${(bytes / 1e9).toFixed(2)} GB accounts CSV, ${n.toLocaleString('en-US')} rows, every cell validated`,
  );
  console.log(`  wall time      ${secs.toFixed(1)} s`);
  console.log(
    `  throughput     ${Math.round(n / secs).toLocaleString('en-US')} rows/s, ${(bytes / 1e6 / secs).toFixed(0)} MB/s`,
  );
  console.log(
    `  RSS            ${rssBefore.toFixed(0)} MiB before, ${maxRss.toFixed(0)} MiB at most while reading (file: ${(bytes / 2 ** 20).toFixed(0)} MiB)`,
  );
  console.log(
    `  baseline       DuckDB count(*) over the file: ${scan.toFixed(1)} s; the validating reader takes ${(secs / scan).toFixed(1)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
