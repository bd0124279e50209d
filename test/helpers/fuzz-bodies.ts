import fc from 'fast-check';
import { makeContact } from './account.ts';
import { scoreBody, T0 } from './service.ts';

/**
 * Malformed and odd request bodies for the API fuzzers (test/http-fuzz.test.ts in process, bench/fuzz-api.ts over
 * real HTTP): mutations of valid bodies (dropped fields, changed types, huge numbers, NaN-like strings, deep
 * nesting, unicode, oversized arrays) and the valid bodies they start from.
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every node's path, down to depth 8 (the valid bodies are 5 deep; a deeply nested value counts as one node). */
function pathsOf(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (at.length >= 8) return out;
  if (Array.isArray(v)) for (const [i, x] of v.entries()) pathsOf(x, [...at, i], out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

function getAt(v: Json, path: Path): Json {
  let cur: Json = v;
  for (const p of path) cur = (cur as Record<string | number, Json>)[p] as Json;
  return cur;
}

/** Replaces (or, with `undefined`, removes) the node at `path`; the root is replaced by returning the value. */
function setAt(root: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json> | Json[];
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    if (value === undefined) parent.splice(last as number, 1);
    else parent[last as number] = value;
  } else if (value === undefined) delete parent[last as string];
  else parent[last as string] = value;
  return root;
}

const hugeNumbers = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2 ** 53 + 2,
  -(2 ** 63),
  1e-320,
  0,
  -1,
  0.1 + 0.2,
  123456789012345680000,
);
const nanLike = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '0x1F',
  '',
  ' ',
  'null',
  'true',
  '-0',
  '١٢٣',
);
/** Odd strings: graphemes, any code point, NUL, RLO, lone surrogate, full-width digits. */
export const unicode = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    '\u202eevil',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    '👩‍👩‍👧‍👦',
    '\ud800',
    'Ａ０００１',
    'A0001\n',
    '2026-11-24T15:00:00Z\u0000',
  ),
);
const keyName = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'accounts',
    'account',
    'hasOwnProperty',
  ),
);

/** A value nested `depth` levels deep in arrays or objects. */
const deep = fc
  .record({ depth: fc.integer({ min: 1, max: 600 }), kind: fc.constantFrom('array', 'object') })
  .map(({ depth, kind }) => {
    let v: Json = 1;
    for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
    return v;
  });

/** One mutation of a body: delete, replace (JSON, huge numbers, NaN-like, unicode, deep), swap type, add a key, grow an array. */
export const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hugeNumbers }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: nanLike }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: unicode }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: deep }),
  fc.record({ op: fc.constant('swapType' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('addKey' as const),
    at: fc.nat(),
    key: keyName,
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ op: fc.constant('grow' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 400 }) }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

/** Applies mutations to a copy of `base`, each at a node chosen among the current ones. */
export function mutate(base: Json, ms: readonly Mutation[]): Json {
  let root = structuredClone(base);
  for (const m of ms) {
    const all = pathsOf(root);
    const path = all[m.at % all.length]!;
    const node = getAt(root, path);
    switch (m.op) {
      case 'delete':
        root = setAt(root, path, undefined);
        break;
      case 'replace':
        root = setAt(root, path, m.value as Json);
        break;
      case 'swapType':
        root = setAt(
          root,
          path,
          typeof node === 'number'
            ? String(node)
            : typeof node === 'string'
              ? Number(node) || node.length
              : typeof node === 'boolean'
                ? Number(node)
                : Array.isArray(node)
                  ? { ...node }
                  : node && typeof node === 'object'
                    ? Object.values(node)
                    : [node],
        );
        break;
      case 'addKey':
        if (node && typeof node === 'object' && !Array.isArray(node)) node[m.key] = m.value as Json;
        break;
      case 'grow':
        // Oversized arrays: repeat the array's first element (past the batch and contact limits).
        if (Array.isArray(node) && node.length > 0)
          node.push(...Array.from({ length: m.times }, () => node[0]!));
        break;
    }
  }
  return root;
}

const contact = (i: number) =>
  ({
    ...makeContact({ ts: new Date(Date.parse(T0) - (i + 1) * 86_400_000).toISOString() }),
    channel: (['call', 'sms', 'email'] as const)[i % 3]!,
  }) as Json;

/** Valid score bodies: one account with contacts, and a batch of two. */
export const validScoreBodies: Json[] = [
  { ...scoreBody(), contacts: [contact(0), contact(1)] } as unknown as Json,
  {
    accounts: [scoreBody({ account_id: 'F1' }), scoreBody({ account_id: 'F2', product: 'personal_loan' })],
  } as unknown as Json,
];
/** A valid contacts body. */
export const validContactBodies: Json[] = [
  { contacts: [contact(0), { ...(contact(1) as object), decision_id: 'f-1' } as Json] },
];

/** A valid score body and 1-4 mutations to apply to it. */
export const scoreMutations = fc.record({
  base: fc.constantFrom(...validScoreBodies),
  ms: fc.array(mutation, { minLength: 1, maxLength: 4 }),
});
/** A valid contacts body and 1-4 mutations to apply to it. */
export const contactMutations = fc.record({
  base: fc.constantFrom(...validContactBodies),
  ms: fc.array(mutation, { minLength: 1, maxLength: 4 }),
});
