// The byte-level pass over history CSVs (src/data/csv-scan.ts, cell-bytes.ts, csv-check.ts) decides alone that a
// file is clean, so `validate` and the history store skip DuckDB's check of every cell. It must never call clean a
// file DuckDB's reader or the contract would refuse: here its cell checks judge the same strings as the contract's
// `cellParser` (edge cases and seeded random cells, plain and quoted), and its structure checks refuse every kind of
// broken CSV the SQL path names by line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ColumnSpec, cellParser } from '../src/core/schema/columns.ts';
import { TABLES, type TableName } from '../src/core/schema/tables.ts';
import { fieldCheck } from '../src/data/cell-bytes.ts';
import { checkCsv } from '../src/data/csv-check.ts';
import { cutCsv } from '../src/data/csv-cut.ts';
import { scanCsv } from '../src/data/csv-scan.ts';
import type { TableFile } from '../src/data/table-file.ts';
import { CELL_EDGES } from './helpers/cell-edges.ts';
import { tmpDir } from './helpers/tmp.ts';

/** Every distinct (kind, nullable) the contract's tables use, named by one column that has it. */
const COLUMNS: ColumnSpec[] = (() => {
  const seen = new Map<string, ColumnSpec>();
  for (const t of Object.values(TABLES))
    for (const c of t.columns) {
      const key = JSON.stringify([c.kind, c.nullable]);
      if (!seen.has(key)) seen.set(key, c);
    }
  return [...seen.values()];
})();

const EDGE = [...CELL_EDGES];

const CELL = join(tmpDir('csv-cell'), 'cells.csv');

/** The check's answer on each cell, written one per line in the middle field of a file, quoted or not. */
function judge(col: ColumnSpec, cells: readonly string[], quoted: boolean): boolean[] {
  const text = cells.map((c) => `1,${quoted ? `"${c.replaceAll('"', '""')}"` : c},2`);
  writeFileSync(CELL, `a,x,b\n${text.join('\n')}\n`);
  const check = fieldCheck(col);
  const answers: boolean[] = [];
  const scan = scanCsv(CELL, 3, (r) => {
    answers.push(check(r, 1));
    return true;
  });
  expect(scan?.rows, 'the file is well-formed').toBe(cells.length);
  return answers;
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** The contract's answer: cellParser on the text the SQL path reads (an empty cell is NULL). */
const contract = (col: ColumnSpec, cell: string) => cellParser(col)(cell === '' ? null : cell).ok;

describe('cell checks on bytes equal cellParser', () => {
  it.each(COLUMNS.map((c) => [`${c.kind.type}${c.nullable ? '?' : ''} (${c.name})`, c] as const))(
    '%s: edge cases, plain and quoted',
    (_, col) => {
      const plain = EDGE.filter((c) => !/[",\r\n]/.test(c));
      const expected = (cells: string[]) => cells.map((c) => `${JSON.stringify(c)}: ${contract(col, c)}`);
      const got = (cells: string[], answers: boolean[]) =>
        cells.map((c, i) => `${JSON.stringify(c)}: ${answers[i]}`);
      expect(got(plain, judge(col, plain, false))).toEqual(expected(plain));
      expect(got(EDGE, judge(col, EDGE, true))).toEqual(expected(EDGE));
    },
  );

  it('2,000 seeded random cells per column kind', () => {
    const alphabet = fc.constantFrom(...'0123456789-.eE+ TZ:tTrRuUeEfFaAlLsS'.split(''));
    const cell = fc.oneof(
      fc.string({ unit: alphabet, maxLength: 25 }),
      fc
        .tuple(
          fc.integer({ min: 1850, max: 2250 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
        )
        .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
      fc.double({ noNaN: true }).map(String),
      fc.integer({ min: -200, max: 200 }).map(String),
      fc
        .tuple(
          fc.integer({ min: 1890, max: 2210 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 0, max: 61 }),
          fc.integer({ min: 0, max: 61 }),
          fc.constantFrom('', '.5', '.123', '.123456789', '.1234567890', '.'),
          fc.constantFrom('Z', 'z', '+01:00', ''),
        )
        .map(
          ([y, mo, d, h, mi, sec, frac, z]) =>
            `${y}-${p2(mo)}-${p2(d)}T${p2(h)}:${p2(mi)}:${p2(sec)}${frac}${z}`,
        ),
    );
    const cells = fc.sample(cell, { numRuns: 2000, seed: 4242 }).filter((c) => !/[",\r\n]/.test(c));
    const wrong: string[] = [];
    for (const col of COLUMNS) {
      const answers = judge(col, cells, false);
      cells.forEach((c, i) => {
        if (answers[i] !== contract(col, c)) wrong.push(`${col.name} ${JSON.stringify(c)}: ${answers[i]}`);
      });
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});

describe('structure', () => {
  const dir = tmpDir('csv-structure');
  const scan = (text: string | Buffer, fields = 3) => {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(path, text);
    return scanCsv(path, fields, () => true)?.rows ?? null;
  };

  it('counts the records of well-formed files: LF, CRLF, a BOM, no final line end, quoted line ends', () => {
    expect(scan('a,b,c\n1,2,3\n4,5,6\n')).toBe(2);
    expect(scan('a,b,c\r\n1,2,3\r\n4,5,6\r\n')).toBe(2);
    expect(scan('\ufeffa,b,c\n1,2,3\n')).toBe(1);
    expect(scan('a,b,c\n1,2,3\n4,5,6')).toBe(2);
    expect(scan('a,b,c\n1,"two\nlines",3\n"x""y",,\n')).toBe(2);
    expect(scan('a,b,c\n')).toBe(0);
  });

  it('is not sure of (null) every structural error the SQL path names by line', () => {
    expect(scan('a,b,c\n1,2,3,4\n'), 'an extra field').toBeNull();
    expect(scan('a,b,c\n1,2\n'), 'a short row').toBeNull();
    expect(scan('a,b,c\n1,"2,3\n'), 'an unterminated quote').toBeNull();
    expect(scan('a,b,c\n1,2"x,3\n'), 'a quote inside a field').toBeNull();
    expect(scan('a,b,c\n1,"2"x,3\n'), 'text after a closing quote').toBeNull();
    expect(scan('a,b,c\n1,2,3\r4,5,6\n'), 'a bare CR').toBeNull();
    expect(scan('a,b,c\n1,2,3\n\n4,5,6\n'), 'an empty line').toBeNull();
    expect(
      scan(Buffer.from([...Buffer.from('a,b,c\n1,'), 0xff, 0xfe, ...Buffer.from(',3\n')])),
      'not UTF-8',
    ).toBeNull();
    expect(scan('a,b,c\n1,\u0000,3\n'), 'a NUL byte').toBeNull();
    expect(scan('a,b\n1,2\n'), 'a header with another field count').toBeNull();
  });
});

describe('checkCsv over worker threads', () => {
  const dir = tmpDir('csv-parallel');
  const file = (path: string, table: TableName, names: string[]): TableFile => ({
    path,
    file: 'outcomes.csv',
    spec: TABLES[table],
    format: 'csv',
    names,
    types: names.map(() => 'VARCHAR'),
    headerLine: true,
  });

  it('two ranges give the one-pass count; a bad cell anywhere, or a quoted line end at the split, is caught', async () => {
    const names = ['account_id', 'as_of_date', 'paid_30d', 'paid_90d'];
    const rows = Array.from(
      { length: 40_000 },
      (_, i) => `A${i},2024-0${1 + (i % 9)}-01,${i % 7}.5,${i % 11}`,
    );
    const good = join(dir, 'good.csv');
    writeFileSync(good, `${names.join(',')}\n${rows.join('\n')}\n`);
    const t = file(good, 'outcomes', names);
    expect(await checkCsv(t, 2, 0)).toBe(40_000);
    expect(await checkCsv(t, 1)).toBe(40_000);

    const bad = join(dir, 'bad.csv');
    const broken = [...rows];
    broken[30_000] = 'A30000,2024-02-30,1,1';
    writeFileSync(bad, `${names.join(',')}\n${broken.join('\n')}\n`);
    expect(await checkCsv(file(bad, 'outcomes', names), 2, 0)).toBeNull();

    // A quoted id with line ends around the middle: the split lands inside it, and the one-pass check answers.
    const quoted = join(dir, 'quoted.csv');
    const q = [...rows];
    q[20_000] = `"A\n${'\n'.repeat(50)}x",2024-01-01,1,1`;
    writeFileSync(quoted, `${names.join(',')}\n${q.join('\n')}\n`);
    expect(await checkCsv(file(quoted, 'outcomes', names), 2, 0)).toBe(40_000);
  });
});

describe('cutCsv', () => {
  const dir = tmpDir('csv-cut');
  const names = ['account_id', 'as_of_date', 'paid_30d', 'paid_90d'];
  const t = (path: string): TableFile => ({
    path,
    file: 'outcomes.csv',
    spec: TABLES.outcomes,
    format: 'csv',
    names,
    types: names.map(() => 'VARCHAR'),
    headerLine: true,
  });
  const body = (paths: string[]) =>
    paths.flatMap((p) => readFileSync(p, 'utf8').split('\n').slice(1).filter(Boolean));

  it('keeps the records of the accounts asked for, in file order, the same in two worker ranges as in one pass', async () => {
    const rows = Array.from(
      { length: 30_000 },
      (_, i) => `A${Math.floor(i / 3)},2024-0${1 + (i % 9)}-01,${i % 7}.5,`,
    );
    const path = join(dir, 'outcomes.csv');
    writeFileSync(path, `${names.join(',')}\n${rows.join('\n')}`);
    const ids = new Set(Array.from({ length: 10_000 }, (_, i) => `A${i}`).filter((_, i) => i % 4 === 1));
    const want = rows.filter((r) => ids.has(r.split(',')[0]!));
    const one = await cutCsv(t(path), join(dir, 'one.csv'), { by: 'ids', ids }, 1);
    const two = await cutCsv(t(path), join(dir, 'two.csv'), { by: 'ids', ids }, 2, 0);
    expect(one?.rows).toBe(want.length);
    expect(body([one!.read.path])).toEqual(want);
    expect(two?.read.paths).toHaveLength(2);
    expect(two?.rows).toBe(want.length);
    expect(body(two!.read.paths!)).toEqual(want);
  });

  it('is null when a kept record has a bad cell, and not when only a dropped record has one', async () => {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, `${names.join(',')}\nA1,2024-01-01,1,\nA2,2024-02-30,1,\n`);
    expect(await cutCsv(t(path), join(dir, 'b1.csv'), { by: 'ids', ids: new Set(['A2']) })).toBeNull();
    expect((await cutCsv(t(path), join(dir, 'b2.csv'), { by: 'ids', ids: new Set(['A1']) }))?.rows).toBe(1);
  });
});
