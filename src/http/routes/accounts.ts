import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isIsoDate, isIsoTimestamp } from '../../core/schema/columns.ts';
import { identifierProblem } from '../../core/schema/ids.ts';
import { describeValue, fieldIssues } from '../../core/schema/issues.ts';
import { contacts } from '../../core/schema/tables.ts';
import type { AuditQuery, ContactRecord } from '../../ledger/contract.ts';
import { ledgerCall, type RouteContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { decisionRecordSchema } from '../schemas.ts';

/**
 * Audit reads (DESIGN §7): an account's recorded contacts and decisions, newest first, a page at a time, within
 * an optional time window. The routes an auditor or a case manager uses to answer "what did we do to this
 * borrower, and why" from the ledger alone.
 */

/** Records per page when `limit` is absent, and the most a page may hold. */
export const AUDIT_PAGE = { default: 100, max: 1000 } as const;

/** An instant bound: an ISO 8601 timestamp with offset, or a date (its 00:00 UTC). */
const instantParam = z
  .string()
  .refine((s) => isIsoTimestamp(s) || isIsoDate(s), {
    message: 'expected an ISO 8601 timestamp with offset (2026-11-25T15:00:00Z) or a date YYYY-MM-DD',
  })
  .transform((s) => Date.parse(isIsoDate(s) ? `${s}T00:00:00Z` : s));

/** The query string of an audit read; a parameter given twice is an array and is refused by type. */
export const auditQuerySchema = z
  .strictObject({
    since: instantParam.optional().describe('Only records at or after this instant (inclusive).'),
    until: instantParam.optional().describe('Only records before this instant (exclusive).'),
    limit: z
      .string()
      .regex(/^[0-9]{1,4}$/, `expected an integer 1-${AUDIT_PAGE.max}`)
      .transform(Number)
      .pipe(z.number().int().min(1).max(AUDIT_PAGE.max))
      .optional()
      .describe(`Records per page, 1-${AUDIT_PAGE.max} (default ${AUDIT_PAGE.default}).`),
    cursor: z
      .string()
      .max(1024)
      .optional()
      .describe("The previous page's `next_cursor`, to read the page after it."),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since <= q.until, {
    message: 'expected since at or before until',
    path: ['until'],
  });

/** A contact as the ledger holds it: the data-contract row and the ledger's own fields. */
export const contactRecordSchema = z.strictObject({
  ...contacts.schema.shape,
  contact_id: z.string(),
  recorded_at: z.string(),
  decision_id: z.string().nullable(),
  reported_ts: z
    .string()
    .nullable()
    .describe(
      "The caller's time when it was ahead of the server clock (within the tolerance) and `ts` became the server's now; null when `ts` is as reported.",
    ),
});

const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    next_cursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` to read the next (older) page; null on the last page.'),
  });

/** A page of an account's contacts, newest `ts` first. */
export const contactsPageSchema = page(contactRecordSchema);
/** A page of an account's decisions, newest `decided_at` first. */
export const decisionsPageSchema = page(decisionRecordSchema);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _ContactRecordDocumented = Assert<Same<z.output<typeof contactRecordSchema>, ContactRecord>>;

/** A cursor: the last record's time (epoch ms) and id, base64url JSON — opaque to clients. */
function encodeCursor(ms: number, id: string): string {
  return Buffer.from(JSON.stringify([ms, id]), 'utf8').toString('base64url');
}

function decodeCursor(c: string): AuditQuery['before'] {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string')
      return { ms: v[0], id: v[1] };
  } catch {
    // fall through: named below
  }
  throw HttpError.invalid(
    [{ path: 'query.cursor', message: 'expected a next_cursor from a previous page', got: describeValue(c) }],
    'the query string',
  );
}

/** The account id from the path (URL-decoded by the router), validated like every identifier. */
export function accountIdOf(raw: string): string {
  const problem = identifierProblem(raw);
  if (problem !== null)
    throw HttpError.invalid(
      [{ path: 'params.account_id', message: problem, got: describeValue(raw) }],
      'the path',
    );
  return raw;
}

function parseQuery(raw: unknown): Omit<AuditQuery, 'accountId'> {
  const parsed = auditQuerySchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw HttpError.invalid(fieldIssues(parsed.error, 'query'), 'the query string');
  const q = parsed.data;
  return {
    sinceMs: q.since ?? null,
    untilMs: q.until ?? null,
    limit: q.limit ?? AUDIT_PAGE.default,
    before: q.cursor === undefined ? null : decodeCursor(q.cursor),
  };
}

/**
 * `GET /v1/accounts/:id/contacts` and `GET /v1/accounts/:id/decisions`, for keys with the `audit` or `score`
 * scope: `{ items, next_cursor }`, newest first, `since` inclusive and `until` exclusive. An account with no
 * records is an empty page, not a 404: the ledger cannot tell an unknown account from one never contacted.
 */
export function accountRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const reader = <T>(
    what: string,
    read: (q: AuditQuery) => Promise<T[]>,
    at: (r: T) => { ms: number; id: string },
  ) =>
    async function handler(req: { params: { id: string }; query: unknown }) {
      const accountId = accountIdOf(req.params.id);
      const q = { accountId, ...parseQuery(req.query) };
      // One more than the page: whether a next page exists is known without a second query.
      const rows = await ledgerCall(ctx, `read ${what}`, () => read({ ...q, limit: q.limit + 1 }));
      const items = rows.slice(0, q.limit);
      const last = items.at(-1);
      const more = rows.length > q.limit && last !== undefined;
      return { items, next_cursor: more ? encodeCursor(at(last).ms, at(last).id) : null };
    };
  const config = { scope: ['audit', 'score'] as const };
  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id/contacts',
    { config },
    reader(
      'an account’s contacts',
      (q) => ctx.ledger.contactHistory(q),
      (c) => ({ ms: Date.parse(c.ts), id: c.contact_id }),
    ),
  );
  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id/decisions',
    { config },
    reader(
      'an account’s decisions',
      (q) => ctx.ledger.decisionHistory(q),
      (d) => ({ ms: Date.parse(d.decided_at), id: d.decision_id }),
    ),
  );
}
