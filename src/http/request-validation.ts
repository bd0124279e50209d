import type { z } from 'zod';
import { archiveSchema } from '../core/scoring/input.ts';
import { compileRequestSchema, type RequestParse } from '../service/compiled-parse.ts';
import { buildOpenApi } from './openapi.ts';
import { contactsRequestSchema } from './schemas.ts';

/**
 * The request parsers of the API's routes, compiled (service/compiled-parse.ts) from the very JSON Schemas the
 * OpenAPI document publishes for their bodies.
 */

/** The request schemas as the OpenAPI document publishes them (the limits change only the batch sizes). */
export function publishedRequestSchemas(maxContacts: number): {
  archive: Record<string, unknown>;
  contacts: Record<string, unknown>;
} {
  const doc = buildOpenApi({ maxBatch: 1, maxContacts, bodyLimitBytes: 1, version: '0' }) as {
    components: { schemas: Record<string, Record<string, unknown>> };
  };
  return {
    archive: doc.components.schemas.AccountArchive!,
    contacts: doc.components.schemas.ContactsRequest!,
  };
}

type ArchiveParse = (body: unknown) => RequestParse<z.output<typeof archiveSchema>>;
let archiveParse: ArchiveParse | null = null;

/** The parse of one account archive (`POST /v1/score`, and each item of a batch), compiled once per process. */
export function archiveParser(): ArchiveParse {
  archiveParse ??= compileRequestSchema(archiveSchema, publishedRequestSchemas(1).archive);
  return archiveParse;
}

type ContactsParse = (body: unknown) => RequestParse<z.output<ReturnType<typeof contactsRequestSchema>>>;
const contactsParses = new Map<number, ContactsParse>();

/** `POST /v1/contacts` with at most `maxContacts` rows, compiled once per limit. */
export function contactsRequestParser(maxContacts: number): ContactsParse {
  let parse = contactsParses.get(maxContacts);
  if (!parse) {
    parse = compileRequestSchema(
      contactsRequestSchema(maxContacts),
      publishedRequestSchemas(maxContacts).contacts,
    );
    contactsParses.set(maxContacts, parse);
  }
  return parse;
}
