import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RepayriskError } from '../src/core/errors.ts';
import {
  allocateCalls,
  type CallAllocation,
  type CallCandidate,
  type CallSlots,
  TOTAL_POOL,
} from '../src/core/policy/capacity.ts';
import { createRng } from '../src/core/random.ts';

type Team = { name: string; slots: number };

/** The pools of a slot spec, a total pool being one pool named 'all'. */
function poolsOf(slots: CallSlots): Team[] {
  return slots.kind === 'total' ? [{ name: TOTAL_POOL, slots: slots.slots }] : [...slots.teams];
}

/** Whether `c` may be called by `pool` (a total pool admits every list but an empty one, as documented). */
function mayCall(c: CallCandidate, pool: string, slots: CallSlots): boolean {
  if (slots.kind === 'total') return c.eligibleTeams?.length !== 0;
  return c.eligibleTeams === undefined || c.eligibleTeams.includes(pool);
}

/**
 * The optimum by enumerating every feasible plan: each candidate gets no call or a call from an eligible pool
 * with a slot left. Negative gains are enumerated too (the maximum drops them by itself); a NaN gain is
 * never called, as the contract says, since a NaN sum could not be compared.
 */
function bruteForce(cands: readonly CallCandidate[], slots: CallSlots): number {
  const pools = poolsOf(slots);
  const left = pools.map((p) => p.slots);
  let best = 0;
  const visit = (i: number, acc: number): void => {
    if (i === cands.length) {
      best = Math.max(best, acc);
      return;
    }
    visit(i + 1, acc);
    const c = cands[i]!;
    if (Number.isNaN(c.gain)) return;
    pools.forEach((p, t) => {
      if (left[t]! > 0 && mayCall(c, p.name, slots)) {
        left[t]!--;
        visit(i + 1, acc + c.gain);
        left[t]!++;
      }
    });
  };
  visit(0, 0);
  return best;
}

/** Asserts capacity, eligibility, that no non-positive gain is called, and that totalGain is their sum. */
function expectFeasible(cands: readonly CallCandidate[], slots: CallSlots, r: CallAllocation): void {
  expect(r.assignment).toHaveLength(cands.length);
  const used = new Map<string, number>();
  let sum = 0;
  r.assignment.forEach((pool, i) => {
    if (pool === null) return;
    const c = cands[i]!;
    expect(c.gain, `candidate ${i} has no positive gain but is called`).toBeGreaterThan(0);
    expect(mayCall(c, pool, slots), `candidate ${i} is not eligible for '${pool}'`).toBe(true);
    used.set(pool, (used.get(pool) ?? 0) + 1);
    sum += c.gain;
  });
  const pools = poolsOf(slots);
  for (const [pool, n] of used) {
    const p = pools.find((q) => q.name === pool);
    expect(p, `unknown pool '${pool}'`).toBeDefined();
    expect(n, `pool '${pool}' over capacity`).toBeLessThanOrEqual(p!.slots);
  }
  expect(r.totalGain).toBeCloseTo(sum, 9);
}

/**
 * An upper bound on the optimum from LP duality, with the team prices chosen from the plan itself.
 * For prices v >= 0, sum_j slots_j v_j + sum_c max(0, gain_c - min over c's teams of v_j) bounds every
 * feasible plan, so if it equals the plan's total the plan is optimal. The prices are the least ones
 * satisfying complementary slackness with the plan: a team at least as dear as any gain it leaves uncalled,
 * and as dear as any team whose called accounts it could also take.
 */
function dualBound(
  cands: readonly CallCandidate[],
  teams: readonly Team[],
  assignment: readonly (string | null)[],
) {
  const T = teams.length;
  const index = new Map(teams.map((t, j) => [t.name, j]));
  const eligible = cands.map((c) => {
    const names = c.eligibleTeams ?? teams.map((t) => t.name);
    return [...new Set(names.flatMap((n) => (index.has(n) ? [index.get(n)!] : [])))];
  });
  const v = new Array<number>(T).fill(0);
  const edge = Array.from({ length: T }, () => new Array<boolean>(T).fill(false));
  cands.forEach((c, i) => {
    if (!(c.gain > 0)) return;
    const on = assignment[i];
    if (on === null || on === undefined) {
      for (const k of eligible[i]!) v[k] = Math.max(v[k]!, c.gain);
    } else {
      const j = index.get(on)!;
      for (const k of eligible[i]!) edge[j]![k] = true;
    }
  });
  for (let pass = 0; pass < T; pass++) {
    for (let j = 0; j < T; j++) for (let k = 0; k < T; k++) if (edge[j]![k]) v[k] = Math.max(v[k]!, v[j]!);
  }
  let bound = teams.reduce((s, t, j) => s + t.slots * v[j]!, 0);
  cands.forEach((c, i) => {
    const e = eligible[i]!;
    if (c.gain > 0 && e.length > 0) bound += Math.max(0, c.gain - Math.min(...e.map((k) => v[k]!)));
  });
  return bound;
}

/** Greedy by gain: best first, each to the first eligible team with a slot left. A valid lower bound. */
function greedy(cands: readonly CallCandidate[], teams: readonly Team[]): number {
  const left = teams.map((t) => t.slots);
  const order = cands.map((_, i) => i).sort((a, b) => cands[b]!.gain - cands[a]!.gain || a - b);
  let total = 0;
  for (const i of order) {
    const c = cands[i]!;
    if (!(c.gain > 0)) continue;
    const t = teams.findIndex((team, j) => left[j]! > 0 && mayCall(c, team.name, { kind: 'teams', teams }));
    if (t < 0) continue;
    left[t]!--;
    total += c.gain;
  }
  return total;
}

function expectInvalid(run: () => unknown, message: string): void {
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RepayriskError);
  expect((err as RepayriskError).code).toBe('invalid_argument');
  expect((err as RepayriskError).message).toBe(message);
}

const TEAM_NAMES = ['x', 'y', 'z'] as const;
// Small integers make ties and zeros common; doubles cover the rest; NaN must never be called.
const gainArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -3, max: 6 }) },
  { weight: 3, arbitrary: fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
);
// 'ghost' is never a slot team; repeats and any order are allowed, as a caller might write them.
const candidateArb: fc.Arbitrary<CallCandidate> = fc.record(
  {
    gain: gainArb,
    eligibleTeams: fc.array(fc.constantFrom(...TEAM_NAMES, 'ghost'), { maxLength: 4 }),
  },
  { requiredKeys: ['gain'] },
);
const candidatesArb = fc.array(candidateArb, { maxLength: 8 });
const teamsArb = fc
  .array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 })
  .map((s) => s.map((slots, j) => ({ name: TEAM_NAMES[j]!, slots })));

describe('allocateCalls against brute force', () => {
  it('is optimal and feasible with a total pool', () => {
    fc.assert(
      fc.property(candidatesArb, fc.integer({ min: 0, max: 3 }), (cands, k) => {
        const slots: CallSlots = { kind: 'total', slots: k };
        const r = allocateCalls(cands, slots);
        expectFeasible(cands, slots, r);
        expect(r.totalGain).toBeCloseTo(bruteForce(cands, slots), 9);
      }),
      { seed: 20240611, numRuns: 500 },
    );
  });

  it('is optimal and feasible with 1-3 teams, and its dual bound is tight', () => {
    fc.assert(
      fc.property(candidatesArb, teamsArb, (cands, teams) => {
        const slots: CallSlots = { kind: 'teams', teams };
        const r = allocateCalls(cands, slots);
        expectFeasible(cands, slots, r);
        const opt = bruteForce(cands, slots);
        expect(r.totalGain).toBeCloseTo(opt, 9);
        // Checks the certificate used on the large instance below: a bound (never under the optimum) and
        // tight at an optimal plan.
        expect(dualBound(cands, teams, r.assignment)).toBeCloseTo(opt, 9);
      }),
      { seed: 20240612, numRuns: 500 },
    );
  });
});

describe('allocateCalls by hand', () => {
  it('gives a total pool of 2 slots to the 2 largest gains of 5', () => {
    const r = allocateCalls([{ gain: 3 }, { gain: 9 }, { gain: 1 }, { gain: 7 }, { gain: 5 }], {
      kind: 'total',
      slots: 2,
    });
    expect(r.assignment).toEqual([null, 'all', null, 'all', null]);
    expect(r.totalGain).toBe(16);
  });

  it('breaks ties in a total pool towards the lower input index', () => {
    const r = allocateCalls([{ gain: 4 }, { gain: 5 }, { gain: 4 }, { gain: 4 }], {
      kind: 'total',
      slots: 2,
    });
    expect(r.assignment).toEqual([TOTAL_POOL, TOTAL_POOL, null, null]);
  });

  it('spills a candidate to its next-best treatment (null) when its only team is full or unknown', () => {
    const r = allocateCalls(
      [
        { gain: 10, eligibleTeams: ['cards'] },
        { gain: 4, eligibleTeams: ['cards'] },
        { gain: 50, eligibleTeams: ['mortgages'] },
        { gain: 3, eligibleTeams: [] },
      ],
      { kind: 'teams', teams: [{ name: 'cards', slots: 1 }] },
    );
    expect(r.assignment).toEqual(['cards', null, null, null]);
    expect(r.totalGain).toBe(10);
  });

  it('moves the flexible account to the other team where greedy by gain would strand the second one', () => {
    // Greedy gives X to A (highest gain, X listed first) and B, callable only by X, gets nothing: 10.
    // The optimum calls A from Y and B from X: 18.
    const cands = [
      { gain: 10, eligibleTeams: ['X', 'Y'] },
      { gain: 8, eligibleTeams: ['X'] },
    ];
    const teams = [
      { name: 'X', slots: 1 },
      { name: 'Y', slots: 1 },
    ];
    const r = allocateCalls(cands, { kind: 'teams', teams });
    expect(greedy(cands, teams)).toBe(10);
    expect(r.assignment).toEqual(['Y', 'X']);
    expect(r.totalGain).toBe(18);
  });

  it('never calls a zero, negative or NaN gain, even with free slots', () => {
    const cands = [{ gain: -1 }, { gain: 0 }, { gain: Number.NaN }, { gain: 2 }, { gain: -0.01 }];
    const total = allocateCalls(cands, { kind: 'total', slots: 10 });
    expect(total.assignment).toEqual([null, null, null, 'all', null]);
    expect(total.totalGain).toBe(2);
    const teams = allocateCalls(cands, { kind: 'teams', teams: [{ name: 'cards', slots: 10 }] });
    expect(teams.assignment).toEqual([null, null, null, 'cards', null]);
  });

  it('accepts zero slots and no candidates', () => {
    expect(allocateCalls([{ gain: 5 }], { kind: 'total', slots: 0 })).toEqual({
      assignment: [null],
      totalGain: 0,
    });
    expect(allocateCalls([{ gain: 5 }], { kind: 'teams', teams: [{ name: 'cards', slots: 0 }] })).toEqual({
      assignment: [null],
      totalGain: 0,
    });
    expect(allocateCalls([], { kind: 'teams', teams: [] })).toEqual({ assignment: [], totalGain: 0 });
  });

  it('refuses invalid slots and gains with a message naming the field', () => {
    expectInvalid(
      () => allocateCalls([], { kind: 'total', slots: -1 }),
      'call slots (total): expected a non-negative integer, got -1',
    );
    expectInvalid(
      () => allocateCalls([], { kind: 'teams', teams: [{ name: 'cards', slots: -1 }] }),
      "call slots for team 'cards': expected a non-negative integer, got -1",
    );
    expectInvalid(
      () => allocateCalls([], { kind: 'teams', teams: [{ name: 'cards', slots: 2.5 }] }),
      "call slots for team 'cards': expected a non-negative integer, got 2.5",
    );
    expectInvalid(
      () => allocateCalls([], { kind: 'teams', teams: [{ name: '', slots: 1 }] }),
      "call slots team name at position 0: expected a non-empty string, got ''",
    );
    expectInvalid(
      () =>
        allocateCalls([], {
          kind: 'teams',
          teams: [
            { name: 'cards', slots: 1 },
            { name: 'cards', slots: 2 },
          ],
        }),
      "call slots team name at position 1: expected a unique name ('cards' is already at position 0), got 'cards'",
    );
    expectInvalid(
      () => allocateCalls([{ gain: 1 }, { gain: Number.POSITIVE_INFINITY }], { kind: 'total', slots: 1 }),
      'gain of call candidate 1: expected a finite number of currency units, got Infinity',
    );
  });
});

describe('allocateCalls at scale', () => {
  // 20,000 accounts, 3 teams with overlapping eligibility and 1,500 slots. The small team 'legal' is the only
  // one for many high-gain accounts, so placing accounts greedily strands value.
  const rng = createRng(20240613);
  const teams: Team[] = [
    { name: 'cards', slots: 800 },
    { name: 'loans', slots: 500 },
    { name: 'legal', slots: 200 },
  ];
  const cands: CallCandidate[] = Array.from({ length: 20_000 }, () => {
    const gain = Math.round(Math.exp(3 + rng.normal()) - 15);
    const u = rng.next();
    const eligibleTeams =
      u < 0.15
        ? undefined
        : u < 0.35
          ? ['legal']
          : u < 0.55
            ? ['cards', 'legal']
            : u < 0.75
              ? ['loans', 'legal']
              : u < 0.9
                ? ['cards']
                : ['loans'];
    return eligibleTeams === undefined ? { gain } : { gain, eligibleTeams };
  });
  const slots: CallSlots = { kind: 'teams', teams };

  it('is feasible, beats greedy, is proven optimal by its dual bound, and is deterministic', () => {
    const r = allocateCalls(cands, slots);
    expectFeasible(cands, slots, r);
    expect(r.assignment.filter((a) => a !== null)).toHaveLength(1500);
    expect(r.totalGain).toBeGreaterThan(greedy(cands, teams));
    // Integer gains keep every sum exact, so the certificate can be compared exactly.
    expect(dualBound(cands, teams, r.assignment)).toBe(r.totalGain);
    expect(allocateCalls(cands, slots)).toEqual(r);
  });
});
