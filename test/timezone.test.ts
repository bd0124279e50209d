import { describe, expect, it } from 'vitest';
import { dayOf } from '../src/core/time/dates.ts';
import { isTimeZone, localToUtcMs, offsetMinutes } from '../src/core/time/timezone.ts';

const iso = (ms: number) => new Date(ms).toISOString();

describe('time zones', () => {
  it('knows DST offsets of New York on both sides of the March change', () => {
    expect(offsetMinutes('America/New_York', Date.parse('2024-03-10T06:00:00Z'))).toBe(-300);
    expect(offsetMinutes('America/New_York', Date.parse('2024-03-10T08:00:00Z'))).toBe(-240);
    expect(offsetMinutes('America/Phoenix', Date.parse('2024-07-01T12:00:00Z'))).toBe(-420);
  });

  it('converts local wall-clock time to the UTC instant, DST-correct', () => {
    expect(iso(localToUtcMs('America/Chicago', dayOf('2024-01-15'), 8 * 60))).toBe(
      '2024-01-15T14:00:00.000Z',
    );
    expect(iso(localToUtcMs('America/Chicago', dayOf('2024-07-15'), 8 * 60))).toBe(
      '2024-07-15T13:00:00.000Z',
    );
    expect(iso(localToUtcMs('Pacific/Honolulu', dayOf('2024-07-15'), 20 * 60 + 59))).toBe(
      '2024-07-16T06:59:00.000Z',
    );
  });

  it('moves a time in the spring-forward gap forward and takes the first of a fall-back overlap', () => {
    // 02:30 does not exist in New York on 2024-03-10: it becomes 03:30 EDT = 07:30Z.
    expect(iso(localToUtcMs('America/New_York', dayOf('2024-03-10'), 150))).toBe('2024-03-10T07:30:00.000Z');
    // 01:30 happens twice on 2024-11-03: the first (EDT) is 05:30Z.
    expect(iso(localToUtcMs('America/New_York', dayOf('2024-11-03'), 90))).toBe('2024-11-03T05:30:00.000Z');
    // Hours after the change on a change day use the new offset.
    expect(iso(localToUtcMs('America/Los_Angeles', dayOf('2023-11-05'), 8 * 60 + 59))).toBe(
      '2023-11-05T16:59:00.000Z',
    );
    expect(iso(localToUtcMs('America/Los_Angeles', dayOf('2024-03-10'), 0))).toBe('2024-03-10T08:00:00.000Z');
    expect(iso(localToUtcMs('America/Los_Angeles', dayOf('2024-03-10'), 23 * 60))).toBe(
      '2024-03-11T06:00:00.000Z',
    );
  });

  it('tells known zones from unknown ones', () => {
    expect(isTimeZone('Europe/London')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
