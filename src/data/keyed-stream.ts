import type { DuckDBConnection, DuckDBDataChunk, DuckDBInstance, DuckDBResult } from '@duckdb/node-api';
import { RepayriskError } from '../core/errors.ts';
import { firstLine } from './table-file.ts';

/** A column of one DuckDB chunk: numbers as the chunk's own typed array (no copy), text as strings. */
export type ChunkColumn = Float64Array | Int32Array | Uint8Array | readonly (string | null)[];

/**
 * A streamed DuckDB result sorted by an integer key in its first column (INTEGER), handed out one key at a time.
 * Every table of a history is read this way sorted by the same account key, so one pass merge-joins them all with
 * integer comparisons and no per-row objects: `take` gives the row range of a key inside the current chunk's
 * columns, chunk by chunk.
 */
export class KeyedStream {
  private conn: DuckDBConnection | null = null;
  private result: DuckDBResult | null = null;
  private keys: Int32Array = new Int32Array(0);
  private cols: ChunkColumn[] = [];
  private pos = 0;
  private done = false;
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: holds the chunk whose native memory the typed views read
  private chunkRef: DuckDBDataChunk | null = null;

  private constructor(
    private readonly what: string,
    private readonly text: readonly boolean[],
  ) {}

  /**
   * Starts streaming `sql` (first column: the key; `text[j]` says column j + 1 is VARCHAR) on a connection of its
   * own: DuckDB runs one streaming result per connection, and a history is several streams read side by side.
   * @throws RepayriskError('io') naming `what` when DuckDB refuses the query.
   */
  static async open(
    instance: DuckDBInstance,
    sql: string,
    what: string,
    text: readonly boolean[],
  ): Promise<KeyedStream> {
    const s = new KeyedStream(what, text);
    try {
      s.conn = await instance.connect();
      s.result = await s.conn.stream(sql);
    } catch (e) {
      throw new RepayriskError('io', `${what}: ${firstLine(e)}`);
    }
    return s;
  }

  private async fill(): Promise<boolean> {
    while (this.pos >= this.keys.length) {
      if (this.done || this.result === null) return false;
      let chunk: DuckDBDataChunk | null;
      try {
        chunk = await this.result.fetchChunk();
      } catch (e) {
        throw new RepayriskError('io', `${this.what}: ${firstLine(e)}`);
      }
      if (!chunk || chunk.rowCount === 0) {
        this.done = true;
        return false;
      }
      const c = chunk;
      this.chunkRef = c; // keeps the native memory behind the typed views alive
      this.keys = (c.getColumnVector(0) as unknown as { items: Int32Array }).items;
      this.cols = this.text.map((isText, j) => {
        const v = c.getColumnVector(j + 1);
        if (!isText) return (v as unknown as { items: Float64Array | Int32Array | Uint8Array }).items;
        const out: (string | null)[] = new Array(c.rowCount);
        for (let i = 0; i < c.rowCount; i++) out[i] = v.getItem(i) as string | null;
        return out;
      });
      this.pos = 0;
    }
    return true;
  }

  /**
   * Calls `rows(cols, from, to)` for each run of rows whose key is `k` (a key's rows may span chunks), after
   * skipping rows with smaller keys. Returns how many rows `k` had.
   */
  async take(
    k: number,
    rows: (cols: readonly ChunkColumn[], from: number, to: number) => void,
  ): Promise<number> {
    let n = 0;
    while (await this.fill()) {
      const keys = this.keys;
      let i = this.pos;
      while (i < keys.length && keys[i]! < k) i++;
      if (i === keys.length) {
        this.pos = i;
        continue;
      }
      if (keys[i]! > k) {
        this.pos = i;
        return n;
      }
      let j = i;
      while (j < keys.length && keys[j] === k) j++;
      rows(this.cols, i, j);
      n += j - i;
      this.pos = j;
      if (j < keys.length) return n;
    }
    return n;
  }

  /** The next key waiting, or null at the end. */
  async peekKey(): Promise<number | null> {
    return (await this.fill()) ? this.keys[this.pos]! : null;
  }

  close(): void {
    this.done = true;
    this.result = null;
    this.chunkRef = null;
    this.conn?.closeSync();
    this.conn = null;
  }
}
