import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Ledger } from './contract.ts';
import { openDuckDbLedger } from './duckdb.ts';
import { openPostgresLedger } from './postgres.ts';
import { errorText, LedgerError } from './schema-sql.ts';
import { openWalLedger, type WalLedger, type WalLedgerOptions } from './wal/ledger.ts';
import type { WalStore } from './wal/store.ts';

export { LedgerError, type LedgerErrorCode } from './schema-sql.ts';

/** Where the DuckDB ledger lives when no path is given (relative to the working directory). */
export const DEFAULT_LEDGER_PATH = 'var/ledger.duckdb';

/**
 * The write-ahead log directory of a DuckDB ledger file when none is named: beside the file, its name plus `-wal`
 * (`var/ledger.duckdb` -> `var/ledger.duckdb-wal/`; `<file>.wal` is DuckDB's own log file). `repayrisk serve`
 * logs there by default (docs/ledger.md).
 */
export function walDirBeside(path: string): string {
  return `${path}-wal`;
}

/** Which ledger store to open. The caller reads the environment (DATABASE_URL) and passes it in. */
export interface LedgerOptions {
  /** A `postgres://` URL; when set (non-empty) the ledger is PostgreSQL. */
  databaseUrl?: string;
  /** The DuckDB file when no `databaseUrl` is given; default `var/ledger.duckdb`. */
  path?: string;
  /**
   * A directory for a write-ahead log; when set, the log is the durability point (appends resolve after its
   * group commit) and the store above is loaded from it in the background (see docs/ledger.md).
   *
   * Left out, a DuckDB file opens behind the log beside it (`walDirBeside`) when that directory exists, so a file
   * a server logged into is never read without the records the log holds and the file does not yet; `false` (or
   * another directory) first loads whatever that log still holds into the file.
   */
  walDir?: string | false;
  /** Tuning and notices of the write-ahead log (only with a log). */
  wal?: WalLedgerOptions;
}

/**
 * Opens the ledger (DESIGN §2): PostgreSQL when `databaseUrl` is set, else a DuckDB file at `path`; behind a
 * write-ahead log in `walDir`, or, for a DuckDB file, in the log beside it when that exists (see `walDir`).
 * @throws {LedgerError} naming the store (or the log) and what failed — e.g. "cannot connect to PostgreSQL at
 *   postgres://user@host:5432/db: ECONNREFUSED" (never the password).
 */
export async function openLedger(opts: LedgerOptions = {}): Promise<Ledger> {
  const path = opts.path ?? DEFAULT_LEDGER_PATH;
  const open = () => (opts.databaseUrl ? openPostgresLedger(opts.databaseUrl) : openDuckDbLedger(path));
  const beside = opts.databaseUrl ? null : walDirBeside(path);
  const walDir =
    opts.walDir === false ? null : (opts.walDir ?? (beside && existsSync(beside) ? beside : null));
  if (beside && (walDir === null || resolve(walDir) !== resolve(beside)) && existsSync(beside)) {
    // The store alone, or behind another log: first load what the log beside it holds, so no acknowledged record
    // is left where nothing reads it. A load that fails refuses the open (close alone would only print a notice
    // and leave the records in the log, unseen by the store opened next).
    const store = await open();
    const log = await behind(store, beside, opts);
    try {
      await log.drain();
    } catch (e) {
      const left = log.unloaded();
      await log.close();
      throw new LedgerError(
        'unavailable',
        `cannot open ${path} without the write-ahead log beside it: ${beside} holds ${left} acknowledged operation(s) the file does not, and loading them failed (${errorText(e)}); open the ledger with that log (serve without --no-wal or --wal DIR) or fix the cause first`,
        { cause: e },
      );
    }
    await log.close();
  }
  const store = await open();
  return walDir ? behind(store, walDir, opts) : store;
}

async function behind(store: WalStore, dir: string, opts: LedgerOptions): Promise<WalLedger> {
  try {
    return await openWalLedger(store, dir, opts.wal);
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}
