import type { Matrix } from './contract.ts';

/** The rows `idx` of a matrix, copied into a new one. */
export function takeRows(x: Matrix, idx: ArrayLike<number>): Matrix {
  const out = new Float64Array(idx.length * x.cols);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols);
  }
  return { data: out, rows: idx.length, cols: x.cols };
}

/** Elements `idx` of a typed array. */
export function takeValues<T extends Float64Array | Uint8Array | Int32Array>(
  a: T,
  idx: ArrayLike<number>,
): T {
  const out = new (a.constructor as new (n: number) => T)(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
  return out;
}

/** Column `j` of a matrix. */
export function column(x: Matrix, j: number): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = x.data[i * x.cols + j]!;
  return out;
}
