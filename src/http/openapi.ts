import { z } from 'zod';
import { ARCHIVE_LOOKBACK } from '../core/features/definitions.ts';
import { archiveWindowsText } from '../core/features/lookback.ts';
import { accounts, contacts, installments } from '../core/schema/tables.ts';
import { archiveSchema } from '../core/scoring/input.ts';
import { SCOPES } from './auth.ts';
import {
  contactsRequestSchema,
  contactsResponseSchema,
  decisionRecordSchema,
  errorBodySchema,
  healthResponseSchema,
  modelsResponseSchema,
  policyResponseSchema,
  readyResponseSchema,
  reloadOutcomeSchema,
  scoreBatchResponseSchema,
  scoreBatchSchema,
  scoredAccountSchema,
} from './schemas.ts';

/** What the document depends on: the limits the app was built with. */
export interface OpenApiOptions {
  maxBatch: number;
  maxContacts: number;
  bodyLimitBytes: number;
  version: string;
}

type Json = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: Json) => ({ 'application/json': { schema } });

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

  const err = (description: string) => ({ description, content: json(ref('Error')) });
  const common = {
    '401': err('No API key, or an unknown one.'),
    '403': err('The key lacks the scope this route needs.'),
    '429': {
      ...err('The key exceeded its rate limit; see Retry-After.'),
      headers: {
        'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until the window resets.' },
      },
    },
    '500': err('Internal error (the request id names it in the log).'),
  };
  const bad = err(
    `Invalid input: bad JSON, wrong types, unknown enum values, missing or unknown fields, an oversized batch, or a body over ${o.bodyLimitBytes} bytes; \`issues\` lists every failing path.`,
  );
  const unsupported = err('The body is not application/json.');
  const secured = (scope: string | null) => ({
    security: [{ bearer: [] }, { apiKey: [] }],
    'x-required-scope': scope ?? 'any',
  });
  const requestId = {
    name: 'x-request-id',
    in: 'header',
    required: false,
    description: 'Echoed back; generated when absent or malformed (1-128 of A-Z a-z 0-9 . _ : -).',
    schema: { type: 'string', maxLength: 128 },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'repayrisk scoring and strategy API',
      version: o.version,
      description:
        'Scores delinquent accounts (willingness and ability to pay), decides a treatment under the live policy ' +
        'with its guardrails, and records decisions and contact attempts in the ledger. docs/api.md explains it.',
    },
    components: {
      schemas,
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
    paths: {
      '/v1/score': {
        post: {
          summary: 'Score and decide one account or a batch',
          ...secured('score'),
          parameters: [requestId],
          requestBody: { required: true, content: json(ref('ScoreRequest')) },
          responses: {
            '200': {
              description:
                'One account: the scored account. A batch: per-item results (at least one item was valid).',
              content: json({ anyOf: [ref('ScoredAccount'), ref('ScoreBatchResponse')] }),
            },
            '400': bad,
            '415': unsupported,
            ...common,
            '503': err('The ledger could not record the decisions; nothing was acknowledged. Retry.'),
          },
        },
      },
      '/v1/contacts': {
        post: {
          summary: 'Record contact attempts (they feed the contact caps)',
          ...secured('contacts'),
          parameters: [requestId],
          requestBody: { required: true, content: json(ref('ContactsRequest')) },
          responses: {
            '201': { description: 'Recorded.', content: json(ref('ContactsResponse')) },
            '400': bad,
            '415': unsupported,
            ...common,
            '503': err('The ledger could not record the contacts; nothing was stored. Retry.'),
          },
        },
      },
      '/v1/decisions/{id}': {
        get: {
          summary: 'A recorded decision',
          ...secured('score'),
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, requestId],
          responses: {
            '200': { description: 'The decision.', content: json(ref('DecisionRecord')) },
            '404': err('No decision with this id.'),
            ...common,
            '503': err('The ledger could not be read.'),
          },
        },
      },
      '/v1/models': {
        get: {
          summary: 'Live model versions and their metrics',
          ...secured(null),
          responses: {
            '200': { description: 'The models.', content: json(ref('ModelsResponse')) },
            ...common,
          },
        },
      },
      '/v1/policy': {
        get: {
          summary: 'The live policy',
          ...secured(null),
          responses: {
            '200': { description: 'The policy.', content: json(ref('PolicyResponse')) },
            ...common,
          },
        },
      },
      '/v1/admin/reload': {
        post: {
          summary:
            'Reload models and policy (a part that fails strict loading is refused; the old one keeps serving)',
          ...secured('admin'),
          responses: {
            '200': {
              description:
                'What changed; `refused` lists any part kept because its replacement failed to load.',
              content: json(ref('ReloadOutcome')),
            },
            '415': unsupported,
            ...common,
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format 0.0.4)',
          ...secured('admin'),
          responses: {
            '200': { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...common,
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          ...secured(null),
          responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) }, ...common },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness (no key needed)',
          security: [],
          responses: { '200': { description: 'The process is up.', content: json(ref('Health')) } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: models loaded and the ledger answers (no key needed)',
          security: [],
          responses: {
            '200': { description: 'Ready.', content: json(ref('Readiness')) },
            '503': { description: 'Not ready; `checks` says why.', content: json(ref('Readiness')) },
          },
        },
      },
    },
  };
}
