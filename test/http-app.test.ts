import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_INDEX } from '../src/core/features/definitions.ts';
import type { Matrix } from '../src/core/models/contract.ts';
import { parsePolicyText } from '../src/core/policy/load.ts';
import { type AppDeps, createApp } from '../src/http/app.ts';
import { ApiKeysError, generateApiKey, hashKey, parseApiKeys } from '../src/http/auth.ts';
import type { DecisionRecord } from '../src/ledger/contract.ts';
import { LiveModels, loadLiveState } from '../src/service/live.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { makeAccount, makeContact } from './helpers/account.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  logSink,
  MemoryLedger,
  makeInstallments,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

const NOW = Date.parse(T0);

async function build(over: Partial<AppDeps> = {}) {
  const ledger = over.ledger instanceof MemoryLedger ? over.ledger : new MemoryLedger();
  const live = over.live instanceof FakeLive ? over.live : new FakeLive(state);
  const app = await createApp({
    live,
    ledger,
    keys: testKeys(),
    now: () => NOW,
    newId: counterIds('d'),
    ...over,
  });
  return { app, ledger, live };
}

const post = (app: FastifyInstance, url: string, payload: unknown, key: string | null = PLAIN.all) =>
  app.inject({
    method: 'POST',
    url,
    headers: key ? bearer(key) : {},
    payload: payload as InjectOptions['payload'],
  });
const get = (app: FastifyInstance, url: string, key: string | null = PLAIN.all) =>
  app.inject({ method: 'GET', url, headers: key ? bearer(key) : {} });
const paths = (body: { issues?: { path: string }[] }) => (body.issues ?? []).map((i) => i.path).sort();

describe('POST /v1/score, one account', () => {
  it('answers every field the issue lists and records exactly that decision in the ledger', async () => {
    const { app, ledger } = await build();
    const r = await post(app, '/v1/score', scoreBody(), PLAIN.score);
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      decision_id: 'd-1',
      account_id: 'A0001',
      as_of_date: '2026-11-01',
      decided_at: '2026-11-25T15:00:00.000Z',
      segment: 'low_willingness_high_ability',
      treatment: 'human_call',
      channel: 'call',
      earliest_contact_at: '2026-11-25T09:00:00-06:00',
      offer: null,
      guardrails: [],
      model_version: state.champion.version,
      policy_version: 'default-2026.11.1',
      experiment_arm: null,
      call_team: null,
    });
    for (const k of ['willingness', 'ability'] as const) {
      expect(body.scores[k]).toBeGreaterThan(0);
      expect(body.scores[k]).toBeLessThan(1);
    }
    expect(body.scores.expected_recovery).toBeGreaterThan(0);
    expect(body.reason_codes).toContain('MATRIX_CELL');
    expect(body.reasons).toHaveLength(body.reason_codes.length);
    expect(ledger.decisions.map((d) => d.decision_id)).toEqual(['d-1']);
    expect(ledger.decisions[0]).toMatchObject({
      account_id: 'A0001',
      treatment: 'human_call',
      willingness: body.scores.willingness,
      request_id: r.headers['x-request-id'],
      shadow: null,
    });
  });

  it('answers only after the ledger append has resolved', async () => {
    const ledger = new MemoryLedger();
    let release!: () => void;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    const append = ledger.appendDecisions.bind(ledger);
    ledger.appendDecisions = async (rows) => {
      await gate;
      await append(rows);
    };
    const { app } = await build({ ledger });
    let answered = false;
    const pending = post(app, '/v1/score', scoreBody()).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((res) => setTimeout(res, 200));
    expect(answered).toBe(false);
    expect(ledger.decisions).toHaveLength(0);
    release();
    const r = await pending;
    expect(r.statusCode).toBe(200);
    expect(ledger.decisions).toHaveLength(1);
  });

  it('gives the same answer for an account alone and inside a batch', async () => {
    const { app } = await build();
    const one = (await post(app, '/v1/score', scoreBody())).json();
    const batch = (
      await post(app, '/v1/score', { accounts: [scoreBody({ account_id: 'B1' }), scoreBody()] })
    ).json();
    const same = batch.results[1];
    expect(same.scores).toEqual(one.scores);
    expect(same.treatment).toBe(one.treatment);
  });
});

describe('POST /v1/score, input errors: 400 with every failing path', () => {
  it('bad JSON names the parser error', async () => {
    const { app } = await build();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(PLAIN.score), 'content-type': 'application/json' },
      payload: '{"account": {"account_id": ',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'invalid_json', request_id: r.headers['x-request-id'] });
    expect(r.json().message).toMatch(/^the body is not valid JSON: /);
  });

  it('an empty body, a forbidden __proto__ key, and a body that is not an object', async () => {
    const { app } = await build();
    const raw = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: { ...bearer(PLAIN.score), 'content-type': 'application/json' },
        payload,
      });
    const empty = await raw('');
    expect([empty.statusCode, empty.json().error]).toEqual([400, 'invalid_json']);
    const proto = await raw('{"__proto__": {"admin": true}}');
    expect([proto.statusCode, proto.json().error]).toEqual([400, 'invalid_json']);
    expect(proto.json().message).toContain('__proto__');
    for (const v of ['null', '[]', '42', '"account"']) {
      const r = await raw(v);
      expect(r.statusCode, v).toBe(400);
      expect(r.json().issues.map((i: { path: string }) => i.path)).toEqual(['(root)']);
    }
    const none = await app.inject({ method: 'POST', url: '/v1/score', headers: bearer(PLAIN.score) });
    expect([none.statusCode, none.json().error]).toEqual([400, 'invalid_request']);
  });

  it('a wrong type, an unknown enum value, a missing field: exactly those paths', async () => {
    const { app } = await build();
    const wrongType = scoreBody();
    (wrongType.account as Record<string, unknown>).balance = 'lots';
    let r = await post(app, '/v1/score', wrongType);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid_request');
    expect(r.json().issues).toEqual([
      { path: 'account.balance', message: 'Invalid input: expected number, received string', got: '"lots"' },
    ]);

    const badEnum = scoreBody();
    (badEnum.account as Record<string, unknown>).product = 'mortgage';
    r = await post(app, '/v1/score', badEnum);
    expect(paths(r.json())).toEqual(['account.product']);
    expect(r.json().issues[0].got).toBe('"mortgage"');

    const missing = scoreBody();
    delete (missing.account as Partial<typeof missing.account>).age;
    r = await post(app, '/v1/score', missing);
    expect(r.json().issues).toEqual([
      { path: 'account.age', message: 'required field is missing (expected number)' },
    ]);
  });

  it('lists every failing path of one body at once', async () => {
    const { app } = await build();
    const body = scoreBody() as Record<string, unknown> & ReturnType<typeof scoreBody>;
    const account = body.account as Record<string, unknown>;
    account.balance = -5;
    account.timezone = 'Mars/Olympus';
    delete account.do_not_call;
    body.installments[2] = { ...body.installments[2]!, due_date: '2026-02-30' };
    body.contacts = [{ ts: 'yesterday', channel: 'pigeon', outcome: 'no_answer' }];
    body.extra = 1;
    const r = await post(app, '/v1/score', body);
    expect(r.statusCode).toBe(400);
    expect(paths(r.json())).toEqual([
      'account.balance',
      'account.do_not_call',
      'account.timezone',
      'contacts.0.agent_id',
      'contacts.0.channel',
      'contacts.0.promise_amount',
      'contacts.0.promise_date',
      'contacts.0.ts',
      'extra',
      'installments.2.due_date',
    ]);
  });

  it('a batch over the limit names `accounts` and the limit; an empty batch is refused', async () => {
    const { app } = await build({ limits: { maxBatch: 3 } });
    const r = await post(app, '/v1/score', { accounts: [1, 2, 3, 4].map(() => scoreBody()) });
    expect(r.statusCode).toBe(400);
    expect(r.json().issues).toEqual([
      {
        path: 'accounts',
        message: 'a batch holds at most 3 accounts; split it into several requests',
        got: 'an array of 4',
      },
    ]);
    const empty = await post(app, '/v1/score', { accounts: [] });
    expect(paths(empty.json())).toEqual(['accounts']);
    const notList = await post(app, '/v1/score', { accounts: 'all of them', note: 1 });
    expect(paths(notList.json())).toEqual(['accounts', 'note']);
  });

  it('a body over the byte limit is a 400 naming the limit', async () => {
    const { app, ledger } = await build({ limits: { bodyLimitBytes: 4096 } });
    const r = await post(app, '/v1/score', { accounts: Array.from({ length: 5 }, () => scoreBody()) });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({
      error: 'body_too_large',
      message: 'the request body is larger than the limit of 4096 bytes; split the batch',
    });
    expect(ledger.decisions).toHaveLength(0);
  });

  it('415 for a body that is not application/json, naming the type expected', async () => {
    const { app } = await build();
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', undefined]) {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: { ...bearer(PLAIN.score), ...(type ? { 'content-type': type } : {}) },
        payload: JSON.stringify(scoreBody()),
      });
      expect(r.statusCode, type).toBe(415);
      expect(r.json().error).toBe('unsupported_media_type');
      expect(r.json().message).toContain('application/json');
    }
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(PLAIN.score), 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify(scoreBody()),
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('POST /v1/score, batches: one bad account does not fail the others', () => {
  it('answers each item in place; valid ones are scored and recorded, invalid ones list their paths', async () => {
    const { app, ledger } = await build();
    const bad = scoreBody({ account_id: 'BAD' });
    (bad.account as Record<string, unknown>).days_past_due = 'ninety';
    const r = await post(app, '/v1/score', {
      accounts: [scoreBody({ account_id: 'G1' }), bad, scoreBody({ account_id: 'G2', dispute_open: true })],
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ count: 3, ok: 2, invalid: 1 });
    expect(body.results.map((x: { index: number; status: string }) => [x.index, x.status])).toEqual([
      [0, 'ok'],
      [1, 'invalid'],
      [2, 'ok'],
    ]);
    expect(body.results[1].errors).toEqual([
      {
        path: 'account.days_past_due',
        message: 'Invalid input: expected number, received string',
        got: '"ninety"',
      },
    ]);
    expect(body.results[0]).toMatchObject({ account_id: 'G1', decision_id: 'd-1', treatment: 'human_call' });
    expect(body.results[2]).toMatchObject({
      account_id: 'G2',
      treatment: 'hold',
      guardrails: ['dispute_open'],
    });
    expect(ledger.decisions.map((d) => [d.decision_id, d.account_id])).toEqual([
      ['d-1', 'G1'],
      ['d-2', 'G2'],
    ]);
  });

  it('an account the model cannot score is answered per item (400 `unscorable` when alone)', async () => {
    // A champion whose ability model gives NaN for one income (no real model does since the feature builder
    // guards overflow; the route must still never answer 500 or record a NaN decision if one ever did).
    const SENTINEL = 123_456.789;
    const col = FEATURE_INDEX.get('log_income')!;
    const real = state.champion.ability.fitted;
    const broken = Object.create(real, {
      predictProba: {
        value: (x: Matrix) => {
          const p = real.predictProba(x);
          for (let i = 0; i < x.rows; i++)
            if (x.data[i * x.cols + col] === Math.log1p(SENTINEL)) p[i] = Number.NaN;
          return p;
        },
      },
    });
    const odd = scoreBody({ account_id: 'ODD', monthly_income: SENTINEL });
    const { app, ledger } = await build({
      live: new FakeLive({
        ...state,
        champion: { ...state.champion, ability: { ...state.champion.ability, fitted: broken } },
      }),
    });
    const r = await post(app, '/v1/score', { accounts: [scoreBody({ account_id: 'G1' }), odd] });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ count: 2, ok: 1, invalid: 1 });
    expect(r.json().results[1]).toEqual({
      index: 1,
      status: 'invalid',
      errors: [
        {
          path: '(root)',
          message:
            'the account could not be scored: scores.ability: expected a probability in [0, 1], got NaN',
        },
      ],
    });
    expect(ledger.decisions.map((d) => [d.decision_id, d.account_id])).toEqual([['d-1', 'G1']]);
    const alone = await post(app, '/v1/score', odd);
    expect([alone.statusCode, alone.json().error, paths(alone.json())]).toEqual([
      400,
      'unscorable',
      ['(root)'],
    ]);
    const none = await post(app, '/v1/score', { accounts: [odd] });
    expect([none.statusCode, paths(none.json())]).toEqual([400, ['accounts.0']]);
    expect(ledger.decisions).toHaveLength(1);
  });

  it('a batch with no valid item is a 400 with every path prefixed by its index', async () => {
    const { app, ledger } = await build();
    const a = scoreBody();
    (a.account as Record<string, unknown>).age = 12;
    const b = { account: makeAccount(), installments: 'none' };
    const r = await post(app, '/v1/score', { accounts: [a, b] });
    expect(r.statusCode).toBe(400);
    expect(paths(r.json())).toEqual(['accounts.0.account.age', 'accounts.1.installments']);
    expect(ledger.decisions).toHaveLength(0);
  });
});

describe('POST /v1/contacts', () => {
  const row = (over: Record<string, unknown> = {}) => ({
    ...makeContact({ ts: '2026-11-24T15:00:00Z' }),
    ...over,
  });

  it('records the rows before answering 201 with the contact ids in request order', async () => {
    const { app, ledger } = await build();
    const r = await post(
      app,
      '/v1/contacts',
      { contacts: [row(), row({ decision_id: 'd-9', channel: 'sms' })] },
      PLAIN.contacts,
    );
    expect(r.statusCode).toBe(201);
    expect(r.json()).toEqual({ recorded: 2, contact_ids: ['d-1', 'd-2'] });
    // As every ledger gives instants back: UTC with milliseconds.
    expect(ledger.contacts).toEqual([
      {
        ...makeContact({ ts: '2026-11-24T15:00:00.000Z' }),
        contact_id: 'd-1',
        recorded_at: T0.replace('Z', '.000Z'),
        decision_id: null,
        reported_ts: null,
      },
      {
        ...makeContact({ ts: '2026-11-24T15:00:00.000Z', channel: 'sms' }),
        contact_id: 'd-2',
        recorded_at: '2026-11-25T15:00:00.000Z',
        decision_id: 'd-9',
        reported_ts: null,
      },
    ]);
  });

  it('stores nothing when any row is invalid, and lists every failing path', async () => {
    const { app, ledger } = await build();
    const r = await post(app, '/v1/contacts', {
      contacts: [row(), row({ channel: 'fax', ts: 'now' }), row({ account_id: undefined, mood: 'grumpy' })],
    });
    expect(r.statusCode).toBe(400);
    expect(paths(r.json())).toEqual([
      'contacts.1.channel',
      'contacts.1.ts',
      'contacts.2.account_id',
      'contacts.2.mood',
    ]);
    expect(ledger.contacts).toHaveLength(0);
    const over = await (await build({ limits: { maxContacts: 2 } })).app.inject({
      method: 'POST',
      url: '/v1/contacts',
      headers: bearer(PLAIN.all),
      payload: { contacts: [row(), row(), row()] },
    });
    expect(over.json().issues).toEqual([
      {
        path: 'contacts',
        message: 'a request records at most 2 contacts; split it into several requests',
        got: 'an array of 3',
      },
    ]);
  });

  it('recorded calls feed the caps: after 7 calls in 7 days the next decision is not a call and names cap_call', async () => {
    const { app, ledger } = await build();
    const before = (await post(app, '/v1/score', scoreBody())).json();
    expect([before.treatment, before.channel, before.guardrails]).toEqual(['human_call', 'call', []]);
    const calls = Array.from({ length: 7 }, (_, i) =>
      row({ ts: new Date(NOW - (i + 1) * 20 * 3_600_000).toISOString(), outcome: 'no_answer' }),
    );
    expect((await post(app, '/v1/contacts', { contacts: calls }, PLAIN.contacts)).statusCode).toBe(201);
    expect(ledger.contacts).toHaveLength(7);
    const after = (await post(app, '/v1/score', scoreBody())).json();
    expect(after.treatment).not.toBe('human_call');
    expect(after.channel).not.toBe('call');
    expect(after.guardrails).toContain('cap_call');
    expect(after.reason_codes).toContain('FALLBACK');
    // Another account is unaffected.
    const other = (await post(app, '/v1/score', scoreBody({ account_id: 'A0002' }))).json();
    expect(other.guardrails).toEqual([]);
  });

  it('history the request supplies counts with the ledger history, without counting an attempt twice', async () => {
    const { app } = await build();
    const calls = Array.from({ length: 4 }, (_, i) =>
      makeContact({ ts: new Date(NOW - (i + 1) * 20 * 3_600_000).toISOString() }),
    );
    await post(app, '/v1/contacts', { contacts: calls });
    // The request repeats two of the recorded attempts and adds three more: 7 distinct attempts in all.
    const extra = Array.from({ length: 3 }, (_, i) =>
      makeContact({ ts: new Date(NOW - (i + 5) * 20 * 3_600_000).toISOString() }),
    );
    const body = { ...scoreBody(), contacts: [...calls.slice(0, 2), ...extra] };
    expect((await post(app, '/v1/score', body)).json().guardrails).toContain('cap_call');
    const fewer = { ...scoreBody(), contacts: [...calls.slice(0, 2), ...extra.slice(0, 2)] };
    expect((await post(app, '/v1/score', fewer)).json().guardrails).not.toContain('cap_call');
  });
});

describe('GET /v1/decisions/:id, /v1/models, /v1/policy', () => {
  it('returns a recorded decision, 404 for an unknown id', async () => {
    const { app } = await build();
    const scored = (await post(app, '/v1/score', scoreBody())).json();
    const r = await get(app, `/v1/decisions/${scored.decision_id}`, PLAIN.score);
    expect(r.statusCode).toBe(200);
    const d = r.json() as DecisionRecord;
    expect(d).toMatchObject({
      decision_id: scored.decision_id,
      account_id: 'A0001',
      treatment: scored.treatment,
      willingness: scored.scores.willingness,
      model_version: state.champion.version,
    });
    const missing = await get(app, '/v1/decisions/no-such-decision', PLAIN.score);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found', request_id: missing.headers['x-request-id'] });
  });

  it('describes the live models without weights, and the live policy document', async () => {
    const { app } = await build();
    const m = await get(app, '/v1/models', PLAIN.contacts);
    expect(m.statusCode).toBe(200);
    const champion = m.json().champion;
    expect(champion).toMatchObject({
      version: state.champion.version,
      created_at: state.champion.manifest.provenance.createdAt,
      targets: {
        willingness: {
          kind: state.champion.manifest.targets.willingness!.kind,
          auc: { out_of_time: state.champion.manifest.targets.willingness!.metrics.outOfTime.auc },
        },
        ability: { kind: state.champion.manifest.targets.ability!.kind },
      },
    });
    expect(m.json().challenger).toBeNull();
    expect(m.body).not.toContain('coefficients');
    expect(m.body).not.toContain('leftCategories');
    expect(m.body.length).toBeLessThan(5000);
    const p = await get(app, '/v1/policy', PLAIN.score);
    expect(p.statusCode).toBe(200);
    expect(p.json()).toMatchObject({
      version: 'default-2026.11.1',
      document: { version: 'default-2026.11.1', guardrails: { caps: { call: { attempts: 7, days: 7 } } } },
    });
  });
});

describe('auth: keys and scopes', () => {
  const routes: { method: 'GET' | 'POST'; url: string; scope: string; body?: unknown }[] = [
    { method: 'POST', url: '/v1/score', scope: 'score', body: {} },
    { method: 'POST', url: '/v1/contacts', scope: 'contacts', body: {} },
    { method: 'GET', url: '/v1/decisions/x', scope: 'score' },
    { method: 'GET', url: '/v1/models', scope: 'any' },
    { method: 'GET', url: '/v1/policy', scope: 'any' },
    { method: 'GET', url: '/openapi.json', scope: 'any' },
    { method: 'GET', url: '/metrics', scope: 'admin' },
    { method: 'POST', url: '/v1/admin/reload', scope: 'admin' },
  ];
  const keyScopes: Record<keyof typeof PLAIN, string[]> = {
    score: ['score'],
    contacts: ['contacts'],
    admin: ['admin'],
    all: ['score', 'contacts', 'admin'],
  };

  it('401 without a key or with an unknown one, on every keyed route', async () => {
    const { app } = await build();
    for (const r of routes) {
      for (const headers of [
        {},
        bearer('not-a-key'),
        { 'x-api-key': 'nope' },
        { authorization: 'Basic abc' },
      ]) {
        const res = await app.inject({
          method: r.method,
          url: r.url,
          headers,
          ...(r.body ? { payload: r.body } : {}),
        });
        expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json().error).toBe('unauthorized');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }
  });

  it('403 naming the scope needed, for each key without it; the scope or any key otherwise', async () => {
    const { app } = await build();
    for (const r of routes)
      for (const [name, scopes] of Object.entries(keyScopes)) {
        const res = await app.inject({
          method: r.method,
          url: r.url,
          headers: bearer(PLAIN[name as keyof typeof PLAIN]),
          ...(r.body ? { payload: r.body } : {}),
        });
        const allowed = r.scope === 'any' || scopes.includes(r.scope);
        if (allowed) expect([401, 403], `${r.url} with ${name}`).not.toContain(res.statusCode);
        else {
          expect(res.statusCode, `${r.url} with ${name}`).toBe(403);
          expect(res.json()).toMatchObject({ error: 'forbidden' });
          expect(res.json().message).toContain(`needs the '${r.scope}' scope`);
        }
      }
  });

  it('takes the key from x-api-key too; health routes need no key', async () => {
    const { app } = await build();
    const r = await app.inject({ method: 'GET', url: '/v1/policy', headers: { 'x-api-key': PLAIN.score } });
    expect(r.statusCode).toBe(200);
    expect((await get(app, '/healthz', null)).json()).toEqual({ status: 'ok' });
    expect((await get(app, '/readyz', null)).statusCode).toBe(200);
  });

  it('key files: hashes only, validated with every failing field named (never echoing values)', () => {
    const { plain, sha256 } = generateApiKey();
    expect(sha256).toBe(hashKey(plain));
    const keys = parseApiKeys(
      `keys:\n  - id: dialer\n    sha256: ${sha256}\n    scopes: [contacts]\n`,
      'keys.yaml',
    );
    expect(keys).toEqual([{ id: 'dialer', sha256, scopes: ['contacts'] }]);
    const bad = JSON.stringify([
      { id: 'a', sha256: plain, scopes: ['read'] },
      { id: 'a', sha256, scopes: [], rateLimit: { max: 0, timeWindowMs: 1000 } },
    ]);
    let err: unknown;
    try {
      parseApiKeys(bad, 'env REPAYRISK_API_KEYS');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiKeysError);
    const e = err as ApiKeysError;
    expect(e.issues.map((i) => i.path).sort()).toEqual([
      'keys.0.scopes.0',
      'keys.0.sha256',
      'keys.1.rateLimit.max',
      'keys.1.scopes',
    ]);
    expect(e.message).toContain('API keys env REPAYRISK_API_KEYS are invalid (4 problems)');
    expect(e.message).not.toContain(plain);
    // Duplicates are checked once every key is well formed (zod runs refinements on valid data only).
    const dup = { id: 'a', sha256, scopes: ['score'] };
    expect(() =>
      parseApiKeys(JSON.stringify({ keys: [dup, { ...dup, sha256: hashKey('other') }] }), 'k'),
    ).toThrow('keys.1.id: duplicate id (same as keys.0.id)');
  });
});

describe('rate limits', () => {
  it('429 with Retry-After once a key exceeds its limit; other keys and health routes are unaffected', async () => {
    const keys = testKeys().map((k) =>
      k.id === 'scorer' ? { ...k, rateLimit: { max: 2, timeWindowMs: 60_000 } } : k,
    );
    const { app } = await build({ keys });
    for (let i = 0; i < 2; i++) expect((await get(app, '/v1/policy', PLAIN.score)).statusCode).toBe(200);
    const r = await get(app, '/v1/policy', PLAIN.score);
    expect(r.statusCode).toBe(429);
    expect(r.json()).toMatchObject({ error: 'rate_limited', request_id: r.headers['x-request-id'] });
    expect(r.json().message).toContain("key 'scorer' exceeded its rate limit of 2 requests per 60 s");
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect((await post(app, '/v1/score', scoreBody(), PLAIN.score)).statusCode).toBe(429);
    expect((await get(app, '/v1/policy', PLAIN.all)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(app, '/healthz', null)).statusCode).toBe(200);
  });

  it('the app default applies to keys without their own limit', async () => {
    const { app } = await build({ limits: { rateLimit: { max: 1, timeWindowMs: 60_000 } } });
    expect((await get(app, '/v1/models', PLAIN.admin)).statusCode).toBe(200);
    expect((await get(app, '/v1/models', PLAIN.admin)).statusCode).toBe(429);
  });
});

describe('ledger failures and readiness', () => {
  it('readyz is 200 when models are loaded and the ledger answers, 503 when its ping fails or throws', async () => {
    const { app, ledger } = await build();
    const ok = await get(app, '/readyz', null);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      status: 'ready',
      checks: {
        models: { ok: true, champion: state.champion.version, challenger: null },
        policy: { ok: true, version: 'default-2026.11.1' },
        ledger: { ok: true, kind: 'memory' },
      },
    });
    for (const fault of ['false', 'throw'] as const) {
      ledger.faults = { ping: fault };
      const r = await get(app, '/readyz', null);
      expect(r.statusCode, fault).toBe(503);
      expect(r.json()).toMatchObject({ status: 'not_ready', checks: { ledger: { ok: false } } });
    }
    ledger.faults = {};
    ledger.ping = () => new Promise(() => {});
    const slow = await (await build({ ledger, limits: { readyTimeoutMs: 50 } })).app.inject({
      url: '/readyz',
    });
    expect(slow.statusCode).toBe(503);
  });

  it('a failed decision append is a 503 with a request id, never a 200, and nothing is acknowledged', async () => {
    const { app, ledger } = await build();
    ledger.faults = { append: true };
    for (const body of [scoreBody(), { accounts: [scoreBody(), scoreBody({ account_id: 'B' })] }]) {
      const r = await post(app, '/v1/score', body);
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ error: 'ledger_unavailable', request_id: r.headers['x-request-id'] });
      expect(r.body).not.toContain('decision_id');
    }
    const c = await post(app, '/v1/contacts', { contacts: [makeContact({ ts: '2026-11-24T10:00:00Z' })] });
    expect([c.statusCode, c.json().error]).toEqual([503, 'ledger_unavailable']);
    expect(ledger.decisions).toHaveLength(0);
    expect(ledger.contacts).toHaveLength(0);
    ledger.faults = { read: true };
    expect((await post(app, '/v1/score', scoreBody())).statusCode).toBe(503);
    expect((await get(app, '/v1/decisions/d-1')).statusCode).toBe(503);
    ledger.faults = {};
    expect((await post(app, '/v1/score', scoreBody())).statusCode).toBe(200);
  });

  it('an unexpected error is an opaque 500 with the request id; the detail goes only to the log', async () => {
    const sink = logSink();
    const live = new FakeLive(state);
    live.current = () => {
      throw new Error('secret internal detail 7731');
    };
    const { app } = await build({ live, logger: { level: 'info', stream: sink.stream } });
    const r = await post(app, '/v1/score', scoreBody());
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({
      error: 'internal',
      message: 'internal error; the request id identifies it in the service log',
      request_id: r.headers['x-request-id'],
    });
    expect(sink.text()).toContain('secret internal detail 7731');
  });
});

describe('POST /v1/admin/reload', () => {
  it('swaps in a new state: scores before and after show the new model and policy versions', async () => {
    const live = new FakeLive(state);
    const { app } = await build({ live });
    const before = (await post(app, '/v1/score', scoreBody())).json();
    expect([before.model_version, before.policy_version]).toEqual([
      state.champion.version,
      'default-2026.11.1',
    ]);
    const policyText = readFileSync('policies/default.yaml', 'utf8').replace(
      'version: default-2026.11.1',
      'version: swapped-2026.12.1',
    );
    live.next = {
      ...state,
      champion: { ...state.champion, version: 'v0000000000aa' },
      policy: parsePolicyText(policyText, 'swapped.yaml'),
    };
    const r = await post(app, '/v1/admin/reload', undefined, PLAIN.admin);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      champion: { version: 'v0000000000aa', changed: true },
      challenger: { version: null, changed: false },
      policy: { version: 'swapped-2026.12.1', changed: true },
      refused: [],
    });
    const after = (await post(app, '/v1/score', scoreBody())).json();
    expect([after.model_version, after.policy_version]).toEqual(['v0000000000aa', 'swapped-2026.12.1']);
    const metrics = (await get(app, '/metrics', PLAIN.admin)).body;
    expect(metrics).toContain('repayrisk_model_info{role="champion",version="v0000000000aa"} 1');
    expect(metrics).toContain('repayrisk_reloads_total{result="ok"} 1');
  });

  it('a model that fails strict loading is refused (still 200, listed in `refused`) and the old one keeps serving', async () => {
    const dir = tmpDir();
    const version = state.champion.version;
    cpSync(join('models/repayrisk', version), join(dir, 'models/repayrisk', version), { recursive: true });
    writeFileSync(join(dir, 'models/repayrisk/CHAMPION'), `${version}\n`);
    const policyPath = join(dir, 'policy.yaml');
    const policyText = readFileSync('policies/default.yaml', 'utf8');
    writeFileSync(policyPath, policyText);
    const src = { modelsRoot: join(dir, 'models'), policyPath };
    const live = new LiveModels(await loadLiveState(src), src);
    const { app } = await build({ live: live as unknown as FakeLive });

    // A corrupted candidate (weights changed after the manifest was written) and a new policy version.
    const broken = 'v0000000000bb';
    cpSync(join(dir, 'models/repayrisk', version), join(dir, 'models/repayrisk', broken), {
      recursive: true,
    });
    const weights = join(dir, 'models/repayrisk', broken, 'ability.model.json');
    writeFileSync(weights, `${readFileSync(weights, 'utf8')} `);
    writeFileSync(join(dir, 'models/repayrisk/CHAMPION'), `${broken}\n`);
    writeFileSync(policyPath, policyText.replace('version: default-2026.11.1', 'version: next-2026.12.1'));

    const r = await post(app, '/v1/admin/reload', undefined, PLAIN.admin);
    expect(r.statusCode).toBe(200);
    const outcome = r.json();
    expect(outcome.champion).toEqual({ version, changed: false });
    expect(outcome.policy).toEqual({ version: 'next-2026.12.1', changed: true });
    expect(outcome.refused).toHaveLength(1);
    expect(outcome.refused[0]).toMatch(new RegExp(`^champion: .*; keeping ${version}$`));
    const after = (await post(app, '/v1/score', scoreBody())).json();
    expect([after.model_version, after.policy_version]).toEqual([version, 'next-2026.12.1']);

    // A policy that fails validation is refused too; the one loaded last keeps serving.
    writeFileSync(policyPath, 'version: broken\nguardrails: { caps: { call: { attempts: 99, days: 7 } } }\n');
    const again = (await post(app, '/v1/admin/reload', undefined, PLAIN.admin)).json();
    expect(again.refused.map((s: string) => s.split(':')[0])).toEqual(['champion', 'policy']);
    expect((await post(app, '/v1/score', scoreBody())).json().policy_version).toBe('next-2026.12.1');
    expect((await get(app, '/metrics', PLAIN.admin)).body).toContain(
      'repayrisk_reloads_total{result="refused"} 2',
    );
  });
});

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 with security schemes and every route', async () => {
    const { app } = await build();
    const r = await get(app, '/openapi.json', PLAIN.contacts);
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/readyz',
      '/v1/accounts/{id}/contacts',
      '/v1/accounts/{id}/decisions',
      '/v1/accounts/{id}/human-review',
      '/v1/accounts/{id}/human-review/resolve',
      '/v1/admin/reload',
      '/v1/contacts',
      '/v1/decisions/{id}',
      '/v1/decisions/{id}/explanation',
      '/v1/models',
      '/v1/policy',
      '/v1/score',
    ]);
    expect(doc.paths['/v1/score'].post['x-required-scope']).toBe('score');
    expect(doc.components.schemas.ScoreBatchRequest.properties.accounts.maxItems).toBe(1000);
    expect(doc.components.schemas.AccountArchive.properties.account.properties.balance.description).toMatch(
      /^Outstanding balance/,
    );
  });

  it('its generated request schemas accept good bodies and reject bad ones; real responses match its response schemas', async () => {
    const { app } = await build({ limits: { maxBatch: 5 } });
    const doc = (await get(app, '/openapi.json')).json();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc, 'api');
    const schema = (id: string) => {
      const v = ajv.getSchema(`api#/components/schemas/${id}`);
      if (!v) throw new Error(`no schema ${id}`);
      return v;
    };
    const req = schema('ScoreRequest');
    expect(req(scoreBody()), JSON.stringify(req.errors)).toBe(true);
    expect(req({ accounts: [scoreBody(), scoreBody({ account_id: 'B' })] })).toBe(true);
    const wrong = scoreBody();
    (wrong.account as Record<string, unknown>).balance = 'lots';
    expect(req(wrong)).toBe(false);
    expect(req({ ...scoreBody(), extra: 1 })).toBe(false);
    expect(req({ accounts: Array.from({ length: 6 }, () => scoreBody()) })).toBe(false);
    const contacts = schema('ContactsRequest');
    expect(contacts({ contacts: [makeContact({ ts: '2026-11-24T10:00:00Z' })] })).toBe(true);
    expect(contacts({ contacts: [{ ...makeContact({ ts: '2026-11-24T10:00:00Z' }), channel: 'fax' }] })).toBe(
      false,
    );

    const check = (id: string, body: unknown) => {
      const v = schema(id);
      expect(v(body), `${id}: ${JSON.stringify(v.errors)}`).toBe(true);
    };
    const one = (await post(app, '/v1/score', scoreBody())).json();
    check('ScoredAccount', one);
    const bad = scoreBody();
    (bad.account as Record<string, unknown>).age = 5;
    check('ScoreBatchResponse', (await post(app, '/v1/score', { accounts: [scoreBody(), bad] })).json());
    check('Error', (await post(app, '/v1/score', bad)).json());
    check('DecisionRecord', (await get(app, `/v1/decisions/${one.decision_id}`)).json());
    check(
      'ContactsResponse',
      (await post(app, '/v1/contacts', { contacts: [makeContact({ ts: T0 })] })).json(),
    );
    check('ModelsResponse', (await get(app, '/v1/models')).json());
    check('PolicyResponse', (await get(app, '/v1/policy')).json());
    check('ReloadOutcome', (await post(app, '/v1/admin/reload', undefined)).json());
    check('Health', (await get(app, '/healthz', null)).json());
    check('Readiness', (await get(app, '/readyz', null)).json());
  });
});

describe('GET /metrics', () => {
  it('exposes latency, decisions by treatment, guardrail hits, versions and request counts (admin scope)', async () => {
    const { app } = await build();
    await post(app, '/v1/score', {
      accounts: [scoreBody(), scoreBody({ account_id: 'D', dispute_open: true }), { account: 'x' }],
    });
    const r = await get(app, '/metrics', PLAIN.admin);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = r.body.split('\n');
    for (const line of [
      'repayrisk_decisions_total{treatment="human_call"} 1',
      'repayrisk_decisions_total{treatment="hold"} 1',
      'repayrisk_guardrail_hits_total{guardrail="dispute_open"} 1',
      'repayrisk_score_items_total{status="ok"} 2',
      'repayrisk_score_items_total{status="invalid"} 1',
      `repayrisk_model_info{role="champion",version="${state.champion.version}"} 1`,
      'repayrisk_policy_info{version="default-2026.11.1"} 1',
      'repayrisk_http_requests_total{method="POST",route="/v1/score",status="200"} 1',
      'repayrisk_http_request_duration_seconds_count{method="POST",route="/v1/score"} 1',
      'repayrisk_http_request_duration_seconds_bucket{method="POST",route="/v1/score",le="+Inf"} 1',
      '# TYPE repayrisk_http_request_duration_seconds histogram',
    ])
      expect(lines, line).toContain(line);
    // Buckets are cumulative.
    const buckets = lines
      .filter((l) => l.startsWith('repayrisk_http_request_duration_seconds_bucket{method="POST"'))
      .map((l) => Number(l.split(' ')[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('each app has its own metrics', async () => {
    const a = await build();
    const b = await build();
    await post(a.app, '/v1/score', scoreBody());
    expect((await get(b.app, '/metrics', PLAIN.admin)).body).not.toContain('repayrisk_decisions_total{');
  });
});

describe('request ids', () => {
  it('echoes a sane incoming x-request-id, replaces a malformed one, and puts it in error bodies and the ledger', async () => {
    const { app, ledger } = await build();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(PLAIN.score), 'x-request-id': 'orch-42:batch.7' },
      payload: scoreBody(),
    });
    expect(r.headers['x-request-id']).toBe('orch-42:batch.7');
    expect(ledger.decisions[0]!.request_id).toBe('orch-42:batch.7');
    for (const bad of ['has spaces', 'x'.repeat(129), 'semi;colon', '']) {
      const e = await app.inject({ method: 'GET', url: '/v1/models', headers: { 'x-request-id': bad } });
      expect(e.statusCode).toBe(401);
      expect(e.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.json().request_id).toBe(e.headers['x-request-id']);
    }
  });
});

describe('logs', () => {
  it('redacts credential headers whatever logger is given (options or a pino instance)', async () => {
    for (const kind of ['options', 'instance'] as const) {
      const sink = logSink();
      const logger =
        kind === 'options' ? { level: 'info', stream: sink.stream } : pino({ level: 'info' }, sink.stream);
      const { app } = await build({ logger });
      app.log.info(
        { headers: { authorization: `Bearer ${PLAIN.admin}`, 'x-api-key': PLAIN.score } },
        'headers',
      );
      expect(sink.text(), kind).toContain('[redacted]');
      expect(sink.text(), kind).not.toContain(PLAIN.admin);
      expect(sink.text(), kind).not.toContain(PLAIN.score);
    }
  });

  it('one line per request with ids, sizes and timing; no personal data, no bodies, no keys', async () => {
    const sink = logSink();
    const { app } = await build({ logger: { level: 'debug', stream: sink.stream } });
    const secrets = {
      customer_id: 'CUST-ZEBRA-9137',
      region: 'REGION-QUOKKA',
      monthly_income: 48213.77,
      name: 'Zelda Quuxington',
      phone: '+1-555-0199-8412',
      email: 'zelda.q@example.invalid',
      address: '742 Evergreen Terrace',
    };
    const account = {
      ...makeAccount({ customer_id: secrets.customer_id, region: secrets.region }),
      ...secrets,
    };
    const contacts = [{ ...makeContact({ ts: '2026-11-20T15:00:00Z', agent_id: 'AGENT-WOMBAT' }) }];
    const good = { account, installments: makeInstallments(), contacts };
    expect((await post(app, '/v1/score', good, PLAIN.score)).statusCode).toBe(200);
    expect(
      (await post(app, '/v1/score', { accounts: [good, { ...good, account: { ...account, age: 7 } }] }))
        .statusCode,
    ).toBe(200);
    const bad = await post(app, '/v1/score', { ...good, account: { ...account, balance: secrets.name } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain(secrets.name); // the client's own value, named back to it
    const badJson = await app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { 'x-api-key': PLAIN.score, 'content-type': 'application/json' },
      payload: `{"name": "${secrets.name}", "phone": "${secrets.phone}" oops`,
    });
    expect(badJson.statusCode).toBe(400);
    await post(app, '/v1/contacts', { contacts }, PLAIN.contacts);
    await get(app, '/v1/models', 'wrong-key-LEAKCHECK');

    const text = sink.text();
    for (const s of [
      ...Object.values(secrets).map(String),
      'AGENT-WOMBAT',
      ...Object.values(PLAIN),
      'LEAKCHECK',
      'Bearer',
    ])
      expect(text, s).not.toContain(s);
    const requests = sink
      .lines()
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(6);
    expect(requests[0]).toMatchObject({
      method: 'POST',
      route: '/v1/score',
      status: 200,
      key_id: 'scorer',
      batch_size: 1,
      error: null,
    });
    expect(typeof requests[0].latency_ms).toBe('number');
    expect(requests[0].request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requests.map((l) => [l.status, l.batch_size, l.error])).toEqual([
      [200, 1, null],
      [200, 2, null],
      [400, 1, 'invalid_request'],
      [400, null, 'invalid_json'],
      [201, 1, null],
      [401, null, 'unauthorized'],
    ]);
  });
});

describe('call capacity across concurrent requests', () => {
  it('two requests at once cannot both spend the last free call slot', async () => {
    const capped = parsePolicyText('version: one-slot\ncapacity: { total_slots: 1 }\n', 'one-slot.yaml');
    // A ledger that takes a while to commit, so an unserialised second request would read the slots before the
    // first one's call is recorded.
    class SlowLedger extends MemoryLedger {
      override async appendDecisions(rows: readonly DecisionRecord[]): Promise<void> {
        await new Promise((r) => setTimeout(r, 30));
        return super.appendDecisions(rows);
      }
    }
    const ledger = new SlowLedger();
    const { app } = await build({ ledger, live: new FakeLive({ ...state, policy: capped }) });
    const bodies = ['K1', 'K2', 'K3'].map((id) => scoreBody({ account_id: id }));
    const answers = await Promise.all(bodies.map((b) => post(app, '/v1/score', b, PLAIN.score)));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const treatments = answers.map((r) => r.json().treatment);
    expect(treatments.filter((t) => t === 'human_call')).toHaveLength(1);
    expect(ledger.decisions.filter((d) => d.call_team !== null)).toHaveLength(1);
  });
});
