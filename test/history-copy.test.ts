// The history copy (`repayrisk ingest`, docs/history-store.md): a book scored from it is byte for byte the book
// scored from the files; a copy whose sources changed is refused, never read; a corrupt, truncated or foreign
// copy is a clear error; a bad row is still named by file and line when the copy is made.
import {
  appendFileSync,
  cpSync,
  existsSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RepayriskError } from '../src/core/errors.ts';
import { generateWorld } from '../src/data/generate.ts';
import { COPY_FILE, ingestHistory } from '../src/data/history-copy.ts';
import { type BookInput, loadBatchState, scoreBook } from '../src/pipeline/score-book.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { cliInProcess } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

const root = tmpDir('repayrisk-copy-');
let state: LiveState;

beforeAll(async () => {
  state = await loadBatchState({});
});

/** Scores a book and returns the summary and the output's bytes. */
async function book(input: BookInput, out: string, o: { slots?: null; workers?: number } = {}) {
  const s = await scoreBook({ state, input, out, ...o });
  return { s, bytes: readFileSync(out) };
}

describe('a book scored from the history copy', () => {
  const samples = join(root, 'samples');
  const paid = join(root, 'payments');
  beforeAll(async () => {
    cpSync('data-samples', samples, { recursive: true });
    // A world with a payments table: paid status derived from payments, the path the copy must reproduce too.
    await generateWorld({
      accounts: 800,
      months: 6,
      seed: 11,
      start: '2024-01-01',
      out: paid,
      format: 'csv',
      payments: true,
    });
    await ingestHistory(samples);
    await ingestHistory(paid);
  }, 120_000);

  it.each([
    ['the committed samples, the latest date, the policy call capacity', 'samples', {}, undefined],
    ['the committed samples, an earlier date, unlimited calls', 'samples', { slots: null }, '2024-09-01'],
    ['a world with payments, on this thread only', 'payments', { workers: 0 }, undefined],
    ['a world with payments, with a worker', 'payments', { workers: 1 }, undefined],
  ] as const)(
    'writes the same bytes as the files give: %s',
    async (_, world, o, asOf) => {
      const dir = world === 'samples' ? samples : paid;
      const at = asOf ? { asOf } : {};
      const files = await book({ history: dir, store: false, ...at }, join(root, `${world}-files.csv`), o);
      const copy = await book({ history: dir, ...at }, join(root, `${world}-copy.csv`), o);
      expect(files.s.copy).toBeNull();
      expect(copy.s.copy).toBe(join(dir, COPY_FILE));
      expect(copy.s.scored).toBeGreaterThan(100);
      expect(copy.s.scored).toBe(files.s.scored);
      expect(copy.s.skipped).toBe(files.s.skipped);
      expect(copy.s.runId).toBe(files.s.runId);
      expect(copy.bytes.equals(files.bytes)).toBe(true);
    },
    120_000,
  );

  it('rations field visits across the whole book from the copy as from the files, in small pieces', async () => {
    const staged = await loadBatchState({ policy: 'policies/staged.yaml' });
    const tight = { ...staged, policy: { ...staged.policy, visitCapacity: { slots: 2 } } };
    const run = (input: BookInput, out: string) =>
      scoreBook({ state: tight, input, out, chunkSize: 10, workers: 0 });
    const files = await run({ history: samples, store: false }, join(root, 'visits-files.csv'));
    const copy = await run({ history: samples }, join(root, 'visits-copy.csv'));
    expect(copy.copy).not.toBeNull();
    expect(copy.treatments.field_visit).toBe(2);
    expect(
      readFileSync(join(root, 'visits-copy.csv')).equals(readFileSync(join(root, 'visits-files.csv'))),
    ).toBe(true);
    expect(files.treatments.field_visit).toBe(2);
  }, 60_000);

  it('writes the same Parquet file too', async () => {
    const files = await book({ history: samples, store: false }, join(root, 'files.parquet'));
    const copy = await book({ history: samples }, join(root, 'copy.parquet'));
    expect(copy.s.copy).not.toBeNull();
    expect(copy.bytes.equals(files.bytes)).toBe(true);
  }, 60_000);

  it('scores in small pieces across threads with the same bytes', async () => {
    const one = await scoreBook({
      state,
      input: { history: paid },
      out: join(root, 'one.csv'),
      workers: 0,
      chunkSize: 100_000,
    });
    const many = await scoreBook({
      state,
      input: { history: paid },
      out: join(root, 'many.csv'),
      workers: 1,
      chunkSize: 37,
    });
    expect(one.copy).not.toBeNull();
    expect(readFileSync(join(root, 'many.csv')).equals(readFileSync(join(root, 'one.csv')))).toBe(true);
    expect(many.scored).toBe(one.scored);
  }, 120_000);
});

describe('a copy whose sources changed', () => {
  const dir = join(root, 'stale');
  beforeAll(async () => {
    cpSync('data-samples', dir, { recursive: true });
    await ingestHistory(dir);
  }, 60_000);

  it('is refused when a source was touched, naming the file and what to run', async () => {
    const f = join(dir, 'contacts.csv');
    const was = statSync(f).mtime;
    utimesSync(f, was, new Date(was.getTime() + 5000));
    const e = await scoreBook({ state, input: { history: dir }, out: join(root, 'stale.csv') }).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(RepayriskError);
    expect(e.message).toMatch(
      /history\.rrstore is stale: contacts\.csv was modified .* repayrisk ingest --history/,
    );
    expect(existsSync(join(root, 'stale.csv'))).toBe(false);
    // --no-store still reads the files; a new ingest makes the copy usable again.
    const files = await book({ history: dir, store: false }, join(root, 'stale-files.csv'));
    await ingestHistory(dir);
    const copy = await book({ history: dir }, join(root, 'stale-copy.csv'));
    expect(copy.s.copy).not.toBeNull();
    expect(copy.bytes.equals(files.bytes)).toBe(true);
  }, 120_000);

  it('is refused when a source grew, and when a table appeared, through the CLI with exit 2', async () => {
    await ingestHistory(dir);
    const f = join(dir, 'installments.csv');
    const text = readFileSync(f, 'utf8');
    const last = text.trimEnd().split('\n').at(-1)!;
    appendFileSync(f, `${last}\n`);
    const r = await cliInProcess('score', '--history', dir, '--out', join(root, 'grown.csv'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/stale: installments\.csv changed \(\d+ bytes then, \d+ now\)/);
    writeFileSync(f, text);
    await ingestHistory(dir);
    writeFileSync(join(dir, 'payments.csv'), 'account_id,paid_at,amount\n');
    const e = await scoreBook({ state, input: { history: dir }, out: join(root, 'appeared.csv') }).catch(
      (x) => x,
    );
    expect(e.message).toMatch(/stale: payments\.csv appeared/);
  }, 120_000);
});

describe('a copy that is not whole', () => {
  const dir = join(root, 'broken');
  const copy = join(dir, COPY_FILE);
  let good: Buffer;
  beforeAll(async () => {
    cpSync('data-samples', dir, { recursive: true });
    await ingestHistory(dir);
    good = readFileSync(copy);
  }, 60_000);
  const score = () =>
    scoreBook({ state, input: { history: dir }, out: join(root, 'broken.csv') }).then(
      () => null,
      (e: Error) => e,
    );

  it('is refused when a byte of a segment it reads changed (CRC-32)', async () => {
    // The segment table is the JSON header at the file's tail (prefix: its length at byte 12, offset at 16).
    const header = JSON.parse(
      good.subarray(good.readDoubleLE(16), good.readDoubleLE(16) + good.readUInt32LE(12)).toString('utf8'),
    ) as { segments: { name: string; offset: number }[] };
    const seg = header.segments.find((x) => x.name === 'installments.amount_due')!;
    const b = Buffer.from(good);
    b[seg.offset + 8]! ^= 0x10;
    writeFileSync(copy, b);
    expect((await score())?.message).toMatch(
      /history\.rrstore: segment 'installments\.amount_due' is corrupt \(CRC-32 mismatch\); build the copy again/,
    );
  });

  it('is refused when the file was cut short', async () => {
    writeFileSync(copy, good);
    truncateSync(copy, good.length - 100);
    expect((await score())?.message).toMatch(/not a usable history copy: truncated/);
    truncateSync(copy, 20);
    expect((await score())?.message).toMatch(/not a usable history copy: 20 bytes/);
  });

  it('is refused when its header, version or magic is not this format', async () => {
    const header = Buffer.from(good);
    header[header.length - 10]! ^= 0x01; // the header (JSON) is the file's tail
    writeFileSync(copy, header);
    expect((await score())?.message).toMatch(/header fails its sha256/);
    const version = Buffer.from(good);
    version.writeUInt32LE(99, 8);
    writeFileSync(copy, version);
    expect((await score())?.message).toMatch(/format version 99, this repayrisk reads version 1/);
    writeFileSync(copy, Buffer.concat([Buffer.from('PAR1'), good.subarray(4)]));
    expect((await score())?.message).toMatch(/wrong magic/);
    writeFileSync(copy, good);
    expect(await score()).toBeNull();
  });
});

describe('ingest of a history with a bad row', () => {
  it('names the file, line and column of a bad cell, and writes no copy', async () => {
    const dir = join(root, 'bad-cell');
    cpSync('data-samples', dir, { recursive: true });
    const f = join(dir, 'installments.csv');
    const lines = readFileSync(f, 'utf8').split('\n');
    const header = lines[0]!.split(',');
    const cells = lines[41]!.split(',');
    cells[header.indexOf('amount_due')] = 'twelve';
    lines[41] = cells.join(',');
    writeFileSync(f, lines.join('\n'));
    const r = await cliInProcess('ingest', '--history', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /installments\.csv: row 41 \(line 42\), column 'amount_due': expected .*got 'twelve'/,
    );
    expect(existsSync(join(dir, COPY_FILE))).toBe(false);
  }, 60_000);

  it('names the line of a row with an extra field', async () => {
    const dir = join(root, 'bad-row');
    cpSync('data-samples', dir, { recursive: true });
    const f = join(dir, 'contacts.csv');
    const lines = readFileSync(f, 'utf8').split('\n');
    lines[7] = `${lines[7]},surplus`;
    writeFileSync(f, lines.join('\n'));
    const r = await cliInProcess('ingest', '--history', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/contacts\.csv: line 8/);
    expect(existsSync(join(dir, COPY_FILE))).toBe(false);
  }, 60_000);

  it('prints each table as validate does and where the copy went', async () => {
    const dir = join(root, 'cli');
    cpSync('data-samples', dir, { recursive: true });
    const r = await cliInProcess('ingest', '--history', dir, '--out', join(root, 'elsewhere.rrstore'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok {2}accounts +\d+ rows/m);
    expect(r.out).toMatch(
      /copied [\d,]+ accounts, 12 snapshot date\(s\) \(2024-01-01 \.\. 2024-12-01\).*elsewhere\.rrstore/,
    );
    const s = await cliInProcess(
      'score',
      '--history',
      dir,
      '--store',
      join(root, 'elsewhere.rrstore'),
      '--out',
      join(root, 'elsewhere.csv'),
    );
    expect(s.code).toBe(0);
  }, 60_000);
});
