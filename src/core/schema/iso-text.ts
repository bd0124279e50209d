/**
 * ISO date and timestamp texts as the data contract reads them. A module of their own, depending only on the
 * dependency-free time/instant.ts, so the CLI can check its date options without loading the column schemas (and
 * zod); `columns.ts` re-exports them.
 */
import { monthDays } from '../time/instant.ts';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TS_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/;

/** True when `s` is a real calendar date in YYYY-MM-DD form (2024-02-30 is not). */
export function isIsoDate(s: string): boolean {
  // The digits are read in place (the pattern holds ASCII digits there): every API archive checks dozens of dates.
  if (!DATE_RE.test(s)) return false;
  return validYmd(digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2));
}

/** The number written by the `n` ASCII digits of `s` from `at`. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
}

/** True when `s` is an ISO 8601 timestamp with an explicit offset, naming a real instant. */
export function isIsoTimestamp(s: string): boolean {
  if (!TS_RE.test(s)) return false;
  // Read in place, as in isIsoDate: date and HH:MM sit at fixed places, seconds follow a ':' at 16, and the offset
  // (`Z`, `+HH:MM` or `+HHMM`) ends the string.
  const ss = s.charCodeAt(16) === 58 ? digits(s, 17, 2) : 0;
  const n = s.length;
  // An offset is at most 23:59 (Date.parse refuses more, and no zone is that far from UTC).
  const offsetOk =
    s.charCodeAt(n - 1) === 90 ||
    (digits(s, s.charCodeAt(n - 3) === 58 ? n - 5 : n - 4, 2) < 24 && digits(s, n - 2, 2) < 60);
  return (
    validYmd(digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2)) &&
    digits(s, 11, 2) < 24 &&
    digits(s, 14, 2) < 60 &&
    ss < 60 &&
    offsetOk
  );
}

/**
 * The years a contract date may fall in. Outside them a date is a data error (a missing century, a placeholder
 * like 0001-01-01 or 9999-12-31), and JavaScript's Date reads years 0-99 as 1900-1999.
 */
export const DATE_YEARS = { min: 1900, max: 2199 } as const;

function validYmd(y: number, mo: number, d: number): boolean {
  if (y < DATE_YEARS.min || y > DATE_YEARS.max) return false;
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= monthDays(y, mo);
}
