// The API over the write-ahead ledger (openLedger({ walDir })), with the loader held off so every read is answered
// from records that are in the log only: the caps see contacts recorded a moment ago, a decision can be fetched
// as soon as it was answered, an Idempotency-Key retry replays, also after a restart.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.ts';
import type { Ledger } from '../src/ledger/contract.ts';
import { openLedger } from '../src/ledger/open.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { makeContact } from './helpers/account.ts';
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
const dir = tmpDir('repayrisk-wal-http-');
let n = 0;
let state: LiveState;
const opened: { app: FastifyInstance; ledger: Ledger }[] = [];

beforeAll(async () => {
  state = await committedState();
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.app.close();
    await o.ledger.close().catch(() => undefined);
  }
});

async function build(where = { path: join(dir, `l-${++n}.duckdb`), walDir: join(dir, `wal-${n}`) }) {
  const ledger = await openLedger({ ...where, wal: { loadDelayMs: 3_600_000 } });
  const app = await createApp({
    live: new FakeLive(state),
    ledger,
    keys: testKeys(),
    now: () => NOW,
    newId: counterIds(`w${n}-`),
  });
  opened.push({ app, ledger });
  return { app, ledger, where };
}

const post = (app: FastifyInstance, url: string, body: unknown, key: string | null = null) =>
  app.inject({
    method: 'POST',
    url,
    headers: {
      ...bearer(PLAIN.all),
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    payload: JSON.stringify(body),
  });
const call = (hoursAgo: number) => ({
  contacts: [makeContact({ ts: new Date(NOW - hoursAgo * HOUR).toISOString() })],
});

describe('the API over the write-ahead ledger', () => {
  it('caps a call on contacts recorded a moment ago and still in the log only', async () => {
    const { app, ledger } = await build();
    expect((await post(app, '/v1/score', scoreBody())).json().treatment).toBe('human_call');
    for (let i = 0; i < 7; i++) expect((await post(app, '/v1/contacts', call(i + 1))).statusCode).toBe(201);
    expect(ledger.kind).toBe('wal+duckdb');
    expect((ledger as unknown as { unloaded(): number }).unloaded()).toBe(8); // a score and seven posts
    expect((await post(app, '/v1/score', scoreBody())).json().guardrails).toContain('cap_call');
  });

  it('serves a decision by id as soon as it was answered', async () => {
    const { app } = await build();
    const scored = (await post(app, '/v1/score', scoreBody())).json();
    const r = await app.inject({
      method: 'GET',
      url: `/v1/decisions/${scored.decision_id}`,
      headers: bearer(PLAIN.all),
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ decision_id: scored.decision_id, treatment: scored.treatment });
  });

  it('replays a keyed post instead of recording it again, before and after a restart', async () => {
    const { app, ledger, where } = await build();
    const first = await post(app, '/v1/contacts', call(1), 'K-1');
    expect(first.statusCode).toBe(201);
    const again = await post(app, '/v1/contacts', call(1), 'K-1');
    expect([again.statusCode, again.headers['idempotent-replayed'], again.body]).toEqual([
      201,
      'true',
      first.body,
    ]);
    await app.close();
    await ledger.close();
    opened.splice(0);
    const second = await build(where);
    const after = await post(second.app, '/v1/contacts', call(1), 'K-1');
    expect([after.statusCode, after.headers['idempotent-replayed'], after.body]).toEqual([
      201,
      'true',
      first.body,
    ]);
    expect(await second.ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
  });
});
