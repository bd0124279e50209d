import type { z } from 'zod';

/** One failing field of a validated input: where, what was expected (zod's message) and what came. */
export interface FieldIssue {
  /** Dotted path to the field (`guardrails.caps.call.attempts`, `contacts.3.ts`); `(root)` for the whole input. */
  path: string;
  message: string;
  /** The offending value, rendered short; absent when the field was missing. */
  got?: string;
}

/** Renders a value in a few characters for an error message. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

/**
 * Every issue of a failed zod parse, with the path prefixed by `prefix` (e.g. `account`). Parse with
 * `{ reportInput: true }` so the offending value can be named.
 */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  const join = (parts: readonly PropertyKey[]) =>
    [prefix, ...parts.map(String)].filter((s) => s !== '').join('.') || '(root)';
  // zod also runs a field's length/range checks on a value of the wrong type ("expected string" and "too
  // small" for `[]`); the type is the one problem to name.
  const wrongType = new Set(error.issues.filter((i) => i.code === 'invalid_type').map((i) => join(i.path)));
  for (const i of error.issues) {
    if (i.code !== 'invalid_type' && wrongType.has(join(i.path))) continue;
    const input = (i as { input?: unknown }).input;
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys)
        out.push({ path: join([...i.path, k]), message: 'unknown field (not in the schema)' });
    } else if (i.code === 'invalid_type' && input === undefined) {
      out.push({ path: join(i.path), message: `required field is missing (expected ${i.expected})` });
    } else if (i.code === 'invalid_value' && input === undefined) {
      out.push({
        path: join(i.path),
        message: `required field is missing (${i.message.replace(/^Invalid option: /, '')})`,
      });
    } else {
      const issue: FieldIssue = { path: join(i.path), message: i.message };
      if (input !== undefined) issue.got = describeValue(input);
      out.push(issue);
    }
  }
  return out;
}

/** `path: message (got value)` */
export function issueText(i: FieldIssue): string {
  return `${i.path}: ${i.message}${i.got === undefined ? '' : ` (got ${i.got})`}`;
}
