import { z } from 'zod';
import { plainCheck } from './check-predicates.ts';

/**
 * Identifiers a caller sends (`account_id`, `customer_id`, `decision_id`, `agent_id` …): what the ledger stores and
 * later matches contacts and decisions by. An id that cannot be stored exactly — a lone UTF-16 surrogate becomes
 * U+FFFD on the way to UTF-8, so seven recorded calls would never match the account again — or that would bloat
 * every row and log line is refused at the boundary instead.
 */

/** Longest identifier accepted, in characters (Unicode code points, as JSON Schema's `maxLength` counts). */
export const MAX_ID_LENGTH = 128;

/** C0 controls, DEL and C1 controls: invisible in logs and terminals, never part of a real identifier. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** In unicode mode a surrogate pair is one code point, so this matches only a surrogate standing alone. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** The same rule as a JSON Schema `pattern` (for the OpenAPI document). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: excluding control characters is the point
const NO_CONTROL_PATTERN = /^(?!\ufeff)[^\u0000-\u001f\u007f-\u009f]*$/;

/** Characters (code points) in `s`; null when there are surely more than `limit` (not counted: it may be megabytes). */
function codePoints(s: string, limit: number): number | null {
  // Each code point is one or two UTF-16 units, so the length bounds the count from both sides cheaply.
  if (s.length <= limit) return s.length;
  if (s.length > 2 * limit) return null;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `U+D800` */
const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * What is wrong with `s` as an identifier, in words ("expected …; got …"), or null when it is one: 1 to
 * MAX_ID_LENGTH characters, well-formed Unicode (no lone surrogate), no control character, no leading U+FEFF.
 */
export function identifierProblem(s: string): string | null {
  const expected = `expected an identifier of 1-${MAX_ID_LENGTH} characters of well-formed Unicode without control characters`;
  if (s.length === 0) return `${expected}; got an empty string`;
  const n = codePoints(s, MAX_ID_LENGTH);
  if (n === null) return `${expected}; got ${s.length} UTF-16 code units (over ${MAX_ID_LENGTH} characters)`;
  if (n > MAX_ID_LENGTH) return `${expected}; got ${n} characters`;
  const lone = LONE_SURROGATE.exec(s);
  if (lone)
    return `${expected}; got a lone UTF-16 surrogate ${hex(lone[0].charCodeAt(0))} at index ${lone.index}`;
  const m = CONTROL.exec(s);
  if (m) return `${expected}; got the control character ${hex(m[0].charCodeAt(0))} at index ${m.index}`;
  // UTF-8 decoders drop a leading byte-order mark unless told not to (the DuckDB client does), so such an id
  // would come back from the ledger as another id and its contacts would never count. It is nearly always a
  // file's BOM carried into the first field anyway.
  if (s.charCodeAt(0) === 0xfeff)
    return `${expected}, not starting with U+FEFF; got a byte-order mark U+FEFF at index 0`;
  return null;
}

/**
 * A zod schema of one identifier (a fresh instance each call, so each column can carry its own description in
 * the OpenAPI document). Validation is `identifierProblem`; the generated JSON Schema states the same limits as
 * `minLength` 1, `maxLength` MAX_ID_LENGTH and a `pattern` without control characters (JSON Schema counts code
 * points too). Well-formedness has no JSON Schema keyword; docs/api.md states it.
 */
export function identifier() {
  const bounds = z.check<string>(() => {});
  // zod's own length checks count UTF-16 units; this states the code-point rule to the JSON Schema generator only.
  bounds._zod.onattach.push((inst) => {
    const bag = inst._zod.bag as { minimum?: number; maximum?: number; patterns?: Set<RegExp> };
    bag.minimum = 1;
    bag.maximum = MAX_ID_LENGTH;
    bag.patterns ??= new Set();
    bag.patterns.add(NO_CONTROL_PATTERN);
  });
  // The compiled request check runs these two as plain functions (check-predicates.ts): zod's superRefine makes a
  // context per call, a few hundred nanoseconds for each of a request's ids.
  const bounded = plainCheck(z.string().check(bounds), null);
  return plainCheck(
    bounded.superRefine((s, ctx) => {
      const problem = identifierProblem(s);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: s });
    }),
    (s: string) => identifierProblem(s) === null,
  );
}

/** One identifier (see `identifier`); use `identifier()` where a field needs its own schema instance. */
export const identifierSchema = identifier();
