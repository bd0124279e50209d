// Batch scoring of a whole book (`repayrisk score --history | --accounts`): the same answers as the score API's
// scoreAndDecide for each account alone, the same rows in CSV and Parquet, bad lines named, capacity book-wide.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import { type AccountRow, TABLES } from '../src/core/schema/tables.ts';
import type { AccountArchive } from '../src/core/scoring/score.ts';
import { withDuckDB } from '../src/data/duckdb.ts';
import { type Row, readTable } from '../src/data/reader.ts';
import { loadBatchState, scoreBook } from '../src/pipeline/score-book.ts';
import { trainTable } from '../src/pipeline/table.ts';
import { readPointer } from '../src/registry/artifact.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { scoreAndDecide } from '../src/service/score-request.ts';
import { makeAccount } from './helpers/account.ts';
import { cliInProcess } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

const SAMPLES = 'data-samples';
const AS_OF = '2024-12-01'; // the latest snapshot date of the samples
const NOW = Date.parse(`${AS_OF}T12:00:00Z`); // the documented default --now of --history

/** Runs the installed-style entry point as a user would, capturing output and exit code. */
function repayrisk(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/repayrisk.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const cli = cliInProcess;

type Out = Record<string, string | number | boolean | null>;

/**
 * Rows of an output file in file order, normalised so CSV (text) and Parquet (typed) compare equal: instants as
 * epoch ms, numbers as DOUBLE, flags as BOOLEAN.
 */
async function readOutput(path: string): Promise<Out[]> {
  const src = path.endsWith('.parquet')
    ? `read_parquet('${path}')`
    : `read_csv('${path}', all_varchar = true, header = true)`;
  return withDuckDB(async (c) => {
    const r = await c.runAndReadAll(`
      SELECT decision_id, account_id, CAST(as_of_date AS VARCHAR) AS as_of_date,
        CAST(epoch_ms(CAST(decided_at AS TIMESTAMPTZ)) AS DOUBLE) AS decided_at,
        CAST(willingness AS DOUBLE) AS willingness, CAST(ability AS DOUBLE) AS ability,
        CAST(expected_recovery AS DOUBLE) AS expected_recovery, segment, treatment, channel,
        CAST(epoch_ms(CAST(earliest_contact_at AS TIMESTAMPTZ)) AS DOUBLE) AS earliest_contact_at,
        CAST(offer_monthly_payment AS DOUBLE) AS offer_monthly_payment,
        CAST(offer_term_months AS DOUBLE) AS offer_term_months,
        CAST(offer_term_extension_months AS DOUBLE) AS offer_term_extension_months,
        CAST(offer_interest_relief AS DOUBLE) AS offer_interest_relief, CAST(offer_apr AS DOUBLE) AS offer_apr,
        CAST(offer_affordable AS BOOLEAN) AS offer_affordable, reason_codes, guardrails, model_version,
        policy_version, experiment_arm, call_team
      FROM ${src}`);
    return r.getRowObjectsJson() as Out[];
  });
}

/** Every row of a data-contract table, grouped by account (the samples are small). */
async function byAccount(file: string, table: 'installments' | 'contacts'): Promise<Map<string, Row[]>> {
  const m = new Map<string, Row[]>();
  for await (const batch of readTable(join(SAMPLES, file), TABLES[table]))
    for (const r of batch) {
      const id = r.account_id as string;
      m.set(id, [...(m.get(id) ?? []), r]);
    }
  return m;
}

/**
 * The samples' archives as of AS_OF, built independently of the batch path: each account's snapshot that day
 * with all of its instalments and contacts.
 */
async function sampleArchives(): Promise<Map<string, AccountArchive>> {
  const ins = await byAccount('installments.csv', 'installments');
  const con = await byAccount('contacts.csv', 'contacts');
  const out = new Map<string, AccountArchive>();
  for await (const batch of readTable(join(SAMPLES, 'accounts.csv'), TABLES.accounts))
    for (const r of batch) {
      if (r.as_of_date !== AS_OF) continue;
      const id = r.account_id as string;
      out.set(id, {
        account: r as unknown as AccountRow,
        installments: (ins.get(id) ?? []) as never,
        contacts: (con.get(id) ?? []) as never,
      });
    }
  return out;
}

describe('repayrisk score --history', () => {
  const dir = tmpDir();
  const csv = join(dir, 'book.csv');
  const parquet = join(dir, 'book.parquet');
  let csvRun: ReturnType<typeof repayrisk>;
  let rows: Out[];
  let state: LiveState;
  let archives: Map<string, AccountArchive>;

  beforeAll(async () => {
    csvRun = repayrisk('score', '--history', SAMPLES, '--out', csv);
    rows = csvRun.code === 0 ? await readOutput(csv) : [];
    state = await loadBatchState();
    archives = await sampleArchives();
  }, 120_000);

  it('writes one decision per account with a snapshot on the latest date, and says so', async () => {
    expect(csvRun.err).toBe('');
    expect(csvRun.code).toBe(0);
    const book = await withDuckDB(async (c) => {
      const r = await c.runAndReadAll(
        `SELECT count(DISTINCT account_id) AS n, count(DISTINCT account_id) FILTER (WHERE as_of_date = '${AS_OF}') AS day
         FROM read_csv('${SAMPLES}/accounts.csv', all_varchar = true)`,
      );
      return r.getRowObjectsJson()[0] as { n: string; day: string };
    });
    const day = Number(book.day);
    expect(rows).toHaveLength(day);
    expect(new Set(rows.map((r) => r.account_id)).size).toBe(day);
    expect(archives.size).toBe(day);
    const skipped = Number(book.n) - day;
    expect(csvRun.out).toMatch(
      new RegExp(
        `^scored ${day.toLocaleString('en-US')} accounts as of ${AS_OF} \\(skipped ${skipped} without a snapshot that day\\) at 2024-12-01T12:00:00.000Z: .* rows/s; run b[0-9a-f]{12} -> ${csv}\\n$`,
      ),
    );
    const policy = await readPolicyFile();
    const champion = readPointer('models', 'repayrisk', 'CHAMPION');
    const runId = String(rows[0]!.decision_id).split('-')[0];
    rows.forEach((r, i) => {
      expect(r.decision_id).toBe(`${runId}-${i + 1}`);
      expect(r.as_of_date).toBe(AS_OF);
      expect(r.decided_at).toBe(NOW);
      expect(r.policy_version).toBe(policy.version);
      expect(r.model_version).toBe(champion);
      expect(TREATMENTS).toContain(r.treatment);
      expect(String(r.reason_codes).length).toBeGreaterThan(0);
      expect(r.willingness).toBeGreaterThanOrEqual(0);
      expect(r.willingness).toBeLessThanOrEqual(1);
      expect((r.offer_monthly_payment !== null) === (r.treatment === 'plan_offer')).toBe(true);
    });
    // In account_id order, the order of the history stream.
    const ids = rows.map((r) => String(r.account_id));
    expect(ids).toEqual([...ids].sort());
    // No staging or temp files are left next to the output.
    expect(readdirSync(dir)).toEqual(['book.csv']);
  });

  it('writes the same rows to Parquet, with typed columns', async () => {
    const r = await cli('score', '--history', SAMPLES, '--out', parquet);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(await readOutput(parquet)).toEqual(rows);
    const types = await withDuckDB(async (c) => {
      const d = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${parquet}')`);
      return Object.fromEntries(d.getRowObjectsJson().map((x) => [x.column_name, x.column_type]));
    });
    expect(types).toMatchObject({
      as_of_date: 'DATE',
      decided_at: 'TIMESTAMP WITH TIME ZONE',
      earliest_contact_at: 'TIMESTAMP WITH TIME ZONE',
      willingness: 'DOUBLE',
      offer_term_months: 'BIGINT',
      offer_affordable: 'BOOLEAN',
      reason_codes: 'VARCHAR',
    });
  });

  it('gives each account what scoreAndDecide gives it alone at the same time', async () => {
    // One account of each contacted treatment the book has, plus a hold.
    const picks = ['plan_offer', 'human_call', 'gentle_nudge', 'hold']
      .map((t) => rows.find((r) => r.treatment === t))
      .filter((r): r is NonNullable<typeof r> => r !== undefined)
      .slice(0, 3);
    expect(picks).toHaveLength(3);
    for (const row of picks) {
      const archive = archives.get(String(row.account_id))!;
      const [alone] = scoreAndDecide([archive], state, NOW, { newId: () => 'single' }).results;
      expect(row.willingness).toBe(alone!.scores.willingness);
      expect(row.ability).toBe(alone!.scores.ability);
      expect(row.expected_recovery).toBe(alone!.scores.expected_recovery);
      expect(row.treatment).toBe(alone!.treatment);
      expect(row.channel).toBe(alone!.channel);
      expect(row.earliest_contact_at).toBe(
        alone!.earliest_contact_at === null ? null : Date.parse(alone!.earliest_contact_at),
      );
      expect(row.reason_codes).toBe(alone!.reason_codes.join('|'));
      expect(row.guardrails).toBe(alone!.guardrails.length ? alone!.guardrails.join('|') : null);
    }
  });

  it('shares call capacity across the whole book exactly as one batch would, whatever the chunk size', async () => {
    const out = join(dir, 'slots.csv');
    const s = await scoreBook({
      state,
      input: { history: SAMPLES },
      out,
      slots: { kind: 'total', slots: 5 },
      chunkSize: 100,
    });
    const whole = scoreAndDecide([...archives.values()], state, NOW, {
      newId: () => 'x',
      slots: { kind: 'total', slots: 5 },
    }).results;
    const got = await readOutput(out);
    expect(got.map((r) => r.account_id)).toEqual(whole.map((w) => w.account_id));
    got.forEach((r, i) => {
      const w = whole[i]!;
      expect([r.account_id, r.treatment, r.call_team, r.reason_codes]).toEqual([
        w.account_id,
        w.treatment,
        w.call_team,
        w.reason_codes.join('|'),
      ]);
    });
    expect(got.filter((r) => r.treatment === 'human_call')).toHaveLength(5);
    expect(s.callsAllocated).toBe(5);
    expect(s.callCandidates).toBe(rows.filter((r) => r.treatment === 'human_call').length);
    // Rows decided after the allocation are put back in input order.
    expect(got.map((r) => r.decision_id)).toEqual(got.map((_, i) => `${s.runId}-${i + 1}`));
  });

  it('rations field visits across the whole book as one batch would, not per chunk', async () => {
    // The staged policy visits; with a tight visit capacity, a chunked run must hand out the day's visits once.
    const staged = await loadBatchState({ policy: 'policies/staged.yaml' });
    const unlimited = scoreAndDecide([...archives.values()], staged, NOW, {
      newId: () => 'x',
      visitSlots: null,
    }).results;
    const wanted = unlimited.filter((w) => w.treatment === 'field_visit').length;
    expect(wanted, 'the staged policy visits some sample accounts').toBeGreaterThan(2);
    const slots = Math.floor(wanted / 2);
    const tight = { ...staged, policy: { ...staged.policy, visitCapacity: { slots } } };
    const whole = scoreAndDecide([...archives.values()], tight, NOW, { newId: () => 'x' }).results;
    for (const workers of [0, 1]) {
      const out = join(dir, `visits-${workers}.csv`);
      const s = await scoreBook({ state: tight, input: { history: SAMPLES }, out, chunkSize: 10, workers });
      const got = await readOutput(out);
      expect(
        got.filter((r) => r.treatment === 'field_visit'),
        `workers ${workers}`,
      ).toHaveLength(slots);
      expect(
        got.map((r) => [r.account_id, r.treatment, r.channel, r.call_team, r.reason_codes]),
        `workers ${workers}`,
      ).toEqual(
        whole.map((w) => [w.account_id, w.treatment, w.channel, w.call_team, w.reason_codes.join('|')]),
      );
      expect(s.callCandidates).toBeGreaterThanOrEqual(wanted);
      expect(got.map((r) => r.decision_id)).toEqual(got.map((_, i) => `${s.runId}-${i + 1}`));
    }
  });

  it('gives no human call with --call-slots 0', async () => {
    expect(rows.some((r) => r.treatment === 'human_call')).toBe(true);
    const out = join(dir, 'no-calls.csv');
    const r = await cli('score', '--history', SAMPLES, '--out', out, '--call-slots', '0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('call slots went to 0 of');
    const got = await readOutput(out);
    expect(got).toHaveLength(rows.length);
    expect(got.filter((x) => x.treatment === 'human_call')).toEqual([]);
  });

  it('scores a JSON-lines archive exactly as the history path scores the same account', async () => {
    const picks = rows.filter((r) => r.treatment !== 'hold').slice(0, 3);
    const file = join(dir, 'three.jsonl');
    writeFileSync(file, picks.map((r) => `${JSON.stringify(archives.get(String(r.account_id)))}\n`).join(''));
    const out = join(dir, 'three.csv');
    const res = await cli('score', '--accounts', file, '--out', out, '--now', `${AS_OF}T12:00:00Z`);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const strip = ({ decision_id: _, ...rest }: Out) => rest;
    expect((await readOutput(out)).map(strip)).toEqual(picks.map(strip));
  });

  it('leaves an existing output untouched when the run fails half-way', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    for (const f of ['accounts.csv', 'contacts.csv'])
      writeFileSync(join(broken, f), readFileSync(join(SAMPLES, f)));
    // Break an instalment of an account half-way through the book (the stream is sorted by account).
    const victim = String(rows[Math.floor(rows.length / 2)]!.account_id);
    const lines = readFileSync(join(SAMPLES, 'installments.csv'), 'utf8').split('\n');
    // Its latest instalment due before the book's date: inside every feature's window, so the read uses it
    // (the store checks the rows a read uses; older rows are never read).
    const asOf = String(rows[0]!.as_of_date);
    let at = -1;
    lines.forEach((l, i) => {
      if (l.startsWith(`${victim},`) && l.split(',')[2]! < asOf) at = i;
    });
    const cells = lines[at]!.split(',');
    cells[3] = 'lots'; // amount_due
    lines[at] = cells.join(',');
    writeFileSync(join(broken, 'installments.csv'), lines.join('\n'));
    const outDir = join(dir, 'kept');
    mkdirSync(outDir);
    const out = join(outDir, 'book.parquet');
    writeFileSync(out, 'yesterday');
    const r = await cli('score', '--history', broken, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`installments.csv: row ${at} (line ${at + 1}), column 'amount_due'`);
    expect(readFileSync(out, 'utf8')).toBe('yesterday');
    expect(readdirSync(outDir)).toEqual(['book.parquet']);
  });
});

describe('repayrisk score --accounts', () => {
  const dir = tmpDir();

  it('names every failing field of a bad line with its line number, scores the rest and exits 2', async () => {
    const good = { account: makeAccount(), installments: [], contacts: [] };
    const bad = {
      account: makeAccount({ account_id: 'A0002', days_past_due: 'ten' as never, product: 'yacht' as never }),
    };
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n{"account": \n`);
    const out = join(dir, 'mixed.csv');
    const r = repayrisk('score', '--accounts', file, '--out', out, '--now', '2026-11-25T15:00:00Z');
    expect(r.code).toBe(2);
    const err = r.err.trim().split('\n');
    expect(err.filter((l) => l.startsWith('line 2: '))).toHaveLength(2);
    expect(r.err).toMatch(/^line 2: account\.product: .*\(got "yacht"\)$/m);
    expect(r.err).toMatch(/^line 2: account\.days_past_due: .*\(got "ten"\)$/m);
    expect(r.err).toMatch(/^line 3: \(line\): not JSON: /m);
    expect(err.at(-1)).toBe(
      `repayrisk: 2 line(s) of ${file} were invalid (named above); the others were scored`,
    );
    expect(r.out).toMatch(/^scored 1 account, 2 invalid at 2026-11-25T15:00:00.000Z: /);
    const rows = await readOutput(out);
    expect(rows.map((x) => [x.account_id, x.decided_at])).toEqual([
      ['A0001', Date.parse('2026-11-25T15:00:00Z')],
    ]);
  });
});

describe('repayrisk score: options', () => {
  const dir = tmpDir();

  it('refuses combinations that do not fit, saying why (exit 2)', async () => {
    const out = join(dir, 'x.csv');
    const cases: [string[], string][] = [
      [
        ['--out', out],
        'repayrisk: score needs exactly one of --table FILE, --history DIR or --accounts FILE',
      ],
      [
        ['--history', SAMPLES, '--accounts', 'a.jsonl', '--out', out],
        'repayrisk: score needs exactly one of --table FILE, --history DIR or --accounts FILE (got --history and --accounts)',
      ],
      [
        ['--table', 't.csv', '--model', 'm', '--policy', 'p.yaml', '--call-slots', '3', '--out', out],
        'repayrisk: --policy, --call-slots cannot be used with --table (they are for scoring a book with --history or --accounts)',
      ],
      [
        ['--table', 't.csv', '--out', out],
        'repayrisk: score --table needs --model DIR (a model trained with train --table)',
      ],
      [
        ['--accounts', 'a.jsonl', '--as-of', AS_OF, '--out', out],
        'repayrisk: --as-of cannot be used with --accounts (each archive carries its own as_of_date)',
      ],
      [
        ['--history', SAMPLES, '--columns', 'a,b', '--out', out],
        'repayrisk: --columns cannot be used with --history (it is for --table)',
      ],
      [
        ['--history', SAMPLES, '--out', join(dir, 'x.xlsx')],
        `repayrisk: --out must end in .csv or .parquet, got '${join(dir, 'x.xlsx')}'`,
      ],
      [
        ['--history', SAMPLES, '--as-of', '2024-12-15', '--out', out],
        'repayrisk: --as-of 2024-12-15: accounts.csv has no snapshot that day; its 12 snapshot date(s) run from 2024-01-01 to 2024-12-01',
      ],
      [
        ['--history', SAMPLES, '--now', '2024-11-30T09:00:00Z', '--out', out],
        'repayrisk: --now 2024-11-30T09:00:00.000Z is before the as-of date 2024-12-01: its snapshots did not exist yet',
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli('score', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim(), args.join(' ')).toBe(message);
    }
    const date = await cli('score', '--history', SAMPLES, '--as-of', '2024-13-01', '--out', out);
    expect(date.code).toBe(2);
    expect(date.err).toContain("--as-of must be a date YYYY-MM-DD, got '2024-13-01'");
    expect(existsSync(out)).toBe(false);
  });

  it('still scores a feature table with a table-mode model (--table)', async () => {
    const table = join(dir, 'table.csv');
    const lines = ['id,x,y'];
    for (let i = 0; i < 200; i++) lines.push(`r${i},${i % 17},${(i * 7) % 17 > 8 ? 1 : 0}`);
    writeFileSync(table, `${lines.join('\n')}\n`);
    const { artifact } = await trainTable({
      table,
      target: 'y',
      positive: '1',
      id: 'id',
      kind: 'logistic',
      calibration: 'platt',
      seed: 1,
      modelsRoot: join(dir, 'models'),
      name: 'tiny',
      createdAt: '2026-01-01T00:00:00Z',
    });
    const out = join(dir, 'table-scores.csv');
    const r = repayrisk('score', '--model', artifact.dir, '--table', table, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`scored 200 rows -> ${out}\n`);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('id,probability');
    // A table-mode model cannot score a book, and says which command takes it.
    const book = repayrisk(
      'score',
      '--model',
      artifact.dir,
      '--history',
      SAMPLES,
      '--out',
      join(dir, 'b.csv'),
    );
    expect(book.code).toBe(2);
    expect(book.err.trim()).toBe(
      `repayrisk: ${artifact.dir} is a table model; scoring a book needs a model trained with train --history (score --table takes table models)`,
    );
  }, 60_000);
});
