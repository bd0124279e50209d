import { FEATURE_COUNT } from '../core/features/builder.ts';
import { type Matrix, matrix } from '../core/models/contract.ts';
import { dayOf } from '../core/time/dates.ts';
import { HistoryStore, type StoreOptions } from './history-store.ts';

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
  store?: StoreOptions;
}

/**
 * Builds the features of every delinquent snapshot (days_past_due >= 1) of a history folder (accounts,
 * installments, contacts, outcomes and optionally truth) with the same point-in-time builder the API uses, reading
 * through the history store: validated in SQL, instalments and contacts of delinquent accounts only, as typed
 * columns per account. Memory holds the feature matrix plus DuckDB's bounded working set.
 */
export async function loadSnapshotDataset(dir: string, opts: LoadOptions = {}): Promise<SnapshotDataset> {
  const store = await HistoryStore.open(
    dir,
    ['accounts', 'installments', 'contacts', 'outcomes'],
    opts.store,
  );
  try {
    const scope = { delinquent: true } as const;
    const total = Math.min(await store.countSnapshots(scope), opts.limit ?? Number.POSITIVE_INFINITY);
    const x = new Float64Array(total * FEATURE_COUNT);
    const asOf = new Int32Array(total);
    const overdue = new Float64Array(total);
    const paid30 = new Float64Array(total).fill(Number.NaN);
    const truePay = new Float64Array(total).fill(Number.NaN);
    const trueCover = new Float64Array(total).fill(Number.NaN);
    const accountIds: string[] = [];
    const hasTruth = store.files.truth !== undefined;
    let n = 0;
    const groups = store.accounts({
      scope,
      dated: { outcomes: ['paid_30d'], ...(hasTruth ? { truth: ['p_pay', 'p_cover_given_pay'] } : {}) },
    });
    for await (const g of groups) {
      for (let i = 0; i < g.snapshots.length && n < total; i++) {
        const s = g.snapshots[i]!;
        g.features(i, x, n * FEATURE_COUNT);
        accountIds.push(g.accountId);
        asOf[n] = dayOf(s.as_of_date as string);
        overdue[n] = s.amount_overdue as number;
        const o = g.dated.outcomes?.[i];
        if (o) paid30[n] = o.paid_30d as number;
        const t = g.dated.truth?.[i];
        if (t) {
          truePay[n] = t.p_pay as number;
          trueCover[n] = t.p_cover_given_pay as number;
        }
        n++;
      }
      opts.onProgress?.(n);
      if (n >= total) break;
    }
    return {
      x: matrix(n === total ? x : x.slice(0, n * FEATURE_COUNT), n, FEATURE_COUNT),
      accountIds,
      asOf: asOf.slice(0, n),
      overdue: overdue.slice(0, n),
      paid30: paid30.slice(0, n),
      truePay: truePay.slice(0, n),
      trueCover: trueCover.slice(0, n),
      hasTruth,
    };
  } finally {
    store.close();
  }
}
