// The history store validates cells in SQL (src/data/cell-sql.ts); the data contract's rules are the JS parsers
// (src/core/schema/columns.ts: cellParser), which the API runs too. A cell the two judge differently would be
// accepted by one path and refused by the other, so here both judge the same strings: a hand list of edge cases
// and thousands of seeded random ones per column kind, over an alphabet where valid-looking strings are common.
// For the cells both accept, the store's typed form (typedCellSql) must be what the JS path computes from the value.
import type { DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoDay } from '../src/core/features/history.ts';
import { type ColumnKind, type ColumnSpec, cellParser } from '../src/core/schema/columns.ts';
import { TABLES } from '../src/core/schema/tables.ts';
import { dayOf } from '../src/core/time/dates.ts';
import { invalidCellSql, typedCellSql } from '../src/data/cell-sql.ts';
import { type OpenDuckDB, openDuckDB } from '../src/data/duckdb.ts';
import { CELL_EDGES } from './helpers/cell-edges.ts';

const spec = (name: string, kind: ColumnKind, nullable = false): ColumnSpec => ({
  name,
  kind,
  nullable,
  description: name,
});

/** Hand-made columns covering each kind, ranges on both sides, and nullable or not. */
const HAND: ColumnSpec[] = [
  spec('id', { type: 'id' }),
  spec('id?', { type: 'id' }, true),
  spec('text', { type: 'text' }),
  spec('text?', { type: 'text' }, true),
  spec('enum', { type: 'enum', values: ['sms', 'email', 'app', 'Ünï-côdé 名前'] }),
  spec('enum?', { type: 'enum', values: ['sms', 'email'] }, true),
  spec('int', { type: 'int' }),
  spec('int>=0', { type: 'int', min: 0 }),
  spec('int[0,120]', { type: 'int', min: 0, max: 120 }),
  spec('int[-5,5]?', { type: 'int', min: -5, max: 5 }, true),
  spec('int<=1e12', { type: 'int', max: 1e12 }),
  spec('number', { type: 'number' }),
  spec('number>=0', { type: 'number', min: 0 }),
  spec('number[0,1]', { type: 'number', min: 0, max: 1 }),
  spec('number[-0.5,2.5]?', { type: 'number', min: -0.5, max: 2.5 }, true),
  spec('number<=1e21', { type: 'number', max: 1e21 }),
  spec('date', { type: 'date' }),
  spec('date?', { type: 'date' }, true),
  spec('timestamp', { type: 'timestamp' }),
  spec('timestamp?', { type: 'timestamp' }, true),
  spec('bool', { type: 'bool' }),
  spec('bool?', { type: 'bool' }, true),
];

/** Every distinct (kind, nullable) the contract's tables actually use, named by one column that has it. */
const CONTRACT: ColumnSpec[] = (() => {
  const seen = new Map<string, ColumnSpec>();
  for (const t of Object.values(TABLES))
    for (const c of t.columns) {
      const key = JSON.stringify([c.kind, c.nullable]);
      if (!seen.has(key)) seen.set(key, { ...c, name: `${t.name}.${c.name}` });
    }
  return [...seen.values()];
})();

const COLUMNS = [...HAND, ...CONTRACT];

const EDGE: (string | null)[] = [null, ...CELL_EDGES];

/** Characters that make valid-looking numbers, dates, timestamps and flags common, plus a few that never fit. */
const ALPHABET = [
  ...'0123456789'.split(''),
  ...'0123456789'.split(''),
  ...'0123456789'.split(''),
  '-',
  '-',
  '.',
  'e',
  'E',
  ':',
  'T',
  'Z',
  '+',
  ' ',
  't',
  'r',
  'u',
  'f',
  'a',
  'l',
  's',
  'é',
  '名',
];

const RANDOM_PER_KIND = 2500;
const SEED = 20_241_204;

/** A valid-looking template for a column, then a few random edits: the near-misses a real export makes. */
function templates(c: ColumnSpec): fc.Arbitrary<string> {
  const k = c.kind;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  const date = fc
    .tuple(
      fc.integer({ min: 1890, max: 2110 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
    )
    .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
  switch (k.type) {
    case 'int':
      return fc
        .integer({ min: (k.min ?? -1000) - 10, max: Math.min(k.max ?? 1_000_000, 1_000_000) + 10 })
        .map(String);
    case 'number':
      return fc
        .tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, 1, 2, 6, 17))
        .map(([v, p]) => (p === 17 ? String(v) : v.toFixed(p)));
    case 'date':
      return date;
    case 'timestamp':
      return fc
        .tuple(
          date,
          fc.constantFrom('T', ' '),
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 0, max: 61 }),
          fc.option(fc.integer({ min: 0, max: 61 })),
          fc.option(fc.integer({ min: 0, max: 999_999_999 })),
          fc.constantFrom('Z', '+00:00', '-05:00', '+0530', '+05:30', '-1200', '+14:00', ''),
        )
        .map(
          ([d, sep, h, mi, s, frac, off]) =>
            `${d}${sep}${pad(h, 2)}:${pad(mi, 2)}${s === null ? '' : `:${pad(s, 2)}${frac === null ? '' : `.${String(frac).slice(0, 1 + (frac % 9))}`}`}${off}`,
        );
    case 'bool':
      return fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'FALSE', 'True', 'False');
    case 'enum':
      return fc.constantFrom(...k.values);
    case 'id':
    case 'text':
      return fc.string({ maxLength: 12 });
  }
}

/** Random edits: replace, insert or delete characters from the biased alphabet. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.nat(),
    fc.constantFrom('replace', 'insert', 'delete'),
    fc.constantFrom(...ALPHABET),
  );
  return fc.tuple(base, fc.array(edit, { maxLength: 2 })).map(([s, edits]) => {
    let out = s;
    for (const [at, op, ch] of edits) {
      const i = out.length ? at % (out.length + (op === 'insert' ? 1 : 0)) : 0;
      if (op === 'replace') out = out.slice(0, i) + ch + out.slice(i + 1);
      else if (op === 'insert') out = out.slice(0, i) + ch + out.slice(i);
      else out = out.slice(0, i) + out.slice(i + 1);
    }
    return out;
  });
}

function randomCells(c: ColumnSpec, seed: number): string[] {
  const noise = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 30 });
  const arb = fc.oneof(
    { weight: 2, arbitrary: noise },
    { weight: 3, arbitrary: mutated(templates(c)) },
    { weight: 1, arbitrary: templates(c) },
  );
  return fc.sample(arb, { seed, numRuns: RANDOM_PER_KIND });
}

/**
 * A contract timestamp in the one form ECMAScript defines `Date.parse` for (date 'T' time, offset '+HH:MM'), so
 * the reference is the ISO meaning; other forms fall to V8's legacy parser (see the last describe block).
 */
const canonicalInstant = (s: string) => s.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');

/** What the JS path makes of a cell the contract accepts, in the store's typed form. */
function jsTyped(c: ColumnSpec, value: unknown): unknown {
  const k = c.kind;
  if (value === null)
    return k.type === 'date'
      ? -1
      : k.type === 'enum' || k.type === 'bool'
        ? 255
        : k.type === 'id' || k.type === 'text'
          ? null
          : NaN;
  switch (k.type) {
    case 'id':
    case 'text':
      // Compared as UTF-8 bytes: the node binding decodes text with a TextDecoder, which drops a leading U+FEFF.
      return Buffer.from(value as string, 'utf8')
        .toString('hex')
        .toUpperCase();
    case 'enum':
      return k.values.indexOf(value as string);
    case 'int':
    case 'number':
      return value;
    case 'date':
      return dayOf(value as string);
    case 'timestamp':
      return Date.parse(canonicalInstant(value as string));
    case 'bool':
      return value ? 1 : 0;
  }
}

let db: OpenDuckDB;
let conn: DuckDBConnection;
let table = 0;

/** Each cell judged by SQL: whether it breaks the rule, and its typed form. */
async function judge(
  c: ColumnSpec,
  cells: readonly (string | null)[],
): Promise<{ bad: boolean; typed: unknown }[]> {
  const name = `cells_${++table}`;
  await conn.run(`CREATE TABLE ${name} (i INTEGER, x VARCHAR)`);
  const app = await conn.createAppender(name);
  cells.forEach((s, i) => {
    app.appendInteger(i);
    if (s === null) app.appendNull();
    else app.appendVarchar(s);
    app.endRow();
  });
  app.closeSync();
  const text = c.kind.type === 'id' || c.kind.type === 'text';
  const typed = text ? `hex(${typedCellSql(c, 'x')})` : typedCellSql(c, 'x');
  const r = await conn.runAndReadAll(
    `SELECT ${invalidCellSql(c, 'x')} AS bad, ${typed} AS typed FROM ${name} ORDER BY i`,
  );
  await conn.run(`DROP TABLE ${name}`);
  return (r.getRowObjectsJS() as { bad: boolean; typed: unknown }[]).map((o) => ({
    bad: o.bad,
    typed: typeof o.typed === 'bigint' ? Number(o.typed) : o.typed,
  }));
}

/** Cells where SQL and the JS parser disagree on validity, or on the typed value of a valid cell. */
async function disagreements(c: ColumnSpec, cells: readonly (string | null)[]): Promise<string[]> {
  const sql = await judge(c, cells);
  const parse = cellParser(c);
  const out: string[] = [];
  cells.forEach((s, i) => {
    const js = parse(s);
    const got = sql[i]!;
    if (typeof got.bad !== 'boolean')
      out.push(`${JSON.stringify(s)}: SQL gave ${String(got.bad)}, not a boolean`);
    else if (got.bad === js.ok)
      out.push(
        `${JSON.stringify(s)}: JS says ${js.ok ? 'valid' : 'invalid'}, SQL says ${got.bad ? 'invalid' : 'valid'}`,
      );
    else if (js.ok) {
      const want = jsTyped(c, js.value);
      if (!Object.is(want, got.typed))
        out.push(`${JSON.stringify(s)}: typed JS ${String(want)}, SQL ${String(got.typed)}`);
    }
  });
  return out;
}

beforeAll(async () => {
  db = await openDuckDB();
  conn = db.conn;
});
afterAll(() => db.close());

describe('invalidCellSql and typedCellSql follow the contract parser (cellParser)', () => {
  it('covers every kind of column, nullable and not, and every kind the contract tables use', () => {
    const kinds = ['bool', 'date', 'enum', 'id', 'int', 'number', 'text', 'timestamp'];
    for (const nullable of [false, true])
      expect(
        [...new Set(HAND.filter((c) => c.nullable === nullable).map((c) => c.kind.type))].sort(),
      ).toEqual(kinds);
    // The contract's own columns (ranges and enum lists as they are) join the hand-made ones.
    expect(
      CONTRACT.map((c) => c.kind.type).filter((k, i, a) => a.indexOf(k) === i).length,
    ).toBeGreaterThanOrEqual(7);
    expect(CONTRACT.some((c) => c.nullable)).toBe(true);
  });

  it('the edge cases exercise both answers for every kind (the list can catch a rule that says always yes or no)', () => {
    for (const c of HAND) {
      const p = cellParser(c);
      const ok = EDGE.filter((s) => p(s).ok).length;
      if (c.kind.type === 'id' || c.kind.type === 'text') continue;
      expect(ok, c.name).toBeGreaterThan(0);
      expect(ok, c.name).toBeLessThan(EDGE.length);
    }
  });

  it.each(COLUMNS.map((c) => [c.name, c] as const))('edge cases: %s', async (_name, c) => {
    expect(await disagreements(c, EDGE)).toEqual([]);
  });

  it.each(COLUMNS.map((c, i) => [c.name, c, i] as const))(
    `${RANDOM_PER_KIND} seeded random cells: %s`,
    async (_name, c, i) => {
      const cells = randomCells(c, SEED + i);
      const p = cellParser(c);
      // The generator makes both answers common, or the comparison would say little.
      const valid = cells.filter((s) => p(s).ok).length;
      if (c.kind.type !== 'id' && c.kind.type !== 'text') {
        expect(valid, 'valid cells').toBeGreaterThan(cells.length / 20);
        expect(valid, 'valid cells').toBeLessThan(cells.length * 0.95);
      }
      const bad = await disagreements(c, cells);
      expect(bad.slice(0, 15), `${bad.length} of ${cells.length} cells`).toEqual([]);
    },
  );
});

describe('a cell the contract refuses has no date in the typed form', () => {
  // The store keeps history rows inside a snapshot's window by their typed date, and checks the cells of those
  // rows and of rows whose date is missing: a refused date that still typed to a day outside the window would be
  // dropped unchecked instead of named.
  it.each(
    COLUMNS.filter((c) => c.kind.type === 'date' || c.kind.type === 'timestamp').map(
      (c, i) => [c.name, c, i] as const,
    ),
  )('%s', async (_name, c, i) => {
    const p = cellParser(c);
    const refused = [...EDGE, ...randomCells(c, SEED + 1000 + i)].filter((s) => !p(s).ok);
    expect(refused.length).toBeGreaterThan(100);
    const sql = await judge(c, refused);
    const missing = c.kind.type === 'date' ? -1 : NaN;
    const typed = refused.filter((_s, j) => !Object.is(sql[j]!.typed, missing)).map((s) => JSON.stringify(s));
    expect(typed.slice(0, 10), `${typed.length} of ${refused.length}`).toEqual([]);
  });
});

describe('the JS reading of dates and timestamps (the API path: prepareHistory, isoDay)', () => {
  // Defects of the JS side the comparison above found: Date reads years 0-99 as 1900-1999, and V8's legacy parser
  // (space separator, '+HHMM') accepted offsets past 23:59. The contract now takes years 1900-2199 and offsets up
  // to 23:59 (columns.ts, DATE_YEARS), so both paths read every date and timestamp it accepts the same way.
  const dateCol = spec('d', { type: 'date' });
  const tsCol = spec('ts', { type: 'timestamp' });

  // Date.UTC maps years 0-99 to 1900-1999, so isoDay('0024-01-05') is a day of 1924; dayOf (Date.parse of the
  // ISO form) and the store say year 24. Fix: `new Date(0).setUTCFullYear(y, m - 1, d)`, or refuse years before
  // 1900 in isIsoDate.
  it('isoDay reads every contract date as dayOf does', () => {
    const cells = ['0024-01-05', '0099-12-31', '0000-02-29', ...randomCells(dateCol, SEED + 7)];
    const ok = cells.filter((s) => cellParser(dateCol)(s).ok);
    expect(ok.filter((s) => isoDay(s) !== dayOf(s))).toEqual([]);
  });

  // V8 reads 'YYYY-MM-DD hh:mm...' (space) and '+HHMM' with its legacy parser: years 0-99 become 1900-1999 or
  // 2000, and offsets past 23:59 ('+2530', '-75:00') are accepted, while with a 'T' and '+HH:MM' they are NaN.
  // The contract accepts all of these forms. Fix: isIsoTimestamp refuses offsets past 23:59, and the API path
  // parses the canonical form (space -> 'T', '+HHMM' -> '+HH:MM') or the parts, as epochMsSql does.
  it('Date.parse reads every contract timestamp as its ISO meaning', () => {
    const cells = [
      '0050-01-05 10:00:00Z',
      '0000-01-01 00:00:00Z',
      '2024-01-05 10:00:00+2530',
      ...randomCells(tsCol, SEED + 8),
    ];
    const ok = cells.filter((s) => cellParser(tsCol)(s).ok);
    expect(ok.filter((s) => !Object.is(Date.parse(s), Date.parse(canonicalInstant(s))))).toEqual([]);
  });

  // An offset of +24:00 or +12:60 passes the contract, and both paths then read the instant as NaN.
  it('the contract refuses a timestamp whose offset Date.parse cannot read', () => {
    for (const s of ['2024-01-05T10:00:00+24:00', '2024-01-05T10:00:00+12:60', '2024-01-05T10:00:00+99:99'])
      expect(cellParser(tsCol)(s).ok, s).toBe(false);
  });
});
