import type { TableSpec } from '../core/schema/columns.ts';
import { type Row, readTable } from './reader.ts';

/**
 * Turns a stream of row batches sorted by `key` into a cursor that hands out all rows of one key at a time, so
 * several sorted tables can be merge-joined per account without holding any table in memory.
 */
export class GroupCursor {
  private batch: Row[] = [];
  private pos = 0;
  private done = false;

  constructor(
    private readonly source: AsyncIterator<Row[]>,
    private readonly key: string,
  ) {}

  private async peek(): Promise<Row | undefined> {
    while (this.pos >= this.batch.length) {
      if (this.done) return undefined;
      const r = await this.source.next();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      this.batch = r.value;
      this.pos = 0;
    }
    return this.batch[this.pos];
  }

  /** Stops the underlying stream (releases its DuckDB connection). */
  async close(): Promise<void> {
    this.done = true;
    await this.source.return?.();
  }

  /** Rows whose key equals `k`; rows with smaller keys (no match on the driving side) are skipped. */
  async take(k: string): Promise<Row[]> {
    const out: Row[] = [];
    for (;;) {
      const r = await this.peek();
      if (r === undefined) return out;
      const v = r[this.key] as string;
      if (v < k) {
        this.pos++;
        continue;
      }
      if (v > k) return out;
      out.push(r);
      this.pos++;
    }
  }
}

/** The rows of a table file grouped by account: read sorted by `account_id`, then walked with a GroupCursor. */
export function accountGroups(path: string, table: TableSpec): GroupCursor {
  return new GroupCursor(
    readTable(path, table, { orderBy: ['account_id'] })[Symbol.asyncIterator](),
    'account_id',
  );
}
