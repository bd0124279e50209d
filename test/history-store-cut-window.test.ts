// The history store cuts a book's instalment file down to the features' lookback before DuckDB reads it (issue 12):
// a read of one snapshot date through the cut hands out exactly what the read of the whole file does, and an
// instalment outside the window whose date the contract refuses is still named, not dropped.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '../src/data/history-store.ts';
import { tmpDir } from './helpers/tmp.ts';

const SAMPLES = 'data-samples';
const AS_OF = '2024-12-01';

/** Everything a book read of AS_OF hands out, per account, as plain data. */
async function bookRead(dir: string, cut: boolean) {
  const store = await HistoryStore.open(dir, ['accounts', 'installments', 'contacts'], { cut });
  try {
    const out: unknown[] = [];
    for await (const g of store.accounts({ scope: { asOf: AS_OF }, contactRows: true, textColumns: true })) {
      const h = g.historyAsOf(0).copy();
      out.push({
        id: g.accountId,
        snapshots: g.snapshots,
        contacts: g.contacts,
        history: Object.fromEntries(
          Object.entries(h).map(([k, v]) => [
            k,
            ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v,
          ]),
        ),
      });
    }
    return out;
  } finally {
    store.close();
  }
}

describe('a book read through the windowed cut', () => {
  const dir = tmpDir();

  it('equals the read of the whole files, account for account', async () => {
    const whole = await bookRead(SAMPLES, false);
    const cut = await bookRead(SAMPLES, true);
    expect(whole.length).toBeGreaterThan(1000);
    // Some account has instalments outside the window, so the cut really dropped rows.
    const rows = readFileSync(join(SAMPLES, 'installments.csv'), 'utf8').trim().split('\n').length - 1;
    const kept = whole.reduce((n: number, a) => n + (a as { history: { n: number } }).history.n, 0);
    expect(kept).toBeLessThan(rows / 2);
    expect(cut).toEqual(whole);
  }, 120_000);

  it('still names a refused due date years before the window', async () => {
    const world = join(dir, 'bad');
    cpSync(SAMPLES, world, { recursive: true });
    const path = join(world, 'installments.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    // An instalment of an account with a snapshot on AS_OF, moved to a day that does not exist in 2019.
    const scored = new Set(
      readFileSync(join(SAMPLES, 'accounts.csv'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(`,${AS_OF},`))
        .map((l) => l.split(',')[0]),
    );
    const row = lines.findIndex((l, i) => i > 0 && scored.has(l.split(',')[0]) && l.includes(',2024-'));
    const cells = lines[row]!.split(',');
    const at = lines[0]!.split(',').indexOf('due_date');
    cells[at] = '2019-02-30';
    lines[row] = cells.join(',');
    writeFileSync(path, lines.join('\n'));
    for (const cut of [true, false])
      await expect(bookRead(world, cut)).rejects.toThrow(
        new RegExp(`installments.csv: row ${row} \\(line ${row + 1}\\), column 'due_date'.*got '2019-02-30'`),
      );
  }, 120_000);
});
