import type { ColumnSpec } from '../core/schema/columns.ts';
import { sqlString } from './duckdb.ts';

/*
 * The data contract's cell rules (src/core/schema/columns.ts: `cellParser`) as SQL over a text cell, so DuckDB
 * checks a whole file in its own threads and hands back only the failing cells. test/cell-sql.test.ts holds these
 * predicates equal to `cellParser` on edge cases and random strings.
 */

const INT_RE = sqlString('-?[0-9]+');
const NUM_RE = sqlString('-?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?');
const DATE_RE = sqlString('[0-9]{4}-[0-9]{2}-[0-9]{2}');
const TS_RE = sqlString(
  '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})',
);
const TRUE = `('true', '1', 'TRUE', 'True')`;
const FALSE = `('false', '0', 'FALSE', 'False')`;

const range = (v: string, min?: number, max?: number) =>
  [min === undefined ? null : `${v} >= ${min}`, max === undefined ? null : `${v} <= ${max}`]
    .filter((s) => s !== null)
    .join(' AND ') || 'true';

/** A real calendar date in the first 10 characters (DuckDB's own date cast decides, as `isIsoDate` does). */
const realDate = (x: string) => `TRY_CAST(substr(${x}, 1, 10) AS DATE) IS NOT NULL`;

/**
 * SQL that is true when the text cell `x` (NULL or '' = empty) breaks the column's rule, and false otherwise
 * (never NULL, so it can be OR-ed and counted).
 */
export function invalidCellSql(col: ColumnSpec, x: string): string {
  const empty = `(${x} IS NULL OR ${x} = '')`;
  const k = col.kind;
  let bad: string;
  switch (k.type) {
    case 'id':
    case 'text':
      bad = 'false';
      break;
    case 'enum':
      bad = `${x} NOT IN (${k.values.map(sqlString).join(', ')})`;
      break;
    case 'int':
      bad = `NOT (regexp_full_match(${x}, ${INT_RE}) AND coalesce(${range(`TRY_CAST(${x} AS DOUBLE)`, k.min, k.max)}, false))`;
      break;
    case 'number': {
      const v = `TRY_CAST(${x} AS DOUBLE)`;
      bad = `NOT (regexp_full_match(${x}, ${NUM_RE}) AND coalesce(isfinite(${v}) AND ${range(v, k.min, k.max)}, false))`;
      break;
    }
    case 'date':
      bad = `NOT (regexp_full_match(${x}, ${DATE_RE}) AND ${realDate(x)})`;
      break;
    case 'timestamp':
      bad = `NOT (regexp_full_match(${x}, ${TS_RE}) AND ${realDate(x)} AND coalesce(TRY_CAST(regexp_extract(${x}, ${TS_RE}, 1) AS INTEGER) < 24 AND TRY_CAST(regexp_extract(${x}, ${TS_RE}, 2) AS INTEGER) < 60 AND coalesce(TRY_CAST(nullif(regexp_extract(${x}, ${TS_RE}, 3), '') AS INTEGER), 0) < 60, false))`;
      break;
    case 'bool':
      bad = `${x} NOT IN ${TRUE} AND ${x} NOT IN ${FALSE}`;
      break;
  }
  return col.nullable ? `(NOT ${empty} AND coalesce(${bad}, true))` : `(${empty} OR coalesce(${bad}, true))`;
}

/**
 * SQL turning a text cell the contract accepts into the store's typed form: numbers and integers DOUBLE (NaN
 * when empty), dates INTEGER days since 1970-01-01 (-1 when empty), timestamps DOUBLE epoch
 * milliseconds (NaN when empty), flags TINYINT 0/1, enums TINYINT positions in the contract's list (255 when
 * empty), ids and text VARCHAR. On a cell the contract refuses the result is unspecified: read only what passed.
 */
export function typedCellSql(col: ColumnSpec, x: string): string {
  const k = col.kind;
  switch (k.type) {
    case 'id':
    case 'text':
      return x;
    case 'enum':
      return `CAST(coalesce(list_position([${k.values.map(sqlString).join(', ')}], ${x}) - 1, 255) AS UTINYINT)`;
    case 'int':
    case 'number':
      return `coalesce(TRY_CAST(${x} AS DOUBLE), 'NaN'::DOUBLE)`;
    case 'date':
      return dayNumberSql(x);
    case 'timestamp':
      return `coalesce(CAST(epoch_ms(TRY_CAST(${x} AS TIMESTAMPTZ)) AS DOUBLE), 'NaN'::DOUBLE)`;
    case 'bool':
      return `CAST(${x} IN ${TRUE} AS UTINYINT)`;
  }
}

/** Days since 1970-01-01 of a text date (INTEGER; -1 when empty or not a date). */
export function dayNumberSql(x: string): string {
  return `CAST(coalesce(TRY_CAST(substr(${x}, 1, 10) AS DATE) - DATE '1970-01-01', -1) AS INTEGER)`;
}
