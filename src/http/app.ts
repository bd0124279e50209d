import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { z } from 'zod';
import { RepayriskError } from '../core/errors.ts';
import { fieldIssues, issueText } from '../core/schema/issues.ts';
import type { Ledger } from '../ledger/contract.ts';
import type { Live } from '../service/live-types.ts';
import { type ApiKey, KeyRing, presentedKey, type RateLimit, rateLimitSchema, type Scope } from './auth.ts';
import type { ResolvedLimits, RouteContext } from './context.ts';
import { HttpError, LedgerUnavailableError, mapError } from './errors.ts';
import { ServiceMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { contactRoutes } from './routes/contacts.ts';
import { infoRoutes } from './routes/info.ts';
import { opsRoutes } from './routes/ops.ts';
import { scoreRoutes } from './routes/score.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated key (null on open routes and before authentication). */
    apiKey: ApiKey | null;
    /** Accounts or contacts in the body, once validated far enough to count them (for the log). */
    batchSize: number | null;
    /** The error code the request was answered with (for the log). */
    errorCode: string | null;
  }
  interface FastifyContextConfig {
    /**
     * The scope a route needs: a named scope, a list of scopes any one of which will do, `any` (any valid key), or
     * absent (open: health routes).
     */
    scope?: Scope | readonly Scope[] | 'any';
  }
}

/** Pino options for the service logger, plus where to write (default stdout). */
export interface AppLoggerOptions extends LoggerOptions {
  stream?: DestinationStream;
}

/** Everything the app needs; nothing is read from globals or the environment. */
export interface AppDeps {
  live: Live;
  ledger: Ledger;
  /** The API keys (hashed); every route but /healthz and /readyz needs one. */
  keys: readonly ApiKey[];
  /** Clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Makes decision and contact ids (default `crypto.randomUUID`). */
  newId?: () => string;
  /**
   * false/absent: no logs; true: JSON lines on stdout; options: pino options (with `stream`); a pino logger: used
   * as is under a child that redacts credentials.
   */
  logger?: boolean | AppLoggerOptions | Logger;
  limits?: {
    /** Accounts per score batch (default 1,000). */
    maxBatch?: number;
    /** Contact rows per request (default 10,000). */
    maxContacts?: number;
    /** Largest body in bytes (default 10 MiB). */
    bodyLimitBytes?: number;
    /** Default per-key rate limit (default 600 requests per 60 s); a key's own `rateLimit` wins. */
    rateLimit?: RateLimit;
    /** How long /readyz waits for the ledger's ping (default 2,000 ms). */
    readyTimeoutMs?: number;
  };
}

const limitsSchema = z.strictObject({
  maxBatch: z.number().int().positive().default(1000),
  maxContacts: z.number().int().positive().default(10_000),
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  rateLimit: rateLimitSchema.default({ max: 600, timeWindowMs: 60_000 }),
  readyTimeoutMs: z.number().int().positive().default(2000),
});

/** Paths pino replaces with `[redacted]`: credentials must never reach a log, even if a header object is logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'authorization',
  '["x-api-key"]',
];

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The incoming `x-request-id` when it is sane (1-128 of `A-Z a-z 0-9 . _ : -`), else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID_RE.test(header) ? header : randomUUID();
}

function isLogger(x: unknown): x is Logger {
  return typeof x === 'object' && x !== null && typeof (x as Logger).child === 'function';
}

function buildLogger(opt: AppDeps['logger']): Logger | undefined {
  if (!opt) return undefined;
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (opt === true) return pino({ redact });
  if (isLogger(opt)) return opt.child({}, { redact });
  const { stream, ...options } = opt;
  return stream ? pino({ ...options, redact }, stream) : pino({ ...options, redact });
}

function serviceVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Builds the repayrisk HTTP service (DESIGN §7; docs/api.md). Everything it holds — metrics, rate-limit counters,
 * the OpenAPI document — belongs to this instance. Routes are registered when the promise resolves; call
 * `listen` or `inject` on the result.
 * @throws ApiKeysError when the keys are invalid; RepayriskError (invalid_argument) when a limit is.
 */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const parsedLimits = limitsSchema.safeParse(deps.limits ?? {}, { reportInput: true });
  if (!parsedLimits.success)
    throw new RepayriskError(
      'invalid_argument',
      `invalid HTTP limits: ${fieldIssues(parsedLimits.error, 'limits').map(issueText).join('; ')}`,
    );
  const limits: ResolvedLimits = parsedLimits.data;
  const ring = new KeyRing(deps.keys);
  const loggerInstance = buildLogger(deps.logger);

  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : {}),
    // Fastify's own request lines would log the URL and headers; the onResponse hook below writes ours instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: limits.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
  }) as unknown as FastifyInstance;

  const metrics = new ServiceMetrics(() => {
    const s = deps.live.current();
    const models = [{ role: 'champion', version: s.champion.version }];
    if (s.challenger) models.push({ role: 'challenger', version: s.challenger.version });
    return { models, policyVersion: s.policy.version };
  });
  const ctx: RouteContext = {
    live: deps.live,
    ledger: deps.ledger,
    now: deps.now ?? Date.now,
    newId: deps.newId ?? randomUUID,
    limits,
    metrics,
  };

  app.decorateRequest('apiKey', null);
  app.decorateRequest('batchSize', null);
  app.decorateRequest('errorCode', null);

  // Bodies: JSON only. text/plain (fastify's other default) is removed so it gets a 415 instead of reaching a route.
  const secureJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    secureJson(req, body as string, (err, value) => {
      if (!err) return done(null, value);
      if ((err as { code?: string }).code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return done(err, undefined);
      // The secure parser hides why; say it (JSON.parse's message), or name the forbidden key it refused.
      let message = 'the body contains a forbidden key (__proto__ or constructor.prototype)';
      try {
        JSON.parse(body as string);
      } catch (e) {
        message = `the body is not valid JSON: ${(e as Error).message}`;
      }
      done(new HttpError(400, 'invalid_json', message), undefined);
    });
  });

  app.addHook('onRequest', async (req, reply) => {
    const scope = req.routeOptions.config?.scope;
    if (scope === undefined) return;
    const presented = presentedKey(req.headers);
    const key = presented === null ? null : ring.find(presented);
    if (!key) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(
        401,
        'unauthorized',
        presented === null
          ? 'an API key is required: send "Authorization: Bearer <key>" or "x-api-key: <key>"'
          : 'unknown API key',
      );
    }
    req.apiKey = key;
    if (scope === 'any') return;
    const accepted: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
    if (!accepted.some((s) => key.scopes.includes(s)))
      throw new HttpError(
        403,
        'forbidden',
        `${req.method} ${req.routeOptions.url} needs the ${accepted.map((s) => `'${s}'`).join(' or ')} scope; key '${key.id}' has ${key.scopes.join(', ')}`,
      );
  });

  // Fastify adds `Connection: close` only to requests that arrive after close began; an answer to one already in
  // flight would keep its connection alive, and server.close() would wait for the client's keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id);
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? '(unmatched)';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    // One line per request. Nothing from the body, the query or the headers: ids, sizes, status and timing only.
    // Passing health probes (every few seconds from an orchestrator) go to debug so they do not drown the rest.
    const probe = (route === '/healthz' || route === '/readyz') && reply.statusCode === 200;
    req.log[probe ? 'debug' : 'info'](
      {
        method: req.method,
        route,
        status: reply.statusCode,
        latency_ms: Math.round(reply.elapsedTime * 100) / 100,
        key_id: req.apiKey?.id ?? null,
        batch_size: req.batchSize,
        error: req.errorCode,
      },
      'request',
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const m = mapError(err, {
      requestId: req.id,
      bodyLimitBytes: limits.bodyLimitBytes,
      contentType: req.headers['content-type'],
    });
    req.errorCode = m.body.error;
    if (err instanceof LedgerUnavailableError) req.log.error({ err: err.detail }, err.message);
    else if (m.serverFault) req.log.error({ err }, 'unhandled error');
    return reply.status(m.status).send(m.body);
  });

  app.setNotFoundHandler((req, reply) => {
    req.errorCode = 'not_found';
    return reply.status(404).send({
      error: 'not_found',
      message: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
      request_id: req.id,
    });
  });

  // Per-key limits: counted by key id across every keyed route; the health routes opt out (config.rateLimit).
  // The auth hook (an app-level onRequest hook) runs before this plugin's route-level hook, so the key is known.
  await app.register(rateLimit, {
    global: true,
    keyGenerator: (req) => (req.apiKey ? `key:${req.apiKey.id}` : `ip:${req.ip}`),
    max: (req) => (req.apiKey?.rateLimit ?? limits.rateLimit).max,
    timeWindow: (req) => (req.apiKey?.rateLimit ?? limits.rateLimit).timeWindowMs,
    errorResponseBuilder: (req, c) => {
      const rl = req.apiKey?.rateLimit ?? limits.rateLimit;
      return new HttpError(
        c.statusCode,
        'rate_limited',
        `key '${req.apiKey?.id ?? '(none)'}' exceeded its rate limit of ${rl.max} requests per ${rl.timeWindowMs / 1000} s; retry in ${c.after}`,
      );
    },
  });

  let openapi: Record<string, unknown> | null = null;
  const version = serviceVersion();
  const openapiDoc = () => {
    openapi ??= buildOpenApi({
      maxBatch: limits.maxBatch,
      maxContacts: limits.maxContacts,
      bodyLimitBytes: limits.bodyLimitBytes,
      version,
    });
    return openapi;
  };

  scoreRoutes(app, ctx);
  contactRoutes(app, ctx);
  infoRoutes(app, ctx);
  opsRoutes(app, ctx, openapiDoc);
  return app;
}
