import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { z } from 'zod';
import { RepayriskError } from '../core/errors.ts';
import { fieldIssues, issueText } from '../core/schema/issues.ts';
import type { Ledger } from '../ledger/contract.ts';
import type { Live } from '../service/live-types.ts';
import { type ApiKey, KeyRing, presentedKey, type RateLimit, rateLimitSchema, type Scope } from './auth.ts';
import type { ResolvedLimits, RouteContext } from './context.ts';
import { HttpError, LedgerUnavailableError, mapError } from './errors.ts';
import { type IdempotencyOptions, idempotency } from './idempotency.ts';
import { ServiceMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { accountRoutes } from './routes/accounts.ts';
import { contactRoutes } from './routes/contacts.ts';
import { humanReviewRoutes } from './routes/human-review.ts';
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
    /** True once the body was read and validated far enough for a handler to run (for the drain log). */
    handling: boolean;
  }
  interface FastifyInstance {
    /** The requests received and not yet answered (what a drain deadline would drop). */
    inFlightRequests(): InFlightRequest[];
  }
  interface FastifyContextConfig {
    /**
     * The scope a route needs: a named scope, a list of scopes any one of which will do, `any` (any valid key), or
     * absent (open: health routes).
     */
    scope?: Scope | readonly Scope[] | 'any';
  }
}

/** A request received and not answered yet, as the drain log names it (nothing from its body or headers). */
export interface InFlightRequest {
  request_id: string;
  method: string;
  /** The route pattern (`/v1/decisions/:id`), `(unmatched)` for an unknown path. */
  route: string;
  /** `receiving`: the body has not fully arrived (a stalled client); `handling`: a handler is at work. */
  phase: 'receiving' | 'handling';
  /** The declared body size (Content-Length), null when absent or chunked. */
  content_length: number | null;
  /** Milliseconds since its headers arrived. */
  age_ms: number;
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
  /** `Idempotency-Key` handling (src/http/idempotency.ts): how long answers are kept (default 24 h). */
  idempotency?: IdempotencyOptions;
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

/** Longest caller `x-request-id` kept as is. */
export const MAX_REQUEST_ID_LENGTH = 128;
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]+$/;

/**
 * Why a caller's `x-request-id` cannot be used as is, or null when it can (1-128 of `A-Z a-z 0-9 . _ : -`). A log
 * line must not carry whatever a caller put in a header (newlines, personal data, megabytes of it).
 */
export function requestIdProblem(header: string | string[] | undefined): string | null {
  if (header === undefined) return 'absent';
  if (typeof header !== 'string') return 'sent more than once';
  if (header.length === 0) return 'empty';
  if (header.length > MAX_REQUEST_ID_LENGTH) return `longer than ${MAX_REQUEST_ID_LENGTH} characters`;
  if (!REQUEST_ID_RE.test(header)) return 'has characters outside A-Z a-z 0-9 . _ : -';
  return null;
}

/** The incoming `x-request-id` when it is sane (1-128 of `A-Z a-z 0-9 . _ : -`), else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return requestIdProblem(header) === null ? (header as string) : randomUUID();
}

/** Every method a route can have; the 405 answer checks which of them a path has. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

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

/** The service's version and licence, from package.json (the one place they are stated). */
function packageFacts(): { version: string; license: string } {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
      license?: string;
    };
    return { version: pkg.version ?? '0.0.0', license: pkg.license ?? 'UNLICENSED' };
  } catch {
    return { version: '0.0.0', license: 'UNLICENSED' };
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

  const metrics = new ServiceMetrics(() => {
    const s = deps.live.current();
    const models = [{ role: 'champion', version: s.champion.version }];
    if (s.challenger) models.push({ role: 'challenger', version: s.challenger.version });
    return { models, policyVersion: s.policy.version };
  });

  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : {}),
    // Fastify's own request lines would log the URL and headers; the onResponse hook below writes ours instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: limits.bodyLimitBytes,
    // An account id of 128 code points in a path, percent-encoded UTF-8 (up to 12 characters each); the default
    // 100 would turn a valid long id into a 404.
    routerOptions: { maxParamLength: 1536 },
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    // Fastify answers these itself in its own shape; every answer here is the service's error body with a request id.
    return503OnClosing: false,
    frameworkErrors: (err, req, reply) => {
      const m = mapError(err, {
        requestId: req.id,
        bodyLimitBytes: limits.bodyLimitBytes,
        contentType: req.headers['content-type'],
      });
      req.errorCode = m.body.error;
      void (reply as unknown as FastifyReply).status(m.status).header('x-request-id', req.id).send(m.body);
    },
    // Malformed HTTP, headers over the size limit (431), a request timeout (408): no request object exists yet.
    clientErrorHandler: (err, socket) => {
      answerClientError(err as NodeJS.ErrnoException, socket, (line) => {
        metrics.requests.inc({ method: '(unparsed)', route: '(unparsed)', status: String(line.status) });
        loggerInstance?.info(line, 'request');
      });
    },
  }) as unknown as FastifyInstance;

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
  app.decorateRequest('handling', false);

  // What a drain deadline would drop: every request from its headers until its answer is sent or its connection ends.
  const inFlight = new Map<FastifyRequest, number>();
  app.decorate('inFlightRequests', (): InFlightRequest[] => {
    const at = Date.now();
    return [...inFlight].map(([req, since]) => {
      const length = Number(req.headers['content-length']);
      return {
        request_id: req.id,
        method: req.method,
        route: req.routeOptions.url ?? '(unmatched)',
        phase: req.handling ? 'handling' : 'receiving',
        content_length: Number.isSafeInteger(length) && length >= 0 ? length : null,
        age_ms: at - since,
      };
    });
  });
  app.addHook('preHandler', async (req) => {
    req.handling = true;
  });

  // Fastify adds `Connection: close` only to requests that arrive after close began; an answer to one already in
  // flight would keep its connection alive, and server.close() would wait for the client's keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // The first hook of every request: count it in flight, say why a caller's request id was replaced, and refuse
  // new work once closing (a 503 in the service's shape; fastify's own would lack the request id).
  app.addHook('onRequest', async (req, reply) => {
    inFlight.set(req, Date.now());
    // 'close' comes once the answer is sent or the connection is gone, whichever way the request ended.
    reply.raw.once('close', () => inFlight.delete(req));
    const sent = req.headers['x-request-id'];
    if (sent !== undefined && sent !== req.id)
      req.log.info(
        {
          request_id_replaced: requestIdProblem(sent),
          sent_length: typeof sent === 'string' ? sent.length : null,
        },
        'caller x-request-id replaced by a generated one',
      );
    if (closing) {
      reply.header('connection', 'close');
      throw new HttpError(503, 'shutting_down', 'the service is shutting down; retry (another instance)');
    }
  });

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

  // A known path with another method is a 405 naming the methods it has (RFC 9110 §15.5.6), not a 404.
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    const shown = JSON.stringify(path.length > 200 ? `${path.slice(0, 199)}…` : path);
    if (allowed.length) {
      req.errorCode = 'method_not_allowed';
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({
          error: 'method_not_allowed',
          message: `${req.method} is not allowed on ${shown}; it takes ${allowed.join(', ')}`,
          request_id: req.id,
        });
    }
    req.errorCode = 'not_found';
    return reply.status(404).send({
      error: 'not_found',
      message: `no route ${req.method} ${shown}`,
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
  const { version, license } = packageFacts();
  const openapiDoc = () => {
    openapi ??= buildOpenApi({
      maxBatch: limits.maxBatch,
      maxContacts: limits.maxContacts,
      bodyLimitBytes: limits.bodyLimitBytes,
      version,
      license,
    });
    return openapi;
  };

  idempotency(app, ctx, deps.idempotency);
  scoreRoutes(app, ctx);
  accountRoutes(app, ctx);
  humanReviewRoutes(app, ctx);
  contactRoutes(app, ctx);
  infoRoutes(app, ctx);
  opsRoutes(app, ctx, openapiDoc);
  return app;
}

/** The status and code for a client error Node raised before any request existed. */
function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'headers_too_large',
        message:
          'the request headers are larger than the server accepts (16 KiB in all); send fewer or shorter ones',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' };
    default:
      return {
        status: 400,
        code: 'bad_http',
        message: `the request is not well-formed HTTP/1.1 (${err.code ?? 'parse error'})`,
      };
  }
}

/**
 * Answers an HTTP-level client error (malformed request line or headers, headers too large, timeout) with the
 * service's error body and a fresh request id, logs one request line for it, and closes the connection.
 */
function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Socket,
  log: (line: { request_id: string; route: string; status: number; error: string }) => void,
): void {
  // A reset connection has nobody to answer (Node's own default does the same).
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const requestId = randomUUID();
  const a = clientErrorAnswer(err);
  log({ request_id: requestId, route: '(unparsed)', status: a.status, error: a.code });
  const body = JSON.stringify({ error: a.code, message: a.message, request_id: requestId });
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  socket.destroySoon();
}
