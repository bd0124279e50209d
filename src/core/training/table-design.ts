import { RepayriskError } from '../errors.ts';
import type { FeatureInfo, Matrix } from '../models/contract.ts';

type Cell = string | number | boolean | null;

/**
 * Default most levels of a categorical feature-table column: a text column with more distinct values is
 * refused unless `--categorical` names it, and a named one is pooled down to this many levels.
 */
export const DEFAULT_MAX_CATEGORIES = 200;

/**
 * The level that stands for every value pooled out of a categorical column with more than `maxCategories`
 * distinct values, and, in such a column, for values never seen at fit. Always its last category.
 */
export const OTHER_LEVEL = '(other)';

/** Feature-table mode settings (DESIGN §3 "feature table"). */
export interface TableSpecOptions {
  target: string;
  /** Target value that counts as positive; default `1` / `true` when the target is 0/1 or boolean. */
  positive?: string;
  id?: string;
  /** Columns to treat as categorical; text columns are categorical anyway. */
  categorical?: readonly string[];
  /**
   * Most levels one categorical column may have (default {@link DEFAULT_MAX_CATEGORIES}, at least 2). A text
   * column with more distinct values is refused unless `categorical` names it; a categorical column with more
   * keeps its `maxCategories − 1` most frequent levels and pools the rest into {@link OTHER_LEVEL}, so no
   * encoding (one-hot, WOE bins, tree splits) grows wider than this per column.
   */
  maxCategories?: number;
}

/** A table's column layout, as the model sees it. */
export interface TableColumns {
  names: readonly string[];
  types: readonly string[];
  columns: readonly (readonly Cell[])[];
  rows: number;
  /** The file, for error messages. */
  path?: string;
  /** The file line of row 0 (a CSV with a header: 2), for error messages; absent for Parquet. */
  firstLine?: number;
}

const isText = (t: string) => t === 'VARCHAR' || t.startsWith('ENUM');

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses one text cell as a decimal number, surrounding spaces allowed (as DuckDB does); anything else
 * (`abc`, `0x10`, `Infinity`, `1,5`, an empty text) is NaN. Stricter than `Number()`, which reads `''` as 0.
 */
export function parseNumberCell(s: string): number {
  const v = s.trim();
  return NUMBER.test(v) ? Number(v) : Number.NaN;
}

/** `file: row 17 (line 18)` — where a row of a table sits, for error messages. */
export function rowPlace(t: Pick<TableColumns, 'path' | 'firstLine'>, i: number): string {
  const line = t.firstLine === undefined ? '' : ` (line ${t.firstLine + i})`;
  return `${t.path ? `${t.path}: ` : ''}row ${i + 1}${line}`;
}

/**
 * Chooses the feature columns of a table (every column but target and id) and learns the categories of the
 * categorical ones (sorted distinct values; past `maxCategories`, the most frequent and {@link OTHER_LEVEL}).
 * A text column is refused, unless `categorical` names it, when most of its values are numbers (a cell that is
 * neither a number nor a missing-value marker: the first such cell is named) or when it has more than
 * `maxCategories` distinct values (a numeric column whose missing-value marker was not recognised, or an id).
 * @throws RepayriskError naming the column when target / id / categorical columns do not exist, and every
 *   refused column with its first bad cell or its distinct count.
 */
export function tableFeatures(t: TableColumns, o: TableSpecOptions): FeatureInfo[] {
  const missing = [o.target, ...(o.id ? [o.id] : []), ...(o.categorical ?? [])].filter(
    (c) => !t.names.includes(c),
  );
  if (missing.length) {
    throw new RepayriskError(
      'invalid_argument',
      `no column(s) ${missing.join(', ')} in the table (it has ${t.names.join(', ')})`,
    );
  }
  const max = o.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  if (!Number.isInteger(max) || max < 2) {
    throw new RepayriskError('invalid_argument', `maxCategories must be an integer >= 2, got ${max}`);
  }
  const cats = new Set(o.categorical ?? []);
  const out: FeatureInfo[] = [];
  const refused: string[] = [];
  t.names.forEach((name, j) => {
    if (name === o.target || name === o.id) return;
    const col = t.columns[j]!;
    if (!cats.has(name) && !isText(t.types[j]!)) {
      out.push({ name, type: 'numeric' });
      return;
    }
    const counts = new Map<string, number>();
    for (const v of col) if (v !== null) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    if (!cats.has(name)) {
      const problem = textColumnProblem(t, name, col, counts, max);
      if (problem) refused.push(problem);
    }
    out.push({ name, type: 'categorical', categories: levels(counts, max) });
  });
  if (refused.length) throw new RepayriskError('invalid_data', refused.join('\n'));
  return out;
}

/** Why an unnamed text column cannot be a feature as it is, or undefined when it can. */
function textColumnProblem(
  t: TableColumns,
  name: string,
  col: readonly Cell[],
  counts: ReadonlyMap<string, number>,
  max: number,
): string | undefined {
  let values = 0;
  let numbers = 0;
  let firstBad = -1;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === null || v === undefined) continue;
    values++;
    if (typeof v === 'number' || !Number.isNaN(parseNumberCell(String(v)))) numbers++;
    else if (firstBad < 0) firstBad = i;
  }
  if (numbers > 0 && 2 * numbers >= values) {
    // Mostly numbers: a numeric column with cells that are neither numbers nor missing-value markers.
    return (
      `${rowPlace(t, firstBad)}, column '${name}': expected a number or a missing-value marker, got '${String(col[firstBad])}' ` +
      `(${(values - numbers).toLocaleString('en-US')} of its ${values.toLocaleString('en-US')} values are not numbers). ` +
      `If it marks a missing value, add it to --na; if '${name}' is categorical, name it in --categorical`
    );
  }
  if (counts.size > max) {
    return (
      `column '${name}' is text with ${counts.size.toLocaleString('en-US')} distinct values (more than ${max}): ` +
      `if it is an identifier, pass it as --id; to use it as a categorical anyway, name it in --categorical ` +
      `(its ${max - 1} most frequent values are kept, the rest pooled into '${OTHER_LEVEL}'), or raise --max-categories`
    );
  }
  return undefined;
}

/** Sorted levels; past `max`, the `max − 1` most frequent (ties by value) then {@link OTHER_LEVEL}. */
function levels(counts: ReadonlyMap<string, number>, max: number): string[] {
  if (counts.size <= max) return [...counts.keys()].sort();
  const kept = [...counts.entries()]
    .filter(([v]) => v !== OTHER_LEVEL)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max - 1)
    .map(([v]) => v)
    .sort();
  return [...kept, OTHER_LEVEL];
}

/**
 * The design matrix of a table for given features: numerics as numbers (missing = NaN), categoricals coded by
 * their index in the feature's categories (missing = NaN; a value not among them is NaN too, or the
 * {@link OTHER_LEVEL} code when that is the feature's last category).
 * @throws RepayriskError naming row, line and column of a value in a numeric column that is not a number, or a
 *   missing column.
 */
export function tableMatrix(t: TableColumns, features: readonly FeatureInfo[]): Matrix {
  const p = features.length;
  const data = new Float64Array(t.rows * p);
  features.forEach((f, j) => {
    const c = t.names.indexOf(f.name);
    if (c < 0)
      throw new RepayriskError('invalid_data', `the table has no column '${f.name}', which the model needs`);
    const col = t.columns[c]!;
    if (f.type === 'categorical') {
      const categories = f.categories ?? [];
      const index = new Map(categories.map((v, i) => [v, i]));
      const other = categories[categories.length - 1] === OTHER_LEVEL ? categories.length - 1 : Number.NaN;
      for (let i = 0; i < t.rows; i++) {
        const v = col[i];
        data[i * p + j] = v === null || v === undefined ? Number.NaN : (index.get(String(v)) ?? other);
      }
    } else {
      for (let i = 0; i < t.rows; i++) {
        const v = col[i];
        let x: number;
        if (v === null || v === undefined) x = Number.NaN;
        else if (typeof v === 'number') x = v;
        else if (typeof v === 'boolean') x = v ? 1 : 0;
        else {
          x = parseNumberCell(v);
          if (Number.isNaN(x)) {
            throw new RepayriskError(
              'invalid_data',
              `${rowPlace(t, i)}, column '${f.name}': expected a number or a missing-value marker, got '${v}'`,
            );
          }
        }
        data[i * p + j] = x;
      }
    }
  });
  return { data, rows: t.rows, cols: p };
}

/**
 * Binary labels from the target column.
 * @throws RepayriskError naming the row of an empty target, or asking for --positive when it cannot be inferred.
 */
export function tableLabels(t: TableColumns, o: TableSpecOptions): { y: Uint8Array; positive: string } {
  const col = t.columns[t.names.indexOf(o.target)]!;
  const distinct = new Set(col.filter((v) => v !== null).map(String));
  let positive = o.positive;
  if (positive === undefined) {
    if ([...distinct].every((v) => v === '0' || v === '1')) positive = '1';
    else if ([...distinct].every((v) => v === 'true' || v === 'false')) positive = 'true';
    else {
      throw new RepayriskError(
        'invalid_argument',
        `target '${o.target}' has values ${[...distinct].slice(0, 6).join(', ')}: say which is positive with --positive`,
      );
    }
  }
  if (!distinct.has(positive)) {
    throw new RepayriskError(
      'invalid_argument',
      `--positive ${positive}: target '${o.target}' never takes that value (it has ${[...distinct].slice(0, 6).join(', ')})`,
    );
  }
  const y = new Uint8Array(t.rows);
  for (let i = 0; i < t.rows; i++) {
    const v = col[i];
    if (v === null || v === undefined)
      throw new RepayriskError('invalid_data', `${rowPlace(t, i)}: target '${o.target}' is empty (missing)`);
    y[i] = String(v) === positive ? 1 : 0;
  }
  return { y, positive };
}
