import { buildFeatures, FEATURE_COUNT, type SnapshotLike } from '../core/features/builder.ts';
import { type ContactLike, type InstallmentLike, prepareHistory } from '../core/features/history.ts';
import type { Treatment } from '../core/schema/enums.ts';
import { type AccountRow, type ContactRow, TABLES, type TruthRow } from '../core/schema/tables.ts';
import { accountGroups, GroupCursor } from './group-stream.ts';
import { findHistoryFiles } from './history.ts';
import { readTable } from './reader.ts';

/** One delinquent snapshot as a backtest replays it. */
export interface ReplaySnapshot {
  account: AccountRow;
  /** The account's contacts before the decision instant (they feed the caps and cooldowns). */
  contacts: ContactRow[];
  /** What the historical policy did, and the probability it gave that choice; null when not logged. */
  logged: { treatment: Treatment; propensity: number } | null;
  /** Amount paid within 30 days; NaN without an outcome row. */
  paid30: number;
  /** The generator's truth for the snapshot (synthetic histories only). */
  truth: TruthRow | null;
}

/** A chunk of snapshots with their point-in-time features (`FEATURE_COUNT` per snapshot, row-major). */
export interface ReplayChunk {
  snapshots: ReplaySnapshot[];
  features: Float64Array;
}

const DELINQUENT = `TRY_CAST("days_past_due" AS BIGINT) IS DISTINCT FROM 0`;

/**
 * Streams the delinquent snapshots of a history with everything a policy replay needs, in chunks of about
 * `chunkSize`, reading every table sorted by account (merge-join; one account's history in memory at a time).
 * `decisionMs(asOfDate)` gives each snapshot's decision instant; contacts at or after it are left out.
 */
export async function* replaySnapshots(
  dir: string,
  decisionMs: (asOfDate: string) => number,
  chunkSize = 5000,
): AsyncGenerator<ReplayChunk> {
  const files = findHistoryFiles(dir, ['accounts', 'installments', 'contacts']);
  const byAccountDate = ['account_id', 'as_of_date'];
  const acc = readTable(files.accounts!, TABLES.accounts, { where: DELINQUENT, orderBy: byAccountDate })[
    Symbol.asyncIterator
  ]();
  const ins = accountGroups(files.installments!, TABLES.installments);
  const con = accountGroups(files.contacts!, TABLES.contacts);
  const dated = (t: 'treatments' | 'outcomes' | 'truth') =>
    files[t]
      ? new GroupCursor(
          readTable(files[t]!, TABLES[t], { orderBy: byAccountDate })[Symbol.asyncIterator](),
          'account_id',
        )
      : null;
  const trt = dated('treatments');
  const out = dated('outcomes');
  const tru = dated('truth');
  let snapshots: ReplaySnapshot[] = [];
  let features = new Float64Array(chunkSize * FEATURE_COUNT);
  try {
    let pending = await acc.next();
    let batch = pending.done ? [] : pending.value;
    let pos = 0;
    while (batch.length > 0) {
      const id = batch[pos]!.account_id as string;
      const snaps: AccountRow[] = [];
      while (batch.length > 0 && batch[pos]!.account_id === id) {
        snaps.push(batch[pos]! as unknown as AccountRow);
        pos++;
        if (pos >= batch.length) {
          pending = await acc.next();
          batch = pending.done ? [] : pending.value;
          pos = 0;
        }
      }
      const installments = (await ins.take(id)) as unknown as InstallmentLike[];
      const contacts = (await con.take(id)) as unknown as ContactRow[];
      const history = prepareHistory(installments, contacts as ContactLike[]);
      const byDate = async (c: GroupCursor | null) =>
        c ? new Map((await c.take(id)).map((r) => [r.as_of_date as string, r])) : null;
      const logged = await byDate(trt);
      const outcomes = await byDate(out);
      const truth = await byDate(tru);
      for (const account of snaps) {
        const date = account.as_of_date;
        const at = decisionMs(date);
        const l = logged?.get(date);
        if (snapshots.length * FEATURE_COUNT >= features.length) {
          const grown = new Float64Array(features.length * 2);
          grown.set(features);
          features = grown;
        }
        buildFeatures(account as SnapshotLike, history, features, snapshots.length * FEATURE_COUNT);
        snapshots.push({
          account,
          contacts: contacts.filter((c) => Date.parse(c.ts) < at),
          logged: l ? { treatment: l.treatment as Treatment, propensity: l.propensity as number } : null,
          paid30: (outcomes?.get(date)?.paid_30d as number | undefined) ?? Number.NaN,
          truth: (truth?.get(date) as unknown as TruthRow | undefined) ?? null,
        });
      }
      if (snapshots.length >= chunkSize) {
        yield { snapshots, features: features.slice(0, snapshots.length * FEATURE_COUNT) };
        snapshots = [];
      }
    }
    if (snapshots.length) yield { snapshots, features: features.slice(0, snapshots.length * FEATURE_COUNT) };
  } finally {
    await Promise.all([
      acc.return?.(undefined),
      ins.close(),
      con.close(),
      trt?.close(),
      out?.close(),
      tru?.close(),
    ]);
  }
}
