/**
 * IANA time-zone arithmetic without a library: the offset of a zone at an instant comes from Intl, which
 * knows every DST rule. Offsets are memoised per zone and quarter hour, since they change only at DST
 * transitions (on a whole or half UTC hour).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Offset of zone `tz` from UTC at instant `utcMs`, in minutes (New York in winter: -300). */
export function offsetMinutes(tz: string, utcMs: number): number {
  // Keyed by quarter hour: some zones change offset at half past a UTC hour (Lord Howe, Adelaide, St John's).
  const hourKey = `${tz}|${Math.floor(utcMs / 900_000)}`;
  const hit = offsetCache.get(hourKey);
  if (hit !== undefined) return hit;
  const parts = formatter(tz).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  const off = Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
  if (offsetCache.size > 200_000) offsetCache.clear();
  offsetCache.set(hourKey, off);
  return off;
}

/**
 * The UTC instant of local wall-clock time `minuteOfDay` (0..1439) on local date `day` (a day number) in `tz`.
 * In a spring-forward gap the time is moved forward by the gap; in a fall-back overlap the first occurrence wins.
 */
export function localToUtcMs(tz: string, day: number, minuteOfDay: number): number {
  const wall = day * 86_400_000 + minuteOfDay * 60_000;
  // A candidate instant is right when the zone's offset at that instant is the offset used to find it.
  const offA = offsetMinutes(tz, wall - 86_400_000 / 2);
  const offB = offsetMinutes(tz, wall + 86_400_000 / 2);
  const a = wall - offA * 60_000;
  if (offA === offB) return a;
  const b = wall - offB * 60_000;
  const aOk = offsetMinutes(tz, a) === offA;
  const bOk = offsetMinutes(tz, b) === offB;
  if (aOk && bOk) return Math.min(a, b); // fall-back overlap: the first occurrence
  if (aOk) return a;
  if (bOk) return b;
  return Math.max(a, b); // spring-forward gap: shifted forward by the gap
}

/** Local calendar day (day number) and minute of the day (0..1439) of instant `utcMs` in zone `tz`. */
export function localClock(tz: string, utcMs: number): { day: number; minute: number } {
  const local = utcMs + offsetMinutes(tz, utcMs) * 60_000;
  const day = Math.floor(local / 86_400_000);
  return { day, minute: Math.floor((local - day * 86_400_000) / 60_000) };
}

/**
 * ISO 8601 of instant `utcMs` as a wall-clock time in zone `tz`, with its offset (2026-03-08T08:00:00-04:00;
 * with milliseconds when the instant has any).
 */
export function isoInZone(tz: string, utcMs: number): string {
  const off = offsetMinutes(tz, utcMs);
  // Milliseconds are kept when there are any, so the text never names an instant before `utcMs`.
  const iso = new Date(utcMs + off * 60_000).toISOString();
  const wall = utcMs % 1000 === 0 ? iso.slice(0, 19) : iso.slice(0, 23);
  const a = Math.abs(off);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${wall}${off < 0 ? '-' : '+'}${hh}:${mm}`;
}
