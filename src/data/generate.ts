import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RepayriskError } from '../core/errors.ts';
import { TABLES, type TableName } from '../core/schema/tables.ts';
import { addMonthsFirst, dayOf, isoOf } from '../core/time/dates.ts';
import { CsvTableWriter } from './csv-writer.ts';
import { duckType, sqlString, withDuckDB } from './duckdb.ts';
import { KNOBS } from './synthetic/knobs.ts';
import { RESPONSE_PROFILES } from './synthetic/response.ts';
import { type RowSink, simulateCustomer, type WorldConfig } from './synthetic/simulate.ts';

export type { WorldConfig };
export type FileFormat = 'csv' | 'parquet';

export interface GenerateOptions extends WorldConfig {
  out: string;
  format: FileFormat;
  /**
   * Also write a payments table (every payment as it happened). Off by default, so a world's files stay what
   * they were for a seed.
   */
  payments?: boolean;
  /** Called every few thousand customers with how many are done. */
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateResult {
  /** The tables written (payments only when asked for). */
  files: Partial<Record<TableName, string>>;
  rows: Partial<Record<TableName, number>>;
}

/** Version of the world's rules; written to world.json so a dataset says which generator made it. */
export const GENERATOR_VERSION = 1;

/** Checks a world configuration; every problem is named with what was expected and what came. */
export function validateWorldConfig(cfg: WorldConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(cfg.accounts) || cfg.accounts < 1)
    problems.push(`accounts: expected an integer >= 1, got ${cfg.accounts}`);
  if (!Number.isInteger(cfg.months) || cfg.months < 1 || cfg.months > 240)
    problems.push(`months: expected an integer in [1, 240], got ${cfg.months}`);
  if (!Number.isSafeInteger(cfg.seed) || cfg.seed < 0)
    problems.push(`seed: expected an integer >= 0, got ${cfg.seed}`);
  if (!/^\d{4}-\d{2}-01$/.test(cfg.start) || Number.isNaN(Date.parse(cfg.start)))
    problems.push(`start: expected the first day of a month as YYYY-MM-01, got ${cfg.start}`);
  if (cfg.response !== undefined && !RESPONSE_PROFILES.includes(cfg.response))
    problems.push(`response: expected one of ${RESPONSE_PROFILES.join(', ')}, got ${cfg.response}`);
  if (problems.length) throw new RepayriskError('invalid_argument', problems.join('\n'));
}

const ORDER: readonly TableName[] = [
  'accounts',
  'installments',
  'contacts',
  'treatments',
  'outcomes',
  'truth',
];

/**
 * Simulates a synthetic collections world and writes its tables (CSV or Parquet) plus `world.json` into `out`.
 * Output is a pure function of the configuration: the same seed gives byte-identical CSV files.
 * Files are written to a temporary folder beside `out` and moved in when complete.
 */
export async function generateWorld(opts: GenerateOptions): Promise<GenerateResult> {
  validateWorldConfig(opts);
  const cfg: WorldConfig = {
    accounts: opts.accounts,
    months: opts.months,
    seed: opts.seed,
    start: opts.start,
    // Only a non-default treatment response is recorded, so world.json of a default world is as before.
    ...(opts.response && opts.response !== 'standard' ? { response: opts.response } : {}),
  };
  mkdirSync(opts.out, { recursive: true });
  const tmp = join(opts.out, `.generate-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  // The payments table goes after installments; without the option the table list (and world.json) is as before.
  const order: readonly TableName[] = opts.payments
    ? [...ORDER.slice(0, 2), 'payments', ...ORDER.slice(2)]
    : ORDER;
  try {
    const writers = Object.fromEntries(
      order.map((t) => [t, new CsvTableWriter(join(tmp, `${t}.csv`), TABLES[t])]),
    ) as Record<TableName, CsvTableWriter>;
    const sink: RowSink = {
      accounts: (r) => writers.accounts.write(r),
      installments: (r) => writers.installments.write(r),
      contacts: (r) => writers.contacts.write(r),
      treatments: (r) => writers.treatments.write(r),
      outcomes: (r) => writers.outcomes.write(r),
      truth: (r) => writers.truth.write(r),
      ...(opts.payments ? { payments: (r) => writers.payments.write(r) } : {}),
    };
    const first = dayOf(cfg.start);
    for (let i = 0; i < cfg.accounts; i++) {
      simulateCustomer(i, cfg, first, sink);
      if (opts.onProgress && (i + 1) % 5000 === 0) opts.onProgress(i + 1, cfg.accounts);
    }
    for (const w of Object.values(writers)) w.close();
    opts.onProgress?.(cfg.accounts, cfg.accounts);
    const rows = Object.fromEntries(order.map((t) => [t, writers[t].rows])) as Record<TableName, number>;
    if (opts.format === 'parquet') await csvToParquet(tmp, order);
    const ext = opts.format;
    const files = Object.fromEntries(order.map((t) => [t, join(opts.out, `${t}.${ext}`)])) as Record<
      TableName,
      string
    >;
    const world = {
      generator: 'repayrisk synthetic collections world',
      generator_version: GENERATOR_VERSION,
      config: cfg,
      format: opts.format,
      first_snapshot: cfg.start,
      last_snapshot: isoOf(addMonthsFirst(dayOf(cfg.start), cfg.months - 1)),
      burn_in_months: KNOBS.burnInMonths,
      rows,
      knobs: KNOBS,
    };
    writeFileSync(join(tmp, 'world.json'), `${JSON.stringify(world, null, 2)}\n`);
    for (const t of order) renameSync(join(tmp, `${t}.${ext}`), files[t]);
    renameSync(join(tmp, 'world.json'), join(opts.out, 'world.json'));
    return { files, rows };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function csvToParquet(dir: string, order: readonly TableName[]): Promise<void> {
  await withDuckDB(async (conn) => {
    for (const t of order) {
      const spec = TABLES[t];
      const cols = spec.columns.map((c) => `${sqlString(c.name)}: ${sqlString(duckType(c))}`).join(', ');
      const src = join(dir, `${t}.csv`);
      const dst = join(dir, `${t}.parquet`);
      await conn.run(
        `COPY (SELECT * FROM read_csv(${sqlString(src)}, header = true, columns = {${cols}})) ` +
          `TO ${sqlString(dst)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      rmSync(src);
    }
  });
}
