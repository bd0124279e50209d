import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import { plainPredicateOf } from '../core/schema/check-predicates.ts';
import { archiveSchema } from '../core/scoring/input.ts';

/**
 * Request validation on the hot path (the score API, `repayrisk score --accounts`). A body is checked by a validator
 * compiled (Ajv) from the JSON Schema generated from its zod schema (for the API, the very one the OpenAPI document
 * publishes: http/request-validation.ts), plus the zod refinements that JSON Schema cannot state (calendar dates,
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
    // Setting an array's length is a runtime call even when it is already 0.
    if (payload.issues.length) payload.issues.length = 0;
    return !(c._zod.check(payload) instanceof Promise) && payload.issues.length === 0;
  };
}

/**
 * The walk of a validated value that does what the JSON Schema cannot: runs the schema's custom checks (zod
 * `refine` / `superRefine`), fills `default`s and drops the keys a non-strict zod object strips. Returns null when
 * the schema needs none of that (the value is its own output). Only the zod types request schemas use are known;
 * any other is refused when the app is built, never silently skipped.
 *
 * The walk is compiled to one JavaScript function per request schema, as Ajv compiles the JSON Schema: each field
 * is read by its name at a site of its own. A generic walk reads `o[k]` for every key of every row at one shared
 * site, which V8 can only treat as a megamorphic keyed load, and calls every field's walk through one shared call
 * site: that walk cost 10 µs of the example archive, ten times Ajv's check of it (bench/hot-path.ts).
 */
function walkOf(schema: z.ZodType): Walk | null {
  const g = new WalkCode();
  const out = g.emit(schema, 'body');
  if (out === null) return null;
  const body = `${g.lines.join('\n')}\nreturn ${out.at};`;
  const make = new Function(
    'REFUSED',
    'hasOwn',
    'structuredClone',
    ...g.refs.map((_, i) => `r${i}`),
    `return (body) => {\n${body}\n};`,
  );
  return make(REFUSED, Object.hasOwn, structuredClone, ...g.refs) as Walk;
}

/** Where a walked value is: the variable holding it, and whether it is always the input itself. */
interface Emitted {
  at: string;
  same: boolean;
}

/** The source of one compiled walk: its lines, and the values (checks, shapes, defaults) the lines refer to. */
class WalkCode {
  readonly lines: string[] = [];
  readonly refs: unknown[] = [];
  private vars = 0;

  /** A fresh variable name. */
  private v(): string {
    return `v${this.vars++}`;
  }

  /** A name for `value` inside the compiled function. */
  private ref(value: unknown): string {
    this.refs.push(value);
    return `r${this.refs.length - 1}`;
  }

  /** Runs `f` with its lines collected apart, and returns them (to be wrapped in a block). */
  private apart(f: () => Emitted | null): { lines: string[]; out: Emitted | null } {
    const start = this.lines.length;
    const out = f();
    return { lines: this.lines.splice(start), out };
  }

  /**
   * Emits the walk of `schema` over the value in `input` and returns where its output is; null when the schema
   * needs no walk (nothing emitted: the output is the input).
   */
  emit(schema: z.ZodType, input: string): Emitted | null {
    const def = internals(schema)._zod.def;
    const checks = (def.checks ?? []).filter((c) => c._zod.def.check === 'custom');
    const inner = this.inner(schema, def, input);
    if (!checks.length) return inner;
    const at = inner?.at ?? input;
    for (const c of checks) {
      const plain = plainPredicateOf(c);
      if (plain === null) continue;
      if (plain !== undefined) {
        this.lines.push(`if (!${this.ref(plain)}(${at})) return REFUSED;`);
        continue;
      }
      const { type, fn } = c._zod.def;
      // A `refine` is its function, called in place (zod refuses a falsy or asynchronous result); any other check
      // runs as zod runs it (predicateOf).
      if (type === 'custom' && typeof fn === 'function' && c._zod.def.when === undefined) {
        const t = this.v();
        this.lines.push(
          `const ${t} = ${this.ref(fn)}(${at});`,
          `if (!${t} || ${t} instanceof Promise) return REFUSED;`,
        );
      } else this.lines.push(`if (!${this.ref(predicateOf(c))}(${at})) return REFUSED;`);
    }
    return { at, same: inner?.same ?? true };
  }

  private inner(schema: z.ZodType, def: ZodInternals['_zod']['def'], input: string): Emitted | null {
    switch (def.type) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'enum':
      case 'literal':
      case 'null':
      case 'unknown':
        return null;
      case 'optional':
        return this.unless(def.innerType!, input, 'undefined');
      case 'nullable':
        return this.unless(def.innerType!, input, 'null');
      case 'default': {
        // zod gives the default (a fresh copy) for a missing value without parsing it further.
        const out = this.v();
        const { lines, out: w } = this.apart(() => this.emit(def.innerType!, input));
        this.lines.push(
          `let ${out};`,
          `if (${input} === undefined) ${out} = structuredClone(${this.ref(def.defaultValue)});`,
          'else {',
          ...lines,
          `${out} = ${w?.at ?? input};`,
          '}',
        );
        return { at: out, same: false };
      }
      case 'array':
        return this.array(def.element!, input);
      case 'object':
        return this.object(def.shape!, def.catchall, input);
      default:
        throw new Error(`request validation: no compiled walk for a zod ${def.type} (${String(schema)})`);
    }
  }

  /** `optional` / `nullable`: the inner walk, skipped for the one value (`undefined`, `null`) taken as it is. */
  private unless(innerType: z.ZodType, input: string, literal: string): Emitted | null {
    const { lines, out: w } = this.apart(() => this.emit(innerType, input));
    if (w === null) return null;
    if (w.same) {
      this.lines.push(`if (${input} !== ${literal}) {`, ...lines, '}');
      return { at: input, same: true };
    }
    const out = this.v();
    this.lines.push(
      `let ${out} = ${input};`,
      `if (${input} !== ${literal}) {`,
      ...lines,
      `${out} = ${w.at};`,
      '}',
    );
    return { at: out, same: false };
  }

  /** An array: each element walked; a copy is made from the first element whose walk gives another value. */
  private array(element: z.ZodType, input: string): Emitted | null {
    const i = this.v();
    const e = this.v();
    const { lines, out: w } = this.apart(() => this.emit(element, e));
    if (w === null) return null;
    if (w.same) {
      this.lines.push(
        `for (let ${i} = 0; ${i} < ${input}.length; ${i}++) {`,
        `const ${e} = ${input}[${i}];`,
        ...lines,
        '}',
      );
      return { at: input, same: true };
    }
    const out = this.v();
    this.lines.push(
      `let ${out} = ${input};`,
      `for (let ${i} = 0; ${i} < ${input}.length; ${i}++) {`,
      `const ${e} = ${input}[${i}];`,
      ...lines,
      `if (${out} === ${input} && ${w.at} !== ${e}) ${out} = ${input}.slice(0, ${i});`,
      `if (${out} !== ${input}) ${out}.push(${w.at});`,
      '}',
    );
    return { at: out, same: false };
  }

  private object(
    shape: Record<string, z.ZodType>,
    catchall: z.ZodType | undefined,
    input: string,
  ): Emitted | null {
    const keys = Object.keys(shape);
    // z.object strips unknown keys; z.strictObject refuses them (the JSON Schema's additionalProperties: false
    // does); z.looseObject keeps them as they are. A catchall with checks of its own is not walked: refused at
    // build time.
    const rest = catchall && internals(catchall)._zod.def.type;
    if (rest !== undefined && rest !== 'never' && rest !== 'unknown')
      throw new Error(`request validation: no compiled walk for an object with a ${rest} catchall`);
    const strips = catchall === undefined;
    const read = new Map<string, string>();
    const walked = new Map<string, string>();
    const lines: string[] = [];
    for (const k of keys) {
      const x = this.v();
      const { lines: own, out: w } = this.apart(() => this.emit(shape[k]!, x));
      if (w === null) continue;
      lines.push(`const ${x} = ${input}[${JSON.stringify(k)}];`, ...own);
      read.set(k, x);
      if (!w.same) walked.set(k, w.at);
    }
    if (!strips && !read.size) return null;
    this.lines.push(...lines);
    const changed = [...walked].map(([k, at]) => `${at} !== ${read.get(k)}`);
    if (strips) {
      // Every own key is counted; the body holds an unknown one when there are more than the known ones present
      // (a key may be missing only when its schema takes undefined: the others were required).
      const optional = keys.filter((k) => shape[k]!.safeParse(undefined).success);
      const own = this.v();
      this.lines.push(`let ${own} = 0;`, `for (const _ in ${input}) ${own}++;`);
      changed.push(
        `${own} > ${keys.length - optional.length}${optional.map((k) => ` + (${input}[${JSON.stringify(k)}] !== undefined)`).join('')}`,
      );
    }
    if (!changed.length) return { at: input, same: true };
    const out = this.v();
    const cells = keys.map((k) => {
      const x = walked.get(k) ?? `${input}[${JSON.stringify(k)}]`;
      return `if (${x} !== undefined) ${out}[${JSON.stringify(k)}] = ${x};`;
    });
    const shapeRef = this.ref(shape);
    this.lines.push(
      `let ${out} = ${input};`,
      `if (${changed.map((c) => `(${c})`).join(' || ')}) {`,
      `${out} = {};`,
      ...cells,
      ...(strips ? [] : [`for (const k in ${input}) if (!hasOwn(${shapeRef}, k)) ${out}[k] = ${input}[k];`]),
      '}',
    );
    return { at: out, same: false };
  }
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

/**
 * The JSON Schema of `schema` as the OpenAPI document generates it (zod's `toJSONSchema` of the input), without the
 * document's descriptions: the same constraints (test/hot-path-validation.test.ts holds them equal), for a caller
 * outside the HTTP layer.
 */
export function requestJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

type ArchiveParse = (body: unknown) => RequestParse<z.output<typeof archiveSchema>>;
let lineParse: ArchiveParse | null = null;

/**
 * The parse of one account archive outside the API (`repayrisk score --accounts`, a JSON line each): the API's
 * compiled check and zod wording, compiled once per process.
 */
export function archiveLineParser(): ArchiveParse {
  lineParse ??= compileRequestSchema(archiveSchema, requestJsonSchema(archiveSchema));
  return lineParse;
}
