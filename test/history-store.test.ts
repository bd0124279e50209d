// The history store (src/data/history-store.ts) is the one reader of history tables. These tests give it files as
// exports really come — broken cells, broken CSV structure, quoting, a BOM, CRLF, Unicode ids, Parquet, duplicates —
// and hold its features to an independent reference: the JS reader and the feature builder on whole histories, and
// the API path on archives cut to the declared lookback (with payments).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataContractError } from '../src/core/errors.ts';
import { buildFeatures, FEATURE_COUNT, type SnapshotLike } from '../src/core/features/builder.ts';
import { ARCHIVE_LOOKBACK, FEATURES } from '../src/core/features/definitions.ts';
import { type ContactLike, type InstallmentLike, prepareHistory } from '../src/core/features/history.ts';
import type { PaymentLike } from '../src/core/features/payments.ts';
import { type AccountRow, TABLES, type TableName } from '../src/core/schema/tables.ts';
import { type AccountArchive, archiveFeatures } from '../src/core/scoring/score.ts';
import { replaySnapshots } from '../src/data/backtest-snapshots.ts';
import { duckType, sqlString, withDuckDB } from '../src/data/duckdb.ts';
import { generateWorld } from '../src/data/generate.ts';
import { HistoryStore } from '../src/data/history-store.ts';
import type { Row } from '../src/data/reader.ts';
import { loadSnapshotDataset, type SnapshotDataset } from '../src/data/snapshot-dataset.ts';
import { cliInProcess } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';
import { readAll } from './helpers/world.ts';

const DAY_MS = 86_400_000;
const WORLD = { accounts: 300, months: 12, seed: 31_337, start: '2024-01-01' };
const dayOf = (iso: string) => Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / DAY_MS);

// ---- a world as CSV text, editable cell by cell ------------------------------------------------------------------

/** A generated CSV file as lines of cells (generated files hold no quotes or commas inside cells). */
interface Csv {
  header: string[];
  rows: string[][];
}

function readCsv(path: string): Csv {
  const text = readFileSync(path, 'utf8');
  expect(text.includes('"'), `${path} is plain`).toBe(false);
  const lines = text.split('\n').filter((l) => l !== '');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** A CSV cell as a writer that follows RFC 4180 writes it. */
const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

function writeCsv(path: string, csv: Csv, opts: { bom?: boolean; crlf?: boolean } = {}): void {
  const eol = opts.crlf ? '\r\n' : '\n';
  const lines = [csv.header, ...csv.rows].map((r) => r.map(quote).join(','));
  writeFileSync(path, `${opts.bom ? '\ufeff' : ''}${lines.join(eol)}${eol}`);
}

const col = (csv: Csv, name: string) => {
  const j = csv.header.indexOf(name);
  if (j < 0) throw new Error(`no column ${name}`);
  return j;
};

/** A copy of a world folder. */
function copyWorld(from: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from))
    if (f.endsWith('.csv') || f === 'world.json') copyFileSync(join(from, f), join(to, f));
  return to;
}

let root: string;
let clean: string;
let seq = 0;

/**
 * A copy of the clean world with one CSV file changed by `edit` (which may change rows in place); returns the
 * folder. Lines are 1-based with the header as line 1, so data row r (0-based in `rows`) is line r + 2.
 */
function variant(
  table: string,
  edit: (csv: Csv) => void,
  opts: { bom?: boolean; crlf?: boolean } = {},
): string {
  const dir = copyWorld(clean, join(root, `v${++seq}`));
  const csv = readCsv(join(dir, `${table}.csv`));
  edit(csv);
  writeCsv(join(dir, `${table}.csv`), csv, opts);
  return dir;
}

/** A folder whose one file has raw text lines replaced (for structural breakage no CSV writer would make). */
function rawVariant(table: string, edit: (lines: string[]) => void): string {
  const dir = copyWorld(clean, join(root, `v${++seq}`));
  const path = join(dir, `${table}.csv`);
  const lines = readFileSync(path, 'utf8').split('\n');
  edit(lines);
  writeFileSync(path, lines.join('\n'));
  return dir;
}

const errorOf = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'the read should have failed').toBeInstanceOf(Error);
  return e as Error;
};

/** Bit-for-bit equality of two feature matrices; names the first few cells that differ. */
function featureDiffs(a: Float64Array, b: Float64Array, label: (row: number) => string): string[] {
  const out: string[] = [];
  if (a.length !== b.length) return [`${a.length / FEATURE_COUNT} rows vs ${b.length / FEATURE_COUNT}`];
  for (let i = 0; i < a.length && out.length < 10; i++)
    if (!Object.is(a[i], b[i]))
      out.push(
        `${label(Math.floor(i / FEATURE_COUNT))} ${FEATURES[i % FEATURE_COUNT]!.name}: ${a[i]} vs ${b[i]}`,
      );
  return out;
}

const cli = cliInProcess;

// ---- the clean world and the rows the tests break ---------------------------------------------------------------

let base: SnapshotDataset;
let accounts: Csv;
let installments: Csv;
let contacts: Csv;
/** An account with a delinquent snapshot, an instalment due and a contact inside that snapshot's lookback. */
let used: { id: string; asOf: string; accountsRow: number; installmentRow: number; contactRow: number };
/** An account never delinquent, with instalments and contacts: no read of delinquent snapshots touches it. */
let unused: { id: string; accountsRow: number; installmentRow: number; contactRow: number };

beforeAll(async () => {
  root = tmpDir('repayrisk-store-');
  clean = join(root, 'clean');
  await generateWorld({ ...WORLD, out: clean, format: 'csv' });
  base = await loadSnapshotDataset(clean);
  accounts = readCsv(join(clean, 'accounts.csv'));
  installments = readCsv(join(clean, 'installments.csv'));
  contacts = readCsv(join(clean, 'contacts.csv'));
  const [aId, aDate, aDpd] = ['account_id', 'as_of_date', 'days_past_due'].map((n) => col(accounts, n));
  const [iId, iDue] = ['account_id', 'due_date'].map((n) => col(installments, n));
  const [cId, cTs] = ['account_id', 'ts'].map((n) => col(contacts, n));
  const delinquent = new Set(accounts.rows.filter((r) => Number(r[aDpd!]) >= 1).map((r) => r[aId!]!));
  for (const [k, r] of accounts.rows.entries()) {
    if (Number(r[aDpd!]) < 1) continue;
    const asOf = dayOf(r[aDate!]!);
    const ins = installments.rows.findIndex(
      (x) => x[iId!] === r[aId!] && dayOf(x[iDue!]!) < asOf && dayOf(x[iDue!]!) >= asOf - 60,
    );
    const con = contacts.rows.findIndex(
      (x) =>
        x[cId!] === r[aId!] &&
        Date.parse(x[cTs!]!) < asOf * DAY_MS &&
        Date.parse(x[cTs!]!) >= (asOf - 60) * DAY_MS,
    );
    if (ins >= 0 && con >= 0) {
      used = { id: r[aId!]!, asOf: r[aDate!]!, accountsRow: k, installmentRow: ins, contactRow: con };
      break;
    }
  }
  for (const [k, r] of accounts.rows.entries()) {
    const id = r[aId!]!;
    if (delinquent.has(id)) continue;
    const ins = installments.rows.findIndex((x) => x[iId!] === id);
    const con = contacts.rows.findIndex((x) => x[cId!] === id);
    if (ins >= 0 && con >= 0) {
      unused = { id, accountsRow: k, installmentRow: ins, contactRow: con };
      break;
    }
  }
  expect(used, 'a delinquent account with recent history').toBeDefined();
  expect(unused, 'a never-delinquent account with history').toBeDefined();
  expect(base.x.rows).toBeGreaterThan(100);
}, 120_000);

// ---- bad cells ----------------------------------------------------------------------------------------------------

/** The line an error must name for data row `r` (0-based) of a file with a header. */
const where = (file: string, r: number, column: string) =>
  `${file}: row ${r + 1} (line ${r + 2}), column '${column}'`;

describe('a bad cell in a row the read uses stops it, naming file, row, line, column, expected and got', () => {
  const cases: [string, string, () => number, string, string, RegExp][] = [
    [
      'NA for an amount',
      'installments',
      () => used.installmentRow,
      'amount_due',
      'NA',
      /expected a number in \[0, 1e12\], got 'NA'/,
    ],
    [
      'a decimal comma',
      'installments',
      () => used.installmentRow,
      'amount_due',
      '12,5',
      /expected a number in \[0, 1e12\], got '12,5'/,
    ],
    [
      'NULL in a non-nullable column',
      'accounts',
      () => used.accountsRow,
      'balance',
      'NULL',
      /expected a number.*, got 'NULL'/,
    ],
    [
      'an unknown enum value',
      'contacts',
      () => used.contactRow,
      'channel',
      'whatsapp',
      /expected one of sms\|email\|app\|call\|visit\|letter\|legal, got 'whatsapp'/,
    ],
    [
      'a timestamp without offset',
      'contacts',
      () => used.contactRow,
      'ts',
      '2024-03-05T10:00:00',
      /expected an ISO 8601 timestamp with offset .*, got '2024-03-05T10:00:00'/,
    ],
    [
      'a date that does not exist',
      'installments',
      () => used.installmentRow,
      'due_date',
      '2024-02-30',
      /expected an ISO date YYYY-MM-DD \(years 1900-2199\), got '2024-02-30'/,
    ],
    [
      'an empty required cell',
      'installments',
      () => used.installmentRow,
      'amount_paid',
      '',
      /expected a number in \[0, 1e12\], got an empty cell/,
    ],
  ];

  it.each(cases)('%s', async (_what, table, row, column, value, expected) => {
    const r = row();
    const dir = variant(table, (csv) => {
      csv.rows[r]![col(csv, column)] = value;
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e).toBeInstanceOf(DataContractError);
    const line = e.message.split('\n').find((l) => l.startsWith(where(`${table}.csv`, r, column)));
    expect(line, e.message).toBeDefined();
    expect(line).toMatch(expected);
  });
});

describe('a bad cell in a row no read uses', () => {
  // Documented behaviour: the store validates exactly the rows it reads; `repayrisk validate` checks every row.
  const cases: [string, string, () => number, string, string][] = [
    [
      'NA amount of a never-delinquent account',
      'installments',
      () => unused.installmentRow,
      'amount_due',
      'NA',
    ],
    [
      'unknown channel of a never-delinquent account',
      'contacts',
      () => unused.contactRow,
      'channel',
      'whatsapp',
    ],
    [
      'NULL balance on a snapshot that is not delinquent',
      'accounts',
      () => unused.accountsRow,
      'balance',
      'NULL',
    ],
  ];

  it.each(cases)(
    '%s: the read goes on with the same features, and validate names the cell',
    async (_w, table, row, column, value) => {
      const r = row();
      const dir = variant(table, (csv) => {
        csv.rows[r]![col(csv, column)] = value;
      });
      const ds = await loadSnapshotDataset(dir);
      expect(ds.accountIds).toEqual(base.accountIds);
      expect(featureDiffs(ds.x.data, base.x.data, (i) => ds.accountIds[i]!)).toEqual([]);
      const v = await cli('validate', '--history', dir);
      expect(v.code).not.toBe(0);
      expect(v.err).toContain(`${where(`${table}.csv`, r, column)}: expected `);
      expect(v.err).toContain(`got '${value}'`);
    },
  );
});

describe("rows outside every snapshot's lookback are not read, unless their date is malformed", () => {
  /** An instalment of a delinquent account due well before the window of its first delinquent snapshot. */
  function oldInstalment(): number {
    const [aId, aDate, aDpd] = ['account_id', 'as_of_date', 'days_past_due'].map((n) => col(accounts, n));
    const firstDelinquent = new Map<string, number>();
    for (const r of accounts.rows)
      if (Number(r[aDpd!]) >= 1) {
        const d = dayOf(r[aDate!]!);
        firstDelinquent.set(r[aId!]!, Math.min(d, firstDelinquent.get(r[aId!]!) ?? d));
      }
    const [iId, iDue] = ['account_id', 'due_date'].map((n) => col(installments, n));
    const r = installments.rows.findIndex((x) => {
      const first = firstDelinquent.get(x[iId!]!);
      return first !== undefined && dayOf(x[iDue!]!) < first - ARCHIVE_LOOKBACK.installmentsDays - 30;
    });
    expect(r, 'an old instalment of a delinquent account').toBeGreaterThanOrEqual(0);
    return r;
  }

  it('a bad amount on an instalment due before the window does not stop the read', async () => {
    const r = oldInstalment();
    const dir = variant('installments', (csv) => {
      csv.rows[r]![col(csv, 'amount_due')] = 'NA';
    });
    const ds = await loadSnapshotDataset(dir);
    expect(featureDiffs(ds.x.data, base.x.data, (i) => ds.accountIds[i]!)).toEqual([]);
  });

  // Whether a row is inside a window is decided on its date: a date the contract refuses cannot place it, so the
  // row is checked and named, whatever date it resembles.
  it.each([
    ['a timestamp in a date column', (d: string) => `${d}T00:00:00Z`],
    ['a trailing space', (d: string) => `${d} `],
    ['Infinity', () => 'Infinity'],
  ] as const)('a due date with %s is named even when it looks older than the window', async (_w, bad) => {
    const r = oldInstalment();
    let value = '';
    const dir = variant('installments', (csv) => {
      const j = col(csv, 'due_date');
      value = bad(csv.rows[r]![j]!);
      csv.rows[r]![j] = value;
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e.message).toContain(
      `${where('installments.csv', r, 'due_date')}: expected an ISO date YYYY-MM-DD (years 1900-2199), got '${value}'`,
    );
  });
});

describe('the scope of a read is decided on well-formed cells', () => {
  it('a malformed days_past_due that reads as 1 (1.0) puts the snapshot in scope, where it is named', async () => {
    const dir = variant('accounts', (csv) => {
      csv.rows[unused.accountsRow]![col(csv, 'days_past_due')] = '1.0';
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e.message).toContain(
      `${where('accounts.csv', unused.accountsRow, 'days_past_due')}: expected an integer`,
    );
  });

  // DuckDB casts '0.0' (pandas' float export of an int column with gaps), ' 0' and even '0.4' to 0: the scope
  // leaves out only a well-formed integer zero, so these are read and named.
  it.each(['0.0', ' 0', '0.4'])(
    'a malformed days_past_due that DuckDB casts to 0 (%j) is named, not skipped',
    async (value) => {
      const dir = variant('accounts', (csv) => {
        csv.rows[unused.accountsRow]![col(csv, 'days_past_due')] = value;
      });
      const e = await errorOf(loadSnapshotDataset(dir));
      expect(e.message).toContain(where('accounts.csv', unused.accountsRow, 'days_past_due'));
    },
  );
});

// ---- CSV structure ------------------------------------------------------------------------------------------------

describe('broken CSV structure is named by its line', () => {
  const breaks: [string, string, () => number, (l: string) => string][] = [
    ['an extra field', 'installments', () => used.installmentRow, (l) => `${l},surplus`],
    ['a short row', 'installments', () => used.installmentRow, (l) => l.split(',').slice(0, -2).join(',')],
    [
      'an unterminated quote',
      'contacts',
      () => used.contactRow,
      (l) => {
        const cells = l.split(',');
        cells[1] = `"${cells[1]}`;
        return cells.join(',');
      },
    ],
  ];
  const broken = (table: string, r: number, breakLine: (l: string) => string) =>
    rawVariant(table, (lines) => {
      lines[r + 1] = breakLine(lines[r + 1]!);
    });

  it.each(breaks)('%s in %s.csv: validate names file and line', async (_w, table, row, breakLine) => {
    const r = row();
    const v = await cli('validate', '--history', broken(table, r, breakLine));
    expect(v.code).not.toBe(0);
    expect(v.err).toMatch(new RegExp(`${table}\\.csv: line ${r + 2}\\b`));
  });

  // A scan that fails on a CSV file checks its structure first, so the read names file and line, not a buffer.
  for (const [what, table, row, breakLine] of breaks)
    it(`${what} in ${table}.csv: a read names file and line`, async () => {
      const r = row();
      const e = await errorOf(loadSnapshotDataset(broken(table, r, breakLine)));
      expect(e.message).toMatch(new RegExp(`${table}\\.csv: line ${r + 2}\\b`));
    });
});

// ---- files as exports write them ---------------------------------------------------------------------------------

describe('quoting, a BOM, CRLF and Unicode ids read as the clean file does', () => {
  // An id with a comma, doubled quotes, accents, CJK and an emoji (with a zero-width joiner), the same prefix on
  // every account so the account order is the clean world's.
  const PREFIX = 'Ünï,"名前"-👩‍👩‍👧-café-';

  it('every file rewritten with quoted Unicode ids, a BOM and CRLF line ends gives the same features', async () => {
    const dir = copyWorld(clean, join(root, 'unicode'));
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.csv'))) {
      const csv = readCsv(join(dir, f));
      const j = col(csv, 'account_id');
      for (const r of csv.rows) r[j] = PREFIX + r[j];
      writeCsv(join(dir, f), csv, { bom: true, crlf: true });
    }
    expect(readFileSync(join(dir, 'accounts.csv'), 'utf8').slice(0, 40)).toMatch(/^\ufeffaccount_id,/);
    expect(readFileSync(join(dir, 'installments.csv'), 'utf8')).toContain(`\r\n"Ünï,""名前""-👩‍👩‍👧-café-`);
    const ds = await loadSnapshotDataset(dir);
    expect(ds.accountIds).toEqual(base.accountIds.map((id) => PREFIX + id));
    expect(featureDiffs(ds.x.data, base.x.data, (i) => ds.accountIds[i]!)).toEqual([]);
    expect([...ds.paid30]).toEqual([...base.paid30]);
    expect([...ds.truePay]).toEqual([...base.truePay]);
    const v = await cli('validate', '--history', dir);
    expect(v.err).not.toMatch(/^repayrisk:/m);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^ok {2}installments +\d+ rows/m);
  });
});

describe('contact timestamps in every form the contract allows read as the same instants', () => {
  // The generator writes '2024-03-05T10:00:00Z'; exports write local times with offsets, a space for the 'T',
  // '+0530' without a colon, no seconds, or milliseconds. Each contact gets another form of the same instant.
  const FORMS: ((ms: number) => string)[] = [
    (ms) => local(ms, 330, ' ', ':ss', '+05:30'),
    (ms) => local(ms, 330, 'T', ':ss', '+0530'),
    (ms) => local(ms, -480, 'T', ':ss.000', '-08:00'),
    (ms) => local(ms, -600, ' ', ':ss.000', '-1000'),
    (ms) => local(ms, 0, ' ', ':ss', 'Z'),
    (ms) => local(ms, 60, 'T', ':ss', '+01:00'),
  ];
  /** The instant `ms` as local time at `offsetMin` (seconds left out when they are zero and `sec` allows). */
  function local(ms: number, offsetMin: number, sep: string, sec: string, off: string): string {
    const iso = new Date(ms + offsetMin * 60_000).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const s = iso.slice(17, 19);
    const seconds = s === '00' && sec === ':ss' ? '' : sec.replace('ss', s);
    return `${iso.slice(0, 10)}${sep}${iso.slice(11, 16)}${seconds}${off}`;
  }

  it("features equal the clean world's", async () => {
    let noSeconds = 0;
    const dir = variant('contacts', (csv) => {
      const j = col(csv, 'ts');
      csv.rows.forEach((r, k) => {
        const ms = Date.parse(r[j]!);
        r[j] = FORMS[k % FORMS.length]!(ms);
        expect(Date.parse(r[j]!.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))).toBe(ms);
        if (/[T ]\d{2}:\d{2}(Z|[+-])/.test(r[j]!)) noSeconds++;
      });
    });
    expect(noSeconds, 'contacts written without seconds').toBeGreaterThan(5);
    const ds = await loadSnapshotDataset(dir);
    expect(featureDiffs(ds.x.data, base.x.data, (i) => ds.accountIds[i]!)).toEqual([]);
  });
});

describe('Parquet', () => {
  it('the same world written as Parquet (typed columns, DuckDB COPY) gives bit-identical features', async () => {
    const dir = join(root, 'parquet');
    await generateWorld({ ...WORLD, out: dir, format: 'parquet' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.parquet')).length).toBeGreaterThanOrEqual(6);
    const ds = await loadSnapshotDataset(dir);
    expect(ds.accountIds).toEqual(base.accountIds);
    expect([...ds.asOf]).toEqual([...base.asOf]);
    expect(featureDiffs(ds.x.data, base.x.data, (i) => ds.accountIds[i]!)).toEqual([]);
    expect([...ds.paid30]).toEqual([...base.paid30]);
  });

  it('an empty required cell in a Parquet file is named by file, row and column (Parquet has no lines)', async () => {
    const csvDir = variant('installments', (csv) => {
      csv.rows[used.installmentRow]![col(csv, 'amount_due')] = '';
    });
    const dir = join(root, 'parquet-broken');
    mkdirSync(dir);
    await withDuckDB(async (conn) => {
      for (const f of readdirSync(csvDir).filter((x) => x.endsWith('.csv'))) {
        const t = TABLES[f.replace('.csv', '') as TableName];
        const cols = t.columns.map((c) => `${sqlString(c.name)}: ${sqlString(duckType(c))}`).join(', ');
        await conn.run(
          `COPY (SELECT * FROM read_csv(${sqlString(join(csvDir, f))}, header = true, columns = {${cols}})) ` +
            `TO ${sqlString(join(dir, f.replace('.csv', '.parquet')))} (FORMAT parquet)`,
        );
      }
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e).toBeInstanceOf(DataContractError);
    expect(e.message).toContain(
      `installments.parquet: row ${used.installmentRow + 1}, column 'amount_due': expected a number in [0, 1e12], got an empty cell`,
    );
  });
});

// ---- duplicates ---------------------------------------------------------------------------------------------------

describe('duplicates are errors naming what is duplicated', () => {
  it('two snapshots of one account on one date', async () => {
    const dir = variant('accounts', (csv) => {
      csv.rows.splice(used.accountsRow + 1, 0, [...csv.rows[used.accountsRow]!]);
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e.message).toContain('accounts.csv');
    expect(e.message).toContain(`account "${used.id}"`);
    expect(e.message).toMatch(/more than one snapshot on one date/);
  });

  it('two outcome rows for one snapshot', async () => {
    const outcomes = readCsv(join(clean, 'outcomes.csv'));
    const k = outcomes.rows.findIndex((r) => r[0] === used.id && r[1] === used.asOf);
    expect(k).toBeGreaterThanOrEqual(0);
    const dir = variant('outcomes', (csv) => {
      csv.rows.push([...csv.rows[k]!]);
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e.message).toContain('outcomes.csv');
    expect(e.message).toContain(`account "${used.id}"`);
    expect(e.message).toContain(used.asOf);
  });

  it('two truth rows for one snapshot name truth.csv', async () => {
    const truth = readCsv(join(clean, 'truth.csv'));
    const k = truth.rows.findIndex((r) => r[0] === used.id && r[1] === used.asOf);
    const dir = variant('truth', (csv) => {
      csv.rows.push([...csv.rows[k]!]);
    });
    const e = await errorOf(loadSnapshotDataset(dir));
    expect(e.message).toContain('truth.csv');
  });
});

// ---- the numbers: against an independent reading ------------------------------------------------------------------

const byAccount = (rows: Row[]) => {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    const id = r.account_id as string;
    const list = m.get(id);
    if (list) list.push(r);
    else m.set(id, [r]);
  }
  return m;
};

describe('features equal an independent reading of the files', () => {
  it('data-samples: loadSnapshotDataset equals prepareHistory + buildFeatures on whole histories read by the JS reader', async () => {
    const dir = 'data-samples';
    const [acc, ins, con, out] = await Promise.all([
      readAll(join(dir, 'accounts.csv'), 'accounts'),
      readAll(join(dir, 'installments.csv'), 'installments'),
      readAll(join(dir, 'contacts.csv'), 'contacts'),
      readAll(join(dir, 'outcomes.csv'), 'outcomes'),
    ]);
    const insBy = byAccount(ins);
    const conBy = byAccount(con);
    const paid = new Map(out.map((o) => [`${o.account_id}|${o.as_of_date}`, o.paid_30d as number]));
    // Delinquent snapshots in account order, then date order: the order the dataset promises.
    const snaps = acc
      .filter((a) => (a.days_past_due as number) >= 1)
      .sort((a, b) =>
        a.account_id === b.account_id
          ? (a.as_of_date as string).localeCompare(b.as_of_date as string)
          : (a.account_id as string) < (b.account_id as string)
            ? -1
            : 1,
      );
    const ref = new Float64Array(snaps.length * FEATURE_COUNT);
    const prepared = new Map<string, ReturnType<typeof prepareHistory>>();
    snaps.forEach((s, i) => {
      const id = s.account_id as string;
      let h = prepared.get(id);
      if (!h) {
        h = prepareHistory(
          (insBy.get(id) ?? []) as unknown as InstallmentLike[],
          (conBy.get(id) ?? []) as unknown as ContactLike[],
        );
        prepared.set(id, h);
      }
      buildFeatures(s as unknown as SnapshotLike, h, ref, i * FEATURE_COUNT);
    });
    const ds = await loadSnapshotDataset(dir);
    expect(ds.x.rows).toBe(snaps.length);
    expect(ds.accountIds).toEqual(snaps.map((s) => s.account_id));
    expect([...ds.asOf]).toEqual(snaps.map((s) => dayOf(s.as_of_date as string)));
    expect([...ds.overdue]).toEqual(snaps.map((s) => s.amount_overdue));
    expect(featureDiffs(ds.x.data, ref, (i) => `${snaps[i]!.account_id} ${snaps[i]!.as_of_date}`)).toEqual(
      [],
    );
    expect([...ds.paid30]).toEqual(
      snaps.map((s) => paid.get(`${s.account_id}|${s.as_of_date}`) ?? Number.NaN),
    );
  });

  it('countSnapshots counts the delinquent snapshots and the snapshots of one date', async () => {
    const store = await HistoryStore.open(clean, ['accounts', 'installments', 'contacts']);
    try {
      const dpd = col(accounts, 'days_past_due');
      const date = col(accounts, 'as_of_date');
      expect(await store.countSnapshots({ delinquent: true })).toBe(
        accounts.rows.filter((r) => Number(r[dpd]) >= 1).length,
      );
      expect(await store.countSnapshots({ asOf: '2024-06-01' })).toBe(
        accounts.rows.filter((r) => r[date] === '2024-06-01').length,
      );
    } finally {
      store.close();
    }
  });
});

describe('replaySnapshots (backtests) reads what the files hold', () => {
  it('the same features as loadSnapshotDataset, and per snapshot the contacts before the decision, the logged treatment and the outcome', async () => {
    const decision = (asOf: string) => Date.parse(`${asOf}T09:00:00Z`);
    const [con, tre, out] = await Promise.all([
      readAll(join(clean, 'contacts.csv'), 'contacts'),
      readAll(join(clean, 'treatments.csv'), 'treatments'),
      readAll(join(clean, 'outcomes.csv'), 'outcomes'),
    ]);
    const conBy = byAccount(con);
    const key = (r: Row) => `${r.account_id}|${r.as_of_date}`;
    const treBy = new Map(tre.map((r) => [key(r), r]));
    const outBy = new Map(out.map((r) => [key(r), r]));
    const features: number[] = [];
    const problems: string[] = [];
    let withContacts = 0;
    for await (const chunk of replaySnapshots(clean, decision, 50)) {
      features.push(...chunk.features);
      for (const s of chunk.snapshots) {
        const a = s.account as unknown as Row;
        const at = decision(a.as_of_date as string);
        const want = (conBy.get(a.account_id as string) ?? [])
          .filter((c) => Date.parse(c.ts as string) < at)
          .sort((x, y) => Date.parse(x.ts as string) - Date.parse(y.ts as string))
          .map((c) => ({ ...c, ts: Date.parse(c.ts as string) }));
        const got = s.contacts.map((c) => ({ ...c, ts: Date.parse(c.ts) }));
        if (want.length) withContacts++;
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${key(a)} contacts`);
        const t = treBy.get(key(a));
        const logged = t ? { treatment: t.treatment, propensity: t.propensity } : null;
        if (JSON.stringify(s.logged) !== JSON.stringify(logged)) problems.push(`${key(a)} logged`);
        if (!Object.is(s.paid30, outBy.get(key(a))?.paid_30d ?? Number.NaN))
          problems.push(`${key(a)} paid30`);
      }
    }
    expect(problems.slice(0, 10), `${problems.length} problems`).toEqual([]);
    expect(withContacts).toBeGreaterThan(20);
    expect(featureDiffs(Float64Array.from(features), base.x.data, (i) => base.accountIds[i]!)).toEqual([]);
  });
});

describe('with a payments table: the batch path equals the API path on archives cut to the declared lookback', () => {
  let ds: SnapshotDataset;
  let archives: AccountArchive[];
  let withoutPayments: Float64Array;
  let olderPayments = 0;

  beforeAll(async () => {
    const dir = join(root, 'payments');
    await generateWorld({
      accounts: 400,
      months: 12,
      seed: 8_080,
      start: '2024-01-01',
      out: dir,
      format: 'csv',
      payments: true,
    });
    ds = await loadSnapshotDataset(dir);
    const [acc, ins, con, pay] = await Promise.all([
      readAll(join(dir, 'accounts.csv'), 'accounts'),
      readAll(join(dir, 'installments.csv'), 'installments'),
      readAll(join(dir, 'contacts.csv'), 'contacts'),
      readAll(join(dir, 'payments.csv'), 'payments'),
    ]);
    const accBy = new Map(acc.map((a) => [`${a.account_id}|${a.as_of_date}`, a]));
    const insBy = byAccount(ins);
    const conBy = byAccount(con);
    const payBy = byAccount(pay);
    archives = ds.accountIds.map((id, i) => {
      const asOf = ds.asOf[i]!;
      const account = accBy.get(`${id}|${new Date(asOf * DAY_MS).toISOString().slice(0, 10)}`)!;
      const insFrom = asOf - ARCHIVE_LOOKBACK.installmentsDays;
      const conFrom = (asOf - ARCHIVE_LOOKBACK.contactsDays) * DAY_MS;
      const payments = payBy.get(id) ?? [];
      if (payments.some((p) => dayOf(p.paid_at as string) < insFrom)) olderPayments++;
      // What a caller knows on the snapshot's day: the windows before it, nothing on or after it.
      return {
        account: account as unknown as AccountRow,
        installments: (insBy.get(id) ?? []).filter((r) => {
          const d = dayOf(r.due_date as string);
          return d >= insFrom && d < asOf;
        }) as unknown as InstallmentLike[],
        contacts: (conBy.get(id) ?? []).filter((r) => {
          const ms = Date.parse(r.ts as string);
          return ms >= conFrom && ms < asOf * DAY_MS;
        }) as unknown as ContactLike[],
        payments: payments.filter((p) => {
          const d = dayOf(p.paid_at as string);
          return d >= insFrom && d < asOf;
        }) as unknown as PaymentLike[],
      };
    });
    withoutPayments = archiveFeatures(archives.map(({ payments: _p, ...a }) => a)).data;
  }, 120_000);

  it('has a few hundred delinquent snapshots, many with payments older than the window', () => {
    expect(ds.x.rows).toBeGreaterThan(300);
    expect(olderPayments).toBeGreaterThan(ds.x.rows / 4);
  });

  it('the payments change features (so the comparison below can fail)', () => {
    const changed = featureDiffs(ds.x.data, withoutPayments, (i) => ds.accountIds[i]!);
    expect(changed.length).toBeGreaterThan(0);
  });

  it('features: loadSnapshotDataset equals archiveFeatures with payments, bit for bit', () => {
    const api = archiveFeatures(archives).data;
    const label = (i: number) =>
      `${ds.accountIds[i]} ${new Date(ds.asOf[i]! * DAY_MS).toISOString().slice(0, 10)}`;
    expect(featureDiffs(ds.x.data, api, label)).toEqual([]);
  });
});
