import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContactRecord } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openLedger, walDirBeside } from '../src/ledger/open.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * `repayrisk serve` logs to a write-ahead log beside the DuckDB file by default (`<file>-wal`). A record the log
 * acknowledged may be missing from the file (a crash before the loader ran): whoever opens the file next must see
 * it, whether it opens the file with its log, alone (`walDir: false`, `serve --no-wal`) or behind another log.
 */

const root = tmpDir('repayrisk-open-wal-');
let seq = 0;
const T0 = Date.parse('2026-11-20T15:00:00.000Z');

function contact(id: string, account: string): ContactRecord {
  const at = new Date(T0).toISOString();
  return {
    contact_id: id,
    account_id: account,
    ts: at,
    channel: 'call',
    outcome: 'no_answer',
    promise_amount: null,
    promise_date: null,
    agent_id: 'agent-7',
    recorded_at: at,
    decision_id: null,
    reported_ts: null,
  };
}

/** A DuckDB file whose log beside it holds one contact the file does not (its store refused every load). */
async function fileWithUnloadedLog(): Promise<string> {
  const path = join(root, `ledger-${++seq}.duckdb`);
  const inner = await openDuckDbLedger(path);
  const down = Object.assign(Object.create(inner) as typeof inner, {
    loadWal: () => Promise.reject(new Error('store down')),
  });
  const notices: string[] = [];
  const ledger = await openWalLedger(down, walDirBeside(path), {
    loadDelayMs: 3_600_000,
    onNotice: (m) => notices.push(m),
  });
  await ledger.appendContacts([contact('c-1', 'A')]);
  await ledger.close();
  expect(notices.join('\n'), 'the record stayed in the log only').toMatch(/not loaded into the duckdb store/);
  const alone = await openDuckDbLedger(path);
  try {
    expect(await alone.counts(), 'the file alone lacks it').toEqual({ decisions: 0, contacts: 0 });
  } finally {
    await alone.close();
  }
  return path;
}

describe('openLedger and the write-ahead log beside a DuckDB file', () => {
  it('names the log beside the file <file>-wal, not DuckDB’s own <file>.wal', () => {
    expect(walDirBeside('var/ledger.duckdb')).toBe('var/ledger.duckdb-wal');
  });

  it('opens a file behind the log beside it when that exists, and sees what only the log holds', async () => {
    const path = await fileWithUnloadedLog();
    const ledger = await openLedger({ path });
    try {
      expect(ledger.kind).toBe('wal+duckdb');
      expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    } finally {
      await ledger.close();
    }
  });

  it('walDir false loads that log into the file first, then opens the file alone', async () => {
    const path = await fileWithUnloadedLog();
    const ledger = await openLedger({ path, walDir: false });
    try {
      expect(ledger.kind).toBe('duckdb');
      expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
      expect([...(await ledger.contactsFor(['A'], 0)).get('A')!].map((c) => c.ts)).toEqual([
        new Date(T0).toISOString(),
      ]);
    } finally {
      await ledger.close();
    }
  });

  it('another log directory: the log beside the file is loaded first, nothing is left behind', async () => {
    const path = await fileWithUnloadedLog();
    const ledger = await openLedger({ path, walDir: join(root, `elsewhere-${seq}`) });
    try {
      expect(ledger.kind).toBe('wal+duckdb');
      expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    } finally {
      await ledger.close();
    }
  });

  it('refuses to open the file without its log when what the log holds cannot be loaded, and loses nothing', async () => {
    const path = await fileWithUnloadedLog();
    // The file gets a contact under the same id by another way, so loading the log's c-1 breaks its primary key.
    const raw = await openDuckDbLedger(path);
    await raw.appendContacts([{ ...contact('c-1', 'B') }]);
    await raw.close();
    for (const walDir of [false, join(root, `other-${seq}`)] as const)
      await expect(
        openLedger({ path, walDir, wal: { onNotice: () => undefined } }),
        String(walDir),
      ).rejects.toThrow(
        /without the write-ahead log beside it: .*-wal holds 1 acknowledged operation\(s\) the file does not/,
      );
    // The log still holds the record: opened with it, the ledger still answers from it.
    const withLog = await openLedger({ path, wal: { loadDelayMs: 3_600_000, onNotice: () => undefined } });
    try {
      expect(withLog.kind).toBe('wal+duckdb');
      expect([...((await withLog.contactsFor(['A'], 0)).get('A') ?? [])].map((c) => c.ts)).toEqual([
        new Date(T0).toISOString(),
      ]);
    } finally {
      await withLog.close();
    }
  });

  it('a new file with no log beside it opens alone', async () => {
    const ledger = await openLedger({ path: join(root, 'new.duckdb') });
    try {
      expect(ledger.kind).toBe('duckdb');
    } finally {
      await ledger.close();
    }
  });
});
