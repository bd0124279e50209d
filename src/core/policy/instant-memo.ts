import { isoInZone, localClock, localToUtcMs } from '../time/timezone.ts';

/*
 * What the decisions of one instant ask the time-zone database, remembered per zone. A batch (a book's chunk, a
 * request) decides every account at the same `now`, and its accounts live in a handful of zones: the local clock,
 * the start of the local day and the ISO texts of `now` are the same for all of them, so they are worked out once
 * per zone instead of once per decision (each is a time-zone conversion and a few allocations). The answers are
 * exactly those of the functions they stand for; the memo forgets everything when the instant changes.
 */

interface ZoneNow {
  clock: { readonly day: number; readonly minute: number };
  /** UTC ms of the start of the local day (computed on first use). */
  dayStart: number;
  /** isoInZone(tz, now) (computed on first use). */
  iso: string | null;
}

let memoNow = Number.NaN;
let utcIso = '';
const zones = new Map<string, ZoneNow>();
/** More zones than this in one instant (not a real book's mix) and the memo starts again. */
const MAX_ZONES = 64;

function zoneAt(tz: string, now: number): ZoneNow {
  if (now !== memoNow) {
    zones.clear();
    memoNow = now;
    utcIso = '';
  }
  let z = zones.get(tz);
  if (!z) {
    if (zones.size >= MAX_ZONES) zones.clear();
    z = { clock: localClock(tz, now), dayStart: Number.NaN, iso: null };
    zones.set(tz, z);
  }
  return z;
}

/** `localClock(tz, now)`, shared by the decisions of the instant: read it, never change it. */
export function clockAt(tz: string, now: number): { readonly day: number; readonly minute: number } {
  return zoneAt(tz, now).clock;
}

/** `localToUtcMs(tz, localClock(tz, now).day, 0)`: the instant the customer's local day of `now` began. */
export function localDayStartAt(tz: string, now: number): number {
  const z = zoneAt(tz, now);
  if (Number.isNaN(z.dayStart)) z.dayStart = localToUtcMs(tz, z.clock.day, 0);
  return z.dayStart;
}

/** `isoInZone(tz, ms)`, remembered when `ms` is the instant `now` (most contacts are allowed right away). */
export function isoInZoneAt(tz: string, ms: number, now: number): string {
  if (ms !== now) return isoInZone(tz, ms);
  const z = zoneAt(tz, now);
  z.iso ??= isoInZone(tz, ms);
  return z.iso;
}

/** `new Date(now).toISOString()`, remembered for the instant. */
export function utcIsoAt(now: number): string {
  if (now !== memoNow) zoneAt('UTC', now);
  if (utcIso === '') utcIso = new Date(now).toISOString();
  return utcIso;
}
