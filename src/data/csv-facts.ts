import { statSync } from 'node:fs';
import { byField, lineStarts } from './csv-cut.ts';
import { scanCsv } from './csv-scan.ts';
import { runInWorker } from './csv-worker.ts';
import type { TableFile } from './table-file.ts';

/** The snapshot dates of an accounts file, as `HistoryStore.snapshotDates` answers. */
export interface SnapshotFacts {
  accounts: number;
  dates: number;
  first: string | null;
  last: string | null;
}

/** One range's part of the facts: its distinct ids and dates (of records whose date has the form YYYY-MM-DD). */
export interface FactsPart {
  ids: string[];
  dates: string[];
  quoted: boolean;
}

/** A byte range of an accounts file to gather facts from (see `cutRange`'s job). */
export interface FactsJob {
  path: string;
  names: string[];
  from: number;
  to: number;
  header: boolean;
}

const DATE_FORM = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/**
 * The distinct account ids and dates of the records of a range whose `as_of_date` has the form YYYY-MM-DD (the
 * rows `snapshotDates`' SQL counts), or null when the range is not plainly well-formed or such a record has an
 * empty id (DuckDB's reader decides those).
 */
export function snapshotFactsRange(job: FactsJob): FactsPart | null {
  const ids = new Set<string>();
  const dates = new Set<string>();
  let ok = true;
  const dated = byField(job.names.indexOf('as_of_date'), (text) => {
    if (!DATE_FORM.test(text)) return false;
    dates.add(text);
    return true;
  });
  const idField = job.names.indexOf('account_id');
  const id = byField(idField, (text) => {
    ids.add(text);
    return true;
  });
  const scan = scanCsv(
    job.path,
    job.names.length,
    (r) => {
      if (!dated(r)) return true;
      if (r.ends[idField]! === r.starts[idField]!) {
        ok = false;
        return false;
      }
      return id(r);
    },
    { from: job.from, to: job.to, header: job.header },
  );
  if (scan === null || !ok) return null;
  return { ids: [...ids], dates: [...dates], quoted: scan.quoted };
}

/** Below this one pass on the calling thread does (a worker costs ~0.3 s to start). */
const PARALLEL_BYTES = 64 << 20;

/**
 * The snapshot facts of a CSV accounts file from a byte pass (large files in `threads` ranges in worker threads),
 * equal to the SQL count over DuckDB's reading of it; null when the file needs DuckDB's reader (see
 * `snapshotFactsRange`). A whole-file scan in DuckDB tokenises every cell of every row; this touches two fields.
 */
export async function snapshotFactsCsv(
  t: TableFile,
  threads = 2,
  parallelBytes = PARALLEL_BYTES,
): Promise<SnapshotFacts | null> {
  if (t.format !== 'csv' || t.paths || !t.names.includes('account_id') || !t.names.includes('as_of_date'))
    return null;
  const base = { path: t.path, names: t.names };
  const whole = () => snapshotFactsRange({ ...base, from: 0, to: Number.POSITIVE_INFINITY, header: true });
  const size = statSync(t.path).size;
  const split = threads >= 2 && size >= parallelBytes ? lineStarts(t.path, size, threads) : null;
  let parts: (FactsPart | null)[];
  if (split) {
    const jobs: FactsJob[] = split.starts.map((from, k) => ({
      ...base,
      from,
      to: split.starts[k + 1] ?? size,
      header: k === 0,
    }));
    const answers = await Promise.all(
      jobs.map((j) => runInWorker<FactsPart | null>('snapshotFacts', j).catch(() => undefined)),
    );
    // A quoted field may hold a line end, so a split there is not known to start a record.
    parts = answers.some((a) => a === undefined || a === null || a.quoted)
      ? [whole()]
      : (answers as FactsPart[]);
  } else parts = [whole()];
  if (parts.some((p) => p === null)) return null;
  const ids = new Set<string>();
  const dates = new Set<string>();
  for (const p of parts as FactsPart[]) {
    for (const i of p.ids) ids.add(i);
    for (const d of p.dates) dates.add(d);
  }
  const sorted = [...dates].sort();
  return {
    accounts: ids.size,
    dates: sorted.length,
    first: sorted[0] ?? null,
    last: sorted[sorted.length - 1] ?? null,
  };
}
