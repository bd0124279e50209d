import { FEATURE_COUNT } from '../core/features/builder.ts';
import type { Treatment } from '../core/schema/enums.ts';
import {
  type AccountRow,
  type ContactRow,
  type PaymentRow,
  TABLES,
  type TruthRow,
} from '../core/schema/tables.ts';
import { HistoryStore, type StoreOptions } from './history-store.ts';

/** One delinquent snapshot as a backtest replays it. */
export interface ReplaySnapshot {
  account: AccountRow;
  /** The account's contacts before the decision instant (they feed the caps and cooldowns). */
  contacts: ContactRow[];
  /** Its contacts from the decision instant to the next snapshot's in the replay (where its promises are made). */
  later: ContactRow[];
  /** The account's payments the store read (up to the day before its last snapshot); null without a payments table. */
  payments: PaymentRow[] | null;
  /** The account's last snapshot in the replay: payments and promises are known up to its decision instant. */
  lastAsOfDate: string;
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

const TRUTH_COLUMNS = TABLES.truth.columns.map((c) => c.name).filter((n) => n !== 'account_id');

/**
 * Streams the delinquent snapshots of a history with everything a policy replay needs, in chunks of about
 * `chunkSize`, through the history store (validated in SQL, one merge-join of every table by account).
 * `decisionMs(asOfDate)` gives each snapshot's decision instant; contacts at or after it are left out.
 */
export async function* replaySnapshots(
  dir: string,
  decisionMs: (asOfDate: string) => number,
  chunkSize = 5000,
  store: StoreOptions = {},
): AsyncGenerator<ReplayChunk> {
  const history = await HistoryStore.open(dir, ['accounts', 'installments', 'contacts'], store);
  try {
    let snapshots: ReplaySnapshot[] = [];
    let features = new Float64Array(chunkSize * FEATURE_COUNT);
    const groups = history.accounts({
      scope: { delinquent: true },
      dated: { treatments: ['treatment', 'propensity'], outcomes: ['paid_30d'], truth: TRUTH_COLUMNS },
      contactRows: true,
      textColumns: true,
    });
    for await (const g of groups) {
      const contacts = g.contacts as unknown as ContactRow[];
      const contactMs = g.history.contactMs;
      g.snapshots.forEach((s, i) => {
        const account = s as unknown as AccountRow;
        const at = decisionMs(account.as_of_date);
        if ((snapshots.length + 1) * FEATURE_COUNT > features.length) {
          const grown = new Float64Array(features.length * 2);
          grown.set(features);
          features = grown;
        }
        g.features(i, features, snapshots.length * FEATURE_COUNT);
        // Contacts are sorted by time: those before the decision instant are a prefix.
        let before = 0;
        while (before < contacts.length && contactMs[before]! < at) before++;
        const next = g.snapshots[i + 1];
        const nextAt = next ? decisionMs(next.as_of_date as string) : Number.POSITIVE_INFINITY;
        let until = before;
        while (until < contacts.length && contactMs[until]! < nextAt) until++;
        const l = g.dated.treatments?.[i];
        const o = g.dated.outcomes?.[i];
        const t = g.dated.truth?.[i];
        snapshots.push({
          account,
          contacts: contacts.slice(0, before),
          later: contacts.slice(before, until),
          payments: g.payments,
          lastAsOfDate: g.snapshots[g.snapshots.length - 1]!.as_of_date as string,
          logged: l ? { treatment: l.treatment as Treatment, propensity: l.propensity as number } : null,
          paid30: o ? (o.paid_30d as number) : Number.NaN,
          truth: t ? ({ account_id: g.accountId, ...t } as unknown as TruthRow) : null,
        });
      });
      if (snapshots.length >= chunkSize) {
        yield { snapshots, features: features.slice(0, snapshots.length * FEATURE_COUNT) };
        snapshots = [];
      }
    }
    if (snapshots.length) yield { snapshots, features: features.slice(0, snapshots.length * FEATURE_COUNT) };
  } finally {
    history.close();
  }
}
