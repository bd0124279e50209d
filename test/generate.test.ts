import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RepayriskError } from '../src/core/errors.ts';
import { generateWorld } from '../src/data/generate.ts';
import type { Row } from '../src/data/reader.ts';
import { summariseHistory } from '../src/data/summary.ts';
import { tmpDir } from './helpers/tmp.ts';
import { readAll, snapKey } from './helpers/world.ts';

const SAMPLE = 'data-samples';
const SAMPLE_CONFIG = JSON.parse(readFileSync(join(SAMPLE, 'world.json'), 'utf8')).config;

/** Undefined when the two files are byte-identical, else the first line that differs. */
function firstDifference(a: string, b: string): string | undefined {
  const x = readFileSync(a);
  const y = readFileSync(b);
  if (x.equals(y)) return undefined;
  const lx = x.toString('utf8').split('\n');
  const ly = y.toString('utf8').split('\n');
  const i = lx.findIndex((l, k) => l !== ly[k]);
  return `${a} line ${i + 1}: ${lx[i]} vs ${ly[i]}`;
}

const files = (dir: string) =>
  readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();

describe('generateWorld determinism', () => {
  const dir = tmpDir();

  it('regenerates data-samples/ byte for byte from the seed in its world.json', async () => {
    const out = join(dir, 'sample');
    await generateWorld({ ...SAMPLE_CONFIG, out, format: 'csv' });
    expect(files(out)).toEqual(files(SAMPLE).filter((f) => f !== 'README.md'));
    for (const f of files(out)) expect(firstDifference(join(out, f), join(SAMPLE, f))).toBeUndefined();
  });

  it('gives byte-identical files for the same seed and different files for another seed', async () => {
    const cfg = { accounts: 300, months: 6, start: '2024-01-01' };
    await generateWorld({ ...cfg, seed: 9, out: join(dir, 'a'), format: 'csv' });
    await generateWorld({ ...cfg, seed: 9, out: join(dir, 'b'), format: 'csv' });
    await generateWorld({ ...cfg, seed: 10, out: join(dir, 'c'), format: 'csv' });
    for (const f of files(join(dir, 'a')))
      expect(firstDifference(join(dir, 'b', f), join(dir, 'a', f))).toBeUndefined();
    expect(firstDifference(join(dir, 'c', 'accounts.csv'), join(dir, 'a', 'accounts.csv'))).toBeDefined();
  });

  it('refuses a bad configuration naming every bad field', async () => {
    const err = await generateWorld({
      accounts: 0,
      months: 12,
      seed: -1,
      start: '2024-01-15',
      out: join(dir, 'bad'),
      format: 'csv',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepayriskError);
    expect((err as Error).message).toBe(
      'accounts: expected an integer >= 1, got 0\nseed: expected an integer >= 0, got -1\n' +
        'start: expected the first day of a month as YYYY-MM-01, got 2024-01-15',
    );
  });
});

describe('the sample world keeps the data contract and the law', () => {
  let accounts: Row[];
  let installments: Row[];
  let contacts: Row[];
  let treatments: Row[];
  beforeAll(async () => {
    accounts = await readAll(join(SAMPLE, 'accounts.csv'), 'accounts');
    installments = await readAll(join(SAMPLE, 'installments.csv'), 'installments');
    contacts = await readAll(join(SAMPLE, 'contacts.csv'), 'contacts');
    treatments = await readAll(join(SAMPLE, 'treatments.csv'), 'treatments');
  });

  it('writes history only for accounts it has snapshots of', () => {
    const ids = new Set(accounts.map((a) => a.account_id));
    for (const r of [...installments, ...contacts, ...treatments]) expect(ids.has(r.account_id)).toBe(true);
  });

  it('has unique keys in every table', () => {
    expect(new Set(accounts.map(snapKey)).size).toBe(accounts.length);
    expect(new Set(installments.map((r) => `${r.account_id}|${r.installment_no}`)).size).toBe(
      installments.length,
    );
    expect(new Set(treatments.map(snapKey)).size).toBe(treatments.length);
  });

  it('never pays more towards an instalment than was due, and dates it only once paid in full', () => {
    for (const r of installments) {
      expect(r.amount_paid as number).toBeLessThanOrEqual((r.amount_due as number) + 1e-9);
      expect(r.paid_date === null).toBe((r.amount_paid as number) < (r.amount_due as number));
    }
  });

  it('agrees with the instalments: overdue at a snapshot is what was due before it and not paid by then', () => {
    const byAccount = new Map<string, Row[]>();
    for (const r of installments) {
      const l = byAccount.get(r.account_id as string) ?? [];
      l.push(r);
      byAccount.set(r.account_id as string, l);
    }
    let checked = 0;
    for (const a of accounts) {
      // Fully paid instalments are exact point-in-time; partial payments are dated by their last payment, so
      // only snapshots whose past-due instalments are all either fully paid before it or untouched are exact.
      const due = (byAccount.get(a.account_id as string) ?? []).filter(
        (i) => (i.due_date as string) < (a.as_of_date as string),
      );
      const exact = due.every(
        (i) =>
          i.amount_paid === 0 ||
          (i.amount_paid === i.amount_due && (i.paid_date as string) < (a.as_of_date as string)),
      );
      if (!exact) continue;
      const unpaid = due.reduce((s, i) => s + (i.amount_paid === 0 ? (i.amount_due as number) : 0), 0);
      expect(a.amount_overdue as number).toBeCloseTo(unpaid, 2);
      expect((a.days_past_due as number) > 0).toBe(unpaid > 0);
      checked++;
    }
    expect(checked).toBeGreaterThan(accounts.length * 0.9);
  });

  it('made every contact inside 08:00-21:00 in the customer’s own time zone', () => {
    const tz = new Map(accounts.map((a) => [a.account_id as string, a.timezone as string]));
    for (const c of contacts) {
      const zone = tz.get(c.account_id as string)!;
      const hour = Number(
        new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(
          new Date(c.ts as string),
        ),
      );
      expect(hour, `${c.account_id} ${c.ts} ${zone}`).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(21);
    }
    expect(contacts.length).toBeGreaterThan(1000);
  });

  it('held every suppressed account, and took legal action only where every prerequisite held', () => {
    const snap = new Map(accounts.map((a) => [snapKey(a), a]));
    let legal = 0;
    for (const t of treatments) {
      const a = snap.get(snapKey(t))!;
      expect(a, snapKey(t)).toBeDefined();
      expect(a.days_past_due as number).toBeGreaterThan(0);
      const suppressed = a.deceased_flag || a.bankruptcy_flag || a.dispute_open || a.cease_and_desist;
      if (suppressed) expect(t.treatment).toBe('hold');
      if (t.treatment === 'human_call') expect(a.do_not_call || !a.phone_valid).toBe(false);
      if (t.treatment === 'legal') {
        legal++;
        expect(a.days_past_due as number).toBeGreaterThanOrEqual(90);
        expect(a.vulnerable_flag || a.hardship_flag || a.complaint_open).toBe(false);
        const notice = a.legal_notice_date as string;
        expect(notice).not.toBeNull();
        expect((Date.parse(a.as_of_date as string) - Date.parse(notice)) / 86_400_000).toBeGreaterThanOrEqual(
          14,
        );
      }
      expect(t.propensity as number).toBeGreaterThan(0);
    }
    expect(legal).toBeGreaterThan(0);
  });
});

describe('a larger world', () => {
  const dir = tmpDir();
  let truth: Row[];
  let outcomes: Map<string, Row>;
  let snaps: Map<string, Row>;
  beforeAll(async () => {
    await generateWorld({
      accounts: 12_000,
      months: 12,
      seed: 31,
      start: '2024-01-01',
      out: dir,
      format: 'csv',
    });
    truth = await readAll(join(dir, 'truth.csv'), 'truth');
    outcomes = new Map((await readAll(join(dir, 'outcomes.csv'), 'outcomes')).map((r) => [snapKey(r), r]));
    snaps = new Map(
      (await readAll(join(dir, 'accounts.csv'), 'accounts'))
        .filter((a) => (a.days_past_due as number) > 0)
        .map((a) => [snapKey(a), a]),
    );
  });

  /** |realised mean - mean probability| in standard errors of the realised mean under the truth. */
  function zScore(ps: number[], ys: number[]): number {
    const n = ps.length;
    const mp = ps.reduce((s, p) => s + p, 0) / n;
    const my = ys.reduce((s, y) => s + y, 0) / n;
    const v = ps.reduce((s, p) => s + p * (1 - p), 0) / (n * n);
    return Math.abs(my - mp) / Math.sqrt(v);
  }

  it('has a truth row and an outcome row for every delinquent snapshot', () => {
    expect(truth.length).toBeGreaterThan(8000);
    expect(new Set(truth.map(snapKey))).toEqual(new Set(snaps.keys()));
    expect(outcomes.size).toBe(truth.length);
  });

  it('writes true P(pay) that the realised pay rate matches, overall and by decile', () => {
    const rows = truth.map((t) => ({
      p: t.p_pay as number,
      y: (outcomes.get(snapKey(t))!.paid_30d as number) > 0 ? 1 : 0,
    }));
    expect(
      zScore(
        rows.map((r) => r.p),
        rows.map((r) => r.y),
      ),
    ).toBeLessThan(4);
    rows.sort((a, b) => a.p - b.p);
    const k = Math.floor(rows.length / 10);
    for (let d = 0; d < 10; d++) {
      const part = rows.slice(d * k, (d + 1) * k);
      expect(
        zScore(
          part.map((r) => r.p),
          part.map((r) => r.y),
        ),
        `decile ${d}`,
      ).toBeLessThan(4);
    }
  });

  it('writes true P(cover | pay) that the realised cover rate among payers matches', () => {
    const ps: number[] = [];
    const ys: number[] = [];
    for (const t of truth) {
      const paid = outcomes.get(snapKey(t))!.paid_30d as number;
      if (paid <= 0) continue;
      ps.push(t.p_cover_given_pay as number);
      ys.push(paid >= (snaps.get(snapKey(t))!.amount_overdue as number) ? 1 : 0);
    }
    expect(ps.length).toBeGreaterThan(3000);
    expect(zScore(ps, ys)).toBeLessThan(4);
  });

  it('writes an expected recovery that the realised recovery matches within sampling error', () => {
    let sumE = 0;
    let sumR = 0;
    let sumR2 = 0;
    for (const t of truth) {
      const od = snaps.get(snapKey(t))!.amount_overdue as number;
      const r = Math.min(outcomes.get(snapKey(t))!.paid_30d as number, od);
      sumE += t.expected_recovery as number;
      sumR += r;
      sumR2 += r * r;
    }
    const n = truth.length;
    const se = Math.sqrt((sumR2 / n - (sumR / n) ** 2) / n);
    expect(Math.abs(sumR / n - sumE / n) / se).toBeLessThan(4);
  });

  it('responds to treatments heterogeneously, as collections practice expects', () => {
    const mean = (rows: Row[], col: string) => rows.reduce((s, r) => s + (r[col] as number), 0) / rows.length;
    const ableWilling = truth.filter(
      (t) => (t.willingness_latent as number) > 0.5 && (t.ability_latent as number) > 0.5,
    );
    const willingUnable = truth.filter(
      (t) => (t.willingness_latent as number) > 0.5 && (t.ability_latent as number) < -1,
    );
    const ableReluctant = truth.filter(
      (t) => (t.willingness_latent as number) < -0.5 && (t.ability_latent as number) > 0.5,
    );
    for (const g of [ableWilling, willingUnable, ableReluctant]) expect(g.length).toBeGreaterThan(100);
    const lift = (rows: Row[], t: string) => mean(rows, `p_pay_${t}`) - mean(rows, 'p_pay_hold');
    // A nudge works on the able and willing; a plan on the willing but unable; a call on the able but reluctant.
    expect(lift(ableWilling, 'gentle_nudge')).toBeGreaterThan(lift(willingUnable, 'gentle_nudge'));
    expect(lift(willingUnable, 'plan_offer')).toBeGreaterThan(lift(willingUnable, 'gentle_nudge'));
    expect(lift(willingUnable, 'plan_offer')).toBeGreaterThan(lift(willingUnable, 'human_call'));
    expect(lift(ableReluctant, 'human_call')).toBeGreaterThan(lift(ableReluctant, 'gentle_nudge'));
    expect(lift(ableReluctant, 'human_call')).toBeGreaterThan(lift(ableReluctant, 'plan_offer'));
    // Legal recovers something from the able, nothing from the unable.
    expect(mean(ableReluctant, 'expected_recovery_legal')).toBeGreaterThan(
      mean(ableReluctant, 'expected_recovery_hold'),
    );
    expect(lift(willingUnable, 'legal')).toBeLessThan(0.02);
  });

  it('looks like a consumer-credit book', async () => {
    const s = await summariseHistory(dir);
    expect(s.delinquentShare).toBeGreaterThan(0.05);
    expect(s.delinquentShare).toBeLessThan(0.15);
    const [b1, b2, b3, b4] = s.buckets;
    // Most early delinquencies self-cure; the chance of curing falls and of rolling on rises with each bucket.
    expect(b1!.cureRate).toBeGreaterThan(0.5);
    expect(b2!.cureRate).toBeLessThan(b1!.cureRate);
    expect(b3!.cureRate).toBeLessThan(b2!.cureRate);
    expect(b4!.cureRate).toBeLessThan(b3!.cureRate);
    expect(b2!.rollForwardRate).toBeGreaterThan(b1!.rollForwardRate);
    expect(b4!.rollForwardRate).toBeGreaterThan(b3!.rollForwardRate);
    expect(s.currentToDelinquent).toBeGreaterThan(0.01);
    expect(s.currentToDelinquent).toBeLessThan(0.06);
  });
});
