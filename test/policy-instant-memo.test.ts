import { describe, expect, it } from 'vitest';
import { clockAt, isoInZoneAt, localDayStartAt, utcIsoAt } from '../src/core/policy/instant-memo.ts';
import { isoInZone, localClock, localToUtcMs } from '../src/core/time/timezone.ts';

const ZONES = [
  'America/Chicago',
  'America/New_York',
  'Europe/London',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
];
// Around the US spring-forward night, a London midnight and an instant with milliseconds.
const INSTANTS = [
  Date.parse('2026-03-08T07:59:59Z'),
  Date.parse('2026-03-08T08:00:00Z'),
  Date.parse('2026-11-25T00:00:00Z'),
  Date.parse('2026-11-25T15:00:00.250Z'),
];

describe('instant memo (what the decisions of one instant share per zone)', () => {
  it('answers what the time-zone functions answer, whatever order instants and zones come in', () => {
    // Instants interleaved and repeated: the memo must forget a zone's answers when the instant changes.
    for (const now of [...INSTANTS, ...INSTANTS.slice().reverse(), INSTANTS[1]!, INSTANTS[1]!])
      for (const tz of ZONES) {
        const clock = localClock(tz, now);
        expect(clockAt(tz, now), `${tz} at ${now}`).toEqual(clock);
        expect(localDayStartAt(tz, now), `${tz} at ${now}`).toBe(localToUtcMs(tz, clock.day, 0));
        expect(isoInZoneAt(tz, now, now), `${tz} at ${now}`).toBe(isoInZone(tz, now));
        expect(isoInZoneAt(tz, now + 3_600_000, now), `${tz} an hour after ${now}`).toBe(
          isoInZone(tz, now + 3_600_000),
        );
        expect(utcIsoAt(now)).toBe(new Date(now).toISOString());
      }
  });

  it('refuses an unknown zone as the time-zone functions do, and remembers nothing for it', () => {
    const now = INSTANTS[0]!;
    expect(() => clockAt('Mars/Olympus', now)).toThrow();
    expect(() => clockAt('Mars/Olympus', now)).toThrow();
  });
});
