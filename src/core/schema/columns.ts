import { z } from 'zod';
import { identifier } from './ids.ts';
import { DATE_YEARS, isIsoDate, isIsoTimestamp } from './iso-text.ts';

// In a module of their own so the CLI can check dates in its options without loading zod.
export { DATE_YEARS, isIsoDate, isIsoTimestamp };

/**
 * The kinds of column a data-contract table can have. Each kind has one cell parser (for files, where every
 * cell arrives as text) and one zod schema (for JSON bodies), both derived from this one description.
 */
export type ColumnKind =
  | { type: 'id' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'int'; min?: number; max?: number }
  | { type: 'number'; min?: number; max?: number }
  | { type: 'date' }
  | { type: 'timestamp' }
  | { type: 'bool' }
  | { type: 'text' };

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** True when an empty cell (or JSON null) is allowed; the value is then `null`. */
  nullable: boolean;
  /** Unit of the value (e.g. "currency", "days", "probability"); shown in docs. */
  unit?: string;
  /** What the column means, in one or two sentences; shown in docs/data-contract.md. */
  description: string;
}

export interface TableSpec {
  name: string;
  description: string;
  /** Columns that must be present, in the canonical order the generator writes them. */
  columns: readonly ColumnSpec[];
  /** Columns that identify a row (documented, and checked by the generator's tests). */
  key: readonly string[];
}

/** Human wording of what a column accepts, used in error messages and docs. */
export function describeKind(col: ColumnSpec): string {
  const k = col.kind;
  let base: string;
  switch (k.type) {
    case 'id':
      base = 'a non-empty identifier';
      break;
    case 'text':
      base = 'text';
      break;
    case 'enum':
      base = `one of ${k.values.join('|')}`;
      break;
    case 'int':
      base = `an integer${rangeText(k.min, k.max)}`;
      break;
    case 'number':
      base = `a number${rangeText(k.min, k.max)}`;
      break;
    case 'date':
      base = `an ISO date YYYY-MM-DD (years ${DATE_YEARS.min}-${DATE_YEARS.max})`;
      break;
    case 'timestamp':
      base = `an ISO 8601 timestamp with offset (e.g. 2024-03-01T14:05:00Z; years ${DATE_YEARS.min}-${DATE_YEARS.max})`;
      break;
    case 'bool':
      base = 'true|false (or 1|0)';
      break;
  }
  return col.nullable ? `${base} or empty` : base;
}

/** 1e12 rather than 1000000000000 in messages and docs. */
const num = (n: number) => (Math.abs(n) >= 1e9 ? n.toExponential().replace('e+', 'e') : String(n));

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` in [${num(min)}, ${num(max)}]`;
  if (min !== undefined) return ` >= ${num(min)}`;
  if (max !== undefined) return ` <= ${num(max)}`;
  return '';
}

const INT_RE = /^-?\d+$/;
const NUM_RE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A parsed cell value. Dates and timestamps stay ISO strings (cheap to compare, exact to round-trip). */
export type CellValue = string | number | boolean | null;

/** Result of parsing one cell: the value, or what was wrong with it. */
export type CellResult = { ok: true; value: CellValue } | { ok: false };

const OK_NULL: CellResult = { ok: true, value: null };
const BAD: CellResult = { ok: false };

/**
 * Builds a parser from text to a typed value for one column. Empty text (or DuckDB NULL) is null, which
 * only nullable columns accept. Parsers are built once per column so the per-cell work is a few checks.
 */
export function cellParser(col: ColumnSpec): (raw: string | null) => CellResult {
  const k = col.kind;
  const nullable = col.nullable;
  const wrap =
    (f: (s: string) => CellResult) =>
    (raw: string | null): CellResult => {
      if (raw === null || raw === '') return nullable ? OK_NULL : BAD;
      return f(raw);
    };
  switch (k.type) {
    case 'id':
    case 'text':
      return wrap((s) => ({ ok: true, value: s }));
    case 'enum': {
      const allowed = new Set(k.values);
      return wrap((s) => (allowed.has(s) ? { ok: true, value: s } : BAD));
    }
    case 'int':
      return wrap((s) => {
        if (!INT_RE.test(s)) return BAD;
        const v = Number(s);
        return inRange(v, k.min, k.max) ? { ok: true, value: v } : BAD;
      });
    case 'number':
      return wrap((s) => {
        if (!NUM_RE.test(s)) return BAD;
        const v = Number(s);
        return Number.isFinite(v) && inRange(v, k.min, k.max) ? { ok: true, value: v } : BAD;
      });
    case 'date':
      return wrap((s) => (isIsoDate(s) ? { ok: true, value: s } : BAD));
    case 'timestamp':
      return wrap((s) => (isIsoTimestamp(s) ? { ok: true, value: s } : BAD));
    case 'bool':
      return wrap((s) => {
        if (s === 'true' || s === '1' || s === 'TRUE' || s === 'True') return { ok: true, value: true };
        if (s === 'false' || s === '0' || s === 'FALSE' || s === 'False') return { ok: true, value: false };
        return BAD;
      });
  }
}

function inRange(v: number, min?: number, max?: number): boolean {
  return (min === undefined || v >= min) && (max === undefined || v <= max);
}

/** A column definition: its spec plus a zod schema whose static type follows the column kind. */
export interface Column<Z extends z.ZodType> extends ColumnSpec {
  zod: Z;
}

interface ColumnOpts {
  unit?: string;
}

function make<Z extends z.ZodType>(
  kind: ColumnKind,
  description: string,
  zod: Z,
  opts: ColumnOpts = {},
): Column<Z> {
  return { name: '', kind, nullable: false, description, zod, ...(opts.unit ? { unit: opts.unit } : {}) };
}

const isoDate = () => z.string().refine(isIsoDate, { message: 'expected an ISO date YYYY-MM-DD' });
const isoTimestamp = () =>
  z.string().refine(isIsoTimestamp, { message: 'expected an ISO 8601 timestamp with offset' });

function bounded(n: z.ZodNumber, min?: number, max?: number): z.ZodNumber {
  let out = n;
  if (min !== undefined) out = out.min(min);
  if (max !== undefined) out = out.max(max);
  return out;
}

/**
 * Column builders. Each returns the column's spec (for file parsing and docs) together with its zod schema
 * (for JSON boundaries and static types), so the two can never disagree.
 */
export const col = {
  // JSON boundaries take ids under the identifier rule (length, well-formed Unicode); files are not limited.
  id: (description: string) => make({ type: 'id' }, description, identifier()),
  text: (description: string) => make({ type: 'text' }, description, z.string()),
  enum: <const V extends readonly [string, ...string[]]>(values: V, description: string) =>
    make({ type: 'enum', values }, description, z.enum(values)),
  int: (description: string, o: ColumnOpts & { min?: number; max?: number } = {}) =>
    make({ type: 'int', min: o.min, max: o.max }, description, bounded(z.number().int(), o.min, o.max), o),
  number: (description: string, o: ColumnOpts & { min?: number; max?: number } = {}) =>
    make({ type: 'number', min: o.min, max: o.max }, description, bounded(z.number(), o.min, o.max), o),
  date: (description: string) => make({ type: 'date' }, description, isoDate()),
  timestamp: (description: string) => make({ type: 'timestamp' }, description, isoTimestamp()),
  bool: (description: string) => make({ type: 'bool' }, description, z.boolean()),
};

/** The same column, but an empty cell / JSON null is allowed and read as `null`. */
export function nullable<Z extends z.ZodType>(c: Column<Z>): Column<z.ZodNullable<Z>> {
  return { ...c, nullable: true, zod: c.zod.nullable() };
}

/** A data-contract table: its spec (ordered columns) and the zod schema of one row. */
export interface Table<S extends z.ZodRawShape> extends TableSpec {
  schema: z.ZodObject<S>;
}

/** Defines a table from an object of columns; the object's key order is the canonical column order. */
export function defineTable<C extends Record<string, Column<z.ZodType>>>(
  name: string,
  description: string,
  key: readonly (keyof C & string)[],
  columns: C,
): Table<{ [K in keyof C]: C[K]['zod'] }> {
  const specs: ColumnSpec[] = Object.entries(columns).map(([n, c]) => {
    const { zod: _zod, ...spec } = c;
    return { ...spec, name: n };
  });
  const shape = Object.fromEntries(Object.entries(columns).map(([n, c]) => [n, c.zod])) as {
    [K in keyof C]: C[K]['zod'];
  };
  return { name, description, key, columns: specs, schema: z.object(shape) };
}
