import { describeValue, type FieldIssue } from '../schema/issues.ts';
import { isoOf } from './dates.ts';
import { instantMs, MS_PER_DAY } from './instant.ts';

/**
 * What a caller's clock may claim against the server's. A dialer's clock runs a little fast or slow; a contact it
 * stamps two minutes "in the future" still happened, and must count toward caps and cooldowns at once — the
 * guardrails ignore contacts after the decision instant, so left as sent it would let the next decision call again.
 * A time far ahead cannot have happened yet and is refused, as are dates before this service's data can begin.
 */

/** How far ahead of the server clock a reported contact time may be (5 minutes); it then counts from now. */
export const CLOCK_SKEW_TOLERANCE_MS = 300_000;

/** The earliest snapshot date and contact time accepted from a caller (ISO date). */
export const EARLIEST_REPORTED_DATE = '2000-01-01';
const EARLIEST_MS = Date.parse(`${EARLIEST_REPORTED_DATE}T00:00:00Z`);

/** The latest snapshot date accepted: the server's UTC date plus this many days (any time zone's today). */
export const AS_OF_DAYS_AHEAD = 1;

/** A reported instant as the server takes it: the ISO string to use, or why it is refused. */
export type ReportedInstant = { ok: true; ts: string } | { ok: false; message: string };

const minutes = (ms: number) => `${Math.round(ms / 60_000)} minute(s)`;

/**
 * Checks a contact time a caller reports against the server clock `nowMs`: refused before 2000-01-01 or more than
 * CLOCK_SKEW_TOLERANCE_MS ahead; up to that far ahead it becomes the server's now (ISO, UTC), so it counts from
 * now; otherwise it is kept exactly as sent. `ts` must already be a valid ISO timestamp.
 */
export function reportedInstant(ts: string, nowMs: number): ReportedInstant {
  const ms = instantMs(ts);
  if (ms < EARLIEST_MS) return { ok: false, message: `expected a time from ${EARLIEST_REPORTED_DATE} on` };
  if (ms > nowMs + CLOCK_SKEW_TOLERANCE_MS)
    return {
      ok: false,
      message:
        `expected a time no more than ${minutes(CLOCK_SKEW_TOLERANCE_MS)} ahead of the server clock ` +
        `(${new Date(nowMs).toISOString()}); this one is ${minutes(ms - nowMs)} ahead`,
    };
  return { ok: true, ts: ms > nowMs ? new Date(nowMs).toISOString() : ts };
}

/**
 * `reportedInstant` over a list of contacts: the rows with their times as the server takes them, and an issue
 * (`<listPath>.<i>.ts`) for each refused one.
 */
export function stampReportedTimes<T extends { ts: string }>(
  rows: readonly T[],
  nowMs: number,
  listPath: string,
): { rows: T[]; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const out = rows.map((r, i) => {
    const t = reportedInstant(r.ts, nowMs);
    if (!t.ok) issues.push({ path: `${listPath}.${i}.ts`, message: t.message, got: describeValue(r.ts) });
    return t.ok && t.ts !== r.ts ? { ...r, ts: t.ts } : r;
  });
  return { rows: out, issues };
}

/**
 * Why a snapshot date is refused, or null: before 2000-01-01, or after the server's UTC date plus
 * AS_OF_DAYS_AHEAD (a customer east of UTC may already be a day ahead). `date` must be a valid ISO date.
 */
export function asOfDateProblem(date: string, nowMs: number): string | null {
  const latest = isoOf(Math.floor(nowMs / MS_PER_DAY) + AS_OF_DAYS_AHEAD);
  if (date < EARLIEST_REPORTED_DATE || date > latest)
    return `expected a date from ${EARLIEST_REPORTED_DATE} to ${latest} (the server's UTC date + ${AS_OF_DAYS_AHEAD} day)`;
  return null;
}
