import { RepayriskError } from '../errors.ts';
import type { FeatureInfo, Matrix } from '../models/contract.ts';

type Cell = string | number | boolean | null;

/** Feature-table mode settings (DESIGN §3 "feature table"). */
export interface TableSpecOptions {
  target: string;
  /** Target value that counts as positive; default `1` / `true` when the target is 0/1 or boolean. */
  positive?: string;
  id?: string;
  /** Columns to treat as categorical; text columns are categorical anyway. */
  categorical?: readonly string[];
}

/** A table's column layout, as the model sees it. */
export interface TableColumns {
  names: readonly string[];
  types: readonly string[];
  columns: readonly (readonly Cell[])[];
  rows: number;
}

const isText = (t: string) => t === 'VARCHAR' || t.startsWith('ENUM');

/**
 * Chooses the feature columns of a table (every column but target and id) and learns the categories of the
 * categorical ones (sorted distinct values).
 * @throws RepayriskError naming the column when target / id / categorical columns do not exist.
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
  const cats = new Set(o.categorical ?? []);
  const out: FeatureInfo[] = [];
  t.names.forEach((name, j) => {
    if (name === o.target || name === o.id) return;
    if (cats.has(name) || isText(t.types[j]!)) {
      const values = new Set<string>();
      for (const v of t.columns[j]!) if (v !== null) values.add(String(v));
      out.push({ name, type: 'categorical', categories: [...values].sort() });
    } else out.push({ name, type: 'numeric' });
  });
  return out;
}

/**
 * The design matrix of a table for given features: numerics as numbers (empty = NaN), categoricals coded by
 * their index in the feature's categories (empty or unseen = NaN).
 * @throws RepayriskError naming row and column for a non-numeric value in a numeric column, or a missing column.
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
      const index = new Map((f.categories ?? []).map((v, i) => [v, i]));
      for (let i = 0; i < t.rows; i++) {
        const v = col[i];
        data[i * p + j] = v === null || v === undefined ? Number.NaN : (index.get(String(v)) ?? Number.NaN);
      }
    } else {
      for (let i = 0; i < t.rows; i++) {
        const v = col[i];
        let x: number;
        if (v === null || v === undefined || v === '') x = Number.NaN;
        else if (typeof v === 'boolean') x = v ? 1 : 0;
        else x = Number(v);
        if (Number.isNaN(x) && v !== null && v !== undefined && v !== '') {
          throw new RepayriskError(
            'invalid_data',
            `row ${i + 1}, column '${f.name}': expected a number, got '${String(v)}'`,
          );
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
      throw new RepayriskError('invalid_data', `row ${i + 1}: target '${o.target}' is empty`);
    y[i] = String(v) === positive ? 1 : 0;
  }
  return { y, positive };
}
