import { z } from 'zod';
import { ARCHIVE_LOOKBACK } from '../core/features/definitions.ts';
import { archiveWindowsText } from '../core/features/lookback.ts';
import { accounts, contacts, installments } from '../core/schema/tables.ts';
import { archiveSchema } from '../core/scoring/input.ts';
import { SCOPES } from './auth.ts';
import {
  AUDIT_PAGE,
  auditQuerySchema,
  contactRecordSchema,
  contactsPageSchema,
  decisionsPageSchema,
} from './routes/accounts.ts';
import {
  contactsRequestSchema,
  contactsResponseSchema,
  decisionRecordSchema,
  errorBodySchema,
  explanationSchema,
  healthResponseSchema,
  humanReviewAnswerSchema,
  humanReviewRequestSchema,
  humanReviewResolveSchema,
  humanReviewStateSchema,
  modelsResponseSchema,
  policyResponseSchema,
  readyResponseSchema,
  reloadOutcomeSchema,
  reviewEventSchema,
  scoreBatchResponseSchema,
  scoreBatchSchema,
  scoredAccountSchema,
} from './schemas.ts';

/** What the document depends on: the limits the app was built with. */
export interface OpenApiOptions {
  maxBatch: number;
  maxContacts: number;
  bodyLimitBytes: number;
  /** The service's version (package.json). */
  version: string;
  /** Its licence as package.json states it (`UNLICENSED`: proprietary, no licence granted); the app passes it. */
  license?: string;
}

type Json = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
/** The path parameter of the decision routes. */
const DECISION_ID = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The `decision_id` a score answer gave.',
  schema: { type: 'string' },
};

/**
 * The OpenAPI 3.1 document of the API. Request bodies are generated (zod 4 `z.toJSONSchema`) from the very schemas
 * the routes validate with; field descriptions come from the data contract's column descriptions.
 */
export function buildOpenApi(o: OpenApiOptions): Json {
  const reg = z.registry<{ id?: string; description?: string }>();
  const batch = scoreBatchSchema(archiveSchema, o.maxBatch);
  const scoreRequest = z.union([archiveSchema, batch]);
  // What an archive must hold is derived from the features' declared lookbacks, never written here.
  const windows = archiveWindowsText(ARCHIVE_LOOKBACK);
  const named: [string, z.ZodType, string][] = [
    ['AccountArchive', archiveSchema, windows.archive],
    ['ScoreBatchRequest', batch, `Up to ${o.maxBatch} accounts, each validated and answered on its own.`],
    ['ScoreRequest', scoreRequest, 'One account archive, or a batch `{ accounts: [...] }`.'],
    ['ContactsRequest', contactsRequestSchema(o.maxContacts), 'Contact attempts to record (all or nothing).'],
    ['Error', errorBodySchema, 'Every error response.'],
    ['ScoredAccount', scoredAccountSchema, 'One scored and decided account.'],
    ['ScoreBatchResponse', scoreBatchResponseSchema, 'Per-item results of a batch, in request order.'],
    ['ContactsResponse', contactsResponseSchema, 'The contact ids the ledger assigned, in request order.'],
    ['DecisionRecord', decisionRecordSchema, 'A decision as the ledger holds it.'],
    ['ContactRecord', contactRecordSchema, 'A contact as the ledger holds it.'],
    ['ContactsPage', contactsPageSchema, 'A page of an account’s contacts, newest `ts` first.'],
    ['DecisionsPage', decisionsPageSchema, 'A page of an account’s decisions, newest `decided_at` first.'],
    [
      'HumanReviewRequest',
      humanReviewRequestSchema,
      'The customer asked that a person, not automation, decide (PIPL art. 24; GDPR / UK GDPR art. 22).',
    ],
    [
      'HumanReviewResolution',
      humanReviewResolveSchema,
      'A person decided: every request standing at `reported_ts` is closed.',
    ],
    ['ReviewEvent', reviewEventSchema, 'A review request or resolution as the ledger holds it.'],
    [
      'HumanReviewAnswer',
      humanReviewAnswerSchema,
      'The review event recorded and the account’s state after it.',
    ],
    ['HumanReviewState', humanReviewStateSchema, 'An account’s review state now, and every review event.'],
    [
      'Explanation',
      explanationSchema,
      'A recorded decision explained in plain language: `text` to hand to the customer, and the parts it was built from.',
    ],
    ['ModelsResponse', modelsResponseSchema, 'The live models (no weights).'],
    ['PolicyResponse', policyResponseSchema, 'The live policy.'],
    ['ReloadOutcome', reloadOutcomeSchema, 'What a reload changed and what it refused.'],
    ['Health', healthResponseSchema, 'Liveness.'],
    ['Readiness', readyResponseSchema, 'Readiness and its checks.'],
  ];
  for (const [id, schema, description] of named) reg.add(schema, { id, description });
  reg.add(archiveSchema.shape.installments, { description: windows.installments });
  reg.add(archiveSchema.shape.contacts, { description: windows.contacts });
  // Field descriptions from the data contract (each column's schema is its own instance, so this is exact).
  for (const table of [accounts, installments, contacts])
    for (const c of table.columns) {
      const s = (table.schema.shape as Record<string, z.ZodType | undefined>)[c.name];
      if (s && !reg.has(s))
        reg.add(s, { description: c.unit ? `${c.description} (${c.unit})` : c.description });
    }
  const generated = z.toJSONSchema(reg, {
    io: 'input',
    unrepresentable: 'any',
    metadata: reg,
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  const schemas: Record<string, Json> = {};
  for (const [id, s] of Object.entries(generated)) {
    const { $schema: _s, $id: _i, ...rest } = s as Json;
    schemas[id] = rest;
  }

  const params: Record<string, Json> = {
    RequestId: {
      name: 'x-request-id',
      in: 'header',
      required: false,
      description:
        'Your id for this request (1-128 of A-Z a-z 0-9 . _ : -), echoed in the `x-request-id` response header, every error body, the log and the decisions recorded; absent or malformed, the service makes a UUID (and logs that it replaced yours).',
      schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' },
    },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a retry safe (IETF draft-ietf-httpapi-idempotency-key-header): the same key and the same body again, within 24 h, answer the first answer again (`Idempotent-Replayed: true`) and record nothing more. Scoped to your API key and this route; 1-255 printable ASCII characters (a UUID fits).',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    },
  };
  const headers: Record<string, Json> = {
    RequestId: {
      description: 'The request id: yours when it was well-formed, else the one the service made.',
      schema: { type: 'string' },
    },
    IdempotentReplayed: {
      description:
        '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.',
      schema: { type: 'string', enum: ['true'] },
    },
  };
  const hdr = (id: string) => ({ $ref: `#/components/headers/${id}` });
  const param = (id: string) => ({ $ref: `#/components/parameters/${id}` });
  const withId = (extra: Json = {}) => ({ 'x-request-id': hdr('RequestId'), ...extra });

  const err = (description: string, extraHeaders: Json = {}) => ({
    description,
    headers: withId(extraHeaders),
    content: json(ref('Error')),
  });
  const ok = (description: string, content: Json, extraHeaders: Json = {}) => ({
    description,
    headers: withId(extraHeaders),
    content,
  });
  // Every keyed route can answer these.
  const keyed = {
    '401': err('No API key, or an unknown one (`unauthorized`; `WWW-Authenticate: Bearer`).', {
      'WWW-Authenticate': { description: '`Bearer`', schema: { type: 'string' } },
    }),
    '403': err('The key lacks the scope this route needs (`forbidden`; the message names the scope).'),
    '429': err('The key exceeded its rate limit (`rate_limited`); retry after `Retry-After` seconds.', {
      'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until the window resets.' },
    }),
  };
  // Every route can answer these: a malformed request (bad URL encoding, headers over 16 KiB: 431), a fault, a stop.
  const anyRoute = {
    '4XX': err(
      'A request the service could not read: malformed HTTP (`bad_http`), a URL it cannot decode (`bad_request`), headers over 16 KiB (431, `headers_too_large`).',
    ),
    '500': err(
      'Internal error (`internal`): the body says nothing more; the request id names it in the log.',
    ),
  };
  const stopping =
    'or the service is shutting down (`shutting_down`): retry, on another instance if there is one.';
  const unavailable = (what: string) =>
    err(`${what} (\`ledger_unavailable\`; nothing was recorded), ${stopping}`);
  const bad = err(
    `Invalid input (\`invalid_request\`, \`invalid_json\`, \`body_too_large\`, \`unscorable\`): bad JSON, wrong types, unknown enum values, missing or unknown fields, an oversized batch, or a body over ${o.bodyLimitBytes} bytes; \`issues\` lists every failing path.`,
  );
  const unsupported = err('The body is not application/json (`unsupported_media_type`).');
  const idempotent = {
    '409': err(
      'A request with the same Idempotency-Key is still being handled (`idempotency_key_in_flight`); retry once it is answered.',
    ),
    '422': err(
      'This Idempotency-Key was used with a different body (`idempotency_key_reused`); use a new key for a new request.',
    ),
  };
  const secured = (scope: string | readonly string[] | null) => ({
    security: [{ bearer: [] }, { apiKey: [] }],
    'x-required-scope': scope ?? 'any',
  });
  const scopeText = (scope: string | readonly string[] | null) =>
    scope === null
      ? 'Any valid API key.'
      : typeof scope === 'string'
        ? `Needs an API key with the \`${scope}\` scope.`
        : `Needs an API key with the ${scope.map((x) => `\`${x}\``).join(' or ')} scope.`;

  // The audit reads' query parameters, generated from the schema the route validates its query with.
  const auditQuery = z.toJSONSchema(auditQuerySchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, Json & { description?: string }>;
  };
  const auditParams = ['since', 'until', 'limit', 'cursor'].map((name) => {
    const { description, ...schema } = auditQuery.properties[name]!;
    return { name, in: 'query', required: false, description, schema };
  });
  const accountId = {
    name: 'id',
    in: 'path',
    required: true,
    description:
      'The account id (URL-encoded), validated like every identifier: 1-128 characters, well-formed Unicode, no control characters.',
    schema: { type: 'string', minLength: 1 },
  };
  const audit = (what: string, schema: string) => ({
    get: {
      operationId: what === 'contacts' ? 'listAccountContacts' : 'listAccountDecisions',
      tags: ['audit'],
      summary: `An account's recorded ${what}, newest first`,
      description: `${scopeText(['audit', 'score'])} A page of the ${what} the ledger holds for the account, newest first, \`since\` inclusive and \`until\` exclusive; \`next_cursor\` reads the next (older) page. An account with no records is an empty page, not a 404. Up to ${AUDIT_PAGE.max} per page (default ${AUDIT_PAGE.default}).`,
      ...secured(['audit', 'score']),
      parameters: [accountId, ...auditParams, param('RequestId')],
      responses: {
        '200': ok(`A page of ${what}.`, json(ref(schema))),
        '400': err('A malformed account id or query parameter (`invalid_request`; `issues` names it).'),
        ...keyed,
        ...anyRoute,
        '503': unavailable('The ledger could not be read'),
      },
    },
  });

  const paths: Record<string, Json> = {
    '/v1/score': {
      post: {
        operationId: 'scoreAccounts',
        tags: ['scoring'],
        summary: 'Score and decide one account or a batch',
        description: `${scopeText('score')} Scores each account's willingness and ability to pay, decides a treatment under the live policy (guardrails, contact caps, contact hours) and records every decision in the ledger before answering. A batch of up to ${o.maxBatch} accounts is answered item by item: an invalid account does not fail the others.`,
        ...secured('score'),
        parameters: [param('RequestId'), param('IdempotencyKey')],
        requestBody: { required: true, content: json(ref('ScoreRequest')) },
        responses: {
          '200': ok(
            'One account: the scored account. A batch: per-item results (at least one item was valid).',
            json({ anyOf: [ref('ScoredAccount'), ref('ScoreBatchResponse')] }),
            { 'Idempotent-Replayed': hdr('IdempotentReplayed') },
          ),
          '400': bad,
          '415': unsupported,
          ...idempotent,
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not record the decisions; nothing was acknowledged'),
        },
      },
    },
    '/v1/contacts': {
      post: {
        operationId: 'recordContacts',
        tags: ['contacts'],
        summary: 'Record contact attempts (they feed the contact caps)',
        description: `${scopeText('contacts')} Records up to ${o.maxContacts} contact attempts, all or nothing, durably before answering; the next decisions for these accounts count them against the contact caps and cooldowns.`,
        ...secured('contacts'),
        parameters: [param('RequestId'), param('IdempotencyKey')],
        requestBody: { required: true, content: json(ref('ContactsRequest')) },
        responses: {
          '201': ok('Recorded.', json(ref('ContactsResponse')), {
            'Idempotent-Replayed': hdr('IdempotentReplayed'),
          }),
          '400': bad,
          '415': unsupported,
          ...idempotent,
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not record the contacts; nothing was stored'),
        },
      },
    },
    '/v1/decisions/{id}': {
      get: {
        operationId: 'getDecision',
        tags: ['audit'],
        summary: 'A recorded decision',
        description: `${scopeText('score')} The decision as the ledger holds it, with the scores, the challenger's shadow scores and the request id that made it.`,
        ...secured('score'),
        parameters: [DECISION_ID, param('RequestId')],
        responses: {
          '200': ok('The decision.', json(ref('DecisionRecord'))),
          '404': err('No decision with this id (`not_found`).'),
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not be read'),
        },
      },
    },
    '/v1/decisions/{id}/explanation': {
      get: {
        operationId: 'explainDecision',
        tags: ['automated-decision rights'],
        summary: 'A recorded decision explained in plain language',
        description: `${scopeText('score')} What was decided, why (the reasons in the customer's words, the models' strongest drivers as phrases), the rules that applied with the rule pack's clauses, the right to ask for a person to decide and how, and when and under which policy and model it was made: \`text\` holds it as paragraphs to hand to the customer (China PIPL art. 24; GDPR / UK GDPR art. 22). Built from the decision as the ledger recorded it, so it reads the same whenever it is asked for.`,
        ...secured('score'),
        parameters: [DECISION_ID, param('RequestId')],
        responses: {
          '200': ok('The explanation.', json(ref('Explanation'))),
          '404': err('No decision with this id (`not_found`).'),
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not be read'),
        },
      },
    },
    '/v1/accounts/{id}/human-review': {
      post: {
        operationId: 'requestHumanReview',
        tags: ['automated-decision rights'],
        summary: 'Record a customer’s request for a human decision',
        description: `${scopeText('contacts')} Records, durably before answering, that the customer asked for a person, not automation, to decide (China PIPL art. 24; GDPR / UK GDPR art. 22). From \`reported_ts\` on, every score of the account (single or batch) answers \`human_review\`: the scores, the reasons and the strategy's suggestion for the reviewer, no channel, no contact and never an automated legal step (a suppressed account stays on hold). Asking again while a request stands is recorded too. The request stands until a resolution.`,
        ...secured('contacts'),
        parameters: [accountId, param('RequestId'), param('IdempotencyKey')],
        requestBody: { required: true, content: json(ref('HumanReviewRequest')) },
        responses: {
          '201': ok('Recorded; the account’s state after it.', json(ref('HumanReviewAnswer')), {
            'Idempotent-Replayed': hdr('IdempotentReplayed'),
          }),
          '400': err(
            'Invalid body or account id (`invalid_request`, `invalid_json`): `issues` names every failing field, including a `reported_ts` more than 5 minutes ahead of the server clock.',
          ),
          '415': unsupported,
          ...idempotent,
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not record the request; nothing was stored'),
        },
      },
      get: {
        operationId: 'getHumanReview',
        tags: ['automated-decision rights'],
        summary: 'An account’s review state and its requests and resolutions',
        description: `${scopeText(['audit', 'score'])} Whether a request for a human decision stands now, since when, and every request and resolution of the account, oldest first. An account with none is \`open: false\` with no events, not a 404.`,
        ...secured(['audit', 'score']),
        parameters: [accountId, param('RequestId')],
        responses: {
          '200': ok('The state.', json(ref('HumanReviewState'))),
          '400': err('A malformed account id (`invalid_request`; `issues` names it).'),
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not be read'),
        },
      },
    },
    '/v1/accounts/{id}/human-review/resolve': {
      post: {
        operationId: 'resolveHumanReview',
        tags: ['automated-decision rights'],
        summary: 'Record that a person decided: close the standing requests',
        description: `${scopeText('contacts')} Closes every request standing at \`reported_ts\` (the same instant included), with the outcome and who decided; scores are automated again from then on. Durable before answering.`,
        ...secured('contacts'),
        parameters: [accountId, param('RequestId'), param('IdempotencyKey')],
        requestBody: { required: true, content: json(ref('HumanReviewResolution')) },
        responses: {
          '201': ok('Recorded; `closed` lists the requests it closed.', json(ref('HumanReviewAnswer')), {
            'Idempotent-Replayed': hdr('IdempotentReplayed'),
          }),
          '400': err(
            'Invalid body or account id (`invalid_request`, `invalid_json`): `issues` names every failing field.',
          ),
          '409': err(
            'No request stands to resolve (`no_open_review`), a standing request was made after `reported_ts` (`review_requested_later`), or a request with the same Idempotency-Key is still being handled (`idempotency_key_in_flight`).',
          ),
          '415': unsupported,
          '422': idempotent['422'],
          ...keyed,
          ...anyRoute,
          '503': unavailable('The ledger could not record the resolution; nothing was stored'),
        },
      },
    },
    '/v1/accounts/{id}/contacts': audit('contacts', 'ContactsPage'),
    '/v1/accounts/{id}/decisions': audit('decisions', 'DecisionsPage'),
    '/v1/models': {
      get: {
        operationId: 'getModels',
        tags: ['models and policy'],
        summary: 'Live model versions and their metrics',
        description: `${scopeText(null)} The champion (and challenger) in service: versions, training data, kinds, calibration and AUCs; never weights.`,
        ...secured(null),
        parameters: [param('RequestId')],
        responses: {
          '200': ok('The models.', json(ref('ModelsResponse'))),
          ...keyed,
          ...anyRoute,
          '503': err(`The service is shutting down (\`shutting_down\`); retry.`),
        },
      },
    },
    '/v1/policy': {
      get: {
        operationId: 'getPolicy',
        tags: ['models and policy'],
        summary: 'The live policy',
        description: `${scopeText(null)} The policy in service: its version and the validated document with every default filled in.`,
        ...secured(null),
        parameters: [param('RequestId')],
        responses: {
          '200': ok('The policy.', json(ref('PolicyResponse'))),
          ...keyed,
          ...anyRoute,
          '503': err(`The service is shutting down (\`shutting_down\`); retry.`),
        },
      },
    },
    '/v1/admin/reload': {
      post: {
        operationId: 'reloadModelsAndPolicy',
        tags: ['admin'],
        summary: 'Reload models and policy',
        description: `${scopeText('admin')} Loads what CHAMPION, CHALLENGER and the policy file name now and swaps them in at once; a part that fails strict loading is refused and the old one keeps serving. Send no body.`,
        ...secured('admin'),
        parameters: [param('RequestId')],
        responses: {
          '200': ok(
            'What changed; `refused` lists any part kept because its replacement failed to load.',
            json(ref('ReloadOutcome')),
          ),
          '415': unsupported,
          ...keyed,
          ...anyRoute,
          '503': err(`The service is shutting down (\`shutting_down\`); retry.`),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics (text format 0.0.4)',
        description: `${scopeText('admin')} Request counts and latencies, decisions by treatment, guardrail hits, ledger failures, reloads, and the versions in service.`,
        ...secured('admin'),
        parameters: [param('RequestId')],
        responses: {
          '200': ok('Metrics.', { 'text/plain': { schema: { type: 'string' } } }),
          ...keyed,
          ...anyRoute,
          '503': err(`The service is shutting down (\`shutting_down\`); retry.`),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        tags: ['operations'],
        summary: 'This document',
        description: `${scopeText(null)} The OpenAPI 3.1 document, generated from the schemas the routes validate with.`,
        ...secured(null),
        parameters: [param('RequestId')],
        responses: {
          '200': ok('OpenAPI 3.1.', json({ type: 'object' })),
          ...keyed,
          ...anyRoute,
          '503': err(`The service is shutting down (\`shutting_down\`); retry.`),
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness',
        description: 'No key needed, no rate limit: 200 while the process runs.',
        security: [],
        parameters: [param('RequestId')],
        responses: {
          '200': ok('The process is up.', json(ref('Health'))),
          ...anyRoute,
          '503': err(`The service is shutting down (\`shutting_down\`).`),
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness: models loaded and the ledger answers',
        description:
          'No key needed, no rate limit: 200 when models and policy are loaded and the ledger answers its ping in time; 503 otherwise, `checks` saying which part is not ready.',
        security: [],
        parameters: [param('RequestId')],
        responses: {
          '200': ok('Ready.', json(ref('Readiness'))),
          ...anyRoute,
          '503': ok(
            'Not ready (`checks` says why), or shutting down.',
            json({ anyOf: [ref('Readiness'), ref('Error')] }),
          ),
        },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'repayrisk scoring and strategy API',
      version: o.version,
      description:
        'Scores delinquent accounts (willingness and ability to pay), decides a treatment under the live policy ' +
        'with its guardrails, and records decisions and contact attempts in the ledger. Every error has one shape ' +
        '(`Error`) with a `request_id`; a known path with the wrong method is a 405 with `Allow`. docs/api.md ' +
        'explains it.',
      ...(o.license ? { license: { name: o.license } } : {}),
    },
    // Relative: the document is served by the service it describes, so clients resolve paths against that origin.
    servers: [{ url: '/', description: 'The service that served this document.' }],
    tags: [
      { name: 'scoring', description: 'Score and decide accounts; every decision is recorded.' },
      { name: 'contacts', description: 'Record what was done; contacts feed the caps and cooldowns.' },
      { name: 'audit', description: 'Read back recorded decisions and contacts.' },
      {
        name: 'automated-decision rights',
        description:
          'A customer’s request for a human decision, and plain-language explanations of decisions (PIPL art. 24; GDPR / UK GDPR art. 22).',
      },
      { name: 'models and policy', description: 'What is in service.' },
      { name: 'admin', description: 'Change what is in service.' },
      { name: 'operations', description: 'Health, readiness, metrics and this document.' },
    ],
    components: {
      schemas,
      parameters: params,
      headers,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: `An API key; scopes: ${SCOPES.join(', ')}.` },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: 'The same key, in its own header.',
        },
      },
    },
    paths,
  };
}
