/**
 * ISO 8601 dates and timestamps read in place, digit by digit: `Date.parse` costs about 200 ns a call, and every
 * decision reads each of its contacts' times several times (the clock-skew check, the features, the guardrails).
 * The values are `Date.parse`'s (test/instant.test.ts holds them equal on random and malformed texts).
 */

/** Milliseconds in a UTC day. */
export const MS_PER_DAY = 86_400_000;

/**
 * Days since 1970-01-01 of year y (>= 100), month m (1..12), day d, counting d past the month's end as Date.UTC
 * does (linearly), so it equals Math.floor(Date.UTC(y, m − 1, d) / 86_400_000) (H. Hinnant's days_from_civil).
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The decimal number in s[from, to), −1 when a character there is not an ASCII digit, NaN when s ends before `to`. */
export function digitsAt(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in month m (1..12) of year y (Gregorian leap years). */
export function monthDays(y: number, m: number): number {
  return m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 29 : DAYS_IN_MONTH[m - 1]!;
}

/**
 * Milliseconds since the epoch of an ISO timestamp, as `Date.parse` gives it. Read in place for the forms the
 * ledger and callers send: `YYYY-MM-DDTHH:MM:SS`, an optional `.sss`, then `Z` or `±HH:MM`; any other text (a
 * space for the `T`, other fractions, an offset without its colon, something invalid) goes to `Date.parse`.
 */
export function instantMs(ts: string): number {
  const n = ts.length;
  if (
    n < 20 ||
    ts.charCodeAt(4) !== 45 ||
    ts.charCodeAt(7) !== 45 ||
    ts.charCodeAt(10) !== 84 ||
    ts.charCodeAt(13) !== 58 ||
    ts.charCodeAt(16) !== 58
  )
    return Date.parse(ts);
  let at = 19;
  let ms = 0;
  if (ts.charCodeAt(at) === 46) {
    ms = digitsAt(ts, 20, 23);
    if (ms < 0) return Date.parse(ts);
    at = 23;
  }
  let offsetMs = 0;
  const z = ts.charCodeAt(at);
  if (z === 43 || z === 45) {
    const oh = digitsAt(ts, at + 1, at + 3);
    const om = digitsAt(ts, at + 4, at + 6);
    if (n !== at + 6 || ts.charCodeAt(at + 3) !== 58 || oh < 0 || oh > 23 || om < 0 || om > 59)
      return Date.parse(ts);
    offsetMs = (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
  } else if (z !== 90 || n !== at + 1) return Date.parse(ts);
  const y = digitsAt(ts, 0, 4);
  const mo = digitsAt(ts, 5, 7);
  const d = digitsAt(ts, 8, 10);
  const h = digitsAt(ts, 11, 13);
  const mi = digitsAt(ts, 14, 16);
  const s = digitsAt(ts, 17, 19);
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59)
    return Date.parse(ts);
  if (s < 0 || s > 59) return Date.parse(ts);
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000 + ms - offsetMs;
}
