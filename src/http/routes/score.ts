import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RepayriskError } from '../../core/errors.ts';
import { policySlots, repeatedAccounts } from '../../core/policy/batch.ts';
import type { CallSlots } from '../../core/policy/capacity.ts';
import { reviewStateAt } from '../../core/policy/human-review.ts';
import type { FieldIssue } from '../../core/schema/issues.ts';
import { describeValue, fieldIssues } from '../../core/schema/issues.ts';
import type { ContactRow } from '../../core/schema/tables.ts';
import { admitArchive } from '../../core/scoring/input.ts';
import type { AccountArchive } from '../../core/scoring/score.ts';
import type { CallSlotLimit } from '../../ledger/contract.ts';
import type { LiveState } from '../../service/live-types.ts';
import {
  contactHistorySince,
  ownWindows,
  remainingSlots,
  remainingVisits,
  type ScoredAccount,
  scoreAndDecide,
} from '../../service/score-request.ts';
import { isJsonObject, ledgerCall, type RouteContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import type { IdempotentRequest } from '../idempotency.ts';
import { type ItemOutcome, MicroBatcher } from '../micro-batch.ts';
import { archiveParser } from '../request-validation.ts';
import { scoreBatchSchema } from '../schemas.ts';

const DAY_MS = 86_400_000;

/**
 * How many times a request decides again after another writer (another request, or another process on the same
 * PostgreSQL) took the call or visit slots it counted on; after that it decides with no slot left, which spends
 * none, so a request always ends. Each refusal means some other append took slots, so the retries are few in practice.
 */
const SLOT_ATTEMPTS = 5;

/** The policy's capacity with every slot taken: the decisions spill their calls as when the day is full. */
function noSlotsLeft(slots: CallSlots): CallSlots {
  return slots.kind === 'total'
    ? { kind: 'total', slots: 0 }
    : { kind: 'teams', teams: slots.teams.map((t) => ({ name: t.name, slots: 0 })) };
}

/** The 400 of a single account the core could not score. */
function unscorableError(issues: FieldIssue[]): HttpError {
  return new HttpError(400, 'unscorable', issues[0]!.message, issues);
}

/** The answer to a single-account request: its decision, or the 400 when it could not be scored. */
function singleAnswer({ scored, unscorable }: Decided): ScoredAccount | undefined {
  const issues = unscorable.get(0);
  if (issues) throw unscorableError(issues);
  return scored.get(0);
}

/** True when the policy limits the day's calls or visits (requests then take turns through the slot counts). */
function hasCapacity(state: LiveState): boolean {
  return Boolean(state.policy.capacity || state.policy.visitCapacity);
}

/** A batch item whose account an earlier item already holds: one decision per account per batch. */
function repeatIssue(first: number, accountId: string): FieldIssue {
  return {
    path: 'account.account_id',
    message: `the account is already at index ${first} of this batch (one decision per account per batch); send it once`,
    got: describeValue(accountId),
  };
}

/** A batch item that did not validate: its index and every failing path (relative to the item). */
export interface InvalidItem {
  index: number;
  status: 'invalid';
  errors: FieldIssue[];
}
export type BatchItem = (ScoredAccount & { index: number; status: 'ok' }) | InvalidItem;

/**
 * One account to decide: its index in the answer and, for a micro-batched single-account request, the id of the
 * request it came in (its decision records carry that id rather than the batch's first).
 */
interface ScoreItem {
  index: number;
  archive: AccountArchive;
  requestId?: string;
}

/** A single-account request waiting in a micro-batch (src/http/micro-batch.ts). */
interface SingleRequest {
  archive: AccountArchive;
  requestId: string;
}

/** At most this many single-account requests are decided in one micro-batch. */
const MICRO_BATCH_MAX = 256;

/** The decided accounts by input index, and the ones the core could not score. */
/**
 * What a batch decided, by input index: the answers, the accounts the model could not score (400 material), and
 * the accounts whose decision failed unexpectedly (a fault, 500 material), set apart so the others still get theirs.
 */
type Decided = {
  scored: Map<number, ScoredAccount>;
  unscorable: Map<number, FieldIssue[]>;
  failed: Map<number, unknown>;
};

/**
 * `POST /v1/score`: one archive, or `{ accounts: [...] }`. The ledger's recent contacts are merged into each
 * archive, the live champion scores, the live policy decides (today's call and visit slots from the ledger), and the
 * decisions are appended to the ledger before the answer leaves.
 */
export function scoreRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const envelope = scoreBatchSchema(z.unknown(), ctx.limits.maxBatch);
  // Compiled from the published JSON Schema when the app is built, not on the first request.
  const parseArchive = archiveParser();

  // With a call or visit capacity, reading today's used slots and recording the new calls and visits must not
  // interleave between requests, or two batches would both spend the same free slots. The ledger refuses an
  // append whose calls or visits no longer fit (atomically in PostgreSQL, across processes), and the request then
  // decides again; requests of one process also take turns, so they do not refuse one another.
  let capacityTurn: Promise<unknown> = Promise.resolve();
  /**
   * Scores and decides the archives as one batch and records the decisions; returns the answer per input index.
   * An archive the core cannot score (a RepayriskError from scoreAndDecide, e.g. the model gives NaN for extreme
   * but schema-valid values) is set apart as unscorable and the rest are decided without it, so one such account
   * cannot fail a whole batch; an account whose decision fails with any other error is set apart as failed (a
   * micro-batch answers only its own request with it; a batch request fails whole, as that one account would).
   * `respond` builds the answer (or throws a 400) before the append, so that with an Idempotency-Key the answer is
   * committed in the same transaction as the decisions (src/http/idempotency.ts).
   */
  function decideAndRecord(
    items: readonly ScoreItem[],
    requestId: string,
    idem: IdempotentRequest | null,
    respond: (d: Decided) => unknown,
  ): Promise<unknown> {
    const state = ctx.live.current();
    if (!hasCapacity(state)) return decideAndRecordWith(state, items, requestId, idem, respond);
    const turn = capacityTurn.then(() =>
      decideAndRecordWith(ctx.live.current(), items, requestId, idem, respond),
    );
    capacityTurn = turn.catch(() => undefined);
    return turn;
  }

  async function decideAndRecordWith(
    // One state for the whole request: a reload in between cannot mix two models or policies in one answer.
    state: LiveState,
    items: readonly ScoreItem[],
    requestId: string,
    idem: IdempotentRequest | null,
    respond: (d: Decided) => unknown,
  ): Promise<unknown> {
    const now = ctx.now();
    const ids = [...new Set(items.map((it) => it.archive.account.account_id))];
    const since = contactHistorySince(
      state.policy,
      items.map((it) => it.archive.account.as_of_date),
      now,
    );
    const [batchContacts, reviews] = await Promise.all([
      ledgerCall(ctx, 'read contact history', () => ctx.ledger.contactsFor(ids, since)),
      ledgerCall(ctx, 'read review requests', () => ctx.ledger.reviewEvents(ids)),
    ]);
    const ledgerContacts = ownWindows(
      batchContacts,
      items.map((it) => it.archive.account),
      state.policy,
      now,
      since,
    );
    // A customer's standing request for a human decision (PIPL art. 24, GDPR art. 22): that account gets
    // human_review, never an automated treatment (routes/human-review.ts records the requests).
    const humanReview = new Map<string, { requested_at: string }>();
    for (const [id, events] of reviews) {
      const review = reviewStateAt(events, now);
      if (review.open_since) humanReview.set(id, { requested_at: review.open_since });
    }
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const capacity = policySlots(state.policy);
    const visitCapacity = state.policy.visitCapacity?.slots;
    const limit: CallSlotLimit | undefined =
      capacity || visitCapacity !== undefined
        ? {
            sinceMs: dayStart,
            ...(capacity ? { slots: capacity } : {}),
            ...(visitCapacity !== undefined ? { visits: visitCapacity } : {}),
          }
        : undefined;
    for (let attempt = 1; ; attempt++) {
      const exhausted = attempt > SLOT_ATTEMPTS;
      const [slots, visitSlots] = await Promise.all([
        !capacity
          ? null
          : exhausted
            ? noSlotsLeft(capacity)
            : ledgerCall(ctx, 'read call slots', () => ctx.ledger.callSlotsUsed(dayStart)).then((used) =>
                remainingSlots(state.policy, used),
              ),
        // The day's visits are held across requests (and processes, on PostgreSQL) like its calls.
        visitCapacity === undefined
          ? null
          : exhausted
            ? 0
            : ledgerCall(ctx, 'read visit slots', () => ctx.ledger.visitsUsed(dayStart)).then((used) =>
                remainingVisits(state.policy, used),
              ),
      ]);
      const done = await decideOnce(state, items, requestId, idem, respond, {
        now,
        ledgerContacts,
        humanReview,
        slots,
        visitSlots,
        limit,
      });
      if (done.recorded) return done.answer;
    }
  }

  /**
   * Decides the items once with `slots` and `visitSlots` and records the decisions within `limit`;
   * `recorded: false` when the ledger refused them because their call or visit slots were taken meanwhile
   * (nothing was written).
   */
  async function decideOnce(
    state: LiveState,
    items: readonly ScoreItem[],
    requestId: string,
    idem: IdempotentRequest | null,
    respond: (d: Decided) => unknown,
    o: {
      now: number;
      ledgerContacts: ReadonlyMap<string, readonly ContactRow[]>;
      humanReview: Map<string, { requested_at: string }>;
      slots: CallSlots | null;
      visitSlots: number | null;
      limit: CallSlotLimit | undefined;
    },
  ): Promise<{ recorded: true; answer: unknown } | { recorded: false }> {
    const { now, ledgerContacts, humanReview, slots, visitSlots } = o;
    const decide = (batch: readonly { archive: AccountArchive }[], newId: () => string, withSlots = slots) =>
      scoreAndDecide(
        batch.map((b) => b.archive),
        state,
        now,
        { ledgerContacts, slots: withSlots, visitSlots, newId, requestId, humanReview },
      );

    const unscorable = new Map<number, FieldIssue[]>();
    const failed = new Map<number, unknown>();
    let good = items;
    let out: ReturnType<typeof scoreAndDecide>;
    try {
      out = decide(good, ctx.newId);
    } catch (e) {
      if (items.length === 1 && !(e instanceof RepayriskError)) throw e;
      // Find the culprits one by one (pure, nothing recorded, no ids spent), then decide the rest as a batch.
      good = items.filter((it) => {
        try {
          decide([it], () => 'trial', null);
          return true;
        } catch (err) {
          if (err instanceof RepayriskError)
            unscorable.set(it.index, [
              { path: '(root)', message: `the account could not be scored: ${err.message}` },
            ]);
          else failed.set(it.index, err);
          return false;
        }
      });
      // Every account alone decides: the failure is not one account's.
      if (unscorable.size === 0 && failed.size === 0) throw e;
      out = good.length ? decide(good, ctx.newId) : { results: [], records: [] };
    }
    good.forEach((it, k) => {
      if (it.requestId !== undefined) out.records[k]!.request_id = it.requestId;
    });
    const scored = new Map<number, ScoredAccount>(out.results.map((r, k) => [good[k]!.index, r]));
    const answer = respond({ scored, unscorable, failed });
    if (out.records.length) {
      const records = out.records;
      const taken = await ledgerCall(ctx, 'record decisions', () =>
        ctx.ledger.appendDecisions(records, idem?.answer(200, answer), o.limit).then(
          () => false,
          (e: unknown) => {
            // The ledger's `call_slots_taken` (http sees the ledger through its contract only): nothing written.
            if ((e as { code?: unknown } | null)?.code === 'call_slots_taken') return true;
            throw e;
          },
        ),
      );
      if (taken) return { recorded: false };
    }
    if (unscorable.size) ctx.metrics.scoreItems.inc({ status: 'unscorable' }, unscorable.size);
    for (const r of out.results) {
      ctx.metrics.decisions.inc({ treatment: r.treatment });
      for (const g of r.guardrails) ctx.metrics.guardrails.inc({ guardrail: g });
    }
    return { recorded: true, answer };
  }

  /**
   * Concurrent single-account requests decided together (one ledger read, one scoring pass, one append), with the
   * same answers each would get alone. Not with a call or visit capacity: a batch hands its slots to the accounts
   * where they add most, and single requests get theirs first come, first served, as before.
   */
  const singles = new MicroBatcher<SingleRequest, ScoredAccount>(
    async (batch) => {
      const one = (r: SingleRequest): Promise<ItemOutcome<ScoredAccount>> =>
        decideAndRecord([{ index: 0, archive: r.archive }], r.requestId, null, singleAnswer).then(
          (value) => ({ ok: true, value: value as ScoredAccount }),
          (error: unknown) => ({ ok: false, error }),
        );
      // The policy may have gained a capacity since these were queued (a reload): each then takes its turn.
      if (batch.length === 1 || hasCapacity(ctx.live.current())) return Promise.all(batch.map(one));
      const outcomes: ItemOutcome<ScoredAccount>[] = [];
      await decideAndRecord(
        batch.map((r, index) => ({ index, archive: r.archive, requestId: r.requestId })),
        batch[0]!.requestId,
        null,
        ({ scored, unscorable, failed }) => {
          batch.forEach((_, k) => {
            const r = scored.get(k);
            outcomes[k] = r
              ? { ok: true, value: r }
              : failed.has(k)
                ? { ok: false, error: failed.get(k) }
                : { ok: false, error: unscorableError(unscorable.get(k)!) };
          });
          return undefined;
        },
      );
      return outcomes;
    },
    (r) => r.archive.account.account_id,
    MICRO_BATCH_MAX,
    (size) => ctx.metrics.microBatch.observe({}, size),
  );

  app.post('/v1/score', { config: { scope: 'score' } }, async (req, reply) => {
    const body = req.body;
    if (body === undefined)
      throw new HttpError(400, 'invalid_request', 'a JSON body is required', [
        { path: '(root)', message: 'required: an account archive or { "accounts": [...] }' },
      ]);

    if (!(isJsonObject(body) && Object.hasOwn(body, 'accounts'))) {
      const parsed = parseArchive(body);
      req.batchSize = 1;
      const admitted = parsed.success
        ? admitArchive(parsed.data, ctx.now())
        : { ok: false as const, issues: fieldIssues(parsed.error) };
      if (!admitted.ok) {
        ctx.metrics.scoreItems.inc({ status: 'invalid' });
        throw HttpError.invalid(admitted.issues);
      }
      ctx.metrics.scoreItems.inc({ status: 'ok' });
      // With an Idempotency-Key the answer is committed with its own decisions, in an append of its own.
      if (!req.idempotency && !hasCapacity(ctx.live.current()))
        return singles.submit({ archive: admitted.archive, requestId: req.id });
      return decideAndRecord(
        [{ index: 0, archive: admitted.archive }],
        req.id,
        req.idempotency,
        singleAnswer,
      );
    }

    const env = envelope.safeParse(body, { reportInput: true });
    if (!env.success) throw HttpError.invalid(fieldIssues(env.error));
    const items = env.data.accounts;
    req.batchSize = items.length;
    const valid: { index: number; archive: AccountArchive }[] = [];
    const invalid = new Map<number, FieldIssue[]>();
    const parsed = items.map((item) => parseArchive(item));
    const repeats = repeatedAccounts(parsed.map((p) => (p.success ? p.data.account.account_id : null)));
    const now = ctx.now();
    parsed.forEach((p, index) => {
      const first = repeats.get(index);
      const admitted = !p.success
        ? { ok: false as const, issues: fieldIssues(p.error) }
        : first !== undefined
          ? { ok: false as const, issues: [repeatIssue(first, p.data.account.account_id)] }
          : admitArchive(p.data, now);
      if (admitted.ok) valid.push({ index, archive: admitted.archive });
      else invalid.set(index, admitted.issues);
    });
    ctx.metrics.scoreItems.inc({ status: 'ok' }, valid.length);
    ctx.metrics.scoreItems.inc({ status: 'invalid' }, invalid.size);
    const respond = ({ scored, unscorable, failed }: Decided) => {
      // A fault deciding one account fails the request whole (500), as it did before accounts were set apart.
      if (failed.size) throw failed.values().next().value;
      if (scored.size === 0) {
        const all = [...invalid, ...unscorable]
          .sort((a, b) => a[0] - b[0])
          .flatMap(([i, issues]) =>
            issues.map((x) => ({ ...x, path: `accounts.${i}${x.path === '(root)' ? '' : `.${x.path}`}` })),
          );
        throw HttpError.invalid(all, 'every account in the batch');
      }
      const results: BatchItem[] = items.map((_, index) => {
        const r = scored.get(index);
        return r
          ? { index, status: 'ok', ...r }
          : { index, status: 'invalid', errors: invalid.get(index) ?? unscorable.get(index) ?? [] };
      });
      return { count: items.length, ok: scored.size, invalid: items.length - scored.size, results };
    };
    const answer = valid.length
      ? await decideAndRecord(valid, req.id, req.idempotency, respond)
      : respond({ scored: new Map(), unscorable: new Map(), failed: new Map() });
    // A batch's answer (megabytes, and two-byte text: reason texts hold dashes) leaves as UTF-8 bytes encoded once.
    // Handed a string, fastify measured its UTF-8 length (Buffer.byteLength flattening the text: 5% of the main
    // thread under 1,000-account batches) and the socket encoded it again.
    reply.type('application/json; charset=utf-8');
    return Buffer.from(JSON.stringify(answer));
  });
}
