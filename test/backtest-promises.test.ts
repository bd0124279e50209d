import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReport, PromiseRate } from '../src/core/backtest/types.ts';
import { generateWorld } from '../src/data/generate.ts';
import { runBacktest } from '../src/pipeline/backtest.ts';
import { renderBacktestReport } from '../src/report/backtest-html.ts';
import { tmpDir } from './helpers/tmp.ts';
import { readAll } from './helpers/world.ts';

/**
 * Promise-kept rates of the backtest against a count done here, from the generated files alone: the promises made
 * in the 30 days after each delinquent snapshot's decision (until the account's next one), each settled by the
 * payments dated before the account's last delinquent snapshot, oldest promise first, in cents, grace 3 days
 * (the default policy's, us-reg-f).
 */

const DAY = 86_400_000;
const GRACE = 3;

/** The calendar date of an instant in a zone, by Intl (not the code under test's zone arithmetic). */
const localDate = (ms: number, tz: string) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(ms));
const addDays = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

interface P {
  ms: number;
  order: number;
  made: string;
  deadline: string;
  left: number | null;
  kept: boolean;
}

type Count = { promises: number; kept: number; broken: number; open: number };

describe('backtest: promise-kept rates', () => {
  const dir = tmpDir();
  let report: BacktestReport;
  let html: string;
  beforeAll(async () => {
    await generateWorld({
      accounts: 3000,
      months: 10,
      seed: 16,
      start: '2025-01-01',
      out: dir,
      payments: true,
      format: 'csv',
    });
    report = await runBacktest({
      history: dir,
      policy: 'policies/default.yaml',
      bootstrapSamples: 20,
      seed: 1,
    });
    html = await renderBacktestReport(report);
  }, 300_000);

  it('equal the rates counted independently from the files, overall and by logged treatment', async () => {
    const accounts = await readAll(join(dir, 'accounts.csv'), 'accounts');
    const contacts = await readAll(join(dir, 'contacts.csv'), 'contacts');
    const payments = await readAll(join(dir, 'payments.csv'), 'payments');
    const treatments = await readAll(join(dir, 'treatments.csv'), 'treatments');
    const logged = new Map(treatments.map((t) => [`${t.account_id}|${t.as_of_date}`, t.treatment as string]));
    const snaps = new Map<string, { date: string; tz: string }[]>();
    for (const a of accounts) {
      if ((a.days_past_due as number) < 1) continue;
      const list = snaps.get(a.account_id as string) ?? [];
      list.push({ date: a.as_of_date as string, tz: a.timezone as string });
      snaps.set(a.account_id as string, list);
    }
    const overall: Count = { promises: 0, kept: 0, broken: 0, open: 0 };
    const byTreatment = new Map<string, Count>();
    for (const [id, list] of snaps) {
      list.sort((a, b) => a.date.localeCompare(b.date));
      const tz = list[0]!.tz;
      const decision = (d: string) => Date.parse(`${d}T12:00:00Z`);
      const until = decision(list[list.length - 1]!.date);
      const today = localDate(until, tz);
      const ps: P[] = contacts
        .filter((c) => c.account_id === id && c.outcome === 'promise_to_pay')
        .map((c, order) => {
          const ms = Date.parse(c.ts as string);
          const made = localDate(ms, tz);
          const due = (c.promise_date as string | null) ?? made;
          const amount = c.promise_amount as number | null;
          return {
            ms,
            order,
            made,
            deadline: addDays(due, GRACE),
            left: amount === null ? null : Math.round(amount * 100),
            kept: false,
          };
        })
        .filter((p) => p.ms <= until)
        .sort((a, b) => a.ms - b.ms || a.order - b.order);
      const pays = payments
        .filter((p) => p.account_id === id && (p.paid_at as string) < today)
        .sort((a, b) => (a.paid_at as string).localeCompare(b.paid_at as string));
      for (const pay of pays) {
        let cents = Math.round((pay.amount as number) * 100);
        const day = pay.paid_at as string;
        for (const p of ps) {
          if (p.kept || day < p.made || day > p.deadline) continue;
          if (p.left === null) {
            p.kept = true;
            continue;
          }
          const take = Math.min(cents, p.left);
          cents -= take;
          p.left -= take;
          if (p.left === 0) p.kept = true;
        }
      }
      list.forEach((s, i) => {
        const from = decision(s.date);
        const to = Math.min(from + 30 * DAY, i + 1 < list.length ? decision(list[i + 1]!.date) : Infinity);
        const t = logged.get(`${id}|${s.date}`);
        for (const p of ps) {
          if (p.ms < from || p.ms >= to) continue;
          const status = p.kept ? 'kept' : p.deadline < today ? 'broken' : 'open';
          const targets = [overall];
          if (t) {
            const c = byTreatment.get(t) ?? { promises: 0, kept: 0, broken: 0, open: 0 };
            byTreatment.set(t, c);
            targets.push(c);
          }
          for (const c of targets) {
            c.promises++;
            c[status]++;
          }
        }
      });
    }
    const counts = (r: PromiseRate) => ({
      promises: r.promises,
      kept: r.kept,
      broken: r.broken,
      open: r.open,
    });
    const p = report.promises!;
    expect(overall.promises).toBeGreaterThan(50);
    expect(overall.kept).toBeGreaterThan(0);
    expect(overall.broken).toBeGreaterThan(0);
    expect(counts(p.overall)).toEqual(overall);
    expect(p.overall.kept_rate).toBeCloseTo(overall.kept / (overall.kept + overall.broken), 12);
    expect(Object.fromEntries(p.by_treatment.map((r) => [r.key, counts(r)]))).toEqual(
      Object.fromEntries(byTreatment),
    );
  });

  it('by segment, the counts add up to the overall ones', () => {
    const p = report.promises!;
    expect(p.by_segment.length).toBeGreaterThan(1);
    for (const k of ['promises', 'kept', 'broken', 'open'] as const)
      expect(p.by_segment.reduce((s, r) => s + r[k], 0)).toBe(p.overall[k]);
  });

  it('the HTML report shows them', () => {
    const p = report.promises!;
    expect(html).toContain('<h2 id="promises">Promises to pay</h2>');
    for (const r of p.by_segment) expect(html).toContain(r.key);
    expect(html).toContain('By logged treatment');
  });

  it('a history without payments says so instead of rates', async () => {
    const plain = tmpDir();
    await generateWorld({
      accounts: 200,
      months: 4,
      seed: 3,
      start: '2025-01-01',
      out: plain,
      format: 'csv',
    });
    const r = await runBacktest({
      history: plain,
      policy: 'policies/default.yaml',
      bootstrapSamples: 10,
      seed: 1,
    });
    expect(r.promises).toBeNull();
    expect(await renderBacktestReport(r)).toContain('No payments table in this history');
  }, 120_000);
});
