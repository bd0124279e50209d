import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ID_LENGTH } from '../src/core/schema/ids.ts';
import { CLOCK_SKEW_TOLERANCE_MS } from '../src/core/time/skew.ts';
import { createApp } from '../src/http/app.ts';
import type { Ledger } from '../src/ledger/contract.ts';
import { openLedger } from '../src/ledger/open.ts';
import { decideJsonLines } from '../src/pipeline/decide-jsonl.ts';
import { scoreBook } from '../src/pipeline/score-book.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { makeAccount, makeContact } from './helpers/account.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  makeInstallments,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

/*
 * Issue 14, defects 1, 2, 4 and 6: identifiers, clock skew, repeated accounts in a batch and inconsistent accounts,
 * each shown against the app with the real DuckDB ledger (what a contact cap is only as good as).
 */

const NOW = Date.parse(T0); // 2026-11-25T15:00:00Z, 09:00 in Chicago: inside contact hours
const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

const dir = tmpDir();
let opened: { app: FastifyInstance; ledger: Ledger }[] = [];
afterEach(async () => {
  for (const o of opened) {
    await o.app.close();
    await o.ledger.close();
  }
  opened = [];
});

let seq = 0;
async function build() {
  const ledger = await openLedger({ path: join(dir, `ledger-${++seq}.duckdb`) });
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys(),
    now: () => NOW,
    newId: counterIds('d'),
  });
  opened.push({ app, ledger });
  return { app, ledger };
}

const post = (app: FastifyInstance, url: string, payload: unknown) =>
  app.inject({
    method: 'POST',
    url,
    headers: bearer(PLAIN.all),
    payload: payload as InjectOptions['payload'],
  });
const get = (app: FastifyInstance, url: string) =>
  app.inject({ method: 'GET', url, headers: bearer(PLAIN.all) });
type Issue = { path: string; message: string; got?: string };
const issuesOf = (r: { json(): unknown }) => (r.json() as { issues: Issue[] }).issues;

/** Seven call attempts (the default policy's cap: 7 in 7 days) for `account_id`, at the given instants. */
const sevenCalls = (account_id: string, at: (i: number) => number) =>
  Array.from({ length: 7 }, (_, i) => makeContact({ account_id, ts: iso(at(i)) }));

describe('defect 1: identifiers are well-formed Unicode of at most 128 characters, stored exactly', () => {
  it('refuses an id with a lone surrogate wherever it enters, and a valid odd id keeps its seven calls: the next decision is capped', async () => {
    const { app, ledger } = await build();
    const lone = 'S\ud800X';
    const refused = await post(app, '/v1/contacts', {
      contacts: sevenCalls(lone, (i) => NOW - ((i + 1) * DAY) / 2),
    });
    expect(refused.statusCode).toBe(400);
    expect(issuesOf(refused).map((i) => i.path)).toEqual(
      Array.from({ length: 7 }, (_, i) => `contacts.${i}.account_id`),
    );
    expect(issuesOf(refused)[0]!.message).toContain('lone UTF-16 surrogate U+D800 at index 1');
    // Nothing was stored, under the id or under what UTF-8 would have made of it.
    const stored = await ledger.contactsFor([lone, 'S\ufffdX'], NOW - 30 * DAY);
    expect([...stored.values()].flat()).toEqual([]);
    const score = await post(app, '/v1/score', scoreBody({ account_id: lone }));
    expect([score.statusCode, issuesOf(score).map((i) => i.path)]).toEqual([400, ['account.account_id']]);

    // An unusual but well-formed id (astral emoji, combining accent, CJK) is stored and matched exactly.
    const odd = 'S\u{1F600}X\u0301-账户';
    const calls = sevenCalls(odd, (i) => NOW - ((i + 1) * DAY) / 2);
    expect((await post(app, '/v1/contacts', { contacts: calls })).statusCode).toBe(201);
    const kept = await ledger.contactsFor([odd], NOW - 30 * DAY);
    expect(kept.get(odd)?.map((c) => c.account_id)).toEqual(Array(7).fill(odd));
    const decided = await post(app, '/v1/score', scoreBody({ account_id: odd }));
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json().account_id).toBe(odd);
    expect(decided.json().guardrails).toContain('cap_call');
    expect(decided.json().treatment).not.toBe('human_call');
    const record = await get(app, `/v1/decisions/${decided.json().decision_id}`);
    expect(record.json().account_id).toBe(odd);
  });

  it('refuses a 9 MB id with a 400 naming the field, without echoing it or recording anything', async () => {
    const { app } = await build();
    const huge = 'x'.repeat(9 * 1024 * 1024);
    const r = await post(app, '/v1/score', scoreBody({ account_id: huge }));
    expect(r.statusCode).toBe(400);
    const [issue, ...rest] = issuesOf(r);
    expect(rest).toEqual([]);
    expect(issue!.path).toBe('account.account_id');
    expect(issue!.message).toContain(`1-${MAX_ID_LENGTH} characters`);
    expect(r.body.length).toBeLessThan(2000);
    const c = await post(app, '/v1/contacts', { contacts: [makeContact({ account_id: huge, ts: T0 })] });
    expect([c.statusCode, issuesOf(c).map((i) => i.path)]).toEqual([400, ['contacts.0.account_id']]);
    // The first id handed out after the refusals is the first ever: no contact or decision took one.
    expect((await post(app, '/v1/score', scoreBody())).json().decision_id).toBe('d-1');
  });

  it('takes exactly 128 characters (astral ones count once) and refuses 129, control characters and empty ids', async () => {
    const { app } = await build();
    const ok = await post(app, '/v1/score', scoreBody({ account_id: '\u{1F600}'.repeat(MAX_ID_LENGTH) }));
    expect(ok.statusCode, ok.body).toBe(200);
    for (const bad of ['y'.repeat(MAX_ID_LENGTH + 1), 'A\u0000B', 'A\nB', 'A\u0085B', ''])
      expect(
        issuesOf(await post(app, '/v1/score', scoreBody({ account_id: bad }))),
        JSON.stringify(bad),
      ).toEqual([expect.objectContaining({ path: 'account.account_id' })]);
    const decisionId = await post(app, '/v1/contacts', {
      contacts: [{ ...makeContact({ ts: T0 }), decision_id: 'd\u0007' }],
    });
    expect(issuesOf(decisionId).map((i) => i.path)).toEqual(['contacts.0.decision_id']);
  });

  it('refuses an id starting with a byte-order mark (the DuckDB client would read it back as another id) and keeps one inside', async () => {
    const { app, ledger } = await build();
    const first = await post(app, '/v1/score', scoreBody({ account_id: '\ufeffA1' }));
    expect(first.statusCode).toBe(400);
    expect(issuesOf(first)).toEqual([
      expect.objectContaining({ path: 'account.account_id', message: expect.stringContaining('U+FEFF') }),
    ]);
    const inside = 'A\ufeff1';
    const ok = await post(app, '/v1/score', scoreBody({ account_id: inside }));
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await ledger.getDecision(ok.json().decision_id))?.account_id).toBe(inside);
  });

  it('states the limit in the OpenAPI document, where clients read it', async () => {
    const { app } = await build();
    const doc = (await get(app, '/openapi.json')).json();
    const account = doc.components.schemas.AccountArchive.properties.account;
    expect(account.properties.account_id).toMatchObject({ minLength: 1, maxLength: MAX_ID_LENGTH });
  });
});

describe('defect 2: a contact up to 5 minutes ahead counts from now; further ahead, or out of range, is refused', () => {
  it('seven calls two minutes ahead of the server are stored at its now and cap the next decision', async () => {
    const { app, ledger } = await build();
    const ahead = sevenCalls('A0001', () => NOW + 2 * MIN);
    expect((await post(app, '/v1/contacts', { contacts: ahead })).statusCode).toBe(201);
    const stored = (await ledger.contactsFor(['A0001'], NOW - DAY)).get('A0001') ?? [];
    expect(stored.map((c) => Date.parse(c.ts))).toEqual(Array(7).fill(NOW));
    const next = (await post(app, '/v1/score', scoreBody())).json();
    expect(next.guardrails).toContain('cap_call');
    expect(next.channel).not.toBe('call');
  });

  it('takes a contact exactly at the tolerance and refuses one a millisecond beyond it, naming each ts', async () => {
    expect(CLOCK_SKEW_TOLERANCE_MS).toBe(5 * MIN);
    const { app, ledger } = await build();
    const edge = await post(app, '/v1/contacts', {
      contacts: [makeContact({ account_id: 'E1', ts: iso(NOW + CLOCK_SKEW_TOLERANCE_MS) })],
    });
    expect(edge.statusCode).toBe(201);
    const beyond = await post(app, '/v1/contacts', {
      contacts: [
        makeContact({ account_id: 'E2', ts: iso(NOW - MIN) }),
        makeContact({ account_id: 'E2', ts: iso(NOW + CLOCK_SKEW_TOLERANCE_MS + 1) }),
        makeContact({ account_id: 'E2', ts: iso(NOW + 60 * MIN) }),
      ],
    });
    expect(beyond.statusCode).toBe(400);
    expect(issuesOf(beyond).map((i) => i.path)).toEqual(['contacts.1.ts', 'contacts.2.ts']);
    expect(issuesOf(beyond)[1]!.message).toContain('60 minute(s) ahead');
    // All or nothing: not even the valid row of the refused request was recorded.
    expect((await ledger.contactsFor(['E2'], NOW - DAY)).get('E2') ?? []).toEqual([]);
  });

  it('holds contacts inside a score archive to the same rule', async () => {
    const { app } = await build();
    const within = { ...scoreBody(), contacts: sevenCalls('A0001', () => NOW + 2 * MIN) };
    const capped = await post(app, '/v1/score', within);
    expect(capped.statusCode, capped.body).toBe(200);
    expect(capped.json().guardrails).toContain('cap_call');
    const beyond = { ...scoreBody(), contacts: sevenCalls('A0001', () => NOW + 6 * MIN) };
    const r = await post(app, '/v1/score', beyond);
    expect([r.statusCode, issuesOf(r).map((i) => i.path)]).toEqual([
      400,
      Array.from({ length: 7 }, (_, i) => `contacts.${i}.ts`),
    ]);
  });

  it('refuses contact times in 2099 and before 2000', async () => {
    const { app } = await build();
    for (const ts of ['2099-01-01T00:00:00Z', '1999-12-31T23:59:59Z']) {
      const r = await post(app, '/v1/contacts', { contacts: [makeContact({ ts })] });
      expect([r.statusCode, issuesOf(r).map((i) => i.path)], ts).toEqual([400, ['contacts.0.ts']]);
    }
  });

  it('refuses as_of_date 0000-01-01, 9999-12-31, before 2000 or beyond tomorrow (UTC), and scores the edges', async () => {
    const { app } = await build();
    for (const d of ['0000-01-01', '9999-12-31', '1999-12-31', '2026-11-27']) {
      const r = await post(app, '/v1/score', scoreBody({ as_of_date: d }));
      expect([r.statusCode, issuesOf(r).map((i) => i.path)], d).toEqual([400, ['account.as_of_date']]);
    }
    for (const d of ['2000-01-01', '2026-11-26']) {
      const body = { ...scoreBody({ as_of_date: d }), installments: makeInstallments(d) };
      const r = await post(app, '/v1/score', body);
      expect(r.statusCode, `${d}: ${r.body}`).toBe(200);
    }
  });

  it('repayrisk decide holds each line to the same rules against the wall clock, even when --now replays the past', async () => {
    const policy = await readPolicyFile('policies/default.yaml');
    const line = (account: ReturnType<typeof makeAccount>, contacts: unknown[] = []) =>
      JSON.stringify({ account, scores: { willingness: 0.1, ability: 0.9 }, contacts });
    const lines = [
      line(
        makeAccount(),
        sevenCalls('A0001', () => NOW + 2 * MIN),
      ),
      line(makeAccount({ account_id: 'B' }), [makeContact({ account_id: 'B', ts: iso(NOW + 6 * MIN) })]),
      line(makeAccount({ account_id: 'C', as_of_date: '2099-01-01' })),
      line(makeAccount({ account_id: 'S\ud800' })),
    ];
    const out = decideJsonLines(lines, policy, NOW, undefined, NOW);
    const first = out[0]!;
    expect('decision' in first && first.decision.guardrails).toContain('cap_call');
    expect(out.slice(1).map((r) => ('error' in r ? r.error.issues.map((i) => i.path) : 'decided'))).toEqual([
      ['contacts.0.ts'],
      ['account.as_of_date'],
      ['account.account_id'],
    ]);
    // A replay a day back still refuses a contact that cannot have happened by the wall clock.
    const replay = decideJsonLines(lines.slice(1, 2), policy, NOW - DAY, undefined, NOW);
    expect('error' in replay[0]! && replay[0].error.issues.map((i) => i.path)).toEqual(['contacts.0.ts']);
  });
  it('repayrisk score --accounts holds each archive to the same rules against the wall clock', async () => {
    const file = join(dir, 'archives.jsonl');
    const lines = [
      { ...scoreBody({ account_id: 'OK' }), contacts: sevenCalls('OK', () => NOW + 2 * MIN) },
      {
        ...scoreBody({ account_id: 'LATE' }),
        contacts: [makeContact({ account_id: 'LATE', ts: iso(NOW + 6 * MIN) })],
      },
      scoreBody({ account_id: 'ZERO', balance: 0, amount_overdue: 600 }),
      scoreBody({ account_id: 'FUTURE', as_of_date: '2099-01-01' }),
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const invalid: string[] = [];
    const summary = await scoreBook({
      state,
      input: { accounts: file },
      out: join(dir, 'book.csv'),
      now: NOW - DAY,
      clock: () => NOW,
      onInvalid: (m) => invalid.push(m),
    });
    expect([summary.scored, summary.invalid]).toEqual([1, 3]);
    expect(invalid.map((m) => m.split(': ').slice(0, 2).join(': '))).toEqual([
      'line 2: contacts.0.ts',
      'line 3: account.balance',
      'line 4: account.as_of_date',
    ]);
  });
});

describe('defect 4: one decision per account per batch', () => {
  it('makes each repeat of an account an invalid item naming the first index, and records one decision each', async () => {
    const { app } = await build();
    const a = scoreBody({ account_id: 'A' });
    const b = scoreBody({ account_id: 'B' });
    const r = await post(app, '/v1/score', {
      accounts: [a, b, a, scoreBody({ account_id: 'C' }), { ...b, contacts: [] }, a],
    });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect([body.count, body.ok, body.invalid]).toEqual([6, 3, 3]);
    expect(body.results.map((x: { status: string }) => x.status)).toEqual([
      'ok',
      'ok',
      'invalid',
      'ok',
      'invalid',
      'invalid',
    ]);
    for (const [index, first] of [
      [2, 0],
      [4, 1],
      [5, 0],
    ] as const) {
      const errors = body.results[index].errors as Issue[];
      expect(errors).toHaveLength(1);
      expect(errors[0]!.path).toBe('account.account_id');
      expect(errors[0]!.message).toContain(`already at index ${first} of this batch`);
    }
    // Three decisions were made and recorded (d-1..d-3), no fourth.
    expect(
      body.results
        .filter((x: { status: string }) => x.status === 'ok')
        .map((x: { decision_id: string }) => x.decision_id),
    ).toEqual(['d-1', 'd-2', 'd-3']);
    for (const id of ['d-1', 'd-2', 'd-3'])
      expect((await get(app, `/v1/decisions/${id}`)).statusCode).toBe(200);
    expect((await get(app, '/v1/decisions/d-4')).statusCode).toBe(404);
  });
});

describe('defect 6: the data contract cross-field rules refuse inconsistent accounts', () => {
  it('refuses balance 0 with an amount overdue, and 36 days past due with nothing overdue, naming rule and field', async () => {
    const { app } = await build();
    const zeroBalance = await post(app, '/v1/score', scoreBody({ balance: 0, amount_overdue: 600 }));
    expect(zeroBalance.statusCode).toBe(400);
    expect(issuesOf(zeroBalance)).toEqual([
      {
        path: 'account.balance',
        message: expect.stringContaining('rule overdue_with_zero_balance (balance, amount_overdue)'),
        got: 'balance=0, amount_overdue=600',
      },
    ]);
    const noOverdue = await post(app, '/v1/score', scoreBody({ days_past_due: 36, amount_overdue: 0 }));
    expect(issuesOf(noOverdue)).toEqual([
      {
        path: 'account.days_past_due',
        message: expect.stringContaining('rule dpd_without_overdue'),
        got: 'days_past_due=36, amount_overdue=0',
      },
    ]);
  });

  it('makes such accounts invalid items of a batch, checks instalments too, and lets warnings through', async () => {
    const { app } = await build();
    const shortPaid = scoreBody({ account_id: 'I' });
    shortPaid.installments[3] = { ...shortPaid.installments[3]!, amount_paid: 10 };
    const r = await post(app, '/v1/score', {
      accounts: [
        scoreBody({ account_id: 'G' }),
        scoreBody({ account_id: 'Z', balance: 0, amount_overdue: 600 }),
        shortPaid,
        // overdue_above_balance is a warning in the contract: validate prints it and still reads the row.
        scoreBody({ account_id: 'W', balance: 500, amount_overdue: 600 }),
      ],
    });
    const results = r.json().results as { status: string; errors?: Issue[] }[];
    expect(results.map((x) => x.status)).toEqual(['ok', 'invalid', 'invalid', 'ok']);
    expect(results[1]!.errors!.map((e) => e.path)).toEqual(['account.balance']);
    expect(results[2]!.errors).toEqual([
      expect.objectContaining({
        path: 'installments.3.paid_date',
        message: expect.stringContaining('rule paid_date_but_short'),
      }),
    ]);
  });
});
