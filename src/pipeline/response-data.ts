/**
 * Logged history for treatment-response work: every delinquent snapshot with its point-in-time features, what the
 * logging policy did (treatment, propensity), what came of it, and the synthetic truth where there is one. Read
 * once through the history store's replay stream, the same path and features as the backtest.
 */
import { FEATURE_COUNT } from '../core/features/builder.ts';
import { type Matrix, matrix } from '../core/models/contract.ts';
import { TREATMENTS, type Treatment } from '../core/schema/enums.ts';
import type { AccountRow, ContactRow, TruthRow } from '../core/schema/tables.ts';
import { dayOf } from '../core/time/dates.ts';
import { replaySnapshots } from '../data/backtest-snapshots.ts';

/** The logged snapshots of a history, in stream order (by account, then date). */
export interface LoggedSnapshots {
  x: Matrix;
  accounts: AccountRow[];
  contacts: ContactRow[][];
  accountIds: string[];
  asOf: Int32Array;
  dpd: Float64Array;
  overdue: Float64Array;
  treatment: Uint8Array;
  propensity: Float64Array;
  paid: Float64Array;
  truth: (TruthRow | null)[];
  /** Delinquent snapshots skipped for want of a logged treatment or an outcome. */
  skipped: number;
}

const T_INDEX = new Map<Treatment, number>(TREATMENTS.map((t, i) => [t, i]));

/**
 * Reads the logged delinquent snapshots of `history`. `decisionMs` places each snapshot's decision instant (the
 * contacts before it are kept for the guardrails of a replay).
 */
export async function readLoggedSnapshots(
  history: string,
  decisionMs: (asOfDate: string) => number,
  onProgress?: (n: number) => void,
): Promise<LoggedSnapshots> {
  const feats: Float64Array[] = [];
  const accounts: AccountRow[] = [];
  const contacts: ContactRow[][] = [];
  const ids: string[] = [];
  const asOf: number[] = [];
  const treatment: number[] = [];
  const propensity: number[] = [];
  const paid: number[] = [];
  const truth: (TruthRow | null)[] = [];
  let skipped = 0;
  let n = 0;
  for await (const chunk of replaySnapshots(history, decisionMs)) {
    chunk.snapshots.forEach((s, i) => {
      if (!s.logged || !Number.isFinite(s.paid30)) {
        skipped++;
        return;
      }
      feats.push(chunk.features.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT));
      accounts.push(s.account);
      contacts.push(s.contacts);
      ids.push(s.account.account_id);
      asOf.push(dayOf(s.account.as_of_date));
      treatment.push(T_INDEX.get(s.logged.treatment)!);
      propensity.push(s.logged.propensity);
      paid.push(s.paid30);
      truth.push(s.truth);
      n++;
    });
    onProgress?.(n);
  }
  const x = new Float64Array(n * FEATURE_COUNT);
  feats.forEach((f, i) => {
    x.set(f, i * FEATURE_COUNT);
  });
  return {
    x: matrix(x, n, FEATURE_COUNT),
    accounts,
    contacts,
    accountIds: ids,
    asOf: Int32Array.from(asOf),
    dpd: Float64Array.from(accounts, (a) => a.days_past_due),
    overdue: Float64Array.from(accounts, (a) => a.amount_overdue),
    treatment: Uint8Array.from(treatment),
    propensity: Float64Array.from(propensity),
    paid: Float64Array.from(paid),
    truth,
    skipped,
  };
}
