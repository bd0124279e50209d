import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatures, FEATURE_COUNT, type SnapshotLike } from '../src/core/features/builder.ts';
import { FEATURE_INDEX, FEATURES } from '../src/core/features/definitions.ts';
import { renderFeaturesDoc } from '../src/core/features/features-doc.ts';
import { type ContactLike, type InstallmentLike, prepareHistory } from '../src/core/features/history.ts';
import type { Row } from '../src/data/reader.ts';
import { readAll } from './helpers/world.ts';

const SAMPLE = 'data-samples';

function features(s: Row, ins: Row[], con: Row[]): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  buildFeatures(
    s as unknown as SnapshotLike,
    prepareHistory(ins as unknown as InstallmentLike[], con as unknown as ContactLike[]),
    out,
  );
  return out;
}

/** Features equal, NaN equal to NaN; returns the names of those that differ. */
function differing(a: Float64Array, b: Float64Array): string[] {
  return FEATURES.filter((_, j) => !Object.is(a[j], b[j])).map((f) => f.name);
}

const addDays = (iso: string, d: number) =>
  new Date(Date.parse(iso) + d * 86_400_000).toISOString().slice(0, 10);

describe('point-in-time features', () => {
  let snaps: Row[];
  const ins = new Map<string, Row[]>();
  const con = new Map<string, Row[]>();
  beforeAll(async () => {
    snaps = (await readAll(join(SAMPLE, 'accounts.csv'), 'accounts')).filter(
      (a) => (a.days_past_due as number) > 0,
    );
    for (const r of await readAll(join(SAMPLE, 'installments.csv'), 'installments')) {
      ins.set(r.account_id as string, [...(ins.get(r.account_id as string) ?? []), r]);
    }
    for (const r of await readAll(join(SAMPLE, 'contacts.csv'), 'contacts')) {
      con.set(r.account_id as string, [...(con.get(r.account_id as string) ?? []), r]);
    }
  });

  it('ignores a planted future instalment, a future payment of a past instalment and a future contact', () => {
    let checked = 0;
    for (const s of snaps.slice(0, 300)) {
      const id = s.account_id as string;
      const asOf = s.as_of_date as string;
      const i0 = ins.get(id) ?? [];
      const c0 = con.get(id) ?? [];
      const base = features(s, i0, c0);
      const futureInstalment: Row = {
        account_id: id,
        installment_no: 999,
        due_date: addDays(asOf, 3),
        amount_due: 100,
        first_paid_date: addDays(asOf, 5),
        paid_date: addDays(asOf, 5),
        amount_paid: 100,
      };
      // The oldest unpaid past instalment is now "paid" — but only after the snapshot.
      const paidLater = i0.map((r) =>
        (r.due_date as string) < asOf && r.paid_date === null
          ? { ...r, paid_date: asOf, amount_paid: r.amount_due as number }
          : r,
      );
      const futureContacts: Row[] = [
        {
          account_id: id,
          ts: `${asOf}T00:00:00Z`,
          channel: 'call',
          outcome: 'promise_to_pay',
          promise_amount: 50,
          promise_date: addDays(asOf, 2),
          agent_id: 'AG001',
        },
        {
          account_id: id,
          ts: `${addDays(asOf, 10)}T12:00:00Z`,
          channel: 'sms',
          outcome: 'delivered',
          promise_amount: null,
          promise_date: null,
          agent_id: null,
        },
      ];
      const planted = features(s, [...paidLater, futureInstalment], [...c0, ...futureContacts]);
      expect(differing(base, planted), `${id} ${asOf}`).toEqual([]);
      checked++;
    }
    expect(checked).toBe(300);
  });

  it('cannot tell a partial payment completed after the snapshot from one never completed', () => {
    const s = snaps.find((x) =>
      (ins.get(x.account_id as string) ?? []).some((r) => (r.due_date as string) < (x.as_of_date as string)),
    )!;
    const asOf = s.as_of_date as string;
    const i0 = ins.get(s.account_id as string)!;
    const k = i0.findIndex((r) => (r.due_date as string) < asOf);
    const before = addDays(asOf, -5);
    const partialOnly = i0.map((r, j) =>
      j === k
        ? { ...r, first_paid_date: before, paid_date: null, amount_paid: (r.amount_due as number) / 2 }
        : r,
    );
    const completedLater = i0.map((r, j) =>
      j === k
        ? { ...r, first_paid_date: before, paid_date: addDays(asOf, 3), amount_paid: r.amount_due as number }
        : r,
    );
    expect(differing(features(s, partialOnly, []), features(s, completedLater, []))).toEqual([]);
  });

  it('does change when the past changes (so the test above can fail)', () => {
    const s = snaps.find((x) => (ins.get(x.account_id as string) ?? []).length > 3)!;
    const id = s.account_id as string;
    const asOf = s.as_of_date as string;
    const base = features(s, ins.get(id)!, con.get(id) ?? []);
    const pastContact: Row = {
      account_id: id,
      ts: `${addDays(asOf, -2)}T15:00:00Z`,
      channel: 'call',
      outcome: 'refused',
      promise_amount: null,
      promise_date: null,
      agent_id: 'AG002',
    };
    const changed = features(s, ins.get(id)!, [...(con.get(id) ?? []), pastContact]);
    expect(differing(base, changed)).toEqual(
      expect.arrayContaining(['contacts_90d', 'calls_90d', 'refusals_12m', 'days_since_last_contact_12m']),
    );
  });

  it('reads the timing of on-time payments and keeps missing values as NaN', () => {
    const s: Row = { ...snaps[0]!, monthly_income: null, legal_notice_date: null };
    const asOf = s.as_of_date as string;
    const due = addDays(asOf, -40);
    const i0: Row[] = [
      {
        account_id: 'x',
        installment_no: 1,
        due_date: due,
        amount_due: 80,
        first_paid_date: addDays(due, -6),
        paid_date: addDays(due, -6),
        amount_paid: 80,
      },
    ];
    const f = features(s, i0, []);
    expect(f[FEATURE_INDEX.get('mean_days_early_12m')!]).toBe(6);
    expect(f[FEATURE_INDEX.get('on_time_share_12m')!]).toBe(1);
    expect(f[FEATURE_INDEX.get('log_income')!]).toBeNaN();
    expect(f[FEATURE_INDEX.get('days_since_last_contact_12m')!]).toBeNaN();
    expect(f[FEATURE_INDEX.get('months_since_last_payment_12m')!]).toBeCloseTo(46 / 30.4375, 6);
  });

  it('are documented: docs/features.md is what the definitions render to (npm run docs)', () => {
    expect(readFileSync('docs/features.md', 'utf8')).toBe(renderFeaturesDoc(FEATURES));
  });
});
