import { type ColumnSpec, DATE_YEARS } from '../core/schema/columns.ts';
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
/** DATE_RE as a GLOB (the same strings: ten characters, digits where digits go), cheaper than a regex. */
const DATE_GLOB = sqlString('[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]');
const TS_GLOB = sqlString('[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z');
const TS_MS_GLOB = sqlString(
  '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z',
);
const TRUE = `('true', '1', 'TRUE', 'True')`;
const FALSE = `('false', '0', 'FALSE', 'False')`;

const range = (v: string, min?: number, max?: number) =>
  [min === undefined ? null : `${v} >= ${min}`, max === undefined ? null : `${v} <= ${max}`]
    .filter((s) => s !== null)
    .join(' AND ') || 'true';

/** A real calendar date in the first 10 characters (DuckDB's own date cast decides, as `isIsoDate` does). */
/** The year (first four characters) inside the contract's DATE_YEARS. */
const inYears = (x: string) => `substr(${x}, 1, 4) BETWEEN '${DATE_YEARS.min}' AND '${DATE_YEARS.max}'`;
const realDate = (x: string) => `TRY_CAST(substr(${x}, 1, 10) AS DATE) IS NOT NULL AND ${inYears(x)}`;

/** The offset of a timestamp is 'Z' or at most 23:59 (as `isIsoTimestamp`). */
const offsetOk = (x: string) =>
  `(right(${x}, 1) = 'Z' OR (TRY_CAST(substr(right(${x}, CASE WHEN substr(${x}, length(${x}) - 2, 1) = ':' THEN 6 ELSE 5 END), 2, 2) AS INTEGER) < 24 AND TRY_CAST(right(${x}, 2) AS INTEGER) < 60))`;

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
      bad = `NOT (regexp_full_match(${x}, ${TS_RE}) AND ${realDate(x)} AND coalesce(TRY_CAST(regexp_extract(${x}, ${TS_RE}, 1) AS INTEGER) < 24 AND TRY_CAST(regexp_extract(${x}, ${TS_RE}, 2) AS INTEGER) < 60 AND coalesce(TRY_CAST(nullif(regexp_extract(${x}, ${TS_RE}, 3), '') AS INTEGER), 0) < 60 AND ${offsetOk(x)}, false))`;
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
 * milliseconds (NaN when empty), flags TINYINT 0/1 (255 when empty), enums TINYINT positions in the contract's list (255 when
 * empty), ids and text VARCHAR (NULL when empty). On a cell the contract refuses the result is unspecified: read only what passed.
 */
export function typedCellSql(col: ColumnSpec, x: string): string {
  const k = col.kind;
  switch (k.type) {
    case 'id':
    case 'text':
      // An empty cell is null, as cellParser reads it (a Parquet file can hold '' where a CSV gives NULL).
      return `nullif(${x}, '')`;
    case 'enum':
      return `CAST(coalesce(list_position([${k.values.map(sqlString).join(', ')}], ${x}) - 1, 255) AS UTINYINT)`;
    case 'int':
    case 'number':
      return `coalesce(TRY_CAST(${x} AS DOUBLE), 'NaN'::DOUBLE)`;
    case 'date':
      return dayNumberSql(x);
    case 'timestamp':
      return epochMsSql(x);
    case 'bool':
      return `CAST(CASE WHEN ${x} IN ${TRUE} THEN 1 WHEN ${x} IN ${FALSE} THEN 0 ELSE 255 END AS UTINYINT)`;
  }
}

/**
 * Days since 1970-01-01 of a text date (INTEGER; -1 when empty or not a contract date). Only a cell of the
 * contract's form is cast: DuckDB's date cast also reads 'infinity', '2024-1-5' and '2024-01-05 ', and a refused
 * cell must read as no date, so a history read names it rather than placing it in or out of a window.
 */
export function dayNumberSql(x: string): string {
  return `CAST(coalesce(CASE WHEN ${x} GLOB ${DATE_GLOB} AND ${inYears(x)} THEN TRY_CAST(${x} AS DATE) - DATE '1970-01-01' END, -1) AS INTEGER)`;
}

/**
 * Epoch milliseconds (DOUBLE; NaN when empty or not a contract timestamp) of a text timestamp, computed from its
 * parts the way the JS path's `Date.parse` reads an ISO instant: the fraction truncated to milliseconds (also
 * before 1970, where DuckDB's epoch_ms rounds towards zero instead), minutes without seconds accepted (DuckDB's
 * TIMESTAMPTZ cast refuses '2024-01-05T10:00Z'), and NaN for an offset `Date.parse` refuses (hours over 23 or
 * minutes over 59, which the cast would accept). A cell the contract refuses (hour 24, second 60) is NaN.
 * test/cell-sql.test.ts holds it equal to `Date.parse`.
 */
export function epochMsSql(x: string): string {
  // Once the cell has the contract's form (TS_RE), every part sits at a fixed place from the start (date, hour,
  // minute, optional ':ss' and '.fraction') or from the end (the offset: 'Z', '+HH:MM' or '+HHMM'): plain
  // substrings, several times cheaper than extracting regex groups.
  const n = `length(${x})`;
  const offLen = `CASE WHEN right(${x}, 1) = 'Z' THEN 1 WHEN substr(${x}, ${n} - 2, 1) = ':' THEN 6 ELSE 5 END`;
  const off = `right(${x}, ${offLen})`;
  const body = `(${n} - ${offLen})`; // characters before the offset: 16 (hh:mm), 19 (:ss) or 21+ (.fraction)
  const int = (e: string) => `TRY_CAST(${e} AS BIGINT)`;
  const h = int(`substr(${x}, 12, 2)`);
  const mi = int(`substr(${x}, 15, 2)`);
  const sec = `CASE WHEN ${body} >= 19 THEN ${int(`substr(${x}, 18, 2)`)} ELSE 0 END`;
  const ms = `CASE WHEN ${body} >= 21 THEN ${int(`rpad(substr(${x}, 21, least(${body} - 20, 3)), 3, '0')`)} ELSE 0 END`;
  const oh = `CASE WHEN ${offLen} = 1 THEN 0 ELSE ${int(`substr(${off}, 2, 2)`)} END`;
  const om = `CASE WHEN ${offLen} = 1 THEN 0 ELSE ${int(`right(${off}, 2)`)} END`;
  const sign = `CASE WHEN left(${off}, 1) = '-' THEN -1 ELSE 1 END`;
  const day = `(TRY_CAST(left(${x}, 10) AS DATE) - DATE '1970-01-01')::BIGINT`;
  const value = `${day} * 86400000 + ${h} * 3600000 + ${mi} * 60000 + ${sec} * 1000 + ${ms} - ${sign} * (${oh} * 60 + ${om}) * 60000`;
  const ok = `regexp_full_match(${x}, ${TS_RE}) AND ${inYears(x)} AND ${h} < 24 AND ${mi} < 60 AND ${sec} < 60 AND ${oh} < 24 AND ${om} < 60`;
  const parts = `coalesce(CASE WHEN ${ok} THEN (${value})::DOUBLE END, 'NaN'::DOUBLE)`;
  // The forms exports and Parquet give (seconds or milliseconds, 'Z'): DuckDB's own cast is exact there and
  // several times cheaper; it would read hour 24 as the next day, which the contract refuses.
  const common = `(${x} GLOB ${TS_GLOB} OR ${x} GLOB ${TS_MS_GLOB}) AND substr(${x}, 12, 2) < '24' AND ${inYears(x)}`;
  return `CASE WHEN ${common} THEN coalesce(CAST(epoch_ms(TRY_CAST(${x} AS TIMESTAMPTZ)) AS DOUBLE), 'NaN'::DOUBLE) ELSE ${parts} END`;
}
