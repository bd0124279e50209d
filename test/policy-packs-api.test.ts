import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/core/policy/load.ts';
import { createApp } from '../src/http/app.ts';
import type { LiveState } from '../src/service/live-types.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  MemoryLedger,
  PLAIN,
  scoreBody,
  testKeys,
} from './helpers/service.ts';

/**
 * Rule packs through the API, as the orchestration system meets them: an opt-out or an agency's connected call
 * recorded with `POST /v1/contacts` shapes the next `POST /v1/score` of that account.
 */

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

/** 10:00 in Shanghai, 20:00 the day before in Chicago: inside both contact windows. */
const NOW = Date.parse('2026-11-25T02:00:00Z');

async function app(policy?: unknown): Promise<FastifyInstance> {
  const live = new FakeLive(policy ? { ...state, policy: parsePolicy(policy, 'api-packs.yaml') } : state);
  return createApp({
    live,
    ledger: new MemoryLedger(),
    keys: testKeys(),
    now: () => NOW,
    newId: counterIds('d'),
  });
}

const post = (a: FastifyInstance, url: string, payload: unknown) =>
  a.inject({ method: 'POST', url, headers: bearer(PLAIN.all), payload: payload as object });

async function record(a: FastifyInstance, contacts: unknown[]): Promise<void> {
  const r = await post(a, '/v1/contacts', { contacts });
  expect(r.statusCode, r.body).toBeLessThan(300);
}

const contact = (minutesAgo: number, over: Record<string, unknown>) => ({
  account_id: 'A0001',
  ts: new Date(NOW - minutesAgo * 60_000).toISOString(),
  channel: 'call',
  outcome: 'right_party',
  promise_amount: null,
  promise_date: null,
  agent_id: 'lender-7',
  ...over,
});

async function decision(a: FastifyInstance, account: Record<string, unknown> = {}) {
  const r = await post(a, '/v1/score', scoreBody({ preferred_channel: 'call', ...account }));
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { treatment: string; channel: string | null; guardrails: string[] };
}

describe('rule packs through POST /v1/contacts and POST /v1/score', () => {
  it('a call opt-out recorded a minute before is honoured by the next decision', async () => {
    const a = await app();
    const before = await decision(a);
    expect([before.treatment, before.channel]).toEqual(['human_call', 'call']);
    const r = await post(a, '/v1/contacts', {
      contacts: [contact(1, { outcome: 'opt_out', agent_id: null })],
    });
    expect(r.statusCode, r.body).toBeLessThan(300);
    const after = await decision(a);
    expect(after.channel).not.toBe('call');
    expect(after.guardrails).toContain('opt_out');
  });

  it('cn-2025: 3 connected calls today by the lender and an agency refuse a 4th; 2 do not', async () => {
    const policy = {
      version: 'api-cn',
      packs: {
        regions: { 'CN-31': 'cn-2025' },
        guardrails: { 'cn-2025': { conversation_cooldown_days: 0 } },
      },
    };
    const shanghai = { region: 'CN-31', timezone: 'Asia/Shanghai' };
    const a = await app(policy);
    await record(a, [contact(90, { agent_id: 'lender-7' }), contact(60, { agent_id: 'agency-x-12' })]);
    const third = await decision(a, shanghai);
    expect([third.treatment, third.channel]).toEqual(['human_call', 'call']);
    await record(a, [contact(30, { agent_id: 'agency-x-12' })]);
    const fourth = await decision(a, shanghai);
    expect(fourth.channel).not.toBe('call');
    expect(fourth.guardrails).toContain('cap_connected_calls');
    // The same history on a Chicago account (us-reg-f): the conversation cooldown, not the Chinese cap.
    const chicago = await decision(a);
    expect(chicago.guardrails).toContain('conversation_cooldown');
    expect(chicago.guardrails).not.toContain('cap_connected_calls');
  });
});
