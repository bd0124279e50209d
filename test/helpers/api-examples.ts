import type { FastifyInstance, InjectOptions } from 'fastify';
import { createApp } from '../../src/http/app.ts';
import { makeAccount, makeContact } from './account.ts';
import { committedState, counterIds, FakeLive, MemoryLedger, PLAIN, T0, testKeys } from './service.ts';

/**
 * The examples docs/api.md shows, made by real requests to `createApp` with the committed champion
 * (models/repayrisk/CHAMPION), policies/default.yaml, an in-memory ledger and the clock at T0. `npm run docs`
 * writes them into the page between `<!-- generated: NAME -->` markers; test/api-docs.test.ts checks the page
 * holds exactly what a run gives, so an example can never show a model or an answer the code no longer gives.
 */

/** The page the examples are written into. */
export const API_DOC_PATH = 'docs/api.md';

/** Stands for the keys left out of a shown object (rendered as `…`). */
const CUT = Symbol('cut');
type Shown = unknown;

/** `obj` with only `keys`, and a `…` where the rest was. */
function only(obj: Record<string, unknown>, keys: readonly string[]): Shown {
  const out: Record<string | symbol, unknown> = {};
  for (const k of keys) out[k] = obj[k];
  out[CUT] = true;
  return out;
}

/** `obj` with long arrays cut to their first `n` items and a `…`. */
function firstItems(arr: readonly unknown[], n: number): Shown {
  return arr.length > n ? [...arr.slice(0, n), CUT] : arr;
}

function flat(v: unknown): string {
  if (v === CUT) return '…';
  if (Array.isArray(v)) return `[${v.map(flat).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const parts = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${flat(x)}`);
    if ((v as Record<symbol, unknown>)[CUT]) parts.push('…');
    return parts.length ? `{ ${parts.join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

/** JSON as a reader wants it: a value on one line when it fits in `width`, else one entry per line. */
export function formatJson(v: unknown, indent = 0, prefix = 0, width = 136): string {
  const one = flat(v);
  if (indent + prefix + one.length <= width || v === null || typeof v !== 'object') return one;
  const pad = ' '.repeat(indent + 2);
  const end = ' '.repeat(indent);
  if (Array.isArray(v))
    return `[\n${v.map((x) => pad + formatJson(x, indent + 2, 0, width)).join(',\n')}\n${end}]`;
  const lines = Object.entries(v).map(([k, x]) => {
    const key = `${JSON.stringify(k)}: `;
    return pad + key + formatJson(x, indent + 2, key.length, width);
  });
  if ((v as Record<symbol, unknown>)[CUT]) lines.push(`${pad}…`);
  return `{\n${lines.join(',\n')}\n${end}}`;
}

interface Exchange {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** Said after the request line: which key, what is special. */
  note?: string;
  key?: string | null;
  body?: unknown;
  /** The request body as shown, when not the body itself (cut; a string is shown as is), or false for none. */
  showBody?: Shown | false;
  headers?: Record<string, string>;
  /** Response headers to show after the status. */
  showHeaders?: readonly string[];
  /** The response body as shown (default: all of it). */
  show?: (body: Record<string, unknown>) => Shown;
}

/** Every example, by name, as the fenced text the page shows. */
export async function renderApiExamples(): Promise<Map<string, string>> {
  const state = await committedState();
  const ledger = new MemoryLedger();
  const live = new FakeLive(state);
  const base = { live, ledger, keys: testKeys(), now: () => Date.parse(T0), newId: counterIds('id') };
  const app = await createApp(base);
  const limited = await createApp({ ...base, keys: testKeys({ max: 2, timeWindowMs: 60_000 }) });
  let n = 0;

  const run = async (
    on: FastifyInstance,
    x: Exchange,
  ): Promise<{ text: string; json: Record<string, unknown> }> => {
    const key = x.key === undefined ? PLAIN.all : x.key;
    const requestId = `req-${++n}`;
    const headers: Record<string, string> = { 'x-request-id': requestId, ...x.headers };
    if (key) headers.authorization = `Bearer ${key}`;
    const opts: InjectOptions = { method: x.method, url: x.url, headers };
    if (x.body !== undefined) opts.payload = x.body as InjectOptions['payload'];
    const r = await on.inject(opts);
    const json = r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {};
    const shownHeaders = (x.showHeaders ?? ['x-request-id'])
      .filter((h) => r.headers[h] !== undefined)
      .map((h) => `${h}: ${r.headers[h]}`);
    const out = [`${x.method} ${x.url}${x.note ? `   (${x.note})` : ''}`];
    const shownBody = x.showBody ?? x.body;
    if (x.showBody !== false && x.body !== undefined)
      out.push(typeof shownBody === 'string' ? shownBody : formatJson(shownBody));
    out.push(`--> ${r.statusCode}${shownHeaders.length ? `  ${shownHeaders.join('  ')}` : ''}`);
    out.push(formatJson(x.show ? x.show(json) : json));
    return { text: out.join('\n'), json };
  };
  const examples = new Map<string, string>();
  const join = (...parts: { text: string }[]) => parts.map((p) => p.text).join('\n\n');

  // ---- authentication and rate limits
  examples.set(
    'auth',
    join(
      await run(app, {
        method: 'GET',
        url: '/v1/models',
        key: null,
        note: 'no key',
        showHeaders: ['www-authenticate'],
      }),
      await run(app, {
        method: 'POST',
        url: '/v1/admin/reload',
        key: PLAIN.score,
        note: "key 'scorer': scope score",
      }),
    ),
  );
  await run(limited, { method: 'GET', url: '/v1/policy', key: PLAIN.score });
  await run(limited, { method: 'GET', url: '/v1/policy', key: PLAIN.score });
  examples.set(
    'rate-limit',
    (
      await run(limited, {
        method: 'GET',
        url: '/v1/policy',
        key: PLAIN.score,
        note: "the third request of key 'scorer', limited to 2 per minute",
        showHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining'],
      })
    ).text,
  );

  // ---- one account, then a batch
  const installments = [10, 11, 12].map((i) => ({
    installment_no: i,
    due_date: `2026-${String(i - 2).padStart(2, '0')}-05`,
    amount_due: 150,
    first_paid_date: null,
    paid_date: null,
    amount_paid: 0,
  }));
  const { account_id: _a, ...contact } = makeContact({ ts: '2026-11-20T15:30:00Z' });
  const one = { account: makeAccount(), installments, contacts: [contact] };
  const scored = await run(app, {
    method: 'POST',
    url: '/v1/score',
    key: PLAIN.score,
    body: one,
    note: 'scope score',
  });
  examples.set('score-one', scored.text);

  const disputed = {
    account: makeAccount({ account_id: 'A0003', dispute_open: true }),
    installments: [],
    contacts: [],
  };
  const { age: _age, ...noAge } = makeAccount({ account_id: 'A0002', product: 'mortgage' as never });
  const invalid = { account: noAge, installments: [], contacts: [] };
  examples.set(
    'batch',
    (
      await run(app, {
        method: 'POST',
        url: '/v1/score',
        note: 'the second account has product "mortgage" and no "age"',
        body: { accounts: [disputed, invalid] },
        showBody: {
          accounts: [
            {
              account: only(disputed.account, ['account_id', 'dispute_open']),
              installments: [],
              contacts: [],
            },
            { account: only(invalid.account, ['account_id', 'product']), installments: [], contacts: [] },
          ],
        },
        show: (b) => ({
          ...b,
          results: (b.results as Record<string, unknown>[]).map((r) =>
            r.status === 'ok'
              ? only(r, [
                  'index',
                  'status',
                  'decision_id',
                  'account_id',
                  'treatment',
                  'channel',
                  'reason_codes',
                  'guardrails',
                ])
              : r,
          ),
        }),
      })
    ).text,
  );
  examples.set(
    'batch-too-large',
    (
      await run(app, {
        method: 'POST',
        url: '/v1/score',
        body: { accounts: Array.from({ length: 1001 }, () => disputed) },
        showBody: { accounts: ['…1,001 archives'] },
      })
    ).text,
  );

  // ---- contacts and reads
  const decisionId = String(scored.json.decision_id);
  examples.set(
    'contacts',
    (
      await run(app, {
        method: 'POST',
        url: '/v1/contacts',
        key: PLAIN.contacts,
        note: 'scope contacts',
        body: {
          contacts: [
            {
              ...makeContact({ ts: '2026-11-25T14:55:00Z', outcome: 'right_party' }),
              decision_id: decisionId,
            },
            makeContact({ ts: '2026-11-25T14:56:00Z', channel: 'sms', outcome: 'delivered', agent_id: null }),
          ],
        },
      })
    ).text,
  );
  examples.set(
    'decision',
    (
      await run(app, {
        method: 'GET',
        url: `/v1/decisions/${decisionId}`,
        key: PLAIN.score,
        show: (b) => ({
          ...b,
          reason_codes: firstItems(b.reason_codes as unknown[], 3),
          reasons: firstItems(b.reasons as unknown[], 2),
        }),
      })
    ).text,
  );
  examples.set('models', (await run(app, { method: 'GET', url: '/v1/models' })).text);
  examples.set('readyz', (await run(app, { method: 'GET', url: '/readyz', key: null })).text);

  // ---- errors
  const errors = [
    await run(app, {
      method: 'POST',
      url: '/v1/score',
      body: '{"account": {"account_id": "A1",',
      headers: { 'content-type': 'application/json' },
    }),
    await run(app, {
      method: 'POST',
      url: '/v1/score',
      body: 'account_id=A1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
    await run(app, { method: 'GET', url: '/v1/score', showHeaders: ['allow', 'x-request-id'] }),
    await run(app, { method: 'GET', url: '/v1/scores' }),
  ];
  ledger.faults.append = true;
  errors.push(
    await run(app, {
      method: 'POST',
      url: '/v1/score',
      body: one,
      showBody: '(the account above)',
      note: 'the ledger is down',
    }),
  );
  ledger.faults.append = false;
  examples.set('errors', join(...errors));

  // ---- automated-decision rights: a request for a human decision, the score it changes, its resolution
  const review = [
    await run(app, {
      method: 'POST',
      url: '/v1/accounts/A0001/human-review',
      key: PLAIN.contacts,
      note: 'scope contacts',
      body: { reported_ts: '2026-11-25T14:30:00Z', channel: 'letter', case_ref: 'CASE-2291' },
    }),
  ];
  const reviewed = await run(app, {
    method: 'POST',
    url: '/v1/score',
    key: PLAIN.score,
    body: one,
    showBody: '(the account above)',
    show: (b) =>
      only(b, [
        'decision_id',
        'account_id',
        'scores',
        'segment',
        'treatment',
        'channel',
        'reason_codes',
        'reasons',
      ]),
  });
  review.push(
    reviewed,
    await run(app, { method: 'GET', url: '/v1/accounts/A0001/human-review', key: PLAIN.score }),
    await run(app, {
      method: 'POST',
      url: '/v1/accounts/A0001/human-review/resolve',
      key: PLAIN.contacts,
      body: { reported_ts: '2026-11-25T14:58:00Z', outcome: 'upheld', agent_id: 'agent-7' },
    }),
  );
  examples.set('human-review', join(...review));
  examples.set(
    'explanation',
    (
      await run(app, {
        method: 'GET',
        url: `/v1/decisions/${decisionId}/explanation`,
        key: PLAIN.score,
        show: (b) => ({
          ...b,
          drivers: firstItems(b.drivers as unknown[], 2),
          rules: {
            ...(b.rules as Record<string, unknown>),
            pack: only((b.rules as { pack: Record<string, unknown> }).pack, ['name', 'version', 'title']),
          },
        }),
      })
    ).text,
  );

  // ---- metrics, after all of the above
  const metrics = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${PLAIN.admin}` },
  });
  const wanted = [
    /^repayrisk_http_requests_total\{method="POST",route="\/v1\/score"/,
    /^repayrisk_http_requests_total\{method="GET",route="\(unmatched\)"/,
    /^repayrisk_decisions_total/,
    /^repayrisk_guardrail_hits_total/,
    /^repayrisk_ledger_failures_total/,
    /^repayrisk_model_info/,
    /^repayrisk_policy_info/,
  ];
  examples.set(
    'metrics',
    metrics.body
      .split('\n')
      .filter((l) => wanted.some((w) => w.test(l)))
      .join('\n'),
  );

  await app.close();
  await limited.close();
  return examples;
}

/** The page with each `<!-- generated: NAME -->` block replaced by the example's text in a fenced block. */
export function fillExamples(
  page: string,
  examples: ReadonlyMap<string, string>,
): { page: string; missing: string[]; unknown: string[] } {
  const seen = new Set<string>();
  const unknown: string[] = [];
  const out = page.replace(
    /<!-- generated: ([a-z-]+) -->\n[\s\S]*?<!-- \/generated -->/g,
    (whole, name: string) => {
      const text = examples.get(name);
      if (text === undefined) {
        unknown.push(name);
        return whole;
      }
      seen.add(name);
      return `<!-- generated: ${name} -->\n\`\`\`\n${text}\n\`\`\`\n<!-- /generated -->`;
    },
  );
  return { page: out, missing: [...examples.keys()].filter((k) => !seen.has(k)), unknown };
}
