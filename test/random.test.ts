import { describe, expect, it } from 'vitest';
import { createRng } from '../src/core/random.ts';

describe('createRng', () => {
  it('gives the same stream for the same seed and stream number', () => {
    const a = createRng(42, 3);
    const b = createRng(42, 3);
    for (let i = 0; i < 1000; i++) expect(a.next()).toBe(b.next());
  });

  it('gives unrelated streams for neighbouring seeds and stream numbers', () => {
    const draws = (seed: number, stream: number) => {
      const r = createRng(seed, stream);
      return Array.from({ length: 8 }, () => r.next());
    };
    expect(draws(1, 0)).not.toEqual(draws(2, 0));
    expect(draws(1, 0)).not.toEqual(draws(1, 1));
  });

  it('draws uniforms in [0, 1) and standard normals with the right moments', () => {
    const r = createRng(7);
    const n = 200_000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      su += u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // Means within 5 standard errors of the truth.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('draws categories in proportion to their weights', () => {
    const r = createRng(11);
    const counts = [0, 0, 0];
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[r.categorical([1, 2, 7])]!++;
    expect(counts[0]! / n).toBeCloseTo(0.1, 2);
    expect(counts[2]! / n).toBeCloseTo(0.7, 2);
  });

  it('refuses a seed that is not an integer', () => {
    expect(() => createRng(1.5)).toThrow(/seed must be an integer, got 1.5/);
  });
});
