import { isoOf } from '../../core/time/dates.ts';
import { ruleReportLines } from '../../data/contract-rules.ts';
import { ingestHistory } from '../../data/history-copy.ts';

/** What `repayrisk ingest` was given, parsed by commander. */
export interface IngestOptions {
  history: string;
  out?: string;
}

/**
 * `repayrisk ingest`: the checks `validate` runs (each table printed as it passes; rule warnings on stderr), then
 * the copy. @throws as `ingestHistory` (a bad cell named by file, line and column; a rule error refuses).
 */
export async function ingestAction(o: IngestOptions): Promise<void> {
  const s = await ingestHistory(o.history, {
    out: o.out,
    onTable: (t, n, f) => process.stdout.write(`ok  ${t.padEnd(13)} ${String(n).padStart(10)} rows  ${f}\n`),
    onRules: (report) => {
      for (const w of ruleReportLines(report, 'warning')) process.stderr.write(`warning: ${w}\n`);
    },
  });
  const m = s.meta;
  const dates = m.dates.length ? `${isoOf(m.dates[0]!.day)} .. ${isoOf(m.dates.at(-1)!.day)}` : 'none';
  process.stdout.write(
    `copied ${m.accounts.toLocaleString('en-US')} accounts, ${m.dates.length} snapshot date(s) (${dates}), ` +
      `${(m.rows.installments ?? 0).toLocaleString('en-US')} instalments, ${(m.rows.contacts ?? 0).toLocaleString('en-US')} contacts` +
      `${m.rows.payments !== undefined ? `, ${m.rows.payments.toLocaleString('en-US')} payments` : ''}: ` +
      `${(s.bytes / 2 ** 20).toFixed(1)} MiB in ${(s.seconds.validate + s.seconds.copy).toFixed(1)} s ` +
      `(checks ${s.seconds.validate.toFixed(1)} s) -> ${s.out}\n`,
  );
}
