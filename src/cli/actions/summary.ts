import type { HistorySummary } from '../../data/summary.ts';
import { summariseHistory } from '../../data/summary.ts';

const pct = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`;

/** Plain-text rendering of a history summary, for a terminal. */
export function formatSummary(dir: string, s: HistorySummary): string {
  const lines = [
    `History ${dir}: ${s.snapshots.toLocaleString('en-US')} snapshots of ${s.accounts.toLocaleString('en-US')} accounts ` +
      `(${s.customers.toLocaleString('en-US')} customers), ${s.firstSnapshot} .. ${s.lastSnapshot}`,
    `Delinquent (dpd >= 1): ${pct(s.delinquentShare)} of snapshots (by month ${pct(s.delinquentShareRange[0])} .. ${pct(s.delinquentShareRange[1])}); ` +
      `current -> delinquent next month: ${pct(s.currentToDelinquent)}`,
    `Products: ${Object.entries(s.productMix)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ')}`,
    'Bucket    share  cured next month  rolled forward',
    ...s.buckets
      .filter((b) => b.share > 0)
      .map(
        (b) =>
          `${b.bucket.padEnd(8)} ${pct(b.share).padStart(6)}  ${pct(b.cureRate).padStart(16)}  ${pct(b.rollForwardRate).padStart(14)}`,
      ),
  ];
  if (s.treatmentMix)
    lines.push(
      `Treatments (logging policy): ${Object.entries(s.treatmentMix)
        .map(([k, v]) => `${k} ${pct(v)}`)
        .join(', ')}`,
    );
  if (s.payRate30d !== undefined) {
    lines.push(
      `Paid anything within 30 days: ${pct(s.payRate30d)}; covered the overdue, given paid: ${pct(s.coverRate30d)}`,
    );
  }
  if (s.meanTruePPay !== undefined) {
    lines.push(`Truth file: mean P(pay) ${pct(s.meanTruePPay)}; P(cover | pay) ${pct(s.meanTruePCover)}`);
  }
  if (s.contactsPerDelinquentSnapshot !== undefined) {
    lines.push(`Contacts per delinquent snapshot: ${s.contactsPerDelinquentSnapshot.toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `repayrisk summary`: the history summary as text, or as JSON with `--json`. */
export async function summaryAction(o: { history: string; json?: boolean }): Promise<void> {
  const s = await summariseHistory(o.history);
  process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatSummary(o.history, s));
}
