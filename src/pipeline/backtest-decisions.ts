/**
 * The per-snapshot decisions of a backtest as a table analysts can join with their own data:
 * `decisions.csv` and `decisions.parquet`, one row per replayed snapshot.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyReplay } from '../core/backtest/replay.ts';
import { NO_CHANNEL } from '../core/backtest/tape.ts';
import { POLICY_CHANNELS } from '../core/policy/schema.ts';
import { TREATMENTS } from '../core/schema/enums.ts';
import { sqlString, withDuckDB } from '../data/duckdb.ts';

/** One replayed snapshot: its key and, per replay, its entry on that replay's tape (-1 = not replayed there). */
export interface DecisionKey {
  account_id: string;
  as_of_date: string;
  entries: Record<string, number>;
}

const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '');

/**
 * Writes `decisions.csv` and `decisions.parquet` into `out`. Columns: account_id, as_of_date, then per replay
 * (champion, challenger, logged): `<role>_treatment`, `<role>_channel` (empty for hold and for logged treatments,
 * whose channel the history does not say), `<role>_expected_recovery` (the policy's own estimate; empty for
 * logged), `<role>_true_recovery` (the synthetic truth's expected recovery of that treatment; for logged, of the
 * logging policy's random choice, as backtest.json counts it; empty without truth). Money in currency units.
 * @returns the paths written.
 */
export async function writeDecisions(
  out: string,
  keys: readonly DecisionKey[],
  replays: Record<string, PolicyReplay>,
): Promise<{ csv: string; parquet: string }> {
  const roles = Object.keys(replays);
  const header = ['account_id', 'as_of_date'];
  for (const r of roles)
    header.push(`${r}_treatment`, `${r}_channel`, `${r}_expected_recovery`, `${r}_true_recovery`);
  const lines = [header.join(',')];
  for (const k of keys) {
    const cells = [quote(k.account_id), k.as_of_date];
    for (const r of roles) {
      const i = k.entries[r] ?? -1;
      if (i < 0) {
        cells.push('', '', '', '');
        continue;
      }
      const tp = replays[r]!.tape;
      const ch = tp.channel[i]!;
      cells.push(
        TREATMENTS[tp.treatment[i]!]!,
        ch === NO_CHANNEL ? '' : POLICY_CHANNELS[ch]!,
        num(tp.expected[i]!),
        num(tp.sim[i]!),
      );
    }
    lines.push(cells.join(','));
  }
  const csv = join(out, 'decisions.csv');
  const parquet = join(out, 'decisions.parquet');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const types = header.map((h) =>
    h === 'as_of_date'
      ? `${sqlString(h)}: 'DATE'`
      : h.endsWith('_recovery')
        ? `${sqlString(h)}: 'DOUBLE'`
        : `${sqlString(h)}: 'VARCHAR'`,
  );
  rmSync(parquet, { force: true });
  await withDuckDB(async (conn) => {
    await conn.run(
      `COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = true, columns = {${types.join(', ')}})) ` +
        `TO ${sqlString(parquet)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  });
  return { csv, parquet };
}
