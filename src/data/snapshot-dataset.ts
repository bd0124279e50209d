import { buildFeatures, FEATURE_COUNT, type SnapshotLike } from '../core/features/builder.ts';
import { type ContactLike, type InstallmentLike, isoDay, prepareHistory } from '../core/features/history.ts';
import { type Matrix, matrix } from '../core/models/contract.ts';
import { TABLES } from '../core/schema/tables.ts';
import { accountGroups, GroupCursor } from './group-stream.ts';
import { findHistoryFiles } from './history.ts';
import { readTable } from './reader.ts';

/** Delinquent snapshots of a history with their point-in-time features, outcomes and (synthetic) truth. */
export interface SnapshotDataset {
  x: Matrix;
  accountIds: string[];
  /** Snapshot day numbers. */
  asOf: Int32Array;
  overdue: Float64Array;
  /** Amount paid within 30 days; NaN when the outcomes table has no row for the snapshot. */
  paid30: Float64Array;
  /** The generator's true P(pay) and P(cover | pay) under the logging policy; NaN where there is no truth. */
  truePay: Float64Array;
  trueCover: Float64Array;
  hasTruth: boolean;
}

export interface LoadOptions {
  onProgress?: (snapshots: number) => void;
  /** Stop after this many snapshots (quick runs). */
  limit?: number;
}

const DELINQUENT = `TRY_CAST("days_past_due" AS BIGINT) IS DISTINCT FROM 0`;

/**
 * Reads a history folder (accounts, installments, contacts, outcomes and optionally truth), streaming each table
 * sorted by account, and builds the features of every delinquent snapshot (days_past_due >= 1) with the same
 * point-in-time builder the API uses. Memory holds the feature matrix plus one account's history at a time.
 */
export async function loadSnapshotDataset(dir: string, opts: LoadOptions = {}): Promise<SnapshotDataset> {
  const files = findHistoryFiles(dir, ['accounts', 'installments', 'contacts', 'outcomes']);
  const byAccountDate = ['account_id', 'as_of_date'];
  const acc = readTable(files.accounts!, TABLES.accounts, { where: DELINQUENT, orderBy: byAccountDate })[
    Symbol.asyncIterator
  ]();
  const ins = accountGroups(files.installments!, TABLES.installments);
  const con = accountGroups(files.contacts!, TABLES.contacts);
  const out = new GroupCursor(
    readTable(files.outcomes!, TABLES.outcomes, { orderBy: byAccountDate })[Symbol.asyncIterator](),
    'account_id',
  );
  const tru = files.truth
    ? new GroupCursor(
        readTable(files.truth, TABLES.truth, { orderBy: byAccountDate })[Symbol.asyncIterator](),
        'account_id',
      )
    : null;

  let cap = 1 << 14;
  let x = new Float64Array(cap * FEATURE_COUNT);
  let asOf = new Int32Array(cap);
  let overdue = new Float64Array(cap);
  let paid30 = new Float64Array(cap);
  let truePay = new Float64Array(cap);
  let trueCover = new Float64Array(cap);
  const accountIds: string[] = [];
  let n = 0;
  const grow = () => {
    cap *= 2;
    const g = <T extends Float64Array | Int32Array>(a: T, w = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * w);
      b.set(a);
      return b;
    };
    x = g(x, FEATURE_COUNT);
    asOf = g(asOf);
    overdue = g(overdue);
    paid30 = g(paid30);
    truePay = g(truePay);
    trueCover = g(trueCover);
  };

  let pending: Awaited<ReturnType<typeof acc.next>> = await acc.next();
  let batch = pending.done ? [] : pending.value;
  let pos = 0;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  while (batch.length > 0 && n < limit) {
    // Gather this account's delinquent snapshots (they may span batches).
    const id = batch[pos]!.account_id as string;
    const snaps = [];
    while (batch.length > 0 && batch[pos]!.account_id === id) {
      snaps.push(batch[pos]!);
      pos++;
      if (pos >= batch.length) {
        pending = await acc.next();
        batch = pending.done ? [] : pending.value;
        pos = 0;
      }
    }
    const history = prepareHistory(
      (await ins.take(id)) as unknown as InstallmentLike[],
      (await con.take(id)) as unknown as ContactLike[],
    );
    const outcomes = new Map((await out.take(id)).map((r) => [r.as_of_date as string, r.paid_30d as number]));
    const truth = tru ? new Map((await tru.take(id)).map((r) => [r.as_of_date as string, r])) : null;
    for (const s of snaps) {
      if (n >= limit) break;
      if (n >= cap) grow();
      buildFeatures(s as unknown as SnapshotLike, history, x, n * FEATURE_COUNT);
      const date = s.as_of_date as string;
      accountIds.push(id);
      asOf[n] = isoDay(date);
      overdue[n] = s.amount_overdue as number;
      paid30[n] = outcomes.get(date) ?? Number.NaN;
      const t = truth?.get(date);
      truePay[n] = t ? (t.p_pay as number) : Number.NaN;
      trueCover[n] = t ? (t.p_cover_given_pay as number) : Number.NaN;
      n++;
    }
    opts.onProgress?.(n);
  }
  await Promise.all([acc.return?.(undefined), ins.close(), con.close(), out.close(), tru?.close()]);
  return {
    x: matrix(x.slice(0, n * FEATURE_COUNT), n, FEATURE_COUNT),
    accountIds,
    asOf: asOf.slice(0, n),
    overdue: overdue.slice(0, n),
    paid30: paid30.slice(0, n),
    truePay: truePay.slice(0, n),
    trueCover: trueCover.slice(0, n),
    hasTruth: tru !== null,
  };
}
