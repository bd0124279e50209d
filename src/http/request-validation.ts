import { Ajv, type ValidateFunction } from 'ajv';
import type { z } from 'zod';
import { archiveSchema } from '../core/scoring/input.ts';
import { buildOpenApi } from './openapi.ts';
import { contactsRequestSchema } from './schemas.ts';

/**
 * Request validation on the hot path. A body is checked by a validator compiled (Ajv) from the very JSON Schema
 * the OpenAPI document publishes for it, plus the zod refinements that JSON Schema cannot state (calendar dates,
 * timestamps, time zones, well-formed identifiers, rows naming the archive's own account), run on the validated
 * value. A body that passes goes on without zod; one that fails is parsed by zod, which words the 400 exactly as
 * before (zod stays the one source of the wording and of the rules: the JSON Schema is generated from it). The two
 * accept the same bodies and give the same value: test/hot-path-validation.test.ts holds them to it.
 */

/** What a compiled request schema returns: zod's own result shape, so callers handle one kind of answer. */
export type RequestParse<T> = { success: true; data: T } | { success: false; error: z.ZodError };

/** Marks a value the refinement walk refused. */
const REFUSED: unique symbol = Symbol('refused');
type Walk = (value: unknown) => unknown;

interface ZodCheckInternals {
  _zod: {
    def: { check: string; type?: string; fn?: (value: unknown) => unknown; when?: unknown };
    check: (payload: CheckPayload) => unknown;
  };
}
interface ZodInternals {
  _zod: {
    def: {
      type: string;
      checks?: ZodCheckInternals[];
      innerType?: z.ZodType;
      element?: z.ZodType;
      shape?: Record<string, z.ZodType>;
      catchall?: z.ZodType;
      defaultValue?: unknown;
    };
  };
}
interface CheckPayload {
  value: unknown;
  issues: unknown[];
}

const internals = (s: z.ZodType) => s as unknown as ZodInternals;

/**
 * One custom check of a zod schema as a predicate. A `refine` is its function (zod refuses a falsy result); any
 * other check (`superRefine`, `z.check`) runs as zod runs it, on a payload, and passes when it adds no issue.
 */
function predicateOf(c: ZodCheckInternals): (value: unknown) => boolean {
  const { type, fn, when } = c._zod.def;
  // A check that runs only `when` something holds would need zod's own runner: none of the request schemas has one.
  if (when !== undefined) throw new Error('request validation: no compiled walk for a check with `when`');
  if (type === 'custom' && typeof fn === 'function')
    return (value) => {
      const r = fn(value);
      return !(r instanceof Promise) && Boolean(r);
    };
  // One payload per check: checks never nest (a parent's run after its children's are done).
  const payload: CheckPayload = { value: undefined, issues: [] };
  return (value) => {
    payload.value = value;
    payload.issues.length = 0;
    return !(c._zod.check(payload) instanceof Promise) && payload.issues.length === 0;
  };
}

/**
 * The walk of a validated value that does what the JSON Schema cannot: runs the schema's custom checks (zod
 * `refine` / `superRefine`), fills `default`s and drops the keys a non-strict zod object strips. Returns null when
 * the schema needs none of that (the value is its own output). Only the zod types request schemas use are known;
 * any other is refused when the app is built, never silently skipped.
 */
function walkOf(schema: z.ZodType): Walk | null {
  const def = internals(schema)._zod.def;
  const checks = (def.checks ?? []).filter((c) => c._zod.def.check === 'custom').map(predicateOf);
  const inner = innerWalk(schema, def);
  if (!checks.length) return inner;
  if (!inner && checks.length === 1) {
    const only = checks[0]!;
    return (value) => (only(value) ? value : REFUSED);
  }
  return (value) => {
    const out = inner ? inner(value) : value;
    if (out === REFUSED) return REFUSED;
    for (const ok of checks) if (!ok(out)) return REFUSED;
    return out;
  };
}

function innerWalk(schema: z.ZodType, def: ZodInternals['_zod']['def']): Walk | null {
  switch (def.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'enum':
    case 'literal':
    case 'null':
    case 'unknown':
      return null;
    case 'optional': {
      const w = walkOf(def.innerType!);
      return w && ((v) => (v === undefined ? v : w(v)));
    }
    case 'nullable': {
      const w = walkOf(def.innerType!);
      return w && ((v) => (v === null ? v : w(v)));
    }
    case 'default': {
      // zod gives the default (a fresh copy) for a missing value without parsing it further.
      const w = walkOf(def.innerType!);
      return (v) => (v === undefined ? structuredClone(def.defaultValue) : w ? w(v) : v);
    }
    case 'array': {
      const w = walkOf(def.element!);
      if (!w) return null;
      return (v) => {
        const a = v as unknown[];
        let out: unknown[] | null = null;
        for (let i = 0; i < a.length; i++) {
          const r = w(a[i]);
          if (r === REFUSED) return REFUSED;
          if (r !== a[i]) {
            out ??= a.slice(0, i);
          }
          if (out) out.push(r);
        }
        return out ?? a;
      };
    }
    case 'object':
      return objectWalk(def.shape!, def.catchall);
    default:
      throw new Error(`request validation: no compiled walk for a zod ${def.type} (${String(schema)})`);
  }
}

function objectWalk(shape: Record<string, z.ZodType>, catchall: z.ZodType | undefined): Walk | null {
  const keys = Object.keys(shape);
  // z.object strips unknown keys; z.strictObject refuses them (the JSON Schema's additionalProperties: false does);
  // z.looseObject keeps them as they are. A catchall with checks of its own is not walked: refused at build time.
  const rest = catchall && internals(catchall)._zod.def.type;
  if (rest !== undefined && rest !== 'never' && rest !== 'unknown')
    throw new Error(`request validation: no compiled walk for an object with a ${rest} catchall`);
  const strips = catchall === undefined;
  const active = keys.flatMap((k) => {
    const w = walkOf(shape[k]!);
    return w ? [{ k, w }] : [];
  });
  if (!strips && !active.length) return null;
  // A key may be missing only when its schema takes undefined (optional, default): the others were required.
  const optional = keys.filter((k) => shape[k]!.safeParse(undefined).success);
  const required = keys.length - optional.length;
  return (v) => {
    const o = v as Record<string, unknown>;
    let changed: Map<string, unknown> | null = null;
    for (const { k, w } of active) {
      const x = o[k];
      const r = w(x);
      if (r === REFUSED) return REFUSED;
      if (r !== x) {
        changed ??= new Map();
        changed.set(k, r);
      }
    }
    let extra = false;
    if (strips) {
      // Every own key is counted; the body holds an unknown one when there are more than the known ones present.
      let own = 0;
      for (const _ in o) own++;
      let present = required;
      for (const k of optional) if (o[k] !== undefined) present++;
      extra = own > present;
    }
    if (!changed && !extra) return o;
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const x = changed?.has(k) ? changed.get(k) : o[k];
      if (x !== undefined) out[k] = x;
    }
    if (!strips) for (const k in o) if (!Object.hasOwn(shape, k)) out[k] = o[k];
    return out;
  };
}

/** The compiled check alone: the value zod would give, or undefined when it refuses the body (no zod run). */
export type CompiledCheck<T> = (body: unknown) => { value: T } | undefined;

/**
 * The compiled check of a request schema: `jsonSchema` must be the JSON Schema the OpenAPI document publishes for
 * `schema` (it is generated from it). Exposed so a test can hold it equal to zod's own parse.
 */
export function compileRequestCheck<S extends z.ZodType>(
  schema: S,
  jsonSchema: Record<string, unknown>,
): CompiledCheck<z.output<S>> {
  const check: ValidateFunction = ajv().compile(jsonSchema);
  const walk = walkOf(schema);
  return (body) => {
    if (!check(body)) return undefined;
    const value = walk ? walk(body) : body;
    return value === REFUSED ? undefined : { value: value as z.output<S> };
  };
}

/**
 * A request schema compiled for the hot path, with zod's `safeParse` contract (with `reportInput`): a body the
 * compiled check takes never meets zod; any other is parsed by zod, whose issues the 400 lists.
 */
export function compileRequestSchema<S extends z.ZodType>(
  schema: S,
  jsonSchema: Record<string, unknown>,
): (body: unknown) => RequestParse<z.output<S>> {
  const check = compileRequestCheck(schema, jsonSchema);
  return (body) => {
    const ok = check(body);
    if (ok) return { success: true, data: ok.value };
    return schema.safeParse(body, { reportInput: true }) as RequestParse<z.output<S>>;
  };
}

/**
 * Ajv as JSON Schema means it: no type coercion, no defaults written into the body, no keys removed (the walk does
 * what zod does), numbers finite, strings' lengths in code points, patterns as Unicode regular expressions.
 */
function ajv(): Ajv {
  return new Ajv({
    allErrors: false,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    strictNumbers: true,
    unicodeRegExp: true,
    strict: false,
    validateFormats: false,
    logger: false,
  });
}

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
