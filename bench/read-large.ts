// Bench: validating a large file against the data contract.
//   npx tsx bench/read-large.ts [--gb 2] [--file accounts.csv]
// Builds an accounts CSV of about the given size from the committed sample (its rows repeated; or takes --file),
// then checks every cell as `repayrisk validate` does: the byte-level pass over the file in two worker threads
// (csv-check.ts), DuckDB only if it finds something to name. Prints rows/s, MB/s and peak RSS, the ratio to a bare
// DuckDB count(*) over the same file, to the SQL check alone (the design before: every cell tokenised as text and
// checked in SQL), and to the JS row reader (readTable, timed on the first tenth of the rows).
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TABLES } from '../src/core/schema/tables.ts';
import { checkTableFile } from '../src/data/check-table.ts';
import { sqlString, withDuckDB } from '../src/data/duckdb.ts';
import { readTable } from '../src/data/reader.ts';
import { describeTableFile } from '../src/data/table-file.ts';
import { checkFiles } from '../src/data/validate-files.ts';

const { values } = parseArgs({
  options: { gb: { type: 'string', default: '2' }, file: { type: 'string' } },
});
const target = Number(values.gb) * 1e9;
const dir = mkdtempSync(join(tmpdir(), 'repayrisk-bench-read-'));
const path = values.file ?? join(dir, 'accounts.csv');
try {
  if (!values.file) writeCopies();
  const bytes = statSync(path).size;

  const t0 = performance.now();
  const n0 = await withDuckDB(async (conn) => {
    const r = await conn.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM read_csv(${sqlString(path)}, all_varchar = true, header = true)`,
    );
    return Number(r.getRowObjectsJson()[0]!.n);
  });
  const scan = (performance.now() - t0) / 1000;

  // Before: the JS reader (every cell parsed in JS, one delimited string per row out of DuckDB), on the first
  // 10% of the rows so the comparison costs little; rows/s of both are compared.
  const jsRows = Math.ceil(n0 / 10);
  let nJs = 0;
  const tJs = performance.now();
  for await (const b of readTable(path, TABLES.accounts)) {
    nJs += b.length;
    if (nJs >= jsRows) break;
  }
  const jsSecs = (performance.now() - tJs) / 1000;

  // Before: every cell checked in SQL (a `where` that selects every row takes checkTableFile's SQL path).
  const tSql = performance.now();
  const cSql = process.cpuUsage();
  const nSql = await withDuckDB(async (conn) =>
    checkTableFile(conn, await describeTableFile(conn, path, TABLES.accounts), { where: 'true' }),
  );
  const sqlSecs = (performance.now() - tSql) / 1000;
  const uSql = process.cpuUsage(cSql);
  const sqlCpu = (uSql.user + uSql.system) / 1e6;

  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  let n = 0;
  await checkFiles({ accounts: path }, (_t, rows) => {
    n = rows;
  });
  const secs = (performance.now() - t1) / 1000;
  const u1 = process.cpuUsage(c1);
  const cpuSecs = (u1.user + u1.system) / 1e6;
  const maxRss = process.resourceUsage().maxRSS / 1024;
  if (n !== n0 || nSql !== n0)
    throw new Error(`validation saw ${n} rows (SQL ${nSql}), DuckDB counted ${n0}`);
  const rate = n / secs;
  const jsRate = nJs / jsSecs;

  console.log(
    `validated ${(bytes / 1e9).toFixed(2)} GB accounts CSV, ${n.toLocaleString('en-US')} rows, every cell checked (repayrisk validate)`,
  );
  console.log(
    `  wall time      ${secs.toFixed(1)} s (${cpuSecs.toFixed(1)} s CPU over all threads; a loaded machine stretches wall time, not CPU)`,
  );
  console.log(
    `  throughput     ${Math.round(rate).toLocaleString('en-US')} rows/s, ${(bytes / 1e6 / secs).toFixed(0)} MB/s`,
  );
  console.log(
    `  RSS            ${rssBefore.toFixed(0)} MiB before, ${maxRss.toFixed(0)} MiB peak (file: ${(bytes / 2 ** 20).toFixed(0)} MiB)`,
  );
  console.log(
    `  baseline       DuckDB count(*) over the file: ${scan.toFixed(1)} s; validation takes ${(secs / scan).toFixed(1)}x`,
  );
  console.log(
    `  SQL check      every cell as text in DuckDB (the design before): ${sqlSecs.toFixed(1)} s (${sqlCpu.toFixed(1)} s CPU), ${Math.round(n / sqlSecs).toLocaleString('en-US')} rows/s; the byte pass is ${(sqlSecs / secs).toFixed(1)}x faster, ${(sqlCpu / cpuSecs).toFixed(1)}x less CPU`,
  );
  console.log(
    `  JS reader: ${Math.round(jsRate).toLocaleString('en-US')} rows/s on the first ${nJs.toLocaleString('en-US')} rows; validation is ${(rate / jsRate).toFixed(1)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes the committed sample's rows again and again until the file has about `target` bytes. */
function writeCopies(): void {
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
}
