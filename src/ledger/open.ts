import type { Ledger } from './contract.ts';
import { openDuckDbLedger } from './duckdb.ts';
import { openPostgresLedger } from './postgres.ts';

export { LedgerError, type LedgerErrorCode } from './schema-sql.ts';

/** Where the DuckDB ledger lives when no path is given (relative to the working directory). */
export const DEFAULT_LEDGER_PATH = 'var/ledger.duckdb';

/** Which ledger store to open. The caller reads the environment (DATABASE_URL) and passes it in. */
export interface LedgerOptions {
  /** A `postgres://` URL; when set (non-empty) the ledger is PostgreSQL. */
  databaseUrl?: string;
  /** The DuckDB file when no `databaseUrl` is given; default `var/ledger.duckdb`. */
  path?: string;
}

/**
 * Opens the ledger (DESIGN §2): PostgreSQL when `databaseUrl` is set, else a DuckDB file at `path`.
 * @throws {LedgerError} naming the store and what failed — e.g. "cannot connect to PostgreSQL at
 *   postgres://user@host:5432/db: ECONNREFUSED" (never the password).
 */
export function openLedger(opts: LedgerOptions = {}): Promise<Ledger> {
  if (opts.databaseUrl) return openPostgresLedger(opts.databaseUrl);
  return openDuckDbLedger(opts.path ?? DEFAULT_LEDGER_PATH);
}
