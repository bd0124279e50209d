/**
 * Calendar dates as integer day numbers (days since 1970-01-01, UTC). Cheap to add and compare; formatted to
 * ISO only at the edge.
 */
import { daysFromCivil, digitsAt, MS_PER_DAY } from './instant.ts';

/** Day number of an ISO date `YYYY-MM-DD`. */
export function dayOf(iso: string): number {
  // Digits read in place (the policy reads dates on every decision); anything unusual goes to Date.parse.
  const y = digitsAt(iso, 0, 4);
  const m = digitsAt(iso, 5, 7);
  const d = digitsAt(iso, 8, 10);
  if (
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    y >= 100 &&
    m >= 1 &&
    m <= 12 &&
    d >= 1 &&
    d <= 31
  )
    return daysFromCivil(y, m, d);
  return Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / MS_PER_DAY);
}

const isoCache = new Map<number, string>();

/** ISO `YYYY-MM-DD` of a day number (memoised: the same few thousand days are formatted millions of times). */
export function isoOf(day: number): string {
  let s = isoCache.get(day);
  if (s === undefined) {
    s = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    if (isoCache.size < 100_000) isoCache.set(day, s);
  }
  return s;
}

/** Day number of the first day of the month `months` after the month of `day`. */
export function addMonthsFirst(day: number, months: number): number {
  const d = new Date(day * MS_PER_DAY);
  return Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1) / MS_PER_DAY);
}

/** Milliseconds since the epoch at 00:00 UTC of a day number. */
export function msOfDay(day: number): number {
  return day * MS_PER_DAY;
}
