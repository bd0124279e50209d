// The snapshot facts of an accounts CSV (how many accounts and dates, the first and last date) from the byte pass
// equal DuckDB's SQL over the same file (issue 12: the book no longer has DuckDB tokenise the whole file for them).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotFactsCsv } from '../src/data/csv-facts.ts';
import { HistoryStore } from '../src/data/history-store.ts';
import { tmpDir } from './helpers/tmp.ts';

/** The facts as the store's SQL gives them (cuts off: DuckDB reads the file). */
async function sqlFacts(dir: string) {
  const store = await HistoryStore.open(dir, ['accounts'], { cut: false });
  try {
    return await store.snapshotDates();
  } finally {
    store.close();
  }
}

async function byteFacts(dir: string, threads: number) {
  const store = await HistoryStore.open(dir, ['accounts']);
  try {
    return await snapshotFactsCsv(store.files.accounts!, threads, 0);
  } finally {
    store.close();
  }
}

describe('snapshot facts on the bytes', () => {
  const dir = tmpDir();

  it('equal the SQL on the sample world, on one thread and in two ranges', async () => {
    const sql = await sqlFacts('data-samples');
    expect(sql.accounts).toBeGreaterThan(1000);
    expect(await byteFacts('data-samples', 1)).toEqual(sql);
    expect(await byteFacts('data-samples', 2)).toEqual(sql);
  }, 60_000);

  it('count only well-formed dates, read quoted ids as DuckDB does, and leave an empty id to DuckDB', async () => {
    const world = join(dir, 'edge');
    cpSync('data-samples', world, { recursive: true });
    const path = join(world, 'accounts.csv');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const head = lines[0]!.split(',');
    const [id, date] = [head.indexOf('account_id'), head.indexOf('as_of_date')];
    const edit = (i: number, f: (cells: string[]) => void) => {
      const cells = lines[i]!.split(',');
      f(cells);
      lines[i] = cells.join(',');
    };
    edit(1, (c) => {
      c[date] = '2031-1-05'; // not the form: neither a date nor an account counted
      c[id] = 'ONLY-BAD-DATE';
    });
    edit(2, (c) => {
      c[date] = '2031-13-45'; // the form, though no calendar date: counted, as the SQL does
    });
    edit(3, (c) => {
      c[id] = '"Q ""quoted"" id"';
    });
    writeFileSync(path, `${lines.join('\n')}\n`);
    const sql = await sqlFacts(world);
    expect(sql.last).toBe('2031-13-45');
    expect(await byteFacts(world, 1)).toEqual(sql);
    expect(await byteFacts(world, 2)).toEqual(sql);

    edit(4, (c) => {
      c[id] = '';
    });
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect(await byteFacts(world, 1)).toBeNull();
  }, 60_000);
});
