// Issue 14, defects 3 and 5, over HTTP with the real DuckDB ledger: a retried POST (same Idempotency-Key) records
// nothing twice and gets the first answer back, also after a restart; and an account's contacts and decisions can
// be read back, a page at a time.
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppDeps, createApp } from '../src/http/app.ts';
import { type ApiKey, hashKey } from '../src/http/auth.ts';
import type { ContactRecord, DecisionRecord, Ledger } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openPostgresLedger } from '../src/ledger/postgres.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { makeContact } from './helpers/account.ts';
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
const HOUR = 3_600_000;
const AUDIT_KEY = 'test-key-audit-4a4a';
const keys: ApiKey[] = [...testKeys(), { id: 'auditor', sha256: hashKey(AUDIT_KEY), scopes: ['audit'] }];

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

const dir = tmpDir('repayrisk-idem-');
let fileNo = 0;
const opened: { app: FastifyInstance; ledger: Ledger }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.app.close();
    await o.ledger.close().catch(() => undefined);
  }
});

/** A clock the test moves. */
const clock = { ms: NOW };

/** An app on a DuckDB ledger file (a new one unless `path` is given). */
async function build(opts: { path?: string; ledger?: Ledger; over?: Partial<AppDeps> } = {}) {
  const path = opts.path ?? join(dir, `ledger-${++fileNo}.duckdb`);
  const ledger = opts.ledger ?? (await openDuckDbLedger(path));
  clock.ms = NOW;
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys,
    now: () => clock.ms,
    newId: counterIds(`id${fileNo}`),
    ...opts.over,
  });
  opened.push({ app, ledger });
  return { app, ledger, path };
}

function post(
  app: FastifyInstance,
  url: string,
  payload: unknown,
  key: string | null,
  as: string = PLAIN.all,
) {
  const headers: Record<string, string> = { ...bearer(as), 'content-type': 'application/json' };
  if (key !== null) headers['idempotency-key'] = key;
  return app.inject({
    method: 'POST',
    url,
    headers,
    payload: (typeof payload === 'string' ? payload : JSON.stringify(payload)) as InjectOptions['payload'],
  });
}
const get = (app: FastifyInstance, url: string, as: string = AUDIT_KEY) =>
  app.inject({ method: 'GET', url, headers: bearer(as) });

/** One call attempt an hour before now. */
const oneCall = () => ({ contacts: [makeContact({ ts: new Date(NOW - HOUR).toISOString() })] });

/** A ledger whose appends wait for `open()` and can be made to fail once (the 409 and 5xx paths). */
function gatedLedger(inner: Ledger) {
  let release!: () => void;
  let gate: Promise<void> = Promise.resolve();
  let failNext = false;
  const ctl = {
    hold() {
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
    open: () => release(),
    failOnce() {
      failNext = true;
    },
  };
  const wrap =
    (name: 'appendContacts' | 'appendDecisions') =>
    async (...args: unknown[]): Promise<void> => {
      await gate;
      if (failNext) {
        failNext = false;
        throw new Error('injected: the disk went away');
      }
      return (inner[name] as (...a: unknown[]) => Promise<void>).apply(inner, args);
    };
  const ledger = new Proxy(inner, {
    get(t, p) {
      if (p === 'appendContacts' || p === 'appendDecisions') return wrap(p);
      const v = Reflect.get(t, p);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return { ledger, ctl };
}

describe('Idempotency-Key on POST /v1/contacts', () => {
  it('seven posts of one contact under one key count once: the next decision is still a call, no cap_call', async () => {
    const { app, ledger } = await build();
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await post(app, '/v1/contacts', oneCall(), 'dialer-retry-1'));
    expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201, 201, 201]);
    expect(answers.map((r) => r.headers['idempotent-replayed'])).toEqual([
      undefined,
      'true',
      'true',
      'true',
      'true',
      'true',
      'true',
    ]);
    for (const r of answers) expect(r.body).toBe(answers[0]!.body);
    expect(answers[0]!.json()).toEqual({ recorded: 1, contact_ids: [expect.any(String)] });
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    const next = (await post(app, '/v1/score', scoreBody(), null)).json();
    expect([next.treatment, next.channel]).toEqual(['human_call', 'call']);
    expect(next.guardrails).not.toContain('cap_call');
  });

  it('the same seven posts without a key count seven times and trip cap_call (what the key prevents)', async () => {
    const { app, ledger } = await build();
    for (let i = 0; i < 7; i++)
      expect((await post(app, '/v1/contacts', oneCall(), null)).statusCode).toBe(201);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 7 });
    expect((await post(app, '/v1/score', scoreBody(), null)).json().guardrails).toContain('cap_call');
  });

  it('a different body under the same key is a 422 and records nothing; keys are per API key and route', async () => {
    const { app, ledger } = await build();
    expect((await post(app, '/v1/contacts', oneCall(), 'K')).statusCode).toBe(201);
    const other = { contacts: [makeContact({ ts: new Date(NOW - 2 * HOUR).toISOString() })] };
    const r = await post(app, '/v1/contacts', other, 'K');
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({
      error: 'idempotency_key_reused',
      request_id: r.headers['x-request-id'],
    });
    expect(r.json().message).toMatch(/used for a different request body/);
    // The same bytes re-serialised with other whitespace are another body: the fingerprint is of the raw bytes.
    expect((await post(app, '/v1/contacts', JSON.stringify(oneCall(), null, 2), 'K')).statusCode).toBe(422);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    // Another API key with the same key string is another caller: it records.
    expect((await post(app, '/v1/contacts', other, 'K', PLAIN.contacts)).statusCode).toBe(201);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 2 });
  });

  it('a request while the first with its key is still being handled is a 409; after it, a replay', async () => {
    const { ledger: gated, ctl } = gatedLedger(
      await openDuckDbLedger(join(dir, `ledger-${++fileNo}.duckdb`)),
    );
    const { app, ledger } = await build({ ledger: gated });
    ctl.hold();
    const first = post(app, '/v1/contacts', oneCall(), 'K-slow');
    await new Promise((r) => setTimeout(r, 100));
    const during = await post(app, '/v1/contacts', oneCall(), 'K-slow');
    expect(during.statusCode).toBe(409);
    expect(during.json()).toMatchObject({ error: 'idempotency_key_in_flight' });
    ctl.open();
    expect((await first).statusCode).toBe(201);
    const after = await post(app, '/v1/contacts', oneCall(), 'K-slow');
    expect([after.statusCode, after.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(after.body).toBe((await first).body);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
  });

  it('stores no 4xx or 5xx answer: a corrected body or a retry after a 503 runs under the same key', async () => {
    const { ledger: gated, ctl } = gatedLedger(
      await openDuckDbLedger(join(dir, `ledger-${++fileNo}.duckdb`)),
    );
    const { app, ledger } = await build({ ledger: gated });
    const bad = { contacts: [makeContact({ ts: new Date(NOW + 2 * HOUR).toISOString() })] };
    expect((await post(app, '/v1/contacts', bad, 'K-fix')).statusCode).toBe(400);
    expect((await post(app, '/v1/contacts', oneCall(), 'K-fix')).statusCode).toBe(201);
    ctl.failOnce();
    expect((await post(app, '/v1/contacts', oneCall(), 'K-503')).statusCode).toBe(503);
    const retry = await post(app, '/v1/contacts', oneCall(), 'K-503');
    expect([retry.statusCode, retry.headers['idempotent-replayed']]).toEqual([201, undefined]);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 2 });
  });

  it('refuses a malformed key with a 400 naming the header', async () => {
    const { app, ledger } = await build();
    for (const key of ['', 'k'.repeat(256)]) {
      const r = await post(app, '/v1/contacts', oneCall(), key);
      expect(r.statusCode).toBe(400);
      expect(r.json().issues).toEqual([
        expect.objectContaining({
          path: 'headers.idempotency-key',
          message: 'expected 1..255 printable ASCII characters',
        }),
      ]);
    }
    expect((await post(app, '/v1/contacts', oneCall(), 'k'.repeat(255))).statusCode).toBe(201);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
  });

  it('hashing the body on its way in leaves the body limit and JSON errors as they were', async () => {
    const { app, ledger } = await build({ over: { limits: { bodyLimitBytes: 2048 } } });
    const big = { contacts: Array.from({ length: 40 }, () => oneCall().contacts[0]) };
    const r = await post(app, '/v1/contacts', big, 'K-big');
    expect([r.statusCode, r.json().error]).toEqual([400, 'body_too_large']);
    const broken = await post(app, '/v1/contacts', '{"contacts": [', 'K-broken');
    expect([broken.statusCode, broken.json().error]).toEqual([400, 'invalid_json']);
    expect((await post(app, '/v1/contacts', oneCall(), 'K-big')).statusCode).toBe(201);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
  });

  it('survives a restart on the same DuckDB file: the retry is replayed, a new body under the key is a 422', async () => {
    const first = await build();
    const r1 = await post(first.app, '/v1/contacts', oneCall(), 'K-restart');
    expect(r1.statusCode).toBe(201);
    await first.app.close();
    await first.ledger.close();
    opened.splice(0);
    const second = await build({ path: first.path });
    const r2 = await post(second.app, '/v1/contacts', oneCall(), 'K-restart');
    expect([r2.statusCode, r2.headers['idempotent-replayed'], r2.body]).toEqual([201, 'true', r1.body]);
    const other = { contacts: [makeContact({ ts: new Date(NOW - 3 * HOUR).toISOString() })] };
    expect((await post(second.app, '/v1/contacts', other, 'K-restart')).statusCode).toBe(422);
    expect(await second.ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
  });

  it('keeps an answer for its configured retention, then lets the key run again', async () => {
    const { app, ledger } = await build({ over: { idempotency: { retentionMs: HOUR } } });
    expect((await post(app, '/v1/contacts', oneCall(), 'K-ret')).statusCode).toBe(201);
    clock.ms = NOW + HOUR - 1;
    expect((await post(app, '/v1/contacts', oneCall(), 'K-ret')).headers['idempotent-replayed']).toBe('true');
    clock.ms = NOW + HOUR + 1;
    const late = await post(app, '/v1/contacts', oneCall(), 'K-ret');
    expect([late.statusCode, late.headers['idempotent-replayed']]).toEqual([201, undefined]);
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 2 });
  });

  it('defaults to keeping answers at least 24 hours', async () => {
    const { app, ledger } = await build();
    expect((await post(app, '/v1/contacts', oneCall(), 'K-day')).statusCode).toBe(201);
    clock.ms = NOW + 24 * HOUR - 1;
    expect((await post(app, '/v1/contacts', oneCall(), 'K-day')).headers['idempotent-replayed']).toBe('true');
    expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
  });
});

describe('Idempotency-Key on POST /v1/score', () => {
  it('a retried score records one decision and answers the first answer byte for byte', async () => {
    const { app, ledger } = await build();
    const first = await post(app, '/v1/score', scoreBody(), 'score-1', PLAIN.score);
    expect(first.statusCode).toBe(200);
    clock.ms = NOW + 60_000;
    const again = await post(app, '/v1/score', scoreBody(), 'score-1', PLAIN.score);
    expect([again.statusCode, again.headers['idempotent-replayed'], again.body]).toEqual([
      200,
      'true',
      first.body,
    ]);
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(await ledger.counts()).toEqual({ decisions: 1, contacts: 0 });
    const recorded = await ledger.getDecision(first.json().decision_id);
    expect(recorded?.decided_at).toBe(new Date(NOW).toISOString());
  });

  it('a retried batch records its decisions once; its invalid items come back without the values they held', async () => {
    const { app, ledger } = await build();
    const batch = {
      accounts: [
        scoreBody({ account_id: 'B1' }),
        { account: { account_id: 'B2' } },
        scoreBody({ account_id: 'B3' }),
      ],
    };
    const first = await post(app, '/v1/score', batch, 'batch-1', PLAIN.score);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ count: 3, ok: 2, invalid: 1 });
    const again = await post(app, '/v1/score', batch, 'batch-1', PLAIN.score);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const strip = (b: { results: { errors?: { got?: string }[] }[] }) =>
      b.results.map((r) => ({ ...r, errors: r.errors?.map(({ got: _g, ...e }) => e) }));
    expect(strip(again.json())).toEqual(strip(first.json()));
    expect(JSON.stringify(again.json())).not.toContain('"got"');
    expect(await ledger.counts()).toEqual({ decisions: 2, contacts: 0 });
  });

  it('keys of /v1/score and /v1/contacts are separate, and a refused score stores nothing', async () => {
    const { app, ledger } = await build();
    expect((await post(app, '/v1/contacts', oneCall(), 'shared')).statusCode).toBe(201);
    expect((await post(app, '/v1/score', scoreBody(), 'shared')).statusCode).toBe(200);
    const bad = scoreBody({ days_past_due: -5 });
    expect((await post(app, '/v1/score', bad, 'bad-1')).statusCode).toBe(400);
    expect((await post(app, '/v1/score', scoreBody({ account_id: 'A0009' }), 'bad-1')).statusCode).toBe(200);
    expect(await ledger.counts()).toEqual({ decisions: 2, contacts: 1 });
  });
});

describe('GET /v1/accounts/:id/contacts and /decisions', () => {
  /** Follows next_cursor from the first page to the last. */
  async function pages(app: FastifyInstance, url: string, as = AUDIT_KEY) {
    const out: { items: Record<string, unknown>[]; next_cursor: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const r = await get(app, cursor ? `${url}${sep}cursor=${encodeURIComponent(cursor)}` : url, as);
      expect(r.statusCode, r.body).toBe(200);
      out.push(r.json());
      cursor = out.at(-1)!.next_cursor;
    } while (cursor !== null && out.length < 50);
    return out;
  }

  async function withContacts() {
    const b = await build();
    const times = [5, 1, 9, 3, 7, 2, 8].map((h) => new Date(NOW - h * HOUR).toISOString());
    const rows = times.map((ts, i) => makeContact({ ts, outcome: i % 2 ? 'no_answer' : 'right_party' }));
    expect((await post(b.app, '/v1/contacts', { contacts: rows }, null)).statusCode).toBe(201);
    const elsewhere = [makeContact({ account_id: 'A0002', ts: new Date(NOW - 4 * HOUR).toISOString() })];
    expect((await post(b.app, '/v1/contacts', { contacts: elsewhere }, null)).statusCode).toBe(201);
    return { ...b, times };
  }

  it('pages an account’s contacts newest first, each once, as recorded', async () => {
    const { app, times } = await withContacts();
    const got = await pages(app, '/v1/accounts/A0001/contacts?limit=3');
    expect(got.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(got.at(-1)!.next_cursor).toBeNull();
    const all = got.flatMap((p) => p.items) as unknown as ContactRecord[];
    expect(all.map((c) => c.ts)).toEqual([...times].sort().reverse());
    expect(new Set(all.map((c) => c.contact_id)).size).toBe(7);
    expect(all.every((c) => c.account_id === 'A0001' && c.recorded_at === new Date(NOW).toISOString())).toBe(
      true,
    );
    const one = await get(app, '/v1/accounts/A0001/contacts');
    expect(one.json().items).toHaveLength(7);
    expect(one.json().next_cursor).toBeNull();
  });

  it('bounds the window: since inclusive, until exclusive (dates read as 00:00 UTC)', async () => {
    const { app } = await withContacts();
    const from = new Date(NOW - 5 * HOUR).toISOString();
    const to = new Date(NOW - 2 * HOUR).toISOString();
    const got = await pages(app, `/v1/accounts/A0001/contacts?since=${from}&until=${to}&limit=2`);
    expect((got.flatMap((p) => p.items) as unknown as ContactRecord[]).map((c) => c.ts)).toEqual([
      new Date(NOW - 3 * HOUR).toISOString(),
      from,
    ]);
    const day = (await get(app, `/v1/accounts/A0001/contacts?since=${T0.slice(0, 10)}`)).json();
    expect((day.items as ContactRecord[]).every((c) => c.ts >= `${T0.slice(0, 10)}T00:00:00`)).toBe(true);
    expect(day.items).toHaveLength(7); // T0 is 15:00 UTC: all seven are after midnight
    const none = (
      await get(app, `/v1/accounts/A0001/contacts?until=${new Date(NOW - 10 * HOUR).toISOString()}`)
    ).json();
    expect(none).toEqual({ items: [], next_cursor: null });
  });

  it('pages an account’s decisions newest first, as GET /v1/decisions/:id gives them', async () => {
    const { app } = await build();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.ms = NOW + i * 60_000;
      const r = await post(app, '/v1/score', scoreBody(), null);
      expect(r.statusCode).toBe(200);
      ids.push(r.json().decision_id);
      await post(app, '/v1/score', scoreBody({ account_id: 'A0002' }), null);
    }
    const got = await pages(app, '/v1/accounts/A0001/decisions?limit=2', PLAIN.score);
    expect(got.map((p) => p.items.length)).toEqual([2, 2, 1]);
    const all = got.flatMap((p) => p.items) as unknown as DecisionRecord[];
    expect(all.map((d) => d.decision_id)).toEqual([...ids].reverse());
    const byId = (await get(app, `/v1/decisions/${ids[2]}`, PLAIN.score)).json();
    expect(all[2]).toEqual(byId);
    const since = new Date(NOW + 3 * 60_000).toISOString();
    const late = (await get(app, `/v1/accounts/A0001/decisions?since=${since}`)).json();
    expect(late.items.map((d: DecisionRecord) => d.decision_id)).toEqual([ids[4], ids[3]]);
  });

  it('needs the audit or score scope', async () => {
    const { app } = await withContacts();
    expect((await get(app, '/v1/accounts/A0001/contacts', AUDIT_KEY)).statusCode).toBe(200);
    expect((await get(app, '/v1/accounts/A0001/decisions', PLAIN.score)).statusCode).toBe(200);
    const denied = await get(app, '/v1/accounts/A0001/contacts', PLAIN.contacts);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toBe('forbidden');
    expect((await app.inject({ method: 'GET', url: '/v1/accounts/A0001/contacts' })).statusCode).toBe(401);
    // An audit key reads; it cannot score or record.
    expect((await post(app, '/v1/score', scoreBody(), null, AUDIT_KEY)).statusCode).toBe(403);
  });

  it('refuses a bad id, query or cursor with a 400 naming it', async () => {
    const { app } = await withContacts();
    const issues = async (url: string) => {
      const r = await get(app, url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error).toBe('invalid_request');
      return r.json().issues.map((i: { path: string }) => i.path);
    };
    expect(await issues('/v1/accounts/A%01B/contacts')).toEqual(['params.account_id']);
    expect(await issues(`/v1/accounts/${'x'.repeat(129)}/contacts`)).toEqual(['params.account_id']);
    expect(await issues('/v1/accounts/A0001/contacts?limit=0')).toEqual(['query.limit']);
    expect(await issues('/v1/accounts/A0001/contacts?limit=1001')).toEqual(['query.limit']);
    expect(await issues('/v1/accounts/A0001/contacts?limit=ten')).toEqual(['query.limit']);
    expect(await issues('/v1/accounts/A0001/contacts?since=yesterday')).toEqual(['query.since']);
    expect(await issues('/v1/accounts/A0001/contacts?since=2026-11-25&until=2026-11-24')).toEqual([
      'query.until',
    ]);
    expect(await issues('/v1/accounts/A0001/contacts?limit=1&limit=2')).toEqual(['query.limit']);
    expect(await issues('/v1/accounts/A0001/contacts?page=2')).toEqual(['query.page']);
    expect(await issues('/v1/accounts/A0001/contacts?cursor=bm90LWEtY3Vyc29y')).toEqual(['query.cursor']);
    const named = (await get(app, '/v1/accounts/A0001/contacts?limit=5000')).json();
    expect(named.message).toBe('the query string has 1 problem: query.limit');
    expect((await get(app, '/v1/accounts/A%01/decisions')).json().message).toBe(
      'the path has 1 problem: params.account_id',
    );
  });

  it('shows the time a caller reported when it was ahead of the server and became now', async () => {
    const { app } = await build();
    const ahead = new Date(NOW + 2 * 60_000).toISOString();
    const rows = [makeContact({ ts: ahead }), makeContact({ ts: new Date(NOW - HOUR).toISOString() })];
    expect((await post(app, '/v1/contacts', { contacts: rows }, null)).statusCode).toBe(201);
    const items = (await get(app, '/v1/accounts/A0001/contacts')).json().items as ContactRecord[];
    expect(items.map((c) => [c.ts, c.reported_ts])).toEqual([
      [new Date(NOW).toISOString(), ahead],
      [new Date(NOW - HOUR).toISOString(), null],
    ]);
  });

  it('reads ids as recorded: long (128 characters), non-ASCII and percent-encoded', async () => {
    const { app } = await build();
    const ids = ['é-账户-🙂', 'a b/c?d', `${'x'.repeat(127)}🙂`];
    for (const id of ids) {
      const row = makeContact({ account_id: id, ts: new Date(NOW - HOUR).toISOString() });
      expect((await post(app, '/v1/contacts', { contacts: [row] }, null)).statusCode).toBe(201);
      const r = await get(app, `/v1/accounts/${encodeURIComponent(id)}/contacts`);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().items.map((c: ContactRecord) => c.account_id)).toEqual([id]);
    }
    const unknown = await get(app, '/v1/accounts/nobody/contacts');
    expect(unknown.json()).toEqual({ items: [], next_cursor: null });
  });
});

const postgres = findPostgres();
if (postgres.available) {
  describe(`two instances sharing one PostgreSQL ledger (${postgres.how})`, () => {
    let server: TestPostgres;
    beforeAll(async () => {
      server = await postgres.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('the same key sent to both at once records once: one 201, one 409, then a replay from either', async () => {
      const url = await server.freshSchema();
      const a = gatedLedger(await openPostgresLedger(url));
      const b = gatedLedger(await openPostgresLedger(url));
      const one = await build({ ledger: a.ledger });
      const two = await build({ ledger: b.ledger });
      // Both requests find no stored answer (each instance holds only its own in-flight keys), then race to commit.
      a.ctl.hold();
      b.ctl.hold();
      const both = [one, two].map(({ app }) => post(app, '/v1/contacts', oneCall(), 'K-shared'));
      await new Promise((r) => setTimeout(r, 200));
      a.ctl.open();
      b.ctl.open();
      const answers = await Promise.all(both);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
      const lost = answers.find((r) => r.statusCode === 409)!;
      expect(lost.json().error).toBe('idempotency_key_in_flight');
      const won = answers.find((r) => r.statusCode === 201)!;
      for (const { app } of [one, two]) {
        const again = await post(app, '/v1/contacts', oneCall(), 'K-shared');
        expect([again.statusCode, again.headers['idempotent-replayed'], again.body]).toEqual([
          201,
          'true',
          won.body,
        ]);
      }
      expect(await one.ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    });
  });
} else {
  describe.skip(`two instances sharing one PostgreSQL ledger (skipped: ${postgres.reason})`, () => {
    it('records a key once', () => {});
  });
}
