import type { FastifyInstance } from 'fastify';
import { fieldIssues } from '../../core/schema/issues.ts';
import { stampReportedTimes } from '../../core/time/skew.ts';
import type { ContactRecord } from '../../ledger/contract.ts';
import { ledgerCall, type RouteContext } from '../context.ts';
import { HttpError } from '../errors.ts';
import { contactsRequestParser } from '../request-validation.ts';

/**
 * `POST /v1/contacts`: records contact attempts, all or nothing — one invalid row refuses the whole request with
 * every failing path, so a dialer never has to work out which half of its upload landed. 201 with the ledger's
 * contact ids (request order) once the append is durable.
 */
export function contactRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const parseContacts = contactsRequestParser(ctx.limits.maxContacts);
  app.post('/v1/contacts', { config: { scope: 'contacts' } }, async (req, reply) => {
    if (req.body === undefined)
      throw new HttpError(400, 'invalid_request', 'a JSON body is required', [
        { path: '(root)', message: 'required: { "contacts": [...] }' },
      ]);
    const parsed = parseContacts(req.body);
    if (!parsed.success) throw HttpError.invalid(fieldIssues(parsed.error));
    const rows = parsed.data.contacts;
    req.batchSize = rows.length;
    const now = ctx.now();
    // A time slightly ahead of the server's (a fast dialer clock) becomes now, so the contact counts at once;
    // one further ahead, or before the service's dates begin, refuses the request like any invalid field.
    const stamped = stampReportedTimes(rows, now, 'contacts');
    if (stamped.issues.length) throw HttpError.invalid(stamped.issues);
    const recordedAt = new Date(now).toISOString();
    const records: ContactRecord[] = stamped.rows.map(({ decision_id, ...row }, i) => ({
      ...row,
      contact_id: ctx.newId(),
      recorded_at: recordedAt,
      decision_id: decision_id ?? null,
      // What the caller said when its time was ahead and became now (the audit trail keeps both).
      reported_ts: row.ts === rows[i]!.ts ? null : rows[i]!.ts,
    }));
    const body = { recorded: records.length, contact_ids: records.map((r) => r.contact_id) };
    // With an Idempotency-Key, the answer is committed with the contacts (src/http/idempotency.ts).
    const answer = req.idempotency?.answer(201, body);
    await ledgerCall(ctx, 'record contacts', () => ctx.ledger.appendContacts(records, answer));
    ctx.metrics.contacts.inc({}, records.length);
    return reply.status(201).send(body);
  });
}
