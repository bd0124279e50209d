import { describe, expect, it } from 'vitest';
import { matchPromises } from '../src/core/promises/match.ts';
import type { ContactRow, PaymentRow } from '../src/core/schema/tables.ts';

const promise = (ts: string, amount: number | null, date: string | null): ContactRow => ({
  account_id: 'A1',
  ts,
  channel: 'call',
  outcome: 'promise_to_pay',
  promise_amount: amount,
  promise_date: date,
  agent_id: 'ag1',
});
const pay = (paid_at: string, amount: number): PaymentRow => ({ account_id: 'A1', paid_at, amount });
const at = (iso: string) => Date.parse(iso);

interface Case {
  name: string;
  promises: ContactRow[];
  payments: PaymentRow[];
  now: string;
  grace?: number;
  timezone?: string;
  /** Per promise, oldest first: status, settled_on, covered. */
  expected: [string, string | null, number][];
}

const CASES: Case[] = [
  {
    name: 'one payment covering two promises: the oldest first, the rest to the next',
    promises: [
      promise('2026-03-01T10:00:00Z', 100, '2026-03-10'),
      promise('2026-03-02T10:00:00Z', 50, '2026-03-12'),
    ],
    payments: [pay('2026-03-05', 150)],
    now: '2026-04-01T12:00:00Z',
    expected: [
      ['kept', '2026-03-05', 100],
      ['kept', '2026-03-05', 50],
    ],
  },
  {
    name: 'a payment too small for both: the oldest is kept, the newer partly covered and later broken',
    promises: [
      promise('2026-03-02T10:00:00Z', 50, '2026-03-12'),
      promise('2026-03-01T10:00:00Z', 100, '2026-03-10'),
    ],
    payments: [pay('2026-03-05', 120)],
    now: '2026-04-01T12:00:00Z',
    expected: [
      ['kept', '2026-03-05', 100],
      ['broken', '2026-03-16', 20],
    ],
  },
  {
    name: 'partial payment in time, the rest after the grace: broken the day after the deadline',
    promises: [promise('2026-03-01T10:00:00Z', 200, '2026-03-10')],
    payments: [pay('2026-03-08', 80), pay('2026-03-20', 120)],
    now: '2026-04-01T12:00:00Z',
    expected: [['broken', '2026-03-14', 80]],
  },
  {
    name: 'partial payment then the rest on the last grace day: kept that day',
    promises: [promise('2026-03-01T10:00:00Z', 200, '2026-03-10')],
    payments: [pay('2026-03-08', 80), pay('2026-03-13', 120)],
    now: '2026-04-01T12:00:00Z',
    expected: [['kept', '2026-03-13', 200]],
  },
  {
    name: 'a payment before the promise was made does not count',
    promises: [promise('2026-03-05T10:00:00Z', 100, '2026-03-10')],
    payments: [pay('2026-03-04', 100)],
    now: '2026-04-01T12:00:00Z',
    expected: [['broken', '2026-03-14', 0]],
  },
  {
    name: 'a payment the same day the promise was made counts',
    promises: [promise('2026-03-05T10:00:00Z', 100, '2026-03-10')],
    payments: [pay('2026-03-05', 100)],
    now: '2026-04-01T12:00:00Z',
    expected: [['kept', '2026-03-05', 100]],
  },
  {
    name: 'a promise without a date is due the day it was made (plus grace)',
    promises: [promise('2026-03-05T10:00:00Z', 100, null)],
    payments: [pay('2026-03-09', 100)],
    now: '2026-04-01T12:00:00Z',
    expected: [['broken', '2026-03-09', 0]],
  },
  {
    name: 'a promise without a date, paid within the grace',
    promises: [promise('2026-03-05T10:00:00Z', 100, null)],
    payments: [pay('2026-03-08', 100)],
    now: '2026-04-01T12:00:00Z',
    expected: [['kept', '2026-03-08', 100]],
  },
  {
    name: 'same-day promises: the earlier one in the day first',
    promises: [
      promise('2026-03-05T15:00:00Z', 30, '2026-03-10'),
      promise('2026-03-05T09:00:00Z', 70, '2026-03-10'),
    ],
    payments: [pay('2026-03-06', 80)],
    now: '2026-04-01T12:00:00Z',
    expected: [
      ['kept', '2026-03-06', 70],
      ['broken', '2026-03-14', 10],
    ],
  },
  {
    name: 'promises at the same instant: input order',
    promises: [
      promise('2026-03-05T09:00:00Z', 30, '2026-03-10'),
      promise('2026-03-05T09:00:00Z', 70, '2026-03-10'),
    ],
    payments: [pay('2026-03-06', 40)],
    now: '2026-04-01T12:00:00Z',
    expected: [
      ['kept', '2026-03-06', 30],
      ['broken', '2026-03-14', 10],
    ],
  },
  {
    name: 'amounts in cents exactly: 0.1 + 0.2 keeps a promise of 0.30, 10.10 = 5.05 + 5.05',
    promises: [
      promise('2026-03-01T10:00:00Z', 0.3, '2026-03-10'),
      promise('2026-03-01T11:00:00Z', 10.1, '2026-03-10'),
    ],
    payments: [
      pay('2026-03-02', 0.1),
      pay('2026-03-03', 0.2),
      pay('2026-03-04', 5.05),
      pay('2026-03-05', 5.05),
    ],
    now: '2026-04-01T12:00:00Z',
    expected: [
      ['kept', '2026-03-03', 0.3],
      ['kept', '2026-03-05', 10.1],
    ],
  },
  {
    name: 'one cent short is broken',
    promises: [promise('2026-03-01T10:00:00Z', 100, '2026-03-10')],
    payments: [pay('2026-03-02', 99.99)],
    now: '2026-04-01T12:00:00Z',
    expected: [['broken', '2026-03-14', 99.99]],
  },
  {
    name: 'a promise without an amount is kept by any payment in its window and takes none of it',
    promises: [
      promise('2026-03-01T10:00:00Z', null, '2026-03-10'),
      promise('2026-03-01T11:00:00Z', 40, '2026-03-10'),
    ],
    payments: [pay('2026-03-04', 40)],
    now: '2026-04-01T12:00:00Z',
    expected: [
      ['kept', '2026-03-04', 0],
      ['kept', '2026-03-04', 40],
    ],
  },
  {
    name: 'still open before its deadline has passed; today’s payments are not known yet',
    promises: [promise('2026-03-01T10:00:00Z', 100, '2026-03-10')],
    payments: [pay('2026-03-13', 100)],
    now: '2026-03-13T12:00:00Z',
    expected: [['open', null, 0]],
  },
  {
    name: 'broken the day after its deadline, with grace 0',
    promises: [promise('2026-03-01T10:00:00Z', 100, '2026-03-10')],
    payments: [],
    now: '2026-03-11T12:00:00Z',
    grace: 0,
    expected: [['broken', '2026-03-11', 0]],
  },
  {
    name: 'promises made after now are unknown',
    promises: [
      promise('2026-03-01T10:00:00Z', 100, '2026-03-10'),
      promise('2026-03-20T10:00:00Z', 100, '2026-03-25'),
    ],
    payments: [pay('2026-03-05', 100)],
    now: '2026-03-15T12:00:00Z',
    expected: [['kept', '2026-03-05', 100]],
  },
  {
    name: 'the day a promise was made is the customer’s local day (23:30 in Chicago is the next UTC day)',
    promises: [promise('2026-03-06T05:30:00Z', 100, '2026-03-10')],
    payments: [pay('2026-03-05', 100)],
    now: '2026-04-01T12:00:00Z',
    timezone: 'America/Chicago',
    expected: [['kept', '2026-03-05', 100]],
  },
];

describe('matchPromises: payments to open promises, oldest first', () => {
  it.each(CASES)('$name', (c) => {
    const got = matchPromises(c.promises, c.payments, {
      graceDays: c.grace ?? 3,
      now: at(c.now),
      timezone: c.timezone ?? 'UTC',
    });
    expect(got.map((p) => [p.status, p.settled_on, p.covered])).toEqual(c.expected);
  });

  it('never allocates more than a payment across promises, nor more than a promise asked', () => {
    const ps = [
      promise('2026-03-01T10:00:00Z', 33.33, '2026-03-20'),
      promise('2026-03-02T10:00:00Z', 33.33, '2026-03-20'),
      promise('2026-03-03T10:00:00Z', 33.34, '2026-03-20'),
    ];
    const got = matchPromises(ps, [pay('2026-03-04', 50), pay('2026-03-05', 10)], {
      graceDays: 3,
      now: at('2026-04-01T00:00:00Z'),
      timezone: 'UTC',
    });
    expect(got.map((p) => p.covered)).toEqual([33.33, 26.67, 0]);
    expect(got.map((p) => p.status)).toEqual(['kept', 'broken', 'broken']);
  });
});
