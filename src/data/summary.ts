import type { DuckDBConnection } from '@duckdb/node-api';
import { TABLES } from '../core/schema/tables.ts';
import { withDuckDB } from './duckdb.ts';
import { findHistoryFiles, typedSource } from './history.ts';

/** Marginals of a history, as an analyst (and docs/synthetic-world.md) would quote them. */
export interface HistorySummary {
  snapshots: number;
  accounts: number;
  customers: number;
  firstSnapshot: string;
  lastSnapshot: string;
  /** Share of snapshots with days_past_due >= 1, overall and the min / max over months. */
  delinquentShare: number;
  delinquentShareRange: [number, number];
  productMix: Record<string, number>;
  /** Per delinquency bucket: share of delinquent snapshots, and where the account is a month later. */
  buckets: {
    bucket: string;
    share: number;
    cureRate: number;
    rollForwardRate: number;
  }[];
  /** Share of current accounts that are delinquent a month later. */
  currentToDelinquent: number;
  treatmentMix?: Record<string, number>;
  payRate30d?: number;
  coverRate30d?: number;
  meanTruePPay?: number;
  meanTruePCover?: number;
  contactsPerDelinquentSnapshot?: number;
}

const BUCKET_SQL = `CASE WHEN days_past_due = 0 THEN '0' WHEN days_past_due <= 30 THEN '1-30'
  WHEN days_past_due <= 60 THEN '31-60' WHEN days_past_due <= 90 THEN '61-90'
  WHEN days_past_due <= 180 THEN '91-180' ELSE '181+' END`;
const BUCKETS = ['1-30', '31-60', '61-90', '91-180', '181+'];

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJson() as Record<string, unknown>[];
}

/** Summarises a history folder with DuckDB (streaming over the files, so any size works). */
export async function summariseHistory(dir: string): Promise<HistorySummary> {
  const files = findHistoryFiles(dir, ['accounts']);
  return withDuckDB(async (conn) => {
    await conn.run(`CREATE VIEW accounts AS SELECT * FROM ${typedSource(files.accounts!, TABLES.accounts)}`);
    const [base] = await rows(
      conn,
      `SELECT count(*)::BIGINT AS n, count(DISTINCT account_id)::BIGINT AS accounts,
        count(DISTINCT customer_id)::BIGINT AS customers, min(as_of_date)::VARCHAR AS first,
        max(as_of_date)::VARCHAR AS last, avg((days_past_due >= 1)::INT) AS dq FROM accounts`,
    );
    const months = await rows(
      conn,
      `SELECT as_of_date, avg((days_past_due >= 1)::INT) AS dq FROM accounts GROUP BY 1 ORDER BY 1`,
    );
    const mix = await rows(
      conn,
      `SELECT product, count(*) / sum(count(*)) OVER () AS share FROM accounts GROUP BY 1 ORDER BY 1`,
    );
    const trans = await rows(
      conn,
      `WITH s AS (SELECT account_id, as_of_date, days_past_due, ${BUCKET_SQL} AS b FROM accounts),
       t AS (SELECT a.b, a.days_past_due AS d0, n.days_past_due AS d1, n.b AS nb FROM s a
             JOIN s n ON n.account_id = a.account_id AND n.as_of_date = a.as_of_date + INTERVAL 1 MONTH)
       SELECT b, count(*)::BIGINT AS n, avg((d1 = 0)::INT) AS cure,
         avg((d1 > 0 AND d1 > d0 + 20)::INT) AS roll FROM t GROUP BY 1`,
    );
    const delinquentTotal = await rows(
      conn,
      `SELECT ${BUCKET_SQL} AS b, count(*)::BIGINT AS n FROM accounts WHERE days_past_due >= 1 GROUP BY 1`,
    );
    const nDq = delinquentTotal.reduce((s, r) => s + Number(r.n), 0);
    const byBucket = new Map(trans.map((r) => [String(r.b), r]));
    const counts = new Map(delinquentTotal.map((r) => [String(r.b), Number(r.n)]));
    const summary: HistorySummary = {
      snapshots: Number(base!.n),
      accounts: Number(base!.accounts),
      customers: Number(base!.customers),
      firstSnapshot: String(base!.first),
      lastSnapshot: String(base!.last),
      delinquentShare: Number(base!.dq),
      delinquentShareRange: [
        Math.min(...months.map((m) => Number(m.dq))),
        Math.max(...months.map((m) => Number(m.dq))),
      ],
      productMix: Object.fromEntries(mix.map((r) => [String(r.product), Number(r.share)])),
      buckets: BUCKETS.map((b) => ({
        bucket: b,
        share: (counts.get(b) ?? 0) / Math.max(1, nDq),
        cureRate: Number(byBucket.get(b)?.cure ?? Number.NaN),
        rollForwardRate: Number(byBucket.get(b)?.roll ?? Number.NaN),
      })),
      currentToDelinquent: 1 - Number(byBucket.get('0')?.cure ?? Number.NaN),
    };
    if (files.treatments) {
      await conn.run(
        `CREATE VIEW treatments AS SELECT * FROM ${typedSource(files.treatments, TABLES.treatments)}`,
      );
      const tm = await rows(
        conn,
        `SELECT treatment, count(*) / sum(count(*)) OVER () AS share FROM treatments GROUP BY 1 ORDER BY 1`,
      );
      summary.treatmentMix = Object.fromEntries(tm.map((r) => [String(r.treatment), Number(r.share)]));
    }
    if (files.outcomes) {
      await conn.run(`CREATE VIEW outcomes AS SELECT * FROM ${typedSource(files.outcomes, TABLES.outcomes)}`);
      const [o] = await rows(
        conn,
        `SELECT avg((o.paid_30d > 0)::INT) AS pay,
           avg((o.paid_30d >= a.amount_overdue)::INT) FILTER (WHERE o.paid_30d > 0) AS cover
         FROM outcomes o JOIN accounts a USING (account_id, as_of_date)`,
      );
      summary.payRate30d = Number(o!.pay);
      summary.coverRate30d = Number(o!.cover);
    }
    if (files.truth) {
      await conn.run(`CREATE VIEW truth AS SELECT * FROM ${typedSource(files.truth, TABLES.truth)}`);
      const [t] = await rows(
        conn,
        `SELECT avg(p_pay) AS pp, sum(p_pay * p_cover_given_pay) / sum(p_pay) AS pc FROM truth`,
      );
      summary.meanTruePPay = Number(t!.pp);
      summary.meanTruePCover = Number(t!.pc);
    }
    if (files.contacts) {
      await conn.run(`CREATE VIEW contacts AS SELECT * FROM ${typedSource(files.contacts, TABLES.contacts)}`);
      const [c] = await rows(
        conn,
        `SELECT (SELECT count(*) FROM contacts) / (SELECT count(*) FROM accounts WHERE days_past_due >= 1) AS cps`,
      );
      summary.contactsPerDelinquentSnapshot = Number(c!.cps);
    }
    return summary;
  });
}
