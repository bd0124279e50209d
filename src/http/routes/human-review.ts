import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { explainDecision } from '../../core/policy/explain.ts';
import { reviewStateAt } from '../../core/policy/human-review.ts';
import { builtinPacks } from '../../core/policy/packs/catalog.ts';
import type { Pack } from '../../core/policy/packs/schema.ts';
import { describeValue, fieldIssues } from '../../core/schema/issues.ts';
import { reportedInstant } from '../../core/time/skew.ts';
import type { ReviewEventRecord } from '../../ledger/contract.ts';
import type { LiveState } from '../../service/live-types.ts';
import { ledgerCall, type RouteContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import {
  type humanReviewAnswerSchema,
  humanReviewRequestSchema,
  humanReviewResolveSchema,
  type humanReviewStateSchema,
} from '../schemas.ts';
import { accountIdOf } from './accounts.ts';

/**
 * Automated-decision rights (China PIPL art. 24; GDPR and UK GDPR art. 22): a customer may ask that a person, not
 * automation, decide, and may ask why a decision was taken.
 *
 * - `POST /v1/accounts/:id/human-review` records the request (`contacts` scope: the case manager or orchestration
 *   system that records what the customer said). From its time on, every score of the account answers
 *   `human_review` (src/http/routes/score.ts reads the standing requests on every score).
 * - `POST /v1/accounts/:id/human-review/resolve` records that a person decided: it closes every request standing
 *   at its time; scoring is automated again from then on. 409 when no request stands, or when one was made after
 *   the resolution's time (a resolution cannot close a request it preceded).
 * - `GET /v1/accounts/:id/human-review` (audit or score scope): the state now and every event.
 * - `GET /v1/decisions/:id/explanation` (score scope, as `GET /v1/decisions/:id`): a plain-language explanation of
 *   a recorded decision (src/core/policy/explain.ts).
 *
 * Both POSTs honour `Idempotency-Key` (src/http/idempotency.ts): the answer is stored with the event.
 */
export function humanReviewRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // A request and a resolution of one account, read-then-append, take turns within this instance, so a
  // resolution never misses a request recorded a moment before it here.
  const turns = new Map<string, Promise<unknown>>();
  const inTurn = <T>(accountId: string, f: () => Promise<T>): Promise<T> => {
    const prev = turns.get(accountId) ?? Promise.resolve();
    const next = prev.then(f, f);
    const settled = next.catch(() => undefined);
    turns.set(accountId, settled);
    void settled.then(() => {
      if (turns.get(accountId) === settled) turns.delete(accountId);
    });
    return next;
  };

  const eventsOf = async (accountId: string): Promise<ReviewEventRecord[]> =>
    (await ledgerCall(ctx, 'read review events', () => ctx.ledger.reviewEvents([accountId]))).get(
      accountId,
    ) ?? [];

  /** The body parsed and its `reported_ts` taken as the server takes a contact's time; 400 naming each field. */
  function parseBody<S extends z.ZodType<{ reported_ts: string }>>(
    schema: S,
    body: unknown,
    now: number,
  ): { data: z.output<S>; ts: string; reported: string | null } {
    if (body === undefined)
      throw new HttpError(400, 'invalid_request', 'a JSON body is required', [
        { path: '(root)', message: 'required: { "reported_ts": "…" }' },
      ]);
    const parsed = schema.safeParse(body, { reportInput: true });
    if (!parsed.success) throw HttpError.invalid(fieldIssues(parsed.error));
    const data = parsed.data as z.output<S>;
    const t = reportedInstant(data.reported_ts, now);
    if (!t.ok)
      throw HttpError.invalid([
        { path: 'reported_ts', message: t.message, got: describeValue(data.reported_ts) },
      ]);
    const ts = new Date(Date.parse(t.ts)).toISOString();
    return { data, ts, reported: t.ts === data.reported_ts ? null : data.reported_ts };
  }

  type Answer = z.output<typeof humanReviewAnswerSchema>;

  app.post<{ Params: { id: string } }>(
    '/v1/accounts/:id/human-review',
    { config: { scope: 'contacts' } },
    async (req, reply) => {
      const accountId = accountIdOf(req.params.id);
      const now = ctx.now();
      const { data, ts, reported } = parseBody(humanReviewRequestSchema, req.body, now);
      const event: ReviewEventRecord = {
        event_id: ctx.newId(),
        account_id: accountId,
        kind: 'requested',
        ts,
        reported_ts: reported,
        recorded_at: new Date(now).toISOString(),
        channel: data.channel ?? null,
        case_ref: data.case_ref ?? null,
        agent_id: null,
        outcome: null,
      };
      const body = await inTurn(accountId, async () => {
        const after = reviewStateAt([...(await eventsOf(accountId)), event], now);
        const answer: Answer = {
          account_id: accountId,
          event_id: event.event_id,
          kind: 'requested',
          ts,
          open: after.open,
          open_since: after.open_since,
          closed: [],
        };
        await ledgerCall(ctx, 'record a review request', () =>
          ctx.ledger.appendReviewEvents([event], req.idempotency?.answer(201, answer)),
        );
        return answer;
      });
      return reply.status(201).send(body);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/accounts/:id/human-review/resolve',
    { config: { scope: 'contacts' } },
    async (req, reply) => {
      const accountId = accountIdOf(req.params.id);
      const now = ctx.now();
      const { data, ts, reported } = parseBody(humanReviewResolveSchema, req.body, now);
      const body = await inTurn(accountId, async () => {
        const events = await eventsOf(accountId);
        const standing = reviewStateAt(events, now).open_requests;
        if (standing.length === 0)
          throw new HttpError(
            409,
            'no_open_review',
            `account ${JSON.stringify(accountId)} has no standing request for a human decision to resolve`,
          );
        const later = standing.filter((r) => r.ts > ts);
        if (later.length)
          throw new HttpError(
            409,
            'review_requested_later',
            `the request ${later[0]!.event_id} was made at ${later[0]!.ts}, after this resolution's time ${ts}: a resolution closes only requests made at or before it`,
          );
        const event: ReviewEventRecord = {
          event_id: ctx.newId(),
          account_id: accountId,
          kind: 'resolved',
          ts,
          reported_ts: reported,
          recorded_at: new Date(now).toISOString(),
          channel: null,
          case_ref: data.case_ref ?? null,
          agent_id: data.agent_id ?? null,
          outcome: data.outcome,
        };
        const after = reviewStateAt([...events, event], now);
        const answer: Answer = {
          account_id: accountId,
          event_id: event.event_id,
          kind: 'resolved',
          ts,
          open: after.open,
          open_since: after.open_since,
          closed: standing.map((r) => r.event_id),
        };
        await ledgerCall(ctx, 'record a review resolution', () =>
          ctx.ledger.appendReviewEvents([event], req.idempotency?.answer(201, answer)),
        );
        return answer;
      });
      return reply.status(201).send(body);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id/human-review',
    { config: { scope: ['audit', 'score'] as const } },
    async (req): Promise<z.output<typeof humanReviewStateSchema>> => {
      const accountId = accountIdOf(req.params.id);
      const events = await eventsOf(accountId);
      const state = reviewStateAt(events, ctx.now());
      return {
        account_id: accountId,
        open: state.open,
        open_since: state.open_since,
        open_requests: state.open_requests.map((r) => r.event_id),
        events,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/decisions/:id/explanation',
    { config: { scope: 'score' } },
    async (req) => {
      const id = req.params.id;
      const d = await ledgerCall(ctx, 'read a decision', () => ctx.ledger.getDecision(id));
      if (!d)
        throw new HttpError(404, 'not_found', `no decision with id ${JSON.stringify(id.slice(0, 100))}`);
      return explainDecision(d, d.rule_pack ? packNamed(ctx.live.current(), d.rule_pack) : null);
    },
  );
}

/** The rule pack by name: as the live policy resolved it, else as the service ships it, else null. */
function packNamed(state: LiveState, name: string): Pack | null {
  return state.policy.packs.byName.get(name)?.pack ?? builtinPacks().get(name) ?? null;
}
