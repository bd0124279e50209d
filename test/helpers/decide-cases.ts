import { createRng, type Rng } from '../../src/core/random.ts';
import type { AccountRow, ContactRow, PaymentRow } from '../../src/core/schema/tables.ts';
import { makeAccount, makeContact } from './account.ts';
import { CAPTURED_LIFTS } from './captured-lifts.ts';

/**
 * One input of `decide` as a policy without `staging` sees it: a raw policy (before defaults), an account, its
 * history, scores and instant. Only the four treatments and channels that existed before the staged flow appear,
 * and only the us-reg-f and cn-2025 packs (uk-conc's plan offers carry forbearance, a separate change).
 */
export interface DecideCase {
  policy: Record<string, unknown>;
  account: AccountRow;
  contacts: ContactRow[];
  payments: PaymentRow[];
  scores: {
    willingness: number;
    ability: number;
    byTreatment?: Record<string, { pPay: number; pCover: number }>;
  };
  now: number;
  callCapacityExhausted: boolean;
}

const OLD = ['hold', 'gentle_nudge', 'plan_offer', 'human_call', 'legal'] as const;
const CONTACTABLE = ['gentle_nudge', 'plan_offer', 'human_call', 'legal'] as const;
const CHANNELS_FOR: Record<(typeof CONTACTABLE)[number], readonly string[]> = {
  gentle_nudge: ['sms', 'email', 'app', 'letter'],
  plan_offer: ['sms', 'email', 'app', 'letter', 'call'],
  human_call: ['call'],
  legal: ['legal', 'letter'],
};
const SEGMENTS = [
  'high_willingness_high_ability',
  'high_willingness_low_ability',
  'low_willingness_high_ability',
  'low_willingness_low_ability',
] as const;
const CONTACT_CHANNELS = ['sms', 'email', 'app', 'call', 'visit', 'letter', 'legal'] as const;
const OUTCOMES = [
  'delivered',
  'no_answer',
  'right_party',
  'promise_to_pay',
  'refused',
  'dispute',
  'wrong_party',
  'opt_out',
] as const;
const ZONES = ['America/Chicago', 'America/New_York', 'Asia/Shanghai', 'Europe/London'] as const;
const PREFERRED = ['sms', 'email', 'app', 'call', 'letter'] as const;
const DAY = 86_400_000;

const pickOf = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;
const subset = <T>(rng: Rng, xs: readonly T[], min = 0): T[] => {
  const out = xs.filter(() => rng.bernoulli(0.5));
  return out.length >= min ? out : [xs[rng.int(0, xs.length - 1)]!];
};
const iso = (ms: number) => new Date(ms).toISOString();

function randomPolicy(rng: Rng, k: number): Record<string, unknown> {
  const p: Record<string, unknown> = { version: `unstaged-${k}` };
  if (rng.bernoulli(0.5)) p.mode = rng.bernoulli(0.5) ? 'matrix' : 'expected_value';
  if (rng.bernoulli(0.3)) p.min_days_past_due = rng.int(0, 40);
  if (rng.bernoulli(0.5))
    p.segments = {
      willingness_high: Math.round(rng.next() * 100) / 100,
      ability_high: Math.round(rng.next() * 100) / 100,
    };
  if (rng.bernoulli(0.6))
    p.matrix = Object.fromEntries(
      SEGMENTS.filter(() => rng.bernoulli(0.6)).map((s) => [
        s,
        Array.from({ length: rng.int(1, 3) }, () => pickOf(rng, OLD)),
      ]),
    );
  if (rng.bernoulli(0.5))
    p.treatments = Object.fromEntries(
      CONTACTABLE.filter(() => rng.bernoulli(0.5)).map((t) => [
        t,
        {
          channels: subset(rng, CHANNELS_FOR[t], 1),
          cost: Math.round(rng.next() * 300 * 100) / 100,
          fallback: subset(
            rng,
            OLD.filter((x) => x !== t),
          ),
        },
      ]),
    );
  const g: Record<string, unknown> = {};
  if (rng.bernoulli(0.4)) {
    const a = rng.int(8 * 60, 20 * 60);
    const b = rng.int(a + 1, 21 * 60);
    const hhmm = (m: number) =>
      `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    g.contact_hours = { start: hhmm(a), end: hhmm(b) };
  }
  if (rng.bernoulli(0.4))
    g.caps = {
      call: { attempts: rng.int(0, 7), days: rng.int(7, 14) },
      sms: { attempts: rng.int(0, 5), days: rng.int(1, 14) },
    };
  if (rng.bernoulli(0.3)) g.promise_grace_days = rng.int(0, 10);
  if (rng.bernoulli(0.3)) g.legal = { min_days_past_due: rng.int(90, 150), min_overdue: rng.int(0, 1500) };
  if (Object.keys(g).length) p.guardrails = g;
  if (rng.bernoulli(0.3)) p.packs = { regions: { 'CN-31': 'cn-2025' } };
  if (rng.bernoulli(0.2)) p.promises = { broken_promise_follow_up_days: rng.int(0, 20) };
  // The lifts the golden decisions were captured with, stated (no draw: the cases stay what they were).
  p.response = { lifts: CAPTURED_LIFTS };
  return p;
}

/**
 * `n` random decide inputs from `seed`: any mode, matrix, channel lists, costs, contact hours, caps, flags,
 * histories with promises, opt-outs and third parties, and instants all day long.
 */
export function randomDecideCases(seed: number, n: number): DecideCase[] {
  const out: DecideCase[] = [];
  for (let k = 0; k < n; k++) {
    const rng = createRng(seed, k);
    const policy = randomPolicy(rng, k);
    const cn = rng.bernoulli(0.25);
    const tz = cn ? 'Asia/Shanghai' : pickOf(rng, ZONES);
    const now = Date.UTC(2026, 0, 1) + rng.int(0, 364) * DAY + rng.int(0, DAY / 1000 - 1) * 1000;
    const flag = (p: number) => rng.bernoulli(p);
    const overdue = Math.round(rng.next() * 3000 * 100) / 100;
    const account = makeAccount({
      account_id: `U${String(k).padStart(5, '0')}`,
      region: cn ? 'CN-31' : 'IL',
      timezone: tz,
      amount_overdue: overdue,
      balance: overdue + Math.round(rng.next() * 5000),
      days_past_due: rng.bernoulli(0.2) ? pickOf(rng, [0, 1, 89, 90, 91, 119, 120, 121]) : rng.int(0, 300),
      preferred_channel: pickOf(rng, PREFERRED),
      phone_valid: !flag(0.1),
      email_valid: !flag(0.1),
      do_not_call: flag(0.1),
      hardship_flag: flag(0.15),
      vulnerable_flag: flag(0.15),
      complaint_open: flag(0.1),
      dispute_open: flag(0.03),
      deceased_flag: flag(0.02),
      legal_notice_date: rng.bernoulli(0.3) ? null : iso(now - rng.int(0, 60) * DAY).slice(0, 10),
      monthly_income: rng.bernoulli(0.2) ? null : rng.int(500, 8000),
    });
    const contacts: ContactRow[] = [];
    for (let c = rng.int(0, 12); c > 0; c--) {
      const at = now - rng.int(0, (40 * DAY) / 1000) * 1000;
      const outcome = pickOf(rng, OUTCOMES);
      contacts.push(
        makeContact({
          account_id: account.account_id,
          ts: iso(at),
          channel: pickOf(rng, CONTACT_CHANNELS),
          outcome,
          promise_amount: outcome === 'promise_to_pay' ? 50 : null,
          promise_date: outcome === 'promise_to_pay' ? iso(at + rng.int(1, 10) * DAY).slice(0, 10) : null,
        }),
      );
    }
    const payments: PaymentRow[] = rng.bernoulli(0.5)
      ? [
          {
            account_id: account.account_id,
            paid_at: iso(now - rng.int(1, 30) * DAY).slice(0, 10),
            amount: rng.int(1, 100),
          },
        ]
      : [];
    const scores: DecideCase['scores'] = {
      willingness: Math.round(rng.next() * 1000) / 1000,
      ability: Math.round(rng.next() * 1000) / 1000,
    };
    if (rng.bernoulli(0.3))
      scores.byTreatment = Object.fromEntries(
        OLD.filter(() => rng.bernoulli(0.7)).map((t) => [
          t,
          { pPay: Math.round(rng.next() * 1000) / 1000, pCover: Math.round(rng.next() * 1000) / 1000 },
        ]),
      );
    out.push({ policy, account, contacts, payments, scores, now, callCapacityExhausted: flag(0.2) });
  }
  return out;
}
