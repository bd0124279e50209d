import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatures, FEATURE_COUNT, type SnapshotLike } from '../src/core/features/builder.ts';
import { FEATURES } from '../src/core/features/definitions.ts';
import { type InstallmentLike, isoDay, prepareHistory } from '../src/core/features/history.ts';
import { allocatePayments, applyPayments, paymentColumns } from '../src/core/features/payments.ts';
import { archiveSchema, toArchive } from '../src/core/scoring/input.ts';
import { generateWorld } from '../src/data/generate.ts';
import type { Row } from '../src/data/reader.ts';
import { makeAccount } from './helpers/account.ts';
import { tmpDir } from './helpers/tmp.ts';
import { readAll } from './helpers/world.ts';

const i32 = (xs: number[]) => Int32Array.from(xs);
const f64 = (xs: number[]) => Float64Array.from(xs);

describe('allocatePayments: oldest due first', () => {
  it('fills overdue and billed instalments in due order and leaves the rest as surplus (worked by hand)', () => {
    // Three instalments of 50 due on days 100, 130 and 160. A bill is out 25 days before its due date.
    const a = allocatePayments(
      i32([100, 130, 160]),
      f64([50, 50, 50]),
      i32([95, 110, 170]),
      f64([20, 100, 30]),
    );
    // Day 95: 20 to the first (billed since day 75). Day 110: 30 completes the first, 50 pays the second early
    // (billed since day 105); the last 20 cannot go to the third (billed only from day 135): surplus.
    // Day 170: 30 towards the third, 20 short.
    expect(Array.from(a.firstPaid)).toEqual([95, 110, 170]);
    expect(Array.from(a.paid)).toEqual([110, 110, -1]);
    expect(Array.from(a.amountPaid)).toEqual([50, 50, 30]);
    expect(a.surplus).toBe(20);
  });

  it('pays the oldest arrears before the current bill', () => {
    // Two missed instalments, then one payment covering one and a half of them.
    const a = allocatePayments(i32([10, 40, 70]), f64([100, 100, 100]), i32([75]), f64([150]));
    expect(Array.from(a.paid)).toEqual([75, -1, -1]);
    expect(Array.from(a.firstPaid)).toEqual([75, 75, -1]);
    expect(Array.from(a.amountPaid)).toEqual([100, 50, 0]);
    expect(a.surplus).toBe(0);
  });

  it('counts in whole cents, sums payments of one day and takes them in any order', () => {
    const cents = allocatePayments(i32([10]), f64([0.3]), i32([5, 8]), f64([0.1, 0.2]));
    expect(Array.from(cents.paid)).toEqual([8]);
    expect(cents.amountPaid[0]).toBe(0.3);
    const sorted = allocatePayments(i32([10, 40]), f64([60, 60]), i32([5, 5, 30, 41]), f64([30, 30, 10, 50]));
    const shuffled = allocatePayments(
      i32([10, 40]),
      f64([60, 60]),
      i32([41, 5, 30, 5]),
      f64([50, 30, 10, 30]),
    );
    expect(shuffled).toEqual(sorted);
    expect(Array.from(sorted.paid)).toEqual([5, 41]);
    expect(Array.from(sorted.firstPaid)).toEqual([5, 30]);
  });

  it('counts an instalment of 0 as paid on the first payment day that reaches it', () => {
    const a = allocatePayments(i32([10, 20, 30]), f64([10, 0, 10]), i32([12, 31]), f64([10, 10]));
    expect(Array.from(a.paid)).toEqual([12, 12, 31]);
    expect(Array.from(a.firstPaid)).toEqual([12, 12, 31]);
  });

  it('refuses instalments out of due order and negative amounts, naming them', () => {
    expect(() => allocatePayments(i32([20, 10]), f64([1, 1]), i32([]), f64([]))).toThrow(
      'instalments must be in due order: day 10 follows day 20',
    );
    expect(() => allocatePayments(i32([10]), f64([1]), i32([3]), f64([-5]))).toThrow(
      'amount[0] must be >= 0, got -5',
    );
  });

  it('matches truthful paid_date / first_paid_date when each instalment is paid by one payment of its amount', () => {
    // Paid early, on the due day, late, late across the next due date, and never.
    const rows: InstallmentLike[] = [
      ins('2024-01-20', 80, '2024-01-15', '2024-01-15', 80),
      ins('2024-02-20', 80, '2024-02-20', '2024-02-20', 80),
      ins('2024-03-20', 80, '2024-04-02', '2024-04-02', 80),
      ins('2024-04-20', 80, '2024-05-28', '2024-05-28', 80),
      ins('2024-05-20', 80, '2024-06-01', '2024-06-01', 80),
      ins('2024-06-20', 80, null, null, 0),
    ];
    const stored = prepareHistory(rows, []);
    const derived = prepareHistory(rows, []);
    const p = paymentColumns(
      rows.filter((r) => r.paid_date !== null).map((r) => ({ paid_at: r.paid_date!, amount: r.amount_due })),
    );
    applyPayments(derived, p.days, p.amounts);
    expect(Array.from(derived.paid)).toEqual(Array.from(stored.paid));
    expect(Array.from(derived.firstPaid)).toEqual(Array.from(stored.firstPaid));
    expect(Array.from(derived.amountPaid)).toEqual(Array.from(stored.amountPaid));
  });
});

function ins(
  due: string,
  amount: number,
  first: string | null,
  paid: string | null,
  amountPaid: number,
): InstallmentLike {
  return {
    due_date: due,
    amount_due: amount,
    first_paid_date: first,
    paid_date: paid,
    amount_paid: amountPaid,
  };
}

describe('payments on a generated world', () => {
  const dir = tmpDir();
  const plain = join(dir, 'plain');
  const withPay = join(dir, 'pay');
  const ins = new Map<string, Row[]>();
  const pay = new Map<string, Row[]>();
  let snaps: Row[];
  const group = (m: Map<string, Row[]>, rows: Row[]) => {
    for (const r of rows) {
      const k = r.account_id as string;
      const g = m.get(k);
      if (g) g.push(r);
      else m.set(k, [r]);
    }
  };
  beforeAll(async () => {
    const cfg = { accounts: 600, months: 12, seed: 77, start: '2024-01-01' };
    await generateWorld({ ...cfg, out: plain, format: 'csv' });
    await generateWorld({ ...cfg, out: withPay, format: 'csv', payments: true });
    group(ins, await readAll(join(withPay, 'installments.csv'), 'installments'));
    group(pay, await readAll(join(withPay, 'payments.csv'), 'payments'));
    snaps = (await readAll(join(withPay, 'accounts.csv'), 'accounts')).filter(
      (a) => (a.days_past_due as number) > 0,
    );
  });

  it('leaves every other table byte-identical when the payments table is asked for', () => {
    for (const t of ['accounts', 'installments', 'contacts', 'treatments', 'outcomes', 'truth'])
      expect(readFileSync(join(withPay, `${t}.csv`)).equals(readFileSync(join(plain, `${t}.csv`))), t).toBe(
        true,
      );
  });

  it('writes the payments the outcomes were counted from (paid_30d = payments in the 30 days after)', async () => {
    const outcomes = await readAll(join(withPay, 'outcomes.csv'), 'outcomes');
    expect(outcomes.length).toBeGreaterThan(100);
    for (const o of outcomes) {
      const d = isoDay(o.as_of_date as string);
      const sum = (pay.get(o.account_id as string) ?? [])
        .filter((p) => isoDay(p.paid_at as string) > d && isoDay(p.paid_at as string) <= d + 30)
        .reduce((s, p) => s + Math.round((p.amount as number) * 100), 0);
      expect(sum / 100, `${o.account_id} ${o.as_of_date}`).toBeCloseTo(o.paid_30d as number, 6);
    }
  });

  function history(id: string, payments: readonly Row[]) {
    const h = prepareHistory((ins.get(id) ?? []) as unknown as InstallmentLike[], []);
    const p = paymentColumns(payments as unknown as { paid_at: string; amount: number }[]);
    applyPayments(h, p.days, p.amounts);
    return h;
  }

  function features(s: Row, h: ReturnType<typeof prepareHistory>): Float64Array {
    const out = new Float64Array(FEATURE_COUNT);
    buildFeatures(s as unknown as SnapshotLike, h, out);
    return out;
  }

  const differing = (a: Float64Array, b: Float64Array) =>
    FEATURES.filter((_, j) => !Object.is(a[j], b[j])).map((f) => f.name);

  it('is point-in-time: payments on or after the snapshot day never change its features', () => {
    expect(snaps.length).toBeGreaterThan(200);
    let withLater = 0;
    for (const s of snaps) {
      const id = s.account_id as string;
      const asOf = s.as_of_date as string;
      const all = pay.get(id) ?? [];
      const before = all.filter((p) => (p.paid_at as string) < asOf);
      const base = features(s, history(id, all));
      if (before.length < all.length) withLater++;
      // Every payment from the snapshot day on removed, or a large one added on that day and a month later.
      expect(differing(features(s, history(id, before)), base), `${id} ${asOf}`).toEqual([]);
      const planted = [
        ...all,
        { account_id: id, paid_at: asOf, amount: 1e6 },
        { account_id: id, paid_at: addDays(asOf, 31), amount: 5e5 },
      ];
      expect(differing(features(s, history(id, planted)), base), `${id} ${asOf}`).toEqual([]);
    }
    // The check has teeth: most snapshots have payments after them that are left out or added.
    expect(withLater).toBeGreaterThan(snaps.length / 2);
  });

  it('agrees with the world’s own paid_date / first_paid_date on nearly every instalment', () => {
    // The simulator bills an instalment from the first of its due month; the allocation bills it 25 days before
    // its due date. The two differ only when a payment with money to spare falls between the two.
    let n = 0;
    let paidDiff = 0;
    let firstDiff = 0;
    for (const [id, rows] of ins) {
      const stored = prepareHistory(rows as unknown as InstallmentLike[], []);
      const derived = history(id, pay.get(id) ?? []);
      for (let i = 0; i < stored.n; i++) {
        n++;
        if (stored.paid[i] !== derived.paid[i]) paidDiff++;
        if (stored.firstPaid[i] !== derived.firstPaid[i]) firstDiff++;
      }
    }
    expect(n).toBeGreaterThan(5000);
    expect(paidDiff / n).toBeLessThan(0.005);
    expect(firstDiff / n).toBeLessThan(0.005);
  });
});

const addDays = (iso: string, d: number) =>
  new Date(Date.parse(iso) + d * 86_400_000).toISOString().slice(0, 10);

describe('the score archive', () => {
  const account = makeAccount();
  it('takes an optional payments list, each payment of the account itself', () => {
    const ok = archiveSchema.safeParse({ account, payments: [{ paid_at: '2024-01-05', amount: 10 }] });
    expect(ok.success).toBe(true);
    expect(toArchive(ok.data!).payments).toEqual([{ paid_at: '2024-01-05', amount: 10 }]);
    const none = archiveSchema.safeParse({ account });
    expect(toArchive(none.data!).payments).toBeUndefined();
    const other = archiveSchema.safeParse({
      account,
      payments: [{ account_id: 'SOMEONE-ELSE', paid_at: '2024-01-05', amount: 10 }],
    });
    expect(other.success).toBe(false);
    expect(other.error!.issues[0]!.path).toEqual(['payments', 0, 'account_id']);
  });
});
