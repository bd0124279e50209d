import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { TABLES, type TableName } from '../core/schema/tables.ts';
import { contractChecks } from './csv-cut.ts';
import { type ScanResult, scanCsv } from './csv-scan.ts';
import { runInWorker } from './csv-worker.ts';
import type { TableFile } from './table-file.ts';

/** What a worker is asked to check: a byte range of a CSV table file. */
export interface RangeJob {
  path: string;
  names: string[];
  table: TableName;
  from: number;
  to: number;
  header: boolean;
}

/**
 * Checks every contract cell of a byte range of a CSV table file without DuckDB (`fieldCheck`, the contract's
 * rules, on the bytes); null when the range is not plainly well-formed or a cell breaks the contract.
 */
export function checkCsvRange(job: RangeJob): ScanResult | null {
  const { fields, checks } = contractChecks({ names: job.names, spec: TABLES[job.table] });
  const n = fields.length;
  return scanCsv(
    job.path,
    job.names.length,
    (r) => {
      for (let k = 0; k < n; k++) if (!checks[k]!(r, fields[k]!)) return false;
      return true;
    },
    { from: job.from, to: job.to, header: job.header },
  );
}

/** Below this a file is checked on the calling thread (a worker costs ~50 ms to start). */
const PARALLEL_BYTES = 64 << 20;

/**
 * Checks every contract cell of a CSV table file and returns its number of rows, or null when the file is not
 * plainly well-formed or a cell breaks the contract (DuckDB then names the line or the cells). Large files are
 * split at line ends into `threads` ranges checked side by side in worker threads; the split is trusted only when
 * no field anywhere was quoted (a quoted field may hold a line end), otherwise the file is checked again in one
 * pass. Without workers (they failed to start) the one-pass check answers. Files under `parallelBytes` are checked
 * on the calling thread.
 */
export async function checkCsv(
  t: TableFile,
  threads = 2,
  parallelBytes = PARALLEL_BYTES,
): Promise<number | null> {
  const whole = (): number | null =>
    checkCsvRange({
      path: t.path,
      names: t.names,
      table: t.spec.name as TableName,
      from: 0,
      to: Infinity,
      header: true,
    })?.rows ?? null;
  const size = statSync(t.path).size;
  if (threads < 2 || size < parallelBytes) return whole();
  const starts = [0];
  for (let k = 1; k < threads; k++) {
    const at = lineStartAfter(t.path, Math.floor((size * k) / threads));
    if (at === null || at <= starts[starts.length - 1]!) return whole();
    starts.push(at);
  }
  starts.push(size);
  const jobs: RangeJob[] = starts.slice(0, -1).map((from, k) => ({
    path: t.path,
    names: t.names,
    table: t.spec.name as TableName,
    from,
    to: starts[k + 1]!,
    header: k === 0,
  }));
  const results = await Promise.all(
    jobs.map((j) => runInWorker<ScanResult | null>('checkCsvRange', j).catch(() => undefined)),
  );
  if (results.some((r) => r === undefined || r === null || r.quoted)) return whole();
  return results.reduce((a, r) => a + r!.rows, 0);
}

/** The position after the first line end at or after `pos`, or null when none comes within 1 MiB. */
function lineStartAfter(path: string, pos: number): number | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, pos);
    const i = buf.subarray(0, n).indexOf(10);
    return i < 0 ? null : pos + i + 1;
  } finally {
    closeSync(fd);
  }
}
