import type { Ledger } from './contract.ts';
import { openDuckDbLedger } from './duckdb.ts';
import { openPostgresLedger } from './postgres.ts';
import { openWalLedger, type WalLedgerOptions } from './wal/ledger.ts';

export { LedgerError, type LedgerErrorCode } from './schema-sql.ts';

/** Where the DuckDB ledger lives when no path is given (relative to the working directory). */
export const DEFAULT_LEDGER_PATH = 'var/ledger.duckdb';

/** Which ledger store to open. The caller reads the environment (DATABASE_URL) and passes it in. */
export interface LedgerOptions {
  /** A `postgres://` URL; when set (non-empty) the ledger is PostgreSQL. */
  databaseUrl?: string;
  /** The DuckDB file when no `databaseUrl` is given; default `var/ledger.duckdb`. */
  path?: string;
  /**
   * A directory for a write-ahead log; when set, the log is the durability point (appends resolve after its
   * group commit) and the store above is loaded from it in the background (see docs/ledger.md).
   */
  walDir?: string;
  /** Tuning and notices of the write-ahead log (only with `walDir`). */
  wal?: WalLedgerOptions;
}

/**
 * Opens the ledger (DESIGN §2): PostgreSQL when `databaseUrl` is set, else a DuckDB file at `path`; with `walDir`,
 * behind a write-ahead log in that directory.
 * @throws {LedgerError} naming the store (or the log) and what failed — e.g. "cannot connect to PostgreSQL at
 *   postgres://user@host:5432/db: ECONNREFUSED" (never the password).
 */
export async function openLedger(opts: LedgerOptions = {}): Promise<Ledger> {
  const store = opts.databaseUrl
    ? await openPostgresLedger(opts.databaseUrl)
    : await openDuckDbLedger(opts.path ?? DEFAULT_LEDGER_PATH);
  if (!opts.walDir) return store;
  try {
    return await openWalLedger(store, opts.walDir, opts.wal);
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}
