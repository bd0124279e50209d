import { describe, expect, it } from 'vitest';
import { isoDay } from '../src/core/features/history.ts';

/** isoDay as it was before its fast path: Date.UTC of the fields of a 10-character date, else Date.parse. */
const before = (s: string) =>
  s.length === 10
    ? Math.floor(
        Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10))) / 86_400_000,
      )
    : Math.floor(Date.parse(s) / 86_400_000);
const pad = (v: number, n: number) => String(v).padStart(n, '0');

describe('isoDay', () => {
  it('gives calendar days from 0100-01-01 to 9999-12-31 their day number (every day of 1900-2199)', () => {
    const first = Date.UTC(100, 0, 1) / 86_400_000;
    const last = Date.UTC(9999, 11, 31) / 86_400_000;
    const dense = [Date.UTC(1900, 0, 1) / 86_400_000, Date.UTC(2200, 0, 1) / 86_400_000];
    let wrong = 0;
    for (let day = first; day <= last; day += day >= dense[0]! && day < dense[1]! ? 1 : 11) {
      const s = new Date(day * 86_400_000).toISOString().slice(0, 10);
      if (isoDay(s) !== day) wrong++;
    }
    expect(wrong).toBe(0);
    expect(isoDay('1970-01-01')).toBe(0);
    expect(isoDay('2024-02-29')).toBe(19_782);
  });

  it('reads out-of-range fields, two-digit-era years and non-digits as it always did (Date.UTC)', () => {
    const odd: string[] = [];
    for (const y of [1, 99, 100, 1899, 1900, 2000, 2023, 2024, 2100, 9999])
      for (let m = 0; m <= 19; m++)
        for (let d = 0; d <= 99; d += 7) odd.push(`${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
    odd.push(
      '2024-1-150',
      'abcd-01-01',
      '2024-0a-01',
      '2024-01-3x',
      ' 2024-1-10',
      '+02024-01-',
      '2024-01-+1',
    );
    for (const s of odd) expect(isoDay(s), s).toBe(before(s));
  });

  it('takes the UTC day of a timestamp', () => {
    expect(isoDay('2024-03-10T23:30:00-05:00')).toBe(isoDay('2024-03-11'));
    expect(isoDay('2024-03-10T23:30:00Z')).toBe(isoDay('2024-03-10'));
  });
});
