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

/** What fitting needs of the logged snapshots of a history, in stream order (by account, then date). */
export interface LoggedColumns {
  x: Matrix;
  accountIds: string[];
  asOf: Int32Array;
  dpd: Float64Array;
  overdue: Float64Array;
  treatment: Uint8Array;
  propensity: Float64Array;
  paid: Float64Array;
  /** Delinquent snapshots skipped for want of a logged treatment or an outcome. */
  skipped: number;
}

/** The logged snapshots with their account rows, contacts and truth, for replays. */
export interface LoggedSnapshots extends LoggedColumns {
  accounts: AccountRow[];
  contacts: ContactRow[][];
  truth: (TruthRow | null)[];
}

const T_INDEX = new Map<Treatment, number>(TREATMENTS.map((t, i) => [t, i]));

/**
 * Reads the logged delinquent snapshots of `history` with their account rows, contacts (kept for the guardrails of
 * a replay) and truth. `decisionMs` places each snapshot's decision instant.
 */
export async function readLoggedSnapshots(
  history: string,
  decisionMs: (asOfDate: string) => number,
  onProgress?: (n: number) => void,
): Promise<LoggedSnapshots> {
  return (await readLogged(history, decisionMs, true, onProgress)) as LoggedSnapshots;
}

/**
 * Reads what fitting needs of the logged delinquent snapshots: features and columns only. The account rows and
 * contacts of every snapshot, which a replay needs, are most of the memory of a large history (bench/response-fit.ts)
 * and are not kept.
 */
export function readLoggedColumns(
  history: string,
  decisionMs: (asOfDate: string) => number,
  onProgress?: (n: number) => void,
): Promise<LoggedColumns> {
  return readLogged(history, decisionMs, false, onProgress);
}

async function readLogged(
  history: string,
  decisionMs: (asOfDate: string) => number,
  keepRows: boolean,
  onProgress?: (n: number) => void,
): Promise<LoggedColumns | LoggedSnapshots> {
  // Features are copied out of each chunk as it comes, into a buffer grown by doubling, so the chunks' own
  // buffers are not all held until the end.
  let x = new Float64Array(1024 * FEATURE_COUNT);
  const accounts: AccountRow[] = [];
  const contacts: ContactRow[][] = [];
  const ids: string[] = [];
  const asOf: number[] = [];
  const dpd: number[] = [];
  const overdue: number[] = [];
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
      if ((n + 1) * FEATURE_COUNT > x.length) {
        const grown = new Float64Array(x.length * 2);
        grown.set(x);
        x = grown;
      }
      x.set(chunk.features.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT), n * FEATURE_COUNT);
      if (keepRows) {
        accounts.push(s.account);
        contacts.push(s.contacts);
        truth.push(s.truth);
      }
      ids.push(s.account.account_id);
      asOf.push(dayOf(s.account.as_of_date));
      dpd.push(s.account.days_past_due);
      overdue.push(s.account.amount_overdue);
      treatment.push(T_INDEX.get(s.logged.treatment)!);
      propensity.push(s.logged.propensity);
      paid.push(s.paid30);
      n++;
    });
    onProgress?.(n);
  }
  const columns: LoggedColumns = {
    x: matrix(x.slice(0, n * FEATURE_COUNT), n, FEATURE_COUNT),
    accountIds: ids,
    asOf: Int32Array.from(asOf),
    dpd: Float64Array.from(dpd),
    overdue: Float64Array.from(overdue),
    treatment: Uint8Array.from(treatment),
    propensity: Float64Array.from(propensity),
    paid: Float64Array.from(paid),
    skipped,
  };
  return keepRows ? { ...columns, accounts, contacts, truth } : columns;
}
