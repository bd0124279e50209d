// Issue 16 item 4, automated-decision rights over HTTP (China PIPL art. 24; GDPR / UK GDPR art. 22): a customer's
// request for a human decision, recorded through the API and kept in the ledger, turns every score of the account
// into `human_review` from its time until a person resolves it; and any recorded decision can be explained in
// plain words. Run over the real DuckDB ledger, the write-ahead log in front of it and PostgreSQL (the score path reads the
// requests from each).
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../src/core/policy/load.ts';
import { createApp } from '../src/http/app.ts';
import { type ApiKey, hashKey } from '../src/http/auth.ts';
import type { Ledger } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openPostgresLedger } from '../src/ledger/postgres.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { findPostgres, type TestPostgres } from './helpers/postgres.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

const NOW = Date.parse(T0);
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const AUDIT_KEY = 'test-key-audit-9b9b';
const keys: ApiKey[] = [...testKeys(), { id: 'auditor', sha256: hashKey(AUDIT_KEY), scopes: ['audit'] }];

/**
 * A policy that goes to court for the test account's cell whenever the legal prerequisites hold (they do for
 * makeAccount: 95 days past due, a notice on 2026-10-01), and maps region CN-31 to the Chinese rule pack.
 */
const LEGAL_FIRST =
  'version: legal-first\nmatrix:\n  low_willingness_high_ability: [legal, human_call]\npacks:\n  regions: { CN-31: cn-2025 }\n';

let state: LiveState;
beforeAll(async () => {
  const committed = await committedState();
  state = { ...committed, policy: parsePolicyText(LEGAL_FIRST, 'legal-first.yaml') };
});

const dir = tmpDir('repayrisk-human-review-');
let fileNo = 0;
const opened: { app: FastifyInstance; ledger: Ledger }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.app.close();
    await o.ledger.close();
  }
});

// PostgreSQL too when one can be found or started here (test/helpers/postgres.ts); else its runs are skipped, named.
const postgres = findPostgres();
let pgServer: TestPostgres | null = null;
beforeAll(async () => {
  if (postgres.available) pgServer = await postgres.start();
}, 120_000);
afterAll(async () => {
  await pgServer?.stop();
});

const stores: [string, () => Promise<Ledger>][] = [
  ['duckdb', () => openDuckDbLedger(join(dir, `ledger-${++fileNo}.duckdb`))],
  [
    'wal+duckdb',
    async () => {
      const k = ++fileNo;
      return openWalLedger(await openDuckDbLedger(join(dir, `ledger-${k}.duckdb`)), join(dir, `wal-${k}`), {
        loadDelayMs: 5,
      });
    },
  ],
  ...(postgres.available
    ? ([['postgres', async () => openPostgresLedger(await pgServer!.freshSchema())]] as [
        string,
        () => Promise<Ledger>,
      ][])
    : []),
];

if (!postgres.available)
  describe.skip(`automated-decision rights over HTTP (postgres ledger skipped: ${postgres.reason})`, () => {
    it('the same tests', () => {});
  });

describe.each(stores)('automated-decision rights over HTTP (%s ledger)', (_name, openStore) => {
  /** A clock the test moves. */
  const clock = { ms: NOW };

  async function build() {
    const ledger = await openStore();
    clock.ms = NOW;
    const app = await createApp({
      live: new FakeLive(state),
      ledger,
      keys,
      now: () => clock.ms,
      newId: counterIds('id'),
    });
    opened.push({ app, ledger });
    return { app, ledger };
  }

  const send = (
    app: FastifyInstance,
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
    key: string = PLAIN.all,
    idem?: string,
  ) =>
    app.inject({
      method,
      url,
      headers: { ...bearer(key), ...(idem ? { 'idempotency-key': idem } : {}) },
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    });
  const score = async (app: FastifyInstance, over: Parameters<typeof scoreBody>[0] = {}) => {
    const r = await send(app, 'POST', '/v1/score', scoreBody(over), PLAIN.score);
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };
  const request = (app: FastifyInstance, body: unknown, account = 'A0001', idem?: string) =>
    send(app, 'POST', `/v1/accounts/${account}/human-review`, body, PLAIN.contacts, idem);
  const resolve = (app: FastifyInstance, body: unknown, account = 'A0001', idem?: string) =>
    send(app, 'POST', `/v1/accounts/${account}/human-review/resolve`, body, PLAIN.contacts, idem);
  const paths = (body: { issues?: { path: string }[] }) => (body.issues ?? []).map((i) => i.path).sort();

  it('a request turns the next score from legal into human_review, scores and reasons kept, and records it', async () => {
    const { app, ledger } = await build();
    const before = await score(app);
    expect(before.treatment).toBe('legal'); // what automation would do for this account today

    const asked = iso(NOW - 30 * MINUTE);
    const r = await request(app, { reported_ts: asked, channel: 'letter', case_ref: 'CASE-77' });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toEqual({
      account_id: 'A0001',
      event_id: expect.any(String),
      kind: 'requested',
      ts: asked,
      open: true,
      open_since: asked,
      closed: [],
    });

    const after = await score(app);
    expect(after).toMatchObject({
      treatment: 'human_review',
      channel: null,
      earliest_contact_at: null,
      offer: null,
      segment: before.segment,
      scores: { willingness: before.scores.willingness, ability: before.scores.ability },
    });
    expect(after.reason_codes).toContain('HUMAN_REVIEW_REQUESTED');
    expect(after.reason_codes).toContain('WILLINGNESS_LOW'); // the reviewer gets the scores' reasons too
    expect(after.reasons.join(' ')).toContain(`human decision requested at ${asked}`);
    expect(after.reasons.join(' ')).toContain('the strategy would try legal');
    // Recorded like any other decision.
    const stored = await ledger.getDecision(after.decision_id);
    expect(stored).toMatchObject({ treatment: 'human_review', channel: null, account_id: 'A0001' });

    // The account's review state, as an auditor reads it.
    const state = await send(app, 'GET', '/v1/accounts/A0001/human-review', undefined, AUDIT_KEY);
    expect(state.statusCode, state.body).toBe(200);
    expect(state.json()).toMatchObject({
      account_id: 'A0001',
      open: true,
      open_since: asked,
      open_requests: [r.json().event_id],
      events: [
        {
          event_id: r.json().event_id,
          kind: 'requested',
          ts: asked,
          reported_ts: null,
          recorded_at: iso(NOW),
          channel: 'letter',
          case_ref: 'CASE-77',
          agent_id: null,
          outcome: null,
        },
      ],
    });
  });

  it('in a batch only the account that asked gets human_review; the others are decided as before', async () => {
    const { app } = await build();
    expect((await request(app, { reported_ts: iso(NOW) }, 'B2')).statusCode).toBe(201);
    const r = await send(
      app,
      'POST',
      '/v1/score',
      {
        accounts: [
          scoreBody({ account_id: 'B1' }),
          scoreBody({ account_id: 'B2' }),
          scoreBody({ account_id: 'B3' }),
        ],
      },
      PLAIN.score,
    );
    expect(r.statusCode, r.body).toBe(200);
    expect(
      r.json().results.map((x: { account_id: string; treatment: string }) => [x.account_id, x.treatment]),
    ).toEqual([
      ['B1', 'legal'],
      ['B2', 'human_review'],
      ['B3', 'legal'],
    ]);
  });

  it('a suppressed account stays on hold (specialist review) even with a request standing', async () => {
    const { app } = await build();
    await request(app, { reported_ts: iso(NOW) });
    expect((await score(app, { deceased_flag: true })).treatment).toBe('hold');
  });

  it('a resolution closes the request: scoring is automated again from its time on', async () => {
    const { app } = await build();
    const first = await request(app, { reported_ts: iso(NOW - 60 * MINUTE) });
    clock.ms = NOW + 10 * MINUTE;
    const again = await request(app, { reported_ts: iso(NOW + 5 * MINUTE), channel: 'call' });
    expect(again.json()).toMatchObject({ open: true, open_since: iso(NOW - 60 * MINUTE) });
    expect((await score(app)).treatment).toBe('human_review');

    clock.ms = NOW + 20 * MINUTE;
    const done = await resolve(app, {
      reported_ts: iso(NOW + 15 * MINUTE),
      outcome: 'upheld',
      agent_id: 'agent-9',
      case_ref: 'CASE-77',
    });
    expect(done.statusCode, done.body).toBe(201);
    expect(done.json()).toEqual({
      account_id: 'A0001',
      event_id: expect.any(String),
      kind: 'resolved',
      ts: iso(NOW + 15 * MINUTE),
      open: false,
      open_since: null,
      closed: [first.json().event_id, again.json().event_id],
    });
    expect((await score(app)).treatment).toBe('legal');
    const state = (await send(app, 'GET', '/v1/accounts/A0001/human-review', undefined, PLAIN.score)).json();
    expect(state).toMatchObject({ open: false, open_since: null, open_requests: [] });
    expect(state.events.map((e: { kind: string; outcome: string | null }) => [e.kind, e.outcome])).toEqual([
      ['requested', null],
      ['requested', null],
      ['resolved', 'upheld'],
    ]);

    // Nothing left to resolve.
    const none = await resolve(app, { reported_ts: iso(NOW + 20 * MINUTE), outcome: 'changed' });
    expect(none.statusCode).toBe(409);
    expect(none.json()).toMatchObject({ error: 'no_open_review' });
  });

  it('refuses a resolution dated before a standing request (it could not have closed it)', async () => {
    const { app } = await build();
    const asked = await request(app, { reported_ts: iso(NOW - 5 * MINUTE) });
    const r = await resolve(app, { reported_ts: iso(NOW - 10 * MINUTE), outcome: 'withdrawn' });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({ error: 'review_requested_later' });
    expect(r.json().message).toContain(asked.json().event_id);
    expect((await score(app)).treatment).toBe('human_review');
  });

  it('takes a time a little ahead of the server clock as now, keeping what was sent; refuses one further ahead', async () => {
    const { app } = await build();
    const ahead = iso(NOW + 2 * MINUTE);
    const r = await request(app, { reported_ts: ahead });
    expect(r.json()).toMatchObject({ ts: iso(NOW), open: true });
    expect((await score(app)).treatment).toBe('human_review'); // counts at once
    const events = (await send(app, 'GET', '/v1/accounts/A0001/human-review', undefined, AUDIT_KEY)).json()
      .events;
    expect(events[0]).toMatchObject({ ts: iso(NOW), reported_ts: ahead });

    const far = await request(app, { reported_ts: iso(NOW + 10 * MINUTE) });
    expect(far.statusCode).toBe(400);
    expect(far.json().issues).toEqual([
      expect.objectContaining({
        path: 'reported_ts',
        message: expect.stringMatching(/no more than 5 minute\(s\) ahead/),
      }),
    ]);
  });

  it('answers a retry with the same Idempotency-Key from the ledger, recording nothing twice', async () => {
    const { app, ledger } = await build();
    const body = { reported_ts: iso(NOW), channel: 'web' };
    const first = await request(app, body, 'A0001', 'rq-1');
    expect(first.statusCode).toBe(201);
    const retry = await request(app, body, 'A0001', 'rq-1');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect((await ledger.reviewEvents(['A0001'])).get('A0001')).toHaveLength(1);
    // The same key with another body is not a retry.
    const other = await request(app, { ...body, channel: 'app' }, 'A0001', 'rq-1');
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ error: 'idempotency_key_reused' });

    const res = { reported_ts: iso(NOW), outcome: 'changed' };
    const closed = await resolve(app, res, 'A0001', 'rs-1');
    expect(closed.statusCode).toBe(201);
    // A retry of the resolution gets its first answer, not a 409 for the request it already closed.
    const closedAgain = await resolve(app, res, 'A0001', 'rs-1');
    expect([closedAgain.statusCode, closedAgain.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(closedAgain.json()).toEqual(closed.json());
    expect((await ledger.reviewEvents(['A0001'])).get('A0001')).toHaveLength(2);
  });

  it('refuses bad bodies and paths with a 400 naming every failing field, and wrong keys with 401/403', async () => {
    const { app, ledger } = await build();
    const cases: [
      string,
      () => Promise<{ statusCode: number; json: () => { issues?: { path: string }[] } }>,
      string[],
    ][] = [
      ['no body', () => request(app, undefined), ['(root)']],
      ['no reported_ts', () => request(app, { channel: 'web' }), ['reported_ts']],
      ['not a timestamp', () => request(app, { reported_ts: '2026-11-25' }), ['reported_ts']],
      [
        'unknown channel and field',
        () => request(app, { reported_ts: T0, channel: 'fax', note: 'x' }),
        ['channel', 'note'],
      ],
      ['an empty case_ref', () => request(app, { reported_ts: T0, case_ref: '' }), ['case_ref']],
      ['a bad path id', () => request(app, { reported_ts: T0 }, '%EF%BB%BFA1'), ['params.account_id']],
      ['resolve without outcome', () => resolve(app, { reported_ts: T0 }), ['outcome']],
      ['resolve, unknown outcome', () => resolve(app, { reported_ts: T0, outcome: 'maybe' }), ['outcome']],
    ];
    for (const [what, call, expected] of cases) {
      const r = await call();
      expect(r.statusCode, what).toBe(400);
      expect(paths(r.json()), what).toEqual(expected);
    }
    expect(
      (await send(app, 'POST', '/v1/accounts/A0001/human-review', { reported_ts: T0 }, PLAIN.score))
        .statusCode,
    ).toBe(403);
    expect(
      (await send(app, 'GET', '/v1/accounts/A0001/human-review', undefined, PLAIN.contacts)).statusCode,
    ).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/accounts/A0001/human-review' })).statusCode).toBe(
      401,
    );
    expect(await ledger.reviewEvents(['A0001'])).toEqual(new Map());
  });

  it('answers match the OpenAPI document, whose request schemas accept good bodies and refuse bad ones', async () => {
    const { app } = await build();
    const doc = (await send(app, 'GET', '/openapi.json')).json();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc, 'api');
    const valid = (id: string, body: unknown) => {
      const v = ajv.getSchema(`api#/components/schemas/${id}`);
      if (!v) throw new Error(`no schema ${id}`);
      return v(body) ? true : JSON.stringify(v.errors);
    };
    expect(valid('HumanReviewRequest', { reported_ts: T0, channel: 'web', case_ref: 'C-1' })).toBe(true);
    expect(valid('HumanReviewRequest', { reported_ts: T0, note: 'free text' })).not.toBe(true);
    expect(valid('HumanReviewResolution', { reported_ts: T0, outcome: 'upheld' })).toBe(true);
    expect(valid('HumanReviewResolution', { reported_ts: T0 })).not.toBe(true);
    const asked = await request(app, { reported_ts: T0, channel: 'web' });
    expect(valid('HumanReviewAnswer', asked.json())).toBe(true);
    const d = await score(app);
    expect(valid('ScoredAccount', d)).toBe(true);
    expect(valid('DecisionRecord', (await send(app, 'GET', `/v1/decisions/${d.decision_id}`)).json())).toBe(
      true,
    );
    expect(
      valid('Explanation', (await send(app, 'GET', `/v1/decisions/${d.decision_id}/explanation`)).json()),
    ).toBe(true);
    expect(
      valid('HumanReviewState', (await send(app, 'GET', '/v1/accounts/A0001/human-review')).json()),
    ).toBe(true);
    expect(
      valid('HumanReviewAnswer', (await resolve(app, { reported_ts: T0, outcome: 'changed' })).json()),
    ).toBe(true);
  });

  describe('GET /v1/decisions/:id/explanation', () => {
    it('explains a legal decision in words: what, why, the drivers, the rules and clauses, the right to a person', async () => {
      const { app } = await build();
      const d = await score(app, { region: 'CN-31', timezone: 'Asia/Shanghai' });
      expect(d.treatment).toBe('legal');
      const r = await send(app, 'GET', `/v1/decisions/${d.decision_id}/explanation`, undefined, PLAIN.score);
      expect(r.statusCode, r.body).toBe(200);
      const e = r.json();
      expect(e).toMatchObject({
        decision_id: d.decision_id,
        account_id: 'A0001',
        decided_at: iso(NOW),
        policy_version: 'legal-first',
        model_version: state.champion.version,
        decision: { treatment: 'legal', automated: true },
        rights: { basis: 'PIPL art. 24' },
      });
      expect(e.decision.summary).toMatch(/legal proceedings/);
      // Why, in words: the low willingness estimate, never its code or its three decimals.
      expect(e.reasons.map((x: { code: string }) => x.code)).toContain('WILLINGNESS_LOW');
      // 23:00 in Shanghai: outside the hours, with the clause the Chinese pack cites.
      expect(e.rules.applied).toEqual([
        {
          guardrail: 'outside_contact_hours',
          text: expect.stringMatching(/outside the hours/),
          source: 'NIFA 2024 guidelines (collection hours)',
        },
      ]);
      expect(e.rules.pack).toMatchObject({ name: 'cn-2025', version: '2025.2', current_version: null });
      expect(e.rules.pack.clauses.map((c: { source: string }) => c.source)).toContain(
        'credit-card measures art. 68',
      );
      // The drivers recorded with the decision, each in words and with the direction it pushed.
      const recorded = d.reasons.filter((x: string) => x.includes('score driven by'));
      expect(e.drivers).toHaveLength(recorded.length);
      for (const x of e.drivers) {
        expect(recorded.some((t: string) => t.includes(x.feature))).toBe(true);
        expect(x.phrase).not.toContain('_');
        expect(x.effect).toBe(x.contribution > 0 ? 'raised' : 'lowered');
      }
      const text = e.text.join('\n');
      expect(text).toContain('legal proceedings');
      expect(text).toContain(e.drivers[0].phrase);
      expect(text).toContain('NIFA 2024 guidelines (collection hours)');
      expect(text).toMatch(/right to ask for a person to review this decision/);
      expect(text).toContain(d.decision_id);
      expect(text).toContain('policy legal-first');
      // No codes or raw feature names in what the customer reads.
      expect(text).not.toMatch(/WILLINGNESS_LOW|outside_contact_hours|days_past_due|0\.\d{3}/);
    });

    it('explains a hold (suppressed), and a human_review, each for what it is', async () => {
      const { app } = await build();
      const hold = await score(app, { account_id: 'H1', deceased_flag: true });
      const eh = (
        await send(app, 'GET', `/v1/decisions/${hold.decision_id}/explanation`, undefined, PLAIN.score)
      ).json();
      expect(eh.decision).toMatchObject({ treatment: 'hold', automated: true });
      expect(eh.decision.summary).toMatch(/will not contact you .* specialist team/);
      expect(eh.rules.applied.map((x: { guardrail: string }) => x.guardrail)).toEqual(['deceased']);
      expect(eh.rules.pack).toMatchObject({ name: 'us-reg-f' });
      expect(eh.rights.basis).toBeNull();

      const asked = iso(NOW - 60 * MINUTE);
      await request(app, { reported_ts: asked }, 'R1');
      const review = await score(app, { account_id: 'R1' });
      const er = (
        await send(app, 'GET', `/v1/decisions/${review.decision_id}/explanation`, undefined, PLAIN.score)
      ).json();
      expect(er.decision).toMatchObject({ treatment: 'human_review', automated: false });
      expect(er.decision.summary).toMatch(
        /As you asked on 2026-11-25 14:00 UTC, a member of our staff, not an automated system, will decide/,
      );
      expect(er.reasons.map((x: { code: string }) => x.code)).toContain('HUMAN_REVIEW_REQUESTED');
      expect(er.rights.text).toMatch(/A member of our staff will decide/);
      expect(er.text.join('\n')).not.toMatch(/legal proceedings/);
    });

    it('is a 404 for an unknown id, and needs the score scope like GET /v1/decisions/:id', async () => {
      const { app } = await build();
      const missing = await send(app, 'GET', '/v1/decisions/nope/explanation', undefined, PLAIN.score);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: 'not_found' });
      const d = await score(app);
      expect(
        (await send(app, 'GET', `/v1/decisions/${d.decision_id}/explanation`, undefined, PLAIN.contacts))
          .statusCode,
      ).toBe(403);
      expect(
        (await send(app, 'GET', `/v1/decisions/${d.decision_id}/explanation`, undefined, AUDIT_KEY))
          .statusCode,
      ).toBe(403);
    });
  });
});
