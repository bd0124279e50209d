import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDay } from '../src/core/features/history.ts';
import { dayOf } from '../src/core/time/dates.ts';
import { daysFromCivil, instantMs } from '../src/core/time/instant.ts';

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Timestamps in the forms read in place, with every field over its whole range and some past it. */
const timestamps = fc
  .record({
    y: fc.integer({ min: 0, max: 9999 }),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 25 }),
    mi: fc.integer({ min: 0, max: 61 }),
    s: fc.integer({ min: 0, max: 61 }),
    frac: fc.option(fc.stringMatching(/^\.\d{1,4}$/), { nil: '' }),
    zone: fc.oneof(
      fc.constant('Z'),
      fc.constant(''),
      fc
        .record({
          sign: fc.constantFrom('+', '-'),
          oh: fc.integer({ min: 0, max: 25 }),
          om: fc.integer({ min: 0, max: 61 }),
        })
        .chain(({ sign, oh, om }) =>
          fc.constantFrom(`${sign}${pad(oh, 2)}:${pad(om, 2)}`, `${sign}${pad(oh, 2)}${pad(om, 2)}`),
        ),
    ),
    sep: fc.constantFrom('T', 'T', 'T', ' ', 't'),
  })
  .map(
    ({ y, mo, d, h, mi, s, frac, zone, sep }) =>
      `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac}${zone}`,
  );

describe('instantMs', () => {
  it('gives what Date.parse gives on timestamps of every form, valid or not', () => {
    fc.assert(
      fc.property(timestamps, (ts) => {
        expect({ ts, ms: instantMs(ts) }).toEqual({ ts, ms: Date.parse(ts) });
      }),
      { seed: 20261205, numRuns: 20_000 },
    );
  });

  it('gives what Date.parse gives on arbitrary and mangled texts', () => {
    const mangled = fc
      .tuple(timestamps, fc.nat(30), fc.string({ maxLength: 2 }))
      .map(([ts, at, s]) => ts.slice(0, at) + s + ts.slice(at + s.length));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), mangled), (ts) => {
        expect({ ts, ms: instantMs(ts) }).toEqual({ ts, ms: Date.parse(ts) });
      }),
      { seed: 20261206, numRuns: 20_000 },
    );
  });

  it('reads the edges of the calendar as Date.parse does: leap days, the epoch, offsets across midnight', () => {
    for (const ts of [
      '2024-02-29T23:59:59.999Z',
      '2023-02-29T00:00:00Z',
      '2000-02-29T12:00:00+14:00',
      '1900-02-29T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '1969-12-31T23:59:59.001-00:01',
      '2024-12-31T23:30:00-05:00',
      '2024-03-10T02:30:00-23:59',
    ])
      expect({ ts, ms: instantMs(ts) }).toEqual({ ts, ms: Date.parse(ts) });
  });

  it('counts days as Date.UTC does, and isoDay of a timestamp is its UTC day', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) => {
          expect(daysFromCivil(y, m, d)).toBe(Math.floor(Date.UTC(y, m - 1, d) / 86_400_000));
        },
      ),
      { seed: 20261207, numRuns: 5_000 },
    );
    expect(isoDay('2024-12-09T01:18:00+05:00')).toBe(
      Math.floor(Date.parse('2024-12-08T20:18:00Z') / 86_400_000),
    );
  });

  it('dayOf reads the date a text starts with as Date.parse reads it, whatever follows or is wrong', () => {
    const dates = fc
      .tuple(timestamps, fc.nat(12), fc.string({ maxLength: 1 }))
      .map(([ts, at, s]) => (s === '' ? ts : ts.slice(0, at) + s + ts.slice(at + 1)));
    fc.assert(
      fc.property(
        fc.oneof(
          dates,
          dates.map((t) => t.slice(0, 10)),
        ),
        (iso) => {
          const parsed = Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / 86_400_000);
          expect({ iso, day: dayOf(iso) }).toEqual({ iso, day: parsed });
        },
      ),
      { seed: 20261208, numRuns: 20_000 },
    );
  });
});
