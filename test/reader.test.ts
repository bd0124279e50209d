import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataContractError, RepayriskError } from '../src/core/errors.ts';
import { TABLES } from '../src/core/schema/tables.ts';
import { generateWorld } from '../src/data/generate.ts';
import { type Row, readTable } from '../src/data/reader.ts';
import { tmpDir } from './helpers/tmp.ts';

async function readAll(path: string, table: keyof typeof TABLES, opts = {}): Promise<Row[]> {
  const out: Row[] = [];
  for await (const b of readTable(path, TABLES[table], opts)) out.push(...b);
  return out;
}

const SAMPLE = 'data-samples';

/** Copies the sample accounts file with one cell of data row `row` (1-based) replaced. */
function withCell(dir: string, name: string, row: number, column: string, value: string): string {
  const lines = readFileSync(join(SAMPLE, 'accounts.csv'), 'utf8').split('\n');
  const header = lines[0]!.split(',');
  const j = header.indexOf(column);
  const cells = lines[row]!.split(',');
  cells[j] = value;
  lines[row] = cells.join(',');
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n'));
  return p;
}

describe('readTable', () => {
  const dir = tmpDir();

  it('reads every sample table with the contract types', async () => {
    const rows = await readAll(join(SAMPLE, 'accounts.csv'), 'accounts');
    const lines = readFileSync(join(SAMPLE, 'accounts.csv'), 'utf8').trimEnd().split('\n');
    expect(rows.length).toBe(lines.length - 1);
    const first = rows[0]!;
    const cells = lines[1]!.split(',');
    expect(first.account_id).toBe(cells[0]);
    expect(first.balance).toBe(Number(cells[9]));
    expect(typeof first.phone_valid).toBe('boolean');
    // Every row is what the zod schema of the same table accepts.
    for (const r of rows.slice(0, 500)) expect(TABLES.accounts.schema.safeParse(r).success).toBe(true);
    for (const t of ['installments', 'contacts', 'treatments', 'outcomes', 'truth'] as const) {
      const n = (await readAll(join(SAMPLE, `${t}.csv`), t)).length;
      expect(n).toBe(
        readFileSync(join(SAMPLE, `${t}.csv`), 'utf8')
          .trimEnd()
          .split('\n').length - 1,
      );
    }
  });

  it('reads Parquet to the same rows as CSV', async () => {
    const out = join(dir, 'pq');
    const csv = join(dir, 'csv');
    const cfg = { accounts: 150, months: 4, seed: 5, start: '2024-01-01' };
    await generateWorld({ ...cfg, out, format: 'parquet' });
    await generateWorld({ ...cfg, out: csv, format: 'csv' });
    for (const t of ['accounts', 'contacts', 'installments', 'truth'] as const) {
      expect(await readAll(join(out, `${t}.parquet`), t)).toEqual(await readAll(join(csv, `${t}.csv`), t));
    }
  });

  it('yields batches no larger than asked, streaming', async () => {
    const sizes: number[] = [];
    for await (const b of readTable(join(SAMPLE, 'accounts.csv'), TABLES.accounts, { batchSize: 4096 })) {
      sizes.push(b.length);
    }
    expect(sizes.length).toBeGreaterThan(3);
    for (const s of sizes.slice(0, -1)) expect(s).toBeGreaterThanOrEqual(4096);
    for (const s of sizes) expect(s).toBeLessThan(4096 + 2048);
  });

  it('reads a headerless CSV given the column names', async () => {
    const lines = readFileSync(join(SAMPLE, 'treatments.csv'), 'utf8').split('\n');
    const p = join(dir, 'noheader.csv');
    writeFileSync(p, lines.slice(1).join('\n'));
    const rows = await readAll(p, 'treatments', { columns: lines[0]!.split(',') });
    expect(rows.length).toBe(lines.filter((l) => l).length - 1);
  });

  describe('rejects with a message naming file, row, column, expected and got', () => {
    beforeAll(() => copyFileSync(join(SAMPLE, 'accounts.csv'), join(dir, 'ok.csv')));

    it('a missing required column', async () => {
      const lines = readFileSync(join(SAMPLE, 'accounts.csv'), 'utf8').split('\n');
      const cut = lines.map((l) =>
        l
          .split(',')
          .filter((_, j) => j !== 12)
          .join(','),
      );
      const p = join(dir, 'missing.csv');
      writeFileSync(p, cut.join('\n'));
      const err = await readAll(p, 'accounts').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataContractError);
      expect((err as Error).message).toMatch(
        /missing\.csv.*column 'days_past_due': expected a column 'days_past_due' \(an integer >= 0\), got no such column/,
      );
    });

    it('a wrong type', async () => {
      const p = withCell(dir, 'type.csv', 5, 'age', 'forty');
      await expect(readAll(p, 'accounts')).rejects.toThrow(
        "type.csv: row 5 (line 6), column 'age': expected an integer in [18, 120], got 'forty'",
      );
    });

    it('a bad date', async () => {
      const p = withCell(dir, 'date.csv', 7, 'as_of_date', '2024-02-30');
      await expect(readAll(p, 'accounts')).rejects.toThrow(
        "date.csv: row 7 (line 8), column 'as_of_date': expected an ISO date YYYY-MM-DD (years 1900-2199), got '2024-02-30'",
      );
    });

    it('a negative amount', async () => {
      const p = withCell(dir, 'neg.csv', 2, 'amount_overdue', '-12.50');
      await expect(readAll(p, 'accounts')).rejects.toThrow(
        "neg.csv: row 2 (line 3), column 'amount_overdue': expected a number in [0, 1e12], got '-12.50'",
      );
    });

    it('an unknown enum value', async () => {
      const p = withCell(dir, 'enum.csv', 3, 'product', 'mortgage');
      await expect(readAll(p, 'accounts')).rejects.toThrow(
        "enum.csv: row 3 (line 4), column 'product': expected one of card|personal_loan|bnpl|auto, got 'mortgage'",
      );
    });

    it('an empty cell in a required column, and lists several problems at once', async () => {
      const p1 = withCell(dir, 'multi1.csv', 2, 'region', '');
      const lines = readFileSync(p1, 'utf8').split('\n');
      const cells = lines[9]!.split(',');
      cells[13] = '7';
      lines[9] = cells.join(',');
      writeFileSync(p1, lines.join('\n'));
      const err = (await readAll(p1, 'accounts').catch((e: unknown) => e)) as DataContractError;
      expect(err.issues.map((i) => [i.row, i.column])).toEqual([
        [2, 'region'],
        [9, 'age'],
      ]);
      expect(err.message).toContain("column 'region': expected a non-empty identifier, got an empty cell");
    });

    it('a file that is not there', async () => {
      const err = await readAll(join(dir, 'nope.csv'), 'accounts').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RepayriskError);
      expect((err as RepayriskError).code).toBe('io');
      expect((err as Error).message).toMatch(/nope\.csv: cannot be read as CSV/);
    });
  });
});
