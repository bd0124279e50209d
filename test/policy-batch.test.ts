import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideBatch } from '../src/core/policy/batch.ts';
import { decide } from '../src/core/policy/decide.ts';
import { parsePolicy } from '../src/core/policy/load.ts';
import type { PRODUCTS } from '../src/core/schema/enums.ts';
import { makeAccount } from './helpers/account.ts';

const NOW = Date.parse('2026-11-25T16:00:00Z');
// Low willingness, high ability: the default matrix calls these accounts.
const CALL = { willingness: 0.2, ability: 0.8 };
const policy = (extra: Record<string, unknown> = {}) => parsePolicy({ version: 'cap-1', ...extra }, 'test');

function callers(n: number, overdue: (i: number) => number, product: (i: number) => string = () => 'card') {
  return Array.from({ length: n }, (_, i) => ({
    account: makeAccount({
      account_id: `K${i}`,
      amount_overdue: overdue(i),
      product: product(i) as (typeof PRODUCTS)[number],
      legal_notice_date: null,
    }),
    scores: CALL,
    contacts: [],
  }));
}

describe('decideBatch and the day’s call capacity', () => {
  it('without a capacity, a batch decides exactly as one account at a time', () => {
    const items = callers(5, (i) => 200 + 300 * i);
    const p = policy();
    const batch = decideBatch(items, NOW, p);
    expect(batch).toEqual(items.map((it) => decide(it.account, it.scores, { now: NOW, contacts: [] }, p)));
    expect(batch.every((d) => d.treatment === 'human_call' && d.call_team === null)).toBe(true);
  });

  it('gives the slots to the calls that add most over the next-best treatment; the rest spill to it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 3 }),
        (overdues, slots) => {
          const items = callers(overdues.length, (i) => overdues[i]!);
          const p = policy({ capacity: { total_slots: slots } });
          const out = decideBatch(items, NOW, p);
          const call = items.map((it) => decide(it.account, it.scores, { now: NOW, contacts: [] }, p));
          const spill = items.map((it) =>
            decide(it.account, it.scores, { now: NOW, contacts: [], callCapacityExhausted: true }, p),
          );
          const gain = call.map((d, i) => d.expected.net - spill[i]!.expected.net);
          // Brute force over every subset of at most `slots` accounts: as many calls as slots allow (capacity
          // rations the strategy's calls, it does not veto them), and among those the largest total gain.
          let best = 0;
          let bestCount = 0;
          for (let mask = 0; mask < 1 << items.length; mask++) {
            let count = 0;
            let total = 0;
            for (let i = 0; i < items.length; i++)
              if (mask & (1 << i)) {
                count++;
                total += gain[i]!;
              }
            if (count > slots) continue;
            if (count > bestCount || (count === bestCount && total > best)) {
              bestCount = count;
              best = total;
            }
          }
          let got = 0;
          out.forEach((d, i) => {
            if (d.treatment === 'human_call') {
              expect(d.call_team).toBe('all');
              expect(d.reason_codes).toContain('CALL_SLOT');
              got += gain[i]!;
            } else expect(d).toEqual(spill[i]);
          });
          expect(out.filter((d) => d.treatment === 'human_call').length).toBe(Math.min(slots, items.length));
          expect(got).toBeCloseTo(best, 9);
        },
      ),
      { seed: 4242, numRuns: 150 },
    );
  });

  it('a spilled account is told why, and lands on its next-best lawful treatment', () => {
    const items = callers(3, (i) => [400, 2500, 900][i]!);
    const out = decideBatch(items, NOW, policy({ capacity: { total_slots: 1 } }));
    expect(out.map((d) => d.treatment)).toEqual(['plan_offer', 'human_call', 'plan_offer']);
    expect(out[0]!.first_choice).toBe('human_call');
    expect(out[0]!.reason_codes).toContain('CAPACITY_SPILL');
    expect(out[1]!.call_team).toBe('all');
  });

  it('while slots suffice, a call the matrix chose keeps its slot even when its expected gain is negative', () => {
    // Nothing overdue: the call only costs, so its gain over a plan offer is negative.
    const items = callers(2, (i) => [0, 800][i]!);
    const out = decideBatch(items, NOW, policy({ capacity: { total_slots: 2 } }));
    expect(out.map((d) => d.treatment)).toEqual(['human_call', 'human_call']);
    const short = decideBatch(items, NOW, policy({ capacity: { total_slots: 1 } }));
    expect(short.map((d) => d.treatment)).toEqual(['plan_offer', 'human_call']);
  });

  it('teams only call the products they serve', () => {
    // Two card accounts and one loan; the card team has one slot, the loan team one.
    const items = callers(
      3,
      (i) => [3000, 2000, 500][i]!,
      (i) => (i === 2 ? 'personal_loan' : 'card'),
    );
    const p = policy({
      capacity: {
        teams: [
          { name: 'cards', slots: 1, products: ['card'] },
          { name: 'loans', slots: 1, products: ['personal_loan'] },
        ],
      },
    });
    const out = decideBatch(items, NOW, p);
    expect(out.map((d) => [d.treatment, d.call_team])).toEqual([
      ['human_call', 'cards'],
      ['plan_offer', null],
      ['human_call', 'loans'],
    ]);
  });

  it('slots given at run time override the policy’s, and null means unlimited', () => {
    const items = callers(4, (i) => 1000 + i);
    const p = policy({ capacity: { total_slots: 0 } });
    expect(decideBatch(items, NOW, p).filter((d) => d.treatment === 'human_call')).toHaveLength(0);
    expect(decideBatch(items, NOW, p, { kind: 'total', slots: 2 }).filter((d) => d.call_team)).toHaveLength(
      2,
    );
    expect(decideBatch(items, NOW, p, null).every((d) => d.treatment === 'human_call')).toBe(true);
  });
});
