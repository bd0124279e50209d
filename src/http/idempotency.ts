import { createHash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeValue } from '../core/schema/issues.ts';
import type { StoredAnswer } from '../ledger/contract.ts';
import { ledgerCall, type RouteContext } from './context.ts';
import { HttpError } from './errors.ts';

/**
 * `Idempotency-Key` on the routes that record (IETF draft-ietf-httpapi-idempotency-key-header): a dialer that
 * retries after a timeout must not count one contact twice, nor a scorer record a second decision.
 *
 * - The key is scoped to the API key and the route; the request's fingerprint is the SHA-256 of its raw body.
 * - A successful (2xx) answer is stored in the ledger in the same transaction as the rows it answers, so a crash
 *   never leaves rows without their answer or an answer without its rows.
 * - The same key and body again: the stored answer (status and body) with `Idempotent-Replayed: true`; nothing is
 *   recorded again. Another body: 422 `idempotency_key_reused`. While the first is still being handled: 409
 *   `idempotency_key_in_flight`.
 * - 4xx and 5xx answers are not stored: nothing was recorded, so a retry (or a corrected body under the same key)
 *   simply runs again — and a refused body's values never reach the ledger.
 * - Answers are kept `retentionMs` (default 24 h) and then pruned; the ledger keeps them across restarts.
 */

/** The routes that take `Idempotency-Key` (method and route pattern). */
export const IDEMPOTENT_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/contacts',
  'POST /v1/score',
  'POST /v1/accounts/:id/human-review',
  'POST /v1/accounts/:id/human-review/resolve',
]);

/** Default time a stored answer is kept: a day, as the issue asks (at least). */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

/** A key: 1..255 printable ASCII characters (the draft leaves the form to the server; UUIDs and ULIDs fit). */
const KEY_RE = /^[\x20-\x7e]{1,255}$/;

/** How often, at most, answers past their retention are pruned (lazily, on an idempotent request). */
const PRUNE_EVERY_MS = 10 * 60_000;

/** A claim older than this is a leftover (its request's end was never seen), not a request in flight. */
const STALE_CLAIM_MS = 10 * 60_000;

/** What a route needs to store its answer with its rows. */
export interface IdempotentRequest {
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  /** The answer to commit with the rows: `status` and `body` exactly as the route sends them. */
  answer(status: number, body: unknown): StoredAnswer;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carries a valid `Idempotency-Key` on an idempotent route (and was not a replay). */
    idempotency: IdempotentRequest | null;
  }
}

export interface IdempotencyOptions {
  /** How long a stored answer is replayed, in ms (default 24 h). */
  retentionMs?: number;
}

/**
 * The body as stored: the JSON text the route sends, less the `got` of field issues (the values a refused batch
 * item carried): the ledger keeps no request values (data minimisation).
 */
function storedBody(body: unknown): string {
  return JSON.stringify(body, function (this: unknown, k: string, v: unknown) {
    const holder = this as Record<string, unknown> | null;
    return k === 'got' && holder && 'path' in holder && 'message' in holder ? undefined : v;
  });
}

const routeOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? ''}`;

/**
 * Adds `Idempotency-Key` handling to the app: hashes the raw body of idempotent routes as it arrives, and before
 * their handler runs, answers a replay (or a 409 / 422) from the ledger, or marks the request so the route stores
 * its answer with its rows (`req.idempotency.answer(status, body)` passed to the ledger append). Register it
 * before the routes.
 * @throws {RangeError} when `retentionMs` is not a positive integer.
 */
export function idempotency(app: FastifyInstance, ctx: RouteContext, opts: IdempotencyOptions = {}): void {
  const retentionMs = opts.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS;
  if (!Number.isSafeInteger(retentionMs) || retentionMs <= 0)
    throw new RangeError(`idempotency retentionMs must be a positive integer; got ${retentionMs}`);
  const fingerprints = new WeakMap<FastifyRequest, string>();
  /** Claims of keys being handled in this process: slot -> when claimed. */
  const inFlight = new Map<string, number>();
  const claims = new WeakMap<FastifyRequest, string>();
  let lastPrune = Number.NEGATIVE_INFINITY;

  app.decorateRequest('idempotency', null);

  // The fingerprint is of the bytes as sent: hashed on the way to the JSON parser, never kept.
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (!IDEMPOTENT_ROUTES.has(routeOf(req)) || req.headers['idempotency-key'] === undefined) return payload;
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        fingerprints.set(req, hash.digest('hex'));
        cb();
      },
    });
    return pipeline(payload, tap, () => undefined);
  });

  app.addHook('preHandler', async (req, reply) => {
    const route = routeOf(req);
    const header = req.headers['idempotency-key'];
    if (!IDEMPOTENT_ROUTES.has(route) || header === undefined) return;
    if (typeof header !== 'string' || !KEY_RE.test(header))
      throw new HttpError(400, 'invalid_request', 'the Idempotency-Key header is malformed', [
        {
          path: 'headers.idempotency-key',
          message:
            typeof header === 'string'
              ? 'expected 1..255 printable ASCII characters'
              : 'expected the header once',
          got: describeValue(header),
        },
      ]);
    const scope = `${req.apiKey?.id ?? '(none)'} ${route}`;
    const fingerprint = fingerprints.get(req) ?? createHash('sha256').update('').digest('hex');
    const slot = `${scope}\u0000${header}`;
    const now = ctx.now();
    const claimed = inFlight.get(slot);
    if (claimed !== undefined && now - claimed < STALE_CLAIM_MS)
      throw new HttpError(
        409,
        'idempotency_key_in_flight',
        'a request with this Idempotency-Key is still being handled; retry once it has been answered',
      );
    inFlight.set(slot, now);
    claims.set(req, slot);

    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      await ledgerCall(ctx, 'prune stored answers', () => ctx.ledger.pruneAnswers(now - retentionMs));
    }
    let stored = await ledgerCall(ctx, 'read a stored answer', () => ctx.ledger.getAnswer(scope, header));
    if (stored && Date.parse(stored.created_at) < now - retentionMs) {
      // Past its retention: gone, as if pruned (pruning it now frees the key for this request).
      await ledgerCall(ctx, 'prune stored answers', () => ctx.ledger.pruneAnswers(now - retentionMs));
      stored = null;
    }
    if (stored) {
      if (stored.fingerprint !== fingerprint)
        throw new HttpError(
          422,
          'idempotency_key_reused',
          `this Idempotency-Key was used for a different request body (answered at ${stored.created_at}); use a new key for a new request`,
        );
      return reply
        .status(stored.status)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(stored.body);
    }
    req.idempotency = {
      scope,
      key: header,
      fingerprint,
      answer: (status, body) => ({
        scope,
        key: header,
        fingerprint,
        request_id: req.id,
        created_at: new Date(ctx.now()).toISOString(),
        status,
        body: storedBody(body),
      }),
    };
  });

  const release = async (req: FastifyRequest) => {
    const slot = claims.get(req);
    if (slot === undefined) return;
    claims.delete(req);
    inFlight.delete(slot);
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}
