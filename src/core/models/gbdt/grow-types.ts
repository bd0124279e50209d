import type { GbdtParams } from './params.ts';

/** What stays fixed over a whole fit: the binned training data and the per-feature layout. */
export interface GrowContext {
  readonly params: GbdtParams;
  /** Row-major training matrix as histogram slots: offset[j] + the cell's bin (bins.ts). */
  readonly slots: Uint16Array;
  /** The same bins column-major (feature j's bins at j·rows .. (j+1)·rows), for partitioning rows. */
  readonly columns: Uint8Array;
  readonly rows: number;
  readonly cols: number;
  /** Value bins per feature; the missing bin's index. */
  readonly valueBins: Int32Array;
  /** First histogram slot of each feature (a feature has valueBins + 1 slots). */
  readonly offset: Int32Array;
  readonly categorical: Uint8Array;
  /** −1, 0 or +1 per feature. */
  readonly monotone: Int8Array;
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly depthwise: boolean;
}

/** Buffers reused from tree to tree. */
export interface GrowScratch {
  /** Row indices of the tree's sample; reordered so each leaf's rows are contiguous. */
  readonly idx: Int32Array;
  readonly tmp: Int32Array;
  /** Gradient and hessian of row r at 2r and 2r + 1 (one cache line for both). */
  readonly gh: Float64Array;
  takeHist(): Float64Array;
  releaseHist(h: Float64Array): void;
}

/** A grown tree in bin terms, plus each node's row segment in `idx`. */
export interface TreeBuild {
  feature: number[];
  /** Numeric split: value bins <= bin go left. */
  bin: number[];
  /** Categorical split: 1 per value bin that goes left. */
  catLeft: (Uint8Array | null)[];
  defaultLeft: number[];
  left: number[];
  right: number[];
  /** Leaf weight before the learning rate. */
  weight: number[];
  cover: number[];
  gain: number[];
  start: number[];
  end: number[];
}
