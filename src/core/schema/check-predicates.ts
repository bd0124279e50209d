import type { z } from 'zod';

/**
 * zod checks that a compiled validator may run as a plain function instead of through zod's issue machinery (the
 * compiled request check in service/compiled-parse.ts): a `superRefine` whose only effect is one issue when a
 * predicate fails is that predicate, and a check that only informs the JSON Schema generator is nothing (null).
 * zod itself still runs the check as written, and words the issue.
 */
const PLAIN = new WeakMap<object, ((value: never) => boolean) | null>();

/** Declares the last check of `schema` equal to `predicate` (null: it never refuses a value). */
export function plainCheck<S extends z.ZodType>(schema: S, predicate: ((value: never) => boolean) | null): S {
  const checks = (schema as unknown as { _zod: { def: { checks?: object[] } } })._zod.def.checks;
  const last = checks?.at(-1);
  if (!last) throw new Error('plainCheck: the schema has no check');
  PLAIN.set(last, predicate);
  return schema;
}

/** The plain form of a check: its predicate, null when it refuses nothing, undefined when it has none. */
export function plainPredicateOf(check: object): ((value: unknown) => boolean) | null | undefined {
  return PLAIN.get(check) as ((value: unknown) => boolean) | null | undefined;
}
