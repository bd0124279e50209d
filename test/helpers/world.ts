import { TABLES } from '../../src/core/schema/tables.ts';
import { type Row, readTable } from '../../src/data/reader.ts';

/** Reads a whole table file into memory (test-sized files only). */
export async function readAll(path: string, table: keyof typeof TABLES): Promise<Row[]> {
  const out: Row[] = [];
  for await (const b of readTable(path, TABLES[table])) for (const r of b) out.push(r);
  return out;
}

/** Key of a snapshot row. */
export const snapKey = (r: Row) => `${r.account_id}|${r.as_of_date}`;
