import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactRow } from '../src/core/schema/tables.ts';
import type { ContactRecord, DecisionRecord, Ledger } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { LedgerError, openLedger } from '../src/ledger/open.ts';
import { openPostgresLedger } from '../src/ledger/postgres.ts';
import { findPostgres, type TestPostgres } from './helpers/postgres.ts';
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
    ...over,
  };
}

/** The data-contract row of a contact record: the fields `contactsFor` returns, and only those. */
function asRow(c: ContactRecord): ContactRow {
  const { contact_id: _id, recorded_at: _at, decision_id: _d, ...row } = c;
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
function ledgerContract(name: string, fresh: FreshStore): void {
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

    it('answers ping and counts on an empty store and says which store it is', async () => {
      await setup();
      try {
        expect(await ledger.ping()).toBe(true);
        expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 0 });
        expect(ledger.kind).toBe(name);
      } finally {
        await teardown();
      }
    });
  });
}

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
    await conn.run('INSERT INTO schema_version (version) VALUES (2)');
    conn.closeSync();
    raw.closeSync();
    await expectLedgerError(
      openDuckDbLedger(path),
      'schema_version',
      /has schema version 2; this build reads version 1/,
    );
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

    it('refuses tables laid out by a newer build', async () => {
      const url = await server.freshSchema();
      await (await openPostgresLedger(url)).close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('INSERT INTO schema_version (version) VALUES (2)');
      await client.end();
      await expectLedgerError(
        openPostgresLedger(url),
        'schema_version',
        /has schema version 2; this build reads version 1/,
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
