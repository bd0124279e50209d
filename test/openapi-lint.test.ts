import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import { beforeAll, describe, expect, it } from 'vitest';
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
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * The served OpenAPI document is one clients can be generated from (issue 14): it lints clean under Redocly's
 * recommended rules, and openapi-typescript's types for it type-check a small client that then makes real calls.
 */

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});

async function servedDocument(): Promise<Record<string, unknown>> {
  const app = await createApp({ live: new FakeLive(state), ledger: new MemoryLedger(), keys: testKeys() });
  const r = await app.inject({ method: 'GET', url: '/openapi.json', headers: bearer(PLAIN.contacts) });
  expect(r.statusCode).toBe(200);
  return r.json();
}

type Operation = {
  operationId?: string;
  tags?: string[];
  description?: string;
  responses: Record<string, unknown>;
};

describe('the served OpenAPI document', () => {
  it('lints with 0 errors under Redocly recommended rules (was: 1 error, 13 warnings)', async () => {
    const doc = await servedDocument();
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(doc, null, 2),
      absoluteRef: join(tmpDir('repayrisk-openapi-'), 'openapi.json'),
      config,
    });
    const text = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`);
    expect(
      problems.filter((p) => p.severity === 'error'),
      text.join('\n'),
    ).toEqual([]);
    // The one warning left: the licence is package.json's `UNLICENSED` (proprietary), which has no SPDX
    // identifier or URL to give.
    expect(
      problems.map((p) => p.ruleId),
      text.join('\n'),
    ).toEqual(['info-license-strict']);
  });

  it('names every operation (operationId, unique), tags it with a declared tag, describes it, and gives it a 4XX', async () => {
    const doc = (await servedDocument()) as {
      paths: Record<string, Record<string, Operation>>;
      tags: { name: string; description: string }[];
      servers: unknown[];
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(ops.length).toBeGreaterThanOrEqual(12);
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ops.length);
    const tags = new Set(doc.tags.map((t) => t.name));
    for (const { at, op } of ops) {
      expect(op.operationId, at).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, at).toBe(1);
      expect(tags.has(op.tags![0]!), `${at}: tag ${op.tags![0]} declared`).toBe(true);
      expect(op.description?.length, at).toBeGreaterThan(20);
      expect(
        Object.keys(op.responses).some((s) => /^4(\d\d|XX)$/.test(s)),
        `${at} has a 4XX`,
      ).toBe(true);
    }
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('generates TypeScript types (openapi-typescript) that type-check a typed client, which then makes real calls', async () => {
    const doc = await servedDocument();
    const dir = tmpDir('repayrisk-client-');
    writeFileSync(join(dir, 'api.d.ts'), astToString(await openapiTS(doc as never)));
    // A small client as an integrator would write it against the generated types. The @ts-expect-error lines must
    // fail to compile (an unused one is itself an error), so types that degrade to `any` fail this test.
    writeFileSync(
      join(dir, 'client.ts'),
      `import type { components, operations, paths } from './api.js';

export type ScoreBody = paths['/v1/score']['post']['requestBody']['content']['application/json'];
export type ScoreOk = operations['scoreAccounts']['responses']['200']['content']['application/json'];
export type ContactsBody = operations['recordContacts']['requestBody']['content']['application/json'];
export type ContactsOk = operations['recordContacts']['responses']['201']['content']['application/json'];
export type ApiError = components['schemas']['Error'];

const contact: ContactsBody['contacts'][number] = {
  account_id: 'A0001', ts: '2026-11-25T14:00:00Z', channel: 'call', outcome: 'no_answer',
  promise_amount: null, promise_date: null, agent_id: 'agent-1',
};
// @ts-expect-error: channel is an enum of the data contract
const fax: ContactsBody['contacts'][number] = { ...contact, channel: 'fax' };
void fax;

/** One call, typed end to end: the status tells which schema the body has. */
async function call<T>(base: string, key: string, method: string, path: string, body?: unknown) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: 'Bearer ' + key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await r.json();
  return r.ok ? { ok: true as const, status: r.status, body: json as T } : { ok: false as const, status: r.status, body: json as ApiError };
}

export async function scoreOne(base: string, key: string, body: ScoreBody): Promise<{ treatment: string; decisionId: string }> {
  const r = await call<ScoreOk>(base, key, 'POST', '/v1/score', body);
  if (!r.ok) throw new Error(r.body.error + ': ' + r.body.message + ' (' + r.body.request_id + ')');
  if ('results' in r.body) throw new Error('sent one account, got a batch answer');
  // @ts-expect-error: a scored account has no field 'score'
  void r.body.score;
  return { treatment: r.body.treatment, decisionId: r.body.decision_id };
}

export async function recordOne(base: string, key: string, accountId: string): Promise<ContactsOk> {
  const r = await call<ContactsOk>(base, key, 'POST', '/v1/contacts', { contacts: [{ ...contact, account_id: accountId }] } satisfies ContactsBody);
  if (!r.ok) throw new Error(r.body.error + ': ' + r.body.message);
  return r.body;
}

export async function wrongMethod(base: string, key: string): Promise<ApiError & { status: number }> {
  const r = await call<never>(base, key, 'GET', '/v1/score');
  if (r.ok) throw new Error('GET /v1/score answered ' + r.status);
  return { ...r.body, status: r.status };
}
`,
    );
    const tsc = spawnSync(
      process.execPath,
      [
        TSC,
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--lib',
        'es2022,dom',
        '--types',
        'node',
        '--typeRoots',
        join(REPO_ROOT, 'node_modules/@types'),
        '--skipLibCheck',
        '--outDir',
        join(dir, 'out'),
        join(dir, 'client.ts'),
      ],
      { encoding: 'utf8' },
    );
    expect(tsc.status, `tsc:\n${tsc.stdout}${tsc.stderr}`).toBe(0);

    // The compiled client against the real app, over HTTP.
    const ledger = new MemoryLedger();
    const app = await createApp({
      live: new FakeLive(state),
      ledger,
      keys: testKeys(),
      now: () => Date.parse(T0),
      newId: counterIds('d'),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      writeFileSync(join(dir, 'out/package.json'), '{"type":"module"}');
      const client = (await import(pathToFileURL(join(dir, 'out/client.js')).href)) as {
        scoreOne(
          base: string,
          key: string,
          body: unknown,
        ): Promise<{ treatment: string; decisionId: string }>;
        recordOne(
          base: string,
          key: string,
          accountId: string,
        ): Promise<{ recorded: number; contact_ids: string[] }>;
        wrongMethod(
          base: string,
          key: string,
        ): Promise<{ status: number; error: string; request_id: string }>;
      };
      const scored = await client.scoreOne(base, PLAIN.all, scoreBody());
      expect(scored.decisionId).toBe(ledger.decisions[0]!.decision_id);
      expect(scored.treatment).toBe(ledger.decisions[0]!.treatment);
      const recorded = await client.recordOne(base, PLAIN.all, 'A0001');
      expect(recorded.recorded).toBe(1);
      expect(recorded.contact_ids).toEqual([ledger.contacts[0]!.contact_id]);
      const e = await client.wrongMethod(base, PLAIN.all);
      expect([e.status, e.error]).toEqual([405, 'method_not_allowed']);
    } finally {
      await app.close();
    }
  }, 180_000);
});
