import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { archiveSchema } from '../src/core/scoring/input.ts';
import { publishedRequestSchemas } from '../src/http/request-validation.ts';
import { contactsRequestSchema } from '../src/http/schemas.ts';
import {
  archiveLineParser,
  compileRequestCheck,
  compileRequestSchema,
  requestJsonSchema,
} from '../src/service/compiled-parse.ts';
import { type Json, mutate, mutation, validContactBodies, validScoreBodies } from './helpers/fuzz-bodies.ts';

/**
 * The score and contacts routes take a body on a validator compiled from the published JSON Schema (plus zod's
 * refinements) and run zod only on a body it refuses. That is only sound if the two accept exactly the same bodies
 * and give the same value: a body zod refuses but the compiled check takes would be scored unvalidated; one zod
 * takes but the check refuses would merely cost a zod parse, yet would mean the published schema says something
 * else than the service does. Random and mutated bodies hold them equal; fixed seeds replay a failure exactly.
 */

const SEED = 20261204;
const MAX_CONTACTS = 50;
const example = JSON.parse(readFileSync('docs/examples/score-request.json', 'utf8')) as Json;
const published = publishedRequestSchemas(MAX_CONTACTS);
const archiveCheck = compileRequestCheck(archiveSchema, published.archive);
const contactsSchema = contactsRequestSchema(MAX_CONTACTS);
const contactsCheck = compileRequestCheck(contactsSchema, published.contacts);

/** Values aimed at what JSON Schema cannot state and zod refines: dates, instants, ids, time zones, numbers' edges. */
const edgeValue = fc.constantFrom<Json>(
  '2024-02-29',
  '2023-02-29',
  '2024-02-30',
  '2024-13-01',
  '1899-12-31',
  '1900-01-01',
  '2199-12-31',
  '2200-01-01',
  '2024-1-01',
  ' 2024-01-01',
  '2024-12-06T02:44:08Z',
  '2024-12-06 02:44:08+01:00',
  '2024-12-06T02:44:08+0100',
  '2024-12-06T24:00:00Z',
  '2024-12-06T02:44:08.123456789Z',
  '2024-12-06T02:44:08.1234567890Z',
  '2024-12-06T02:44:08+24:00',
  '2024-12-06T02:44Z',
  '2024-12-06T02:44:08',
  'America/Chicago',
  'Europe/London',
  'UTC',
  'Mars/Olympus_Mons',
  'america/chicago',
  'A0000053-2',
  'A0000053-3',
  '\ufeffA0000053-2',
  'A\ufeff',
  '\ud800x',
  'x\udc00',
  '\ud83d\ude00',
  '\u0085',
  '\u007f',
  'A\nB',
  '',
  'x'.repeat(128),
  'x'.repeat(129),
  '\ud83d\ude00'.repeat(128),
  '\ud83d\ude00'.repeat(129),
  'é'.repeat(129),
  -0,
  0,
  1e12,
  1e12 + 1,
  2,
  2.0000001,
  17.5,
  18,
  120,
  121,
  2 ** 53 - 1,
  2 ** 53,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  null,
  true,
  'card',
  'visit',
  'promise_to_pay',
  [],
  {},
);

/** A mutation aimed at a leaf or object of the body: an edge value, or an unknown key on a nested object. */
const aimed = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: edgeValue }),
  fc.record({
    op: fc.constant('addKey' as const),
    at: fc.nat(),
    key: fc.constantFrom('extra', 'account_id', 'ts', 'installments', 'payments', 'decision_id'),
    value: edgeValue,
  }),
);
const mutations = fc.array(fc.oneof({ weight: 2, arbitrary: aimed }, { weight: 1, arbitrary: mutation }), {
  minLength: 1,
  maxLength: 4,
});

/** The compiled check and zod agree on `body`: both refuse it, or both take it and give equal values. */
function agree(check: typeof archiveCheck, schema: typeof archiveSchema, body: unknown): boolean;
function agree(check: typeof contactsCheck, schema: typeof contactsSchema, body: unknown): boolean;
function agree(
  check: (body: unknown) => { value: unknown } | undefined,
  schema: { safeParse: (v: unknown) => { success: boolean; data?: unknown } },
  body: unknown,
): boolean {
  // zod first: the compiled check must not change the body it is given.
  const z = schema.safeParse(structuredClone(body));
  const c = check(body);
  expect({ compiled: c !== undefined, body }).toEqual({ compiled: z.success, body });
  if (c) expect(c.value).toEqual(z.data);
  return z.success;
}

describe('the compiled request check', () => {
  it('takes the published JSON Schema of each request as it stands in the OpenAPI document', async () => {
    const { buildOpenApi } = await import('../src/http/openapi.ts');
    const doc = buildOpenApi({ maxBatch: 5, maxContacts: MAX_CONTACTS, bodyLimitBytes: 1, version: '1' }) as {
      components: { schemas: Record<string, unknown> };
    };
    expect(published.archive).toEqual(doc.components.schemas.AccountArchive);
    expect(published.contacts).toEqual(doc.components.schemas.ContactsRequest);
  });

  it('compiles the JSON lines of `score --accounts` from the same constraints the document publishes', () => {
    // Descriptions aside, the schema generated outside the HTTP layer is the published one, so every agreement
    // test below holds for the JSON-lines parser too.
    const undescribed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(undescribed)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .filter(([k]) => k !== 'description')
                .map(([k, x]) => [k, undescribed(x)]),
            )
          : v;
    expect(undescribed(requestJsonSchema(archiveSchema))).toEqual(undescribed(published.archive));
    const line = archiveLineParser();
    expect(line(example)).toEqual(archiveSchema.safeParse(example, { reportInput: true }));
    const bad = structuredClone(example) as { account: Record<string, unknown> };
    bad.account.as_of_date = '2024-02-30';
    expect(line(bad)).toEqual(archiveSchema.safeParse(bad, { reportInput: true }));
  });

  it('agrees with zod on the example archive and gives the same value', () => {
    agree(archiveCheck, archiveSchema, example);
    expect(archiveCheck(example)).toBeDefined();
  });

  it('drops unknown keys of the account and rows as zod does, and fills the default lists', () => {
    const body = structuredClone(example) as Record<string, Record<string, unknown>>;
    body.account!.mood = 'grumpy';
    (body.installments as unknown as Record<string, unknown>[])[0]!.note = 'x';
    delete body.contacts;
    agree(archiveCheck, archiveSchema, body);
    const out = archiveCheck(body)!.value;
    expect(Object.keys(out.account)).not.toContain('mood');
    expect(Object.keys(out.installments[0]!)).not.toContain('note');
    expect(out.contacts).toEqual([]);
    // The body itself is left as it came (the idempotency layer and the log may still read it).
    expect(body.account!.mood).toBe('grumpy');
  });

  it('refuses what only zod refinements catch: calendar dates, instants, ids, time zones, rows of another account', () => {
    const cases: [string[], Json][] = [
      [['account', 'as_of_date'], '2024-02-30'],
      [['installments', '0', 'due_date'], '1899-12-31'],
      [['contacts', '0', 'ts'], '2024-12-06T24:00:00Z'],
      [['account', 'account_id'], '\ud800x'],
      [['account', 'customer_id'], '\ufeffC1'],
      [['account', 'timezone'], 'Mars/Olympus_Mons'],
      [['contacts', '0', 'account_id'], 'A0000053-3'],
    ];
    for (const [path, value] of cases) {
      const body = structuredClone(example) as Record<string, unknown>;
      let at = body as Record<string, unknown>;
      for (const p of path.slice(0, -1)) at = at[p] as Record<string, unknown>;
      at[path.at(-1)!] = value;
      expect({ path, accepted: archiveCheck(body) !== undefined }).toEqual({ path, accepted: false });
      agree(archiveCheck, archiveSchema, body);
    }
  });

  it('agrees with zod on mutated archives (edge values, unknown keys, dropped fields, wrong types)', () => {
    const bases = [example, validScoreBodies[0]!];
    const taken = { yes: 0, no: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...bases), mutations, (base, ms) => {
        taken[agree(archiveCheck, archiveSchema, mutate(base, ms)) ? 'yes' : 'no']++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // Both answers are common, so agreement on each is tested, not just on refusals.
    expect(Math.min(taken.yes, taken.no)).toBeGreaterThan(300);
  });

  it('agrees with zod on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (body) => {
        agree(archiveCheck, archiveSchema, body);
        agree(contactsCheck, contactsSchema, body);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('agrees with zod on mutated contacts bodies', () => {
    const taken = { yes: 0, no: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...validContactBodies), mutations, (base, ms) => {
        taken[agree(contactsCheck, contactsSchema, mutate(base, ms)) ? 'yes' : 'no']++;
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect(Math.min(taken.yes, taken.no)).toBeGreaterThan(200);
  });

  it('refuses to compile a zod schema whose effects it cannot reproduce, instead of skipping them', () => {
    const trimmed = z.strictObject({ name: z.string().transform((s) => s.trim()) });
    expect(() => compileRequestCheck(trimmed, { type: 'object' })).toThrow(/pipe/);
    const loose = z.object({ a: z.number() }).catchall(z.string().refine((s) => s.length > 1));
    expect(() => compileRequestCheck(loose, { type: 'object' })).toThrow(/catchall/);
  });

  it('answers a refused body with zod issues, and a taken one without running zod', () => {
    const parse = compileRequestSchema(archiveSchema, published.archive);
    const zod = vi.spyOn(archiveSchema, 'safeParse');
    const ok = parse(example);
    expect(ok.success).toBe(true);
    expect(zod).not.toHaveBeenCalled();
    const bad = structuredClone(example) as { account: Record<string, unknown> };
    bad.account.as_of_date = '2024-02-30';
    const refused = parse(bad);
    expect(zod).toHaveBeenCalledTimes(1);
    zod.mockRestore();
    expect(refused.success).toBe(false);
    if (!refused.success)
      expect(refused.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['account.as_of_date', 'expected an ISO date YYYY-MM-DD'],
      ]);
  });
});
