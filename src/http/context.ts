import type { Ledger } from '../ledger/contract.ts';
import type { Live } from '../service/live-types.ts';
import { HttpError, LedgerUnavailableError } from './errors.ts';
import type { ServiceMetrics } from './metrics.ts';

/** The limits an app enforces, with their defaults filled in. */
export interface ResolvedLimits {
  /** Accounts per `POST /v1/score` batch (default 1,000). */
  maxBatch: number;
  /** Contact rows per `POST /v1/contacts` request (default 10,000). */
  maxContacts: number;
  /** Largest request body in bytes (default 10 MiB: a full batch of archives with a year of history fits). */
  bodyLimitBytes: number;
  /** Default per-key rate limit (a key's own `rateLimit` overrides it). */
  rateLimit: { max: number; timeWindowMs: number };
  /** How long /readyz waits for `ledger.ping()` before calling the ledger down (ms). */
  readyTimeoutMs: number;
}

/** What every route module is given: the app's dependencies and its own per-instance state. */
export interface RouteContext {
  live: Live;
  ledger: Ledger;
  now: () => number;
  newId: () => string;
  limits: ResolvedLimits;
  metrics: ServiceMetrics;
}

/**
 * Runs a ledger operation; a failure becomes a 503 (`ledger_unavailable`) whose detail is logged, never a 500 and
 * never an acknowledgement.
 */
export async function ledgerCall<T>(ctx: RouteContext, operation: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    // Another request with the same Idempotency-Key was answered first (another instance sharing the ledger, or
    // a retry after its first attempt's client went away): nothing of this one was written; a retry replays it.
    if ((e as { code?: unknown } | null)?.code === 'idempotency_key_taken')
      throw new HttpError(
        409,
        'idempotency_key_in_flight',
        'a request with this Idempotency-Key was answered meanwhile; retry to get its answer',
      );
    ctx.metrics.ledgerFailures.inc({ operation: operation.replace(/ /g, '_') });
    throw new LedgerUnavailableError(operation, e);
  }
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
