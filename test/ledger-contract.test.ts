import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactRow } from '../src/core/schema/tables.ts';
import type {
  AuditQuery,
  ContactRecord,
  DecisionRecord,
  Ledger,
  ReviewEventRecord,
  StoredAnswer,
} from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { LedgerError, openLedger } from '../src/ledger/open.ts';
import { openPostgresLedger } from '../src/ledger/postgres.ts';
import { LEDGER_SCHEMA_VERSION } from '../src/ledger/schema-sql.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import { findPostgres, type TestPostgres } from './helpers/postgres.ts';
import { MemoryLedger } from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

/** A new, empty store; the function it resolves to opens it, and opens it again after a close. */
type FreshStore = () => Promise<() => Promise<Ledger>>;

const T0 = Date.parse('2026-11-20T15:00:00.000Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function decision(id: string, over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    decision_id: id,
    decided_at: iso(T0),
    account_id: 'A-1',
    as_of_date: '2026-11-19',
    model_version: 'repayrisk/2026-11-01T00-00-00Z',
    policy_version: 'default@3',
    experiment_arm: 'champion',
    willingness: 0.1 + 0.2,
    ability: 1 / 3,
    expected_recovery: 1234.5678901234567,
    segment: 'low_willingness_high_ability',
    treatment: 'plan_offer',
    channel: 'sms',
    earliest_contact_at: '2026-11-20T09:00:00-06:00',
    call_team: null,
    offer: {
      monthly_payment: 87.31,
      term_months: 18,
      term_extension_months: 6,
      interest_relief: 0.25,
      apr: 0.2 * 0.75,
      amount: 1502.1,
      capacity: Math.PI * 30,
      capacity_basis: 'declared_income',
      affordable: true,
      forbearance: null,
      debt_advice_referral: false,
    },
    reason_codes: ['DPD_30_59', 'INCOME_LOW'],
    reasons: ['30–59 days past due', 'declared income below the median: "low"'],
    guardrails: ['no_legal_hardship'],
    shadow: {
      model_version: 'repayrisk/2026-11-15T00-00-00Z',
      willingness: 2 ** -40,
      ability: 0.9999999999999999,
    },
    request_id: 'req-1',
    drivers: {
      willingness: ['days_past_due (-0.84)', 'broken_promises_90d (-0.31)', 'months_on_book (+0.12)'],
      ability: ['dti (-1.05)'],
    },
    rule_pack: 'cn-2025',
    rule_pack_version: '2025.1',
    ...over,
  };
}

/** A review event of account `account` at `tsMs`: a request unless `over` says otherwise. */
function review(
  id: string,
  account: string,
  tsMs: number,
  over: Partial<ReviewEventRecord> = {},
): ReviewEventRecord {
  return {
    event_id: id,
    account_id: account,
    kind: 'requested',
    ts: iso(tsMs),
    reported_ts: null,
    recorded_at: iso(tsMs + 1000),
    channel: 'web',
    case_ref: 'CASE-1',
    agent_id: null,
    outcome: null,
    ...over,
  };
}

function contact(
  id: string,
  account: string,
  tsMs: number,
  over: Partial<ContactRecord> = {},
): ContactRecord {
  return {
    contact_id: id,
    account_id: account,
    ts: iso(tsMs),
    channel: 'call',
    outcome: 'no_answer',
    promise_amount: null,
    promise_date: null,
    agent_id: 'agent-7',
    recorded_at: iso(tsMs + 1000),
    decision_id: null,
    reported_ts: null,
    ...over,
  };
}

/** A stored answer for `key` in `scope`; the body holds a character a careless store would re-encode. */
function answer(key: string, over: Partial<StoredAnswer> = {}): StoredAnswer {
  return {
    scope: 'dialer POST /v1/contacts',
    key,
    fingerprint: 'ab'.repeat(32),
    request_id: 'req-1',
    created_at: iso(T0),
    status: 201,
    body: '{"recorded":1,"contact_ids":["c-1"],"note":"caf\u00e9 ✓",  "spaced" : [ 1.50 ]}',
    ...over,
  };
}

/** Every page of an audit query, following each page's last record as the next one's cursor. */
async function allPages<T>(
  read: (q: AuditQuery) => Promise<T[]>,
  q: Omit<AuditQuery, 'before' | 'limit'>,
  limit: number,
  at: (r: T) => { ms: number; id: string },
): Promise<T[][]> {
  const pages: T[][] = [];
  let before: AuditQuery['before'] = null;
  for (;;) {
    const page = await read({ ...q, limit, before });
    if (page.length === 0) return pages;
    pages.push(page);
    before = at(page.at(-1)!);
    if (pages.length > 50) throw new Error('paging does not end');
  }
}

/** The data-contract row of a contact record: the fields `contactsFor` returns, and only those. */
function asRow(c: ContactRecord): ContactRow {
  const { contact_id: _id, recorded_at: _at, decision_id: _d, reported_ts: _r, ...row } = c;
  return row;
}

/** Rejects with a LedgerError of this code whose message matches `message`. */
async function expectLedgerError(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LedgerError);
  expect((err as LedgerError).code).toBe(code);
  expect((err as LedgerError).message).toMatch(message);
}

/** The contract every ledger store honours (src/ledger/contract.ts). */
function ledgerContract(name: string, fresh: FreshStore, kind = name): void {
  describe(`${name}: the Ledger contract`, () => {
    let open: () => Promise<Ledger>;
    let ledger: Ledger;
    const setup = async () => {
      open = await fresh();
      ledger = await open();
    };
    const teardown = async () => ledger.close();

    it('round-trips a decision exactly, nulls and empty lists included', async () => {
      await setup();
      try {
        const full = decision('d-full');
        const sparse = decision('d-sparse', {
          experiment_arm: null,
          channel: null,
          earliest_contact_at: null,
          call_team: null,
          offer: null,
          reason_codes: [],
          reasons: [],
          guardrails: [],
          shadow: null,
          request_id: null,
          drivers: null,
          rule_pack: null,
          rule_pack_version: null,
          willingness: 0,
          ability: 1,
          expected_recovery: -0.000001,
        });
        const called = decision('d-call', {
          call_team: 'team-east',
          treatment: 'human_call',
          channel: 'call',
        });
        await ledger.appendDecisions([full, sparse, called]);
        expect(await ledger.getDecision('d-full')).toStrictEqual(full);
        expect(await ledger.getDecision('d-sparse')).toStrictEqual(sparse);
        expect(await ledger.getDecision('d-call')).toStrictEqual(called);
        expect(await ledger.getDecision('d-missing')).toBeNull();
      } finally {
        await teardown();
      }
    });

    it('reads contacts back by account from sinceMs on, the boundary included, as data-contract rows', async () => {
      await setup();
      try {
        const before = contact('c-before', 'A', T0 - 1);
        const at = contact('c-at', 'A', T0, {
          outcome: 'promise_to_pay',
          promise_amount: 120.35,
          promise_date: '2026-11-30',
        });
        const after = contact('c-after', 'A', T0 + HOUR, {
          channel: 'sms',
          outcome: 'delivered',
          agent_id: null,
        });
        const other = contact('c-other', 'B', T0 + 2 * HOUR, { decision_id: 'd-1' });
        const elsewhere = contact('c-elsewhere', 'Z', T0 + HOUR);
        await ledger.appendContacts([before, at, after, other, elsewhere]);
        const got = await ledger.contactsFor(['A', 'B', 'C'], T0);
        expect([...got.keys()].sort()).toEqual(['A', 'B']);
        expect(got.has('C')).toBe(false);
        expect(got.get('A')).toStrictEqual([asRow(at), asRow(after)]);
        expect(got.get('B')).toStrictEqual([asRow(other)]);
        expect(Object.keys(got.get('B')![0]!).sort()).toEqual(
          ['account_id', 'agent_id', 'channel', 'outcome', 'promise_amount', 'promise_date', 'ts'].sort(),
        );
        expect((await ledger.contactsFor(['A'], T0 - 1)).get('A')).toHaveLength(3);
        expect((await ledger.contactsFor(['A'], T0 + 1)).get('A')).toStrictEqual([asRow(after)]);
        expect((await ledger.contactsFor([], T0)).size).toBe(0);
      } finally {
        await teardown();
      }
    });

    it('returns an instant given with an offset as the same instant in UTC', async () => {
      await setup();
      try {
        await ledger.appendContacts([contact('c-off', 'A', T0, { ts: '2026-11-20T17:00:00+02:00' })]);
        expect((await ledger.contactsFor(['A'], T0)).get('A')?.[0]?.ts).toBe('2026-11-20T15:00:00.000Z');
        expect((await ledger.contactsFor(['A'], T0 + 1)).has('A')).toBe(false);
      } finally {
        await teardown();
      }
    });

    it('returns each account’s contacts in ts order whatever the order they were appended in', async () => {
      await setup();
      try {
        const offsets = [5, 1, 4, 0, 3, 2];
        for (const [i, h] of offsets.entries()) {
          await ledger.appendContacts([
            contact(`c-${i}`, 'A', T0 + h * HOUR),
            contact(`c-b${i}`, 'B', T0 - h * HOUR),
          ]);
        }
        const got = await ledger.contactsFor(['B', 'A'], T0 - 10 * HOUR);
        const times = (id: string) => got.get(id)!.map((c) => Date.parse(c.ts));
        expect(times('A')).toEqual([0, 1, 2, 3, 4, 5].map((h) => T0 + h * HOUR));
        expect(times('B')).toEqual([5, 4, 3, 2, 1, 0].map((h) => T0 - h * HOUR));
      } finally {
        await teardown();
      }
    });

    it('counts call slots per team from sinceMs on, ignoring earlier decisions and those without a team', async () => {
      await setup();
      try {
        await ledger.appendDecisions([
          decision('d1', { call_team: 'east', decided_at: iso(T0) }),
          decision('d2', { call_team: 'east', decided_at: iso(T0 + HOUR) }),
          decision('d3', { call_team: 'west', decided_at: iso(T0 + 2 * HOUR) }),
          decision('d4', { call_team: 'east', decided_at: iso(T0 - 1) }),
          decision('d5', { call_team: null, decided_at: iso(T0 + HOUR) }),
          decision('d6', { call_team: 'north', decided_at: iso(T0 - HOUR) }),
        ]);
        expect(await ledger.callSlotsUsed(T0)).toEqual(
          new Map([
            ['east', 2],
            ['west', 1],
          ]),
        );
        expect(await ledger.callSlotsUsed(T0 - 1)).toEqual(
          new Map([
            ['east', 3],
            ['west', 1],
          ]),
        );
        expect((await ledger.callSlotsUsed(T0 + 3 * HOUR)).size).toBe(0);
      } finally {
        await teardown();
      }
    });

    it('refuses a duplicate decision_id and leaves nothing of its batch behind', async () => {
      await setup();
      try {
        await ledger.appendDecisions([decision('d1', { call_team: 'east' })]);
        const batch = [
          decision('d2', { call_team: 'east' }),
          decision('d1'),
          decision('d3', { call_team: 'east' }),
        ];
        await expectLedgerError(
          ledger.appendDecisions(batch),
          'duplicate_id',
          /decision_id "d1" is already in the ledger/,
        );
        expect(await ledger.counts()).toEqual({ decisions: 1, contacts: 0 });
        expect(await ledger.getDecision('d2')).toBeNull();
        expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', 1]]));
        await expectLedgerError(
          ledger.appendDecisions([decision('d4'), decision('d4')]),
          'duplicate_id',
          /decision_id "d4" appears twice in the batch/,
        );
        await ledger.appendDecisions([decision('d2')]);
        expect(await ledger.counts()).toEqual({ decisions: 2, contacts: 0 });
      } finally {
        await teardown();
      }
    });

    it("a limited append writes calls only while they fit the day's capacity, per team or as one pool", async () => {
      await setup();
      try {
        const teams = {
          sinceMs: T0,
          slots: {
            kind: 'teams' as const,
            teams: [
              { name: 'east', slots: 2 },
              { name: 'west', slots: 1 },
            ],
          },
        };
        // Yesterday's calls and calls before sinceMs do not count.
        await ledger.appendDecisions([decision('old', { call_team: 'east', decided_at: iso(T0 - HOUR) })]);
        await ledger.appendDecisions(
          [decision('e1', { call_team: 'east' }), decision('w1', { call_team: 'west' })],
          undefined,
          teams,
        );
        await expectLedgerError(
          ledger.appendDecisions(
            [decision('e2', { call_team: 'east' }), decision('w2', { call_team: 'west' })],
            undefined,
            teams,
          ),
          'call_slots_taken',
          /team west has 1 call slot\(s\) today, 1 already taken: no room for 1 more; nothing was written/,
        );
        expect(await ledger.getDecision('e2')).toBeNull();
        // A team the capacity does not name has no slot.
        await expectLedgerError(
          ledger.appendDecisions([decision('n1', { call_team: 'north' })], undefined, teams),
          'call_slots_taken',
          /team north has 0 call slot/,
        );
        // Decisions without a call take no slot: they are written when the day is full.
        await ledger.appendDecisions(
          [decision('e2', { call_team: 'east' }), decision('p1')],
          undefined,
          teams,
        );
        await ledger.appendDecisions([decision('p2')], undefined, teams);
        expect(await ledger.callSlotsUsed(T0)).toEqual(
          new Map([
            ['east', 2],
            ['west', 1],
          ]),
        );
        // One pool counts every team's calls.
        const pool = { sinceMs: T0, slots: { kind: 'total' as const, slots: 4 } };
        await expectLedgerError(
          ledger.appendDecisions(
            [decision('a1', { call_team: 'all' }), decision('a2', { call_team: 'all' })],
            undefined,
            pool,
          ),
          'call_slots_taken',
          /the call pool has 4 call slot\(s\) today, 3 already taken: no room for 2 more/,
        );
        await ledger.appendDecisions(
          [decision('a1', { call_team: 'all' })],
          answer('k-slots', { scope: 'x POST /v1/score' }),
          pool,
        );
        expect(await ledger.counts()).toEqual({ decisions: 7, contacts: 0 });
        expect(await ledger.getAnswer('x POST /v1/score', 'k-slots')).not.toBeNull();
      } finally {
        await teardown();
      }
    });

    it('concurrent limited appends never spend more slots than the capacity', async () => {
      await setup();
      try {
        const limit = { sinceMs: T0, slots: { kind: 'total' as const, slots: 3 } };
        const tries = Array.from({ length: 8 }, (_, i) =>
          ledger.appendDecisions([decision(`c${i}`, { call_team: 'all' })], undefined, limit),
        );
        const settled = await Promise.allSettled(tries);
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
        for (const r of settled)
          if (r.status === 'rejected') expect((r.reason as LedgerError).code).toBe('call_slots_taken');
        expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['all', 3]]));
        expect((await ledger.counts()).decisions).toBe(3);
      } finally {
        await teardown();
      }
    });

    it("counts field visits from sinceMs on, and a limited append writes visits only while they fit the day's", async () => {
      await setup();
      try {
        const visit = (id: string, ms = T0, over: Partial<DecisionRecord> = {}) =>
          decision(id, {
            treatment: 'field_visit',
            channel: 'visit',
            offer: null,
            decided_at: iso(ms),
            ...over,
          });
        await ledger.appendDecisions([
          visit('v-old', T0 - 1),
          visit('v1'),
          decision('p1'),
          decision('c1', { treatment: 'human_call', call_team: 'east' }),
          visit('v2', T0 + HOUR),
        ]);
        expect(await ledger.visitsUsed(T0)).toBe(2);
        expect(await ledger.visitsUsed(T0 - 1)).toBe(3);
        expect(await ledger.visitsUsed(T0 + 2 * HOUR)).toBe(0);
        const limit = { sinceMs: T0, visits: 3 };
        await expectLedgerError(
          ledger.appendDecisions([visit('v3'), visit('v4')], undefined, limit),
          'call_slots_taken',
          /field visits have 3 slot\(s\) today, 2 already taken: no room for 2 more; nothing was written/,
        );
        expect(await ledger.getDecision('v3')).toBeNull();
        await ledger.appendDecisions([visit('v3'), decision('p2')], undefined, limit);
        // Decisions that visit no one take no visit slot: they are written when the day's visits are gone.
        await ledger.appendDecisions([decision('p3')], undefined, limit);
        await expectLedgerError(
          ledger.appendDecisions([visit('v4')], undefined, limit),
          'call_slots_taken',
          /field visits have 3 slot\(s\) today, 3 already taken: no room for 1 more/,
        );
        // Calls and visits are held apart: a call slot left does not make room for a visit, nor the other way.
        const both = { sinceMs: T0, slots: { kind: 'total' as const, slots: 2 }, visits: 3 };
        await ledger.appendDecisions(
          [decision('c2', { treatment: 'human_call', call_team: 'east' })],
          undefined,
          both,
        );
        await expectLedgerError(
          ledger.appendDecisions([visit('v4')], undefined, both),
          'call_slots_taken',
          /field visits have 3 slot/,
        );
        // The next day has its slots again.
        const tomorrow = T0 + 24 * HOUR;
        await ledger.appendDecisions([visit('v-next', tomorrow)], undefined, {
          sinceMs: tomorrow,
          visits: 3,
        });
        expect(await ledger.visitsUsed(T0)).toBe(4);
        expect(await ledger.visitsUsed(tomorrow)).toBe(1);
        await ledger.close();
        ledger = await open();
        expect(await ledger.visitsUsed(T0)).toBe(4);
        expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', 2]]));
      } finally {
        await teardown();
      }
    });

    it('concurrent limited appends never spend more visit slots than the capacity', async () => {
      await setup();
      try {
        const limit = { sinceMs: T0, visits: 3 };
        const tries = Array.from({ length: 8 }, (_, i) =>
          ledger.appendDecisions(
            [decision(`v${i}`, { treatment: 'field_visit', channel: 'visit', offer: null })],
            undefined,
            limit,
          ),
        );
        const settled = await Promise.allSettled(tries);
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
        for (const r of settled)
          if (r.status === 'rejected') expect((r.reason as LedgerError).code).toBe('call_slots_taken');
        expect(await ledger.visitsUsed(T0)).toBe(3);
        expect((await ledger.counts()).decisions).toBe(3);
      } finally {
        await teardown();
      }
    });

    it('refuses a duplicate contact_id and leaves nothing of its batch behind', async () => {
      await setup();
      try {
        await ledger.appendContacts([contact('c1', 'A', T0)]);
        const batch = [contact('c2', 'A', T0 + 1), contact('c3', 'B', T0 + 2), contact('c1', 'A', T0 + 3)];
        await expectLedgerError(
          ledger.appendContacts(batch),
          'duplicate_id',
          /contact_id "c1" is already in the ledger/,
        );
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
        const got = await ledger.contactsFor(['A', 'B'], T0);
        expect(got.get('A')).toHaveLength(1);
        expect(got.has('B')).toBe(false);
        await ledger.appendContacts([contact('c2', 'A', T0 + 1)]);
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 2 });
      } finally {
        await teardown();
      }
    });

    it('refuses records that could not come back as they went in, naming the field', async () => {
      await setup();
      try {
        await expectLedgerError(
          ledger.appendDecisions([decision('d1'), decision('d2', { decided_at: '2026-11-20T15:00:00Z' })]),
          'invalid_record',
          /decision "d2": decided_at must be an ISO 8601 UTC instant/,
        );
        await expectLedgerError(
          ledger.appendContacts([contact('c1', 'A', T0, { ts: '2026-11-20 15:00' })]),
          'invalid_record',
          /contact "c1": ts:/,
        );
        await expectLedgerError(
          ledger.appendContacts([contact('c1', 'A', T0, { reported_ts: 'yesterday' })]),
          'invalid_record',
          /contact "c1": reported_ts must be null or an ISO 8601 timestamp with offset; got "yesterday"/,
        );
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 0 });
      } finally {
        await teardown();
      }
    });

    it('keeps what it recorded across close and reopen', async () => {
      await setup();
      const d = decision('d-keep', { call_team: 'east' });
      const c = contact('c-keep', 'A', T0, {
        outcome: 'promise_to_pay',
        promise_amount: 50,
        promise_date: '2026-12-01',
      });
      await ledger.appendDecisions([d]);
      await ledger.appendContacts([c]);
      await ledger.close();
      ledger = await open();
      try {
        expect(await ledger.counts()).toEqual({ decisions: 1, contacts: 1 });
        expect(await ledger.getDecision('d-keep')).toStrictEqual(d);
        expect((await ledger.contactsFor(['A'], T0)).get('A')).toStrictEqual([asRow(c)]);
        expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', 1]]));
      } finally {
        await teardown();
      }
    });

    it('lands every one of 50 concurrent appends', async () => {
      await setup();
      try {
        const ids = Array.from({ length: 50 }, (_, i) => i);
        await Promise.all(
          ids.map((i) =>
            ledger.appendContacts([contact(`c-${i}`, `A-${i % 5}`, T0 + i), contact(`c-${i}b`, 'X', T0 + i)]),
          ),
        );
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 100 });
        const got = await ledger.contactsFor(['A-0', 'A-1', 'A-2', 'A-3', 'A-4', 'X'], T0);
        expect([0, 1, 2, 3, 4].map((k) => got.get(`A-${k}`)?.length)).toEqual([10, 10, 10, 10, 10]);
        expect(got.get('X')!.map((c) => Date.parse(c.ts))).toEqual(ids.map((i) => T0 + i));
      } finally {
        await teardown();
      }
    });

    it('fails only the concurrent append that repeats an id; the others around it land', async () => {
      await setup();
      try {
        await ledger.appendDecisions([decision('taken')]);
        const results = await Promise.allSettled([
          ledger.appendContacts([contact('k-1', 'A', T0)]),
          ledger.appendDecisions([decision('fresh-1')]),
          ledger.appendDecisions([decision('fresh-2'), decision('taken')]),
          ledger.appendContacts([contact('k-2', 'A', T0 + 1)]),
          ledger.appendDecisions([decision('fresh-3')]),
        ]);
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect((results[2] as PromiseRejectedResult).reason.code).toBe('duplicate_id');
        expect(await ledger.counts()).toEqual({ decisions: 3, contacts: 2 });
        expect(await ledger.getDecision('fresh-2')).toBeNull();
      } finally {
        await teardown();
      }
    });

    it('waits for pending writes on close, then refuses further calls', async () => {
      await setup();
      const pending = Array.from({ length: 20 }, (_, i) =>
        ledger.appendContacts([contact(`c-${i}`, 'A', T0 + i)]),
      );
      await ledger.close();
      await Promise.all(pending);
      await expectLedgerError(ledger.appendContacts([contact('late', 'A', T0)]), 'closed', /is closed/);
      expect(await ledger.ping()).toBe(false);
      ledger = await open();
      try {
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 20 });
      } finally {
        await teardown();
      }
    });

    it('stores an answer with its rows in one append and gives it back byte for byte', async () => {
      await setup();
      try {
        const a = answer('K-1');
        await ledger.appendContacts([contact('c-1', 'A', T0)], a);
        expect(await ledger.getAnswer(a.scope, 'K-1')).toStrictEqual(a);
        expect(await ledger.getAnswer('other POST /v1/contacts', 'K-1')).toBeNull();
        expect(await ledger.getAnswer(a.scope, 'k-1')).toBeNull();
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
        const d = answer('K-1', {
          scope: 'scorer POST /v1/score',
          status: 200,
          body: '{"decision_id":"d1"}',
        });
        await ledger.appendDecisions([decision('d1')], d);
        expect(await ledger.getAnswer(d.scope, 'K-1')).toStrictEqual(d);
        const alone = answer('K-2', { status: 200, body: '[]' });
        await ledger.appendDecisions([], alone);
        expect(await ledger.getAnswer(alone.scope, 'K-2')).toStrictEqual(alone);
        expect(await ledger.counts()).toEqual({ decisions: 1, contacts: 1 });
      } finally {
        await teardown();
      }
    });

    it('answers 40 concurrent lookups each with its own answer, or null', async () => {
      await setup();
      try {
        const stored = Array.from({ length: 20 }, (_, i) => answer(`K-${i}`, { request_id: `req-${i}` }));
        await Promise.all(stored.map((a, i) => ledger.appendContacts([contact(`c-${i}`, 'A', T0 + i)], a)));
        const scope = 'dialer POST /v1/contacts';
        const got = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            ledger.getAnswer(i % 2 ? 'other scope' : scope, `K-${i >> 1}`),
          ),
        );
        got.forEach((a, i) => {
          expect(a, `lookup ${i}`).toStrictEqual(i % 2 ? null : stored[i >> 1]);
        });
      } finally {
        await teardown();
      }
    });

    it('refuses a second answer for a scope and key, and writes none of the rows that came with it', async () => {
      await setup();
      try {
        await ledger.appendContacts([contact('c-1', 'A', T0)], answer('K'));
        await expectLedgerError(
          ledger.appendContacts([contact('c-2', 'A', T0 + 1)], answer('K', { request_id: 'req-2' })),
          'idempotency_key_taken',
          /idempotency key "K" \(dialer POST \/v1\/contacts\) is already in the ledger/,
        );
        await expectLedgerError(
          ledger.appendDecisions([decision('d-1')], answer('K')),
          'idempotency_key_taken',
          /the batch of 1 decisions was not written/,
        );
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
        expect((await ledger.getAnswer('dialer POST /v1/contacts', 'K'))?.request_id).toBe('req-1');
        await ledger.appendContacts(
          [contact('c-2', 'A', T0 + 1)],
          answer('K', { scope: 'other POST /v1/contacts' }),
        );
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 2 });
      } finally {
        await teardown();
      }
    });

    it('leaves no answer behind when the rows it came with are refused', async () => {
      await setup();
      try {
        await ledger.appendDecisions([decision('taken')]);
        await expectLedgerError(
          ledger.appendDecisions([decision('fresh'), decision('taken')], answer('K')),
          'duplicate_id',
          /decision_id "taken" is already in the ledger/,
        );
        expect(await ledger.getAnswer('dialer POST /v1/contacts', 'K')).toBeNull();
        expect(await ledger.getDecision('fresh')).toBeNull();
      } finally {
        await teardown();
      }
    });

    it('lets exactly one of 8 concurrent appends with the same key land', async () => {
      await setup();
      try {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            ledger.appendContacts([contact(`c-${i}`, 'A', T0 + i)], answer('K', { request_id: `req-${i}` })),
          ),
        );
        const landed = results.filter((r) => r.status === 'fulfilled');
        expect(landed).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect((r.reason as LedgerError).code).toBe('idempotency_key_taken');
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
        const kept = await ledger.getAnswer('dialer POST /v1/contacts', 'K');
        const i = results.findIndex((r) => r.status === 'fulfilled');
        expect(kept?.request_id).toBe(`req-${i}`);
        expect((await ledger.contactsFor(['A'], T0)).get('A')?.[0]?.ts).toBe(iso(T0 + i));
      } finally {
        await teardown();
      }
    });

    it('refuses an answer that could not come back as it went in, naming the field; nothing is written', async () => {
      await setup();
      try {
        const cases: [Partial<StoredAnswer>, RegExp][] = [
          [{ fingerprint: 'AB'.repeat(32) }, /fingerprint must be a SHA-256 as 64 lowercase hex digits/],
          [{ key: 'é' }, /key must be 1\.\.255 printable ASCII characters/],
          [{ key: 'x'.repeat(256) }, /key must be 1\.\.255 printable ASCII/],
          [{ created_at: '2026-11-20T15:00:00Z' }, /created_at must be an ISO 8601 UTC instant/],
          [{ status: 200.5 }, /status must be an integer HTTP status/],
          [{ body: '{"a":' }, /body must be JSON text/],
        ];
        for (const [over, message] of cases)
          await expectLedgerError(
            ledger.appendContacts([contact('c-1', 'A', T0)], answer('K', over)),
            'invalid_record',
            message,
          );
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 0 });
      } finally {
        await teardown();
      }
    });

    it('prunes answers stored before a bound, keeps their rows, and frees their keys', async () => {
      await setup();
      try {
        await ledger.appendContacts(
          [contact('c-old', 'A', T0)],
          answer('old', { created_at: iso(T0 - 25 * HOUR) }),
        );
        await ledger.appendContacts(
          [contact('c-new', 'A', T0 + 1)],
          answer('new', { created_at: iso(T0 - HOUR) }),
        );
        expect(await ledger.pruneAnswers(T0 - 24 * HOUR)).toBe(1);
        expect(await ledger.getAnswer('dialer POST /v1/contacts', 'old')).toBeNull();
        expect(await ledger.getAnswer('dialer POST /v1/contacts', 'new')).not.toBeNull();
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 2 });
        await ledger.appendContacts([contact('c-again', 'A', T0 + 2)], answer('old'));
        expect((await ledger.getAnswer('dialer POST /v1/contacts', 'old'))?.created_at).toBe(iso(T0));
        expect(await ledger.pruneAnswers(T0 - 24 * HOUR)).toBe(0);
      } finally {
        await teardown();
      }
    });

    it('keeps stored answers across close and reopen', async () => {
      await setup();
      const a = answer('K-keep');
      await ledger.appendContacts([contact('c-keep', 'A', T0)], a);
      await ledger.close();
      ledger = await open();
      try {
        expect(await ledger.getAnswer(a.scope, a.key)).toStrictEqual(a);
        await expectLedgerError(
          ledger.appendContacts([contact('c-2', 'A', T0)], a),
          'idempotency_key_taken',
          /already in the ledger/,
        );
      } finally {
        await teardown();
      }
    });

    it('pages an account’s contacts newest first within [since, until), losing and repeating none', async () => {
      await setup();
      try {
        // Two contacts in one millisecond (ids decide), one a fraction of a millisecond later (the same
        // millisecond at the precision the ledger reads back), others of other accounts in between.
        const mine = [
          contact('c-a', 'A', T0 - 2 * HOUR),
          contact('c-b', 'A', T0),
          contact('c-c', 'A', T0, { decision_id: 'd-9', reported_ts: '2026-11-20T17:02:00.5+02:00' }),
          contact('c-0', 'A', T0, { ts: '2026-11-20T15:00:00.0004Z' }),
          contact('c-d', 'A', T0 + HOUR, {
            outcome: 'promise_to_pay',
            promise_amount: 40,
            promise_date: '2026-12-01',
          }),
          contact('c-e', 'A', T0 + 3 * HOUR),
        ];
        await ledger.appendContacts([...mine.slice(0, 3), contact('x-1', 'B', T0), contact('x-2', 'A2', T0)]);
        await ledger.appendContacts(mine.slice(3));
        const back = (c: ContactRecord) => ({ ms: Date.parse(c.ts), id: c.contact_id });
        const read = (q: AuditQuery) => ledger.contactHistory(q);
        const all = { accountId: 'A', sinceMs: null, untilMs: null };
        const order = ['c-e', 'c-d', 'c-c', 'c-b', 'c-0', 'c-a'];
        for (const limit of [1, 2, 4, 6, 100]) {
          const pages = await allPages(read, all, limit, back);
          expect(pages.flat().map((c) => c.contact_id)).toEqual(order);
          expect(pages.every((p) => p.length <= limit)).toBe(true);
        }
        const first = await read({ ...all, limit: 100, before: null });
        expect(first.find((c) => c.contact_id === 'c-c')).toStrictEqual(mine[2]);
        expect(first.find((c) => c.contact_id === 'c-0')?.ts).toBe(iso(T0));
        const bounded = await allPages(read, { accountId: 'A', sinceMs: T0, untilMs: T0 + HOUR }, 2, back);
        expect(bounded.flat().map((c) => c.contact_id)).toEqual(['c-c', 'c-b', 'c-0']);
        expect(
          (await read({ ...all, sinceMs: T0 + HOUR, limit: 10, before: null })).map((c) => c.contact_id),
        ).toEqual(['c-e', 'c-d']);
        expect(await read({ ...all, accountId: 'nobody', limit: 10, before: null })).toEqual([]);
      } finally {
        await teardown();
      }
    });

    it('pages an account’s decisions newest first within [since, until), as recorded', async () => {
      await setup();
      try {
        const mine = [
          decision('d-1', { decided_at: iso(T0 - HOUR) }),
          decision('d-3', { decided_at: iso(T0), call_team: 'east' }),
          decision('d-2', { decided_at: iso(T0), offer: null, shadow: null }),
          decision('d-4', { decided_at: iso(T0 + HOUR) }),
        ];
        await ledger.appendDecisions([...mine, decision('other', { account_id: 'B', decided_at: iso(T0) })]);
        const back = (d: DecisionRecord) => ({ ms: Date.parse(d.decided_at), id: d.decision_id });
        const read = (q: AuditQuery) => ledger.decisionHistory(q);
        const pages = await allPages(read, { accountId: 'A-1', sinceMs: null, untilMs: null }, 2, back);
        expect(pages.map((p) => p.map((d) => d.decision_id))).toEqual([
          ['d-4', 'd-3'],
          ['d-2', 'd-1'],
        ]);
        expect(pages.flat().find((d) => d.decision_id === 'd-2')).toStrictEqual(mine[2]);
        const bounded = await read({
          accountId: 'A-1',
          sinceMs: T0,
          untilMs: T0 + HOUR,
          limit: 10,
          before: null,
        });
        expect(bounded.map((d) => d.decision_id)).toEqual(['d-3', 'd-2']);
      } finally {
        await teardown();
      }
    });

    it('round-trips review events exactly, oldest first per account (ties by id), leaving out accounts without', async () => {
      await setup();
      try {
        const asked = review('r-2', 'A', T0, { reported_ts: '2026-11-20T15:02:00+00:00' });
        const again = review('r-1', 'A', T0, { channel: 'call', case_ref: null });
        const resolved = review('r-3', 'A', T0 + HOUR, {
          kind: 'resolved',
          channel: null,
          agent_id: 'agent-7',
          outcome: 'changed',
        });
        const other = review('r-b', 'B', T0 - HOUR, { channel: null, case_ref: null });
        await ledger.appendReviewEvents([resolved, asked]);
        await ledger.appendReviewEvents([other, again]);
        const got = await ledger.reviewEvents(['A', 'B', 'C', 'A']);
        expect([...got.keys()].sort()).toEqual(['A', 'B']);
        expect(got.get('A')).toStrictEqual([again, asked, resolved]);
        expect(got.get('B')).toStrictEqual([other]);
        expect(await ledger.reviewEvents([])).toEqual(new Map());
        // Review events are not decisions or contacts.
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 0 });
      } finally {
        await teardown();
      }
    });

    it('refuses a duplicate event_id, and review events that could not come back as they went in, writing nothing', async () => {
      await setup();
      try {
        await ledger.appendReviewEvents([review('r-1', 'A', T0)]);
        await expectLedgerError(
          ledger.appendReviewEvents([review('r-new', 'A', T0 + 1), review('r-1', 'A', T0 + 2)]),
          'duplicate_id',
          /event_id "r-1" is already in the ledger: the batch of 2 review events was not written/,
        );
        await expectLedgerError(
          ledger.appendReviewEvents([review('r-x', 'A', T0), review('r-x', 'A', T0)]),
          'duplicate_id',
          /event_id "r-x" appears twice in the batch/,
        );
        const bad: [Partial<ReviewEventRecord>, RegExp][] = [
          [
            { kind: 'resolved' },
            /review event "r-bad": outcome must be one of upheld, changed, withdrawn on a resolution; got null/,
          ],
          [{ outcome: 'upheld' }, /outcome must be null on a request; got "upheld"/],
          [
            { channel: 'fax' as never },
            /channel must be null or one of call, sms, email, app, web, letter, visit; got "fax"/,
          ],
          [{ kind: 'appealed' as never }, /kind must be one of requested, resolved; got "appealed"/],
          [
            { ts: '2026-11-20T15:00:00+01:00' },
            /ts must be an ISO 8601 UTC instant as Date.toISOString\(\) writes it/,
          ],
          [{ case_ref: '' }, /case_ref must be null or a non-empty string/],
        ];
        for (const [over, message] of bad)
          await expectLedgerError(
            ledger.appendReviewEvents([review('r-ok', 'A', T0), review('r-bad', 'A', T0, over)]),
            'invalid_record',
            message,
          );
        expect((await ledger.reviewEvents(['A'])).get('A')?.map((r) => r.event_id)).toEqual(['r-1']);
      } finally {
        await teardown();
      }
    });

    it('stores an answer with review events in one append; a taken key writes none of them', async () => {
      await setup();
      try {
        const a = answer('rv-1', { scope: 'dialer POST /v1/accounts/:id/human-review' });
        await ledger.appendReviewEvents([review('r-1', 'A', T0)], a);
        expect(await ledger.getAnswer(a.scope, 'rv-1')).toStrictEqual(a);
        await expectLedgerError(
          ledger.appendReviewEvents([review('r-2', 'A', T0 + 1)], { ...a, request_id: 'req-2' }),
          'idempotency_key_taken',
          /idempotency key "rv-1" .* the batch of 1 review events was not written/,
        );
        expect((await ledger.reviewEvents(['A'])).get('A')?.map((r) => r.event_id)).toEqual(['r-1']);
      } finally {
        await teardown();
      }
    });

    it('keeps review events across close and reopen', async () => {
      await setup();
      const r = review('r-keep', 'A', T0, { kind: 'resolved', outcome: 'withdrawn', agent_id: 'agent-1' });
      await ledger.appendReviewEvents([r]);
      await ledger.close();
      ledger = await open();
      try {
        expect(await ledger.reviewEvents(['A'])).toStrictEqual(new Map([['A', [r]]]));
      } finally {
        await teardown();
      }
    });

    it('answers ping and counts on an empty store and says which store it is', async () => {
      await setup();
      try {
        expect(await ledger.ping()).toBe(true);
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 0 });
        expect(ledger.kind).toBe(kind);
      } finally {
        await teardown();
      }
    });
  });
}

// The fake the HTTP tests use runs the same suite, so what they prove holds for the real stores too.
describe('memory ledger (the test fake)', () => {
  ledgerContract('memory', async () => {
    let last: MemoryLedger | undefined;
    return async () => {
      last = new MemoryLedger(last);
      return last;
    };
  });
});

describe('duckdb ledger', () => {
  const dir = tmpDir('repayrisk-ledger-');
  let n = 0;
  ledgerContract('duckdb', async () => {
    const path = join(dir, `ledger-${++n}.duckdb`);
    return () => openDuckDbLedger(path);
  });

  it('creates the directory of a new ledger file', async () => {
    const path = join(dir, 'not', 'yet', 'there', 'ledger.duckdb');
    const ledger = await openLedger({ path });
    try {
      expect(ledger.kind).toBe('duckdb');
      expect(existsSync(path)).toBe(true);
    } finally {
      await ledger.close();
    }
  });

  it('refuses a ledger file laid out by a newer build', async () => {
    const path = join(dir, 'newer.duckdb');
    await (await openDuckDbLedger(path)).close();
    const raw = await DuckDBInstance.create(path);
    const conn = await raw.connect();
    await conn.run(`INSERT INTO schema_version (version) VALUES (${LEDGER_SCHEMA_VERSION + 1})`);
    conn.closeSync();
    raw.closeSync();
    await expectLedgerError(
      openDuckDbLedger(path),
      'schema_version',
      new RegExp(
        `has schema version ${LEDGER_SCHEMA_VERSION + 1}; this build reads version ${LEDGER_SCHEMA_VERSION}`,
      ),
    );
  });

  it('brings a version-1 ledger (no stored answers) to the current layout, keeping its rows', async () => {
    const path = join(dir, 'v1.duckdb');
    const old = await openDuckDbLedger(path);
    await old.appendContacts([contact('c-v1', 'A', T0)]);
    await old.appendDecisions([decision('d-v1')]);
    await old.close();
    const raw = await DuckDBInstance.create(path);
    const conn = await raw.connect();
    await conn.run('DROP TABLE idempotency_keys');
    await conn.run('ALTER TABLE contacts DROP COLUMN reported_ts');
    await conn.run('DROP TABLE review_events');
    for (const c of ['drivers', 'rule_pack', 'rule_pack_version'])
      await conn.run(`ALTER TABLE decisions DROP COLUMN ${c}`);
    await conn.run('DELETE FROM schema_version WHERE version > 1');
    conn.closeSync();
    raw.closeSync();
    const ledger = await openDuckDbLedger(path);
    try {
      expect(await ledger.counts()).toEqual({ decisions: 1, contacts: 1 });
      // Recorded before the ledger kept drivers and rule packs: they read back as null.
      expect(await ledger.getDecision('d-v1')).toStrictEqual(
        decision('d-v1', { drivers: null, rule_pack: null, rule_pack_version: null }),
      );
      await ledger.appendReviewEvents([review('r-v3', 'A', T0)]);
      expect((await ledger.reviewEvents(['A'])).get('A')?.map((r) => r.event_id)).toEqual(['r-v3']);
      await ledger.appendContacts([contact('c-v2', 'A', T0 + 1, { reported_ts: iso(T0 + 2) })], answer('K'));
      const history = await ledger.contactHistory({
        accountId: 'A',
        sinceMs: null,
        untilMs: null,
        limit: 9,
        before: null,
      });
      expect(history.map((c) => [c.contact_id, c.reported_ts])).toEqual([
        ['c-v2', iso(T0 + 2)],
        ['c-v1', null],
      ]);
      expect((await ledger.getAnswer('dialer POST /v1/contacts', 'K'))?.key).toBe('K');
    } finally {
      await ledger.close();
    }
  });

  it('names the file when it cannot be opened', async () => {
    // A directory where the file should be (another process holding the file's lock fails the same way).
    const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await expectLedgerError(
      openDuckDbLedger(dir),
      'unavailable',
      new RegExp(`^cannot open the DuckDB ledger at ${escaped}: `),
    );
  });
});

// The write-ahead log over each real store: appends land in the log first and reach the store in the background,
// so every read here runs while some records are in memory only and some in the store (a load delay of 5 ms).
describe('write-ahead ledger over duckdb', () => {
  const dir = tmpDir('repayrisk-wal-ledger-');
  let n = 0;
  ledgerContract('wal+duckdb', async () => {
    const k = ++n;
    return async () =>
      openWalLedger(await openDuckDbLedger(join(dir, `ledger-${k}.duckdb`)), join(dir, `wal-${k}`), {
        loadDelayMs: 5,
      });
  });

  // The loader held off until close: every read is answered from the log's records in memory.
  ledgerContract(
    'wal+duckdb, nothing loaded before close',
    async () => {
      const k = ++n;
      return async () =>
        openWalLedger(await openDuckDbLedger(join(dir, `ledger-${k}.duckdb`)), join(dir, `wal-${k}`), {
          loadDelayMs: 3_600_000,
        });
    },
    'wal+duckdb',
  );

  it('loads a decision whose reason text holds a lone surrogate (as U+FFFD) instead of failing every load', async () => {
    // DuckDB's JSON reader refuses the `\udXXX` escape JSON.stringify writes for a lone surrogate; the loader's
    // rows would then fail at every load and open, and the log would only grow.
    const notices: string[] = [];
    const path = join(dir, 'surrogate.duckdb');
    const ledger = await openWalLedger(await openDuckDbLedger(path), join(dir, 'surrogate-wal'), {
      loadDelayMs: 3_600_000,
      onNotice: (m) => notices.push(m),
    });
    await ledger.appendDecisions([decision('d-1', { reasons: ['policy text \ud800 cut'] })]);
    await ledger.close();
    expect(notices).toEqual([]);
    const alone = await openDuckDbLedger(path);
    try {
      const [d] = await alone.decisionHistory({
        accountId: 'A-1',
        sinceMs: null,
        untilMs: null,
        limit: 10,
        before: null,
      });
      expect(d?.reasons).toEqual(['policy text \ufffd cut']);
    } finally {
      await alone.close();
    }
  });

  it('opens behind a log through openLedger when a walDir is given', async () => {
    const ledger = await openLedger({
      path: join(dir, 'via-open.duckdb'),
      walDir: join(dir, 'via-open-wal'),
    });
    try {
      expect(ledger.kind).toBe('wal+duckdb');
      await ledger.appendContacts([contact('c-1', 'A', T0)]);
      expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    } finally {
      await ledger.close();
    }
  });
});

const postgres = findPostgres();
if (postgres.available) {
  describe(`postgres ledger (${postgres.how})`, () => {
    let server: TestPostgres;
    beforeAll(async () => {
      server = await postgres.start();
    });
    afterAll(async () => {
      await server?.stop();
    });
    ledgerContract('postgres', async () => {
      const url = await server.freshSchema();
      return () => openPostgresLedger(url);
    });

    const walDirs = tmpDir('repayrisk-wal-pg-');
    let w = 0;
    ledgerContract('wal+postgres', async () => {
      const url = await server.freshSchema();
      const walDir = join(walDirs, `wal-${++w}`);
      return async () => openWalLedger(await openPostgresLedger(url), walDir, { loadDelayMs: 5 });
    });

    it('two ledgers on one database (two pools, as two processes hold) never spend more slots than the capacity', async () => {
      const url = await server.freshSchema();
      const a = await openPostgresLedger(url);
      const b = await openPostgresLedger(url);
      try {
        const limit = { sinceMs: T0, slots: { kind: 'teams' as const, teams: [{ name: 'east', slots: 4 }] } };
        const tries = Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).appendDecisions([decision(`x${i}`, { call_team: 'east' })], undefined, limit),
        );
        const settled = await Promise.allSettled(tries);
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
        expect(await a.callSlotsUsed(T0)).toEqual(new Map([['east', 4]]));
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('two ledgers on one database (two pools) never spend more visit slots than the capacity', async () => {
      const url = await server.freshSchema();
      const a = await openPostgresLedger(url);
      const b = await openPostgresLedger(url);
      try {
        const limit = { sinceMs: T0, visits: 4 };
        const tries = Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).appendDecisions(
            [decision(`v${i}`, { treatment: 'field_visit', channel: 'visit', offer: null })],
            undefined,
            limit,
          ),
        );
        const settled = await Promise.allSettled(tries);
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
        expect(await a.visitsUsed(T0)).toBe(4);
        expect(await b.visitsUsed(T0)).toBe(4);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('refuses tables laid out by a newer build', async () => {
      const url = await server.freshSchema();
      await (await openPostgresLedger(url)).close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`INSERT INTO schema_version (version) VALUES (${LEDGER_SCHEMA_VERSION + 1})`);
      await client.end();
      await expectLedgerError(
        openPostgresLedger(url),
        'schema_version',
        new RegExp(
          `has schema version ${LEDGER_SCHEMA_VERSION + 1}; this build reads version ${LEDGER_SCHEMA_VERSION}`,
        ),
      );
    });

    it('opens PostgreSQL through openLedger when a databaseUrl is given', async () => {
      const ledger = await openLedger({
        databaseUrl: await server.freshSchema(),
        path: '/nonexistent/never.duckdb',
      });
      try {
        expect(ledger.kind).toBe('postgres');
        expect(await ledger.ping()).toBe(true);
      } finally {
        await ledger.close();
      }
    });
  });
} else {
  describe.skip(`postgres ledger (skipped: ${postgres.reason})`, () => {
    it('the Ledger contract', () => {});
  });
}

describe('openLedger errors', () => {
  it('names the PostgreSQL it could not reach, without the password', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
      });
    });
    const url = `postgres://ledger:s3cret-pw@127.0.0.1:${port}/repayrisk?sslmode=disable`;
    const err = await openLedger({ databaseUrl: url }).then(
      () => null,
      (e: unknown) => e as LedgerError,
    );
    expect(err).toBeInstanceOf(LedgerError);
    expect(err?.code).toBe('unavailable');
    expect(err?.message).toBe(
      `cannot connect to PostgreSQL at postgres://ledger@127.0.0.1:${port}/repayrisk: ECONNREFUSED`,
    );
    expect(err?.message).not.toContain('s3cret');
  });
});
