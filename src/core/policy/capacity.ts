import { RepayriskError } from '../errors.ts';

/**
 * Allocation of the day's human-call slots among accounts whose best treatment is a call.
 *
 * A call is scarce; each account that cannot get one falls back to its next-best lawful treatment, so the
 * value of calling an account is the *difference* `gain` between the two, and the day's plan should maximise
 * the summed gain of the accounts that are called.
 *
 * With per-team slots this is a weighted bipartite b-matching. It is solved exactly, without a general
 * min-cost-flow solver, because of its structure: the sets of accounts that can all be called at once form a
 * transversal matroid, so taking accounts in decreasing gain and keeping each one that can still be placed
 * (possibly by moving already-placed accounts between teams along an alternating path) is optimal. This is
 * what successive shortest paths would do here: every augmenting path costs exactly minus the gain of the
 * account it adds (moving a placed account to another eligible team costs nothing), so the shortest path
 * always adds the best account that can still be placed, and the search over teams is tiny because teams
 * are few.
 */

/**
 * One account whose decision is a human call; `gain` = expected net recovery of the call minus that of its
 * next-best lawful treatment (currency units).
 */
export interface CallCandidate {
  /**
   * Expected net recovery of the call minus that of the next-best lawful treatment, in currency units.
   * `<= 0` or `NaN` means the account is never called (the fallback is at least as good, or unknown).
   */
  gain: number;
  /**
   * Names of the teams allowed to call this account; undefined = every team. Names that are not among the
   * slot teams are never matched. With a total pool, an empty list means no one may call the account and any
   * other value means it may be called.
   */
  eligibleTeams?: readonly string[];
}

/** The day's call slots: one pool, or per team. Slots are counts of calls (non-negative integers). */
export type CallSlots =
  | { kind: 'total'; slots: number }
  | { kind: 'teams'; teams: readonly { name: string; slots: number }[] };

/** The day's call plan. */
export interface CallAllocation {
  /**
   * Per candidate, in input order: the team that calls it ('all' for the total pool), or null = spilled to
   * its next-best treatment.
   */
  assignment: (string | null)[];
  /** Sum of the gains of the assigned candidates, in currency units. */
  totalGain: number;
}

/** Name of the single pool when slots are given in total. */
export const TOTAL_POOL = 'all';

/**
 * Assigns call slots so that the summed `gain` (currency units) of the called accounts is maximal, subject
 * to: each account is called by at most one team, only by a team it is eligible for, and each team calls at
 * most its `slots` accounts. Accounts with gain `<= 0` or `NaN` are never called.
 *
 * Pure and deterministic: the same input gives the same output. Among accounts of equal gain, the one with
 * the lower input index is preferred whenever only one of them can be called.
 *
 * Cost: O(n·e·log S) at worst to read n candidates with e eligible teams each against S total slots (about
 * O(n·e) in practice, as most candidates fall below the bounded heaps' floor), plus O(S·T·(log(S·T) + T))
 * for T teams — a million candidates and a few thousand slots take a fraction of a second.
 *
 * @param candidates - the accounts competing for a call, in any order; the output follows this order.
 * @param slots - the day's capacity, as one pool or per named team.
 * @returns the team per candidate (or null) and the summed gain of the called ones.
 * @throws RepayriskError `invalid_argument` if a slot count is not a non-negative integer, a team name is
 *   empty or repeated, or a gain is `+Infinity` or not a number.
 */
export function allocateCalls(candidates: readonly CallCandidate[], slots: CallSlots): CallAllocation {
  const n = candidates.length;
  const gains = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = (candidates[i] as CallCandidate).gain;
    // +Infinity would make every sum infinite and every comparison among such accounts a tie; it is a bug
    // upstream, not a very good account.
    if (typeof g !== 'number' || g === Number.POSITIVE_INFINITY) {
      throw invalid(`gain of call candidate ${i}`, 'a finite number of currency units', g);
    }
    gains[i] = g;
  }
  if (slots.kind === 'total') return allocateTotal(candidates, gains, slots.slots);
  if (slots.kind === 'teams') return allocateTeams(candidates, gains, slots.teams);
  const kind: unknown = (slots as { kind: unknown }).kind;
  throw invalid('call slots kind', "'total' or 'teams'", kind);
}

function allocateTotal(
  candidates: readonly CallCandidate[],
  gains: Float64Array,
  slots: number,
): CallAllocation {
  checkSlots('call slots (total)', slots);
  const n = candidates.length;
  const top = new TopK(gains, slots);
  for (let i = 0; i < n; i++) {
    // An empty list says no team may call the account; a pool is the union of all teams, so any other list
    // (even of names unknown here) allows it.
    if (gains[i]! > 0 && (candidates[i] as CallCandidate).eligibleTeams?.length !== 0) top.offer(i);
  }
  const assignment: (string | null)[] = new Array<string | null>(n).fill(null);
  for (const i of top.items()) assignment[i] = TOTAL_POOL;
  return { assignment, totalGain: sumAssigned(gains, assignment) };
}

function allocateTeams(
  candidates: readonly CallCandidate[],
  gains: Float64Array,
  teams: readonly { name: string; slots: number }[],
): CallAllocation {
  const T = teams.length;
  const teamIndex = new Map<string, number>();
  const cap = new Int32Array(T);
  let totalSlots = 0;
  for (let t = 0; t < T; t++) {
    const team = teams[t]!;
    if (typeof team.name !== 'string' || team.name === '') {
      throw invalid(`call slots team name at position ${t}`, 'a non-empty string', team.name);
    }
    const firstAt = teamIndex.get(team.name);
    if (firstAt !== undefined) {
      throw invalid(
        `call slots team name at position ${t}`,
        `a unique name ('${team.name}' is already at position ${firstAt})`,
        team.name,
      );
    }
    teamIndex.set(team.name, t);
    checkSlots(`call slots for team '${team.name}'`, team.slots);
    cap[t] = team.slots;
    totalSlots += team.slots;
  }

  const n = candidates.length;
  const assignment: (string | null)[] = new Array<string | null>(n).fill(null);
  if (totalSlots === 0 || n === 0) return { assignment, totalGain: 0 };

  // Teams with no slot can never take anyone, so they are dropped from every eligibility list up front.
  const allTeams: number[] = [];
  for (let t = 0; t < T; t++) if (cap[t]! > 0) allTeams.push(t);
  // A list may name a team twice; `seen[t] === call` marks teams already taken in this call.
  const seen = new Int32Array(T);
  let call = 0;
  const scratch: number[] = [];
  const eligibleOf = (i: number): readonly number[] => {
    const names = (candidates[i] as CallCandidate).eligibleTeams;
    if (names === undefined) return allTeams;
    call++;
    scratch.length = 0;
    for (const name of names) {
      const t = teamIndex.get(name);
      if (t === undefined || cap[t] === 0 || seen[t] === call) continue;
      seen[t] = call;
      scratch.push(t);
    }
    // Team order, not the caller's spelling order, decides which free team is tried first.
    return scratch.sort((a, b) => a - b);
  };

  // Pruning. Let S = the sum of all slots. Some optimal plan calls only accounts that are among the top S (by
  // gain, ties to the lower index) of the positive-gain accounts eligible for the team that calls them: if an
  // account c is called by team j but lies outside j's top S, then at most S - 1 of j's top S are called (at
  // most S accounts are called in all, c among them), so one of them, d, is not called; giving j's slot to d
  // instead of c keeps the plan feasible and does not lose gain (gain(d) >= gain(c)), and it increases the
  // number of (account, team) pairs inside their team's top S, so repeating the swap ends. Hence restricting
  // the search to the union of the teams' top-S lists is exact, and that union has at most S·T accounts
  // however many candidates there are.
  const tops: TopK[] = [];
  for (let t = 0; t < T; t++) tops.push(new TopK(gains, Math.min(totalSlots, n)));
  for (let i = 0; i < n; i++) {
    if (!(gains[i]! > 0)) continue;
    for (const t of eligibleOf(i)) tops[t]!.offer(i);
  }
  const inUnion = new Uint8Array(n);
  const pool: number[] = [];
  for (const top of tops) {
    for (const i of top.items()) {
      if (inUnion[i] === 0) {
        inUnion[i] = 1;
        pool.push(i);
      }
    }
  }
  pool.sort((a, b) => gains[b]! - gains[a]! || a - b);

  const m = pool.length;
  const eligStart = new Int32Array(m + 1);
  const eligFlat: number[] = [];
  for (let c = 0; c < m; c++) {
    for (const t of eligibleOf(pool[c]!)) eligFlat.push(t);
    eligStart[c + 1] = eligFlat.length;
  }
  const teamOf = new Int32Array(m).fill(-1);
  const free = Int32Array.from(cap);
  let freeTotal = totalSlots;
  // movable[j*T + k]: placed accounts that sit on team j and may also be called by team k — the edges of the
  // team graph along which an alternating path moves accounts. Entries go stale when an account moves and
  // are dropped lazily (an entry is live iff the account still sits on j); this keeps each move O(T).
  const movable: number[][] = Array.from({ length: T * T }, () => []);
  const place = (c: number, t: number): void => {
    teamOf[c] = t;
    for (let e = eligStart[c]!; e < eligStart[c + 1]!; e++) {
      const k = eligFlat[e]!;
      if (k !== t) movable[t * T + k]!.push(c);
    }
  };
  const liveTop = (j: number, k: number): number => {
    const stack = movable[j * T + k]!;
    while (stack.length > 0 && teamOf[stack[stack.length - 1]!] !== j) stack.pop();
    return stack.length > 0 ? stack[stack.length - 1]! : -1;
  };
  const parent = new Int32Array(T);
  const queue = new Int32Array(T);
  const UNSEEN = -2;
  const ROOT = -1;

  for (let c = 0; c < m && freeTotal > 0; c++) {
    let direct = -1;
    for (let e = eligStart[c]!; e < eligStart[c + 1]! && direct < 0; e++) {
      if (free[eligFlat[e]!]! > 0) direct = eligFlat[e]!;
    }
    if (direct >= 0) {
      place(c, direct);
      free[direct]!--;
      freeTotal--;
      continue;
    }
    // Breadth-first search over teams for a chain of moves that frees a slot c may take. If none exists, c
    // cannot join the accounts already placed in any way, and by the matroid property it never will.
    parent.fill(UNSEEN);
    let head = 0;
    let tail = 0;
    for (let e = eligStart[c]!; e < eligStart[c + 1]!; e++) {
      parent[eligFlat[e]!] = ROOT;
      queue[tail++] = eligFlat[e]!;
    }
    let end = -1;
    while (head < tail && end < 0) {
      const j = queue[head++]!;
      for (let k = 0; k < T && end < 0; k++) {
        if (parent[k] !== UNSEEN || liveTop(j, k) < 0) continue;
        parent[k] = j;
        if (free[k]! > 0) end = k;
        else queue[tail++] = k;
      }
    }
    if (end < 0) continue;
    free[end]!--;
    freeTotal--;
    // Move accounts from the far end backwards so that each pop reads a list no earlier move has touched.
    let to = end;
    while (parent[to] !== ROOT) {
      const from = parent[to]!;
      const x = liveTop(from, to);
      movable[from * T + to]!.pop();
      place(x, to);
      to = from;
    }
    place(c, to);
  }

  for (let c = 0; c < m; c++) {
    const t = teamOf[c]!;
    if (t >= 0) assignment[pool[c]!] = teams[t]!.name;
  }
  return { assignment, totalGain: sumAssigned(gains, assignment) };
}

/**
 * The k best indices offered so far, best = higher gain, then lower index. A bounded min-heap keeps the
 * work O(n log k) and the memory O(k) when a million candidates compete for a few thousand slots.
 */
class TopK {
  private readonly heap: number[] = [];
  constructor(
    private readonly gains: Float64Array,
    private readonly k: number,
  ) {}

  /** Offers index i; indices must be offered in increasing order for the tie-break to hold. */
  offer(i: number): void {
    const h = this.heap;
    if (h.length < this.k) {
      h.push(i);
      this.up(h.length - 1);
    } else if (this.k > 0 && this.worse(h[0]!, i)) {
      h[0] = i;
      this.down(0);
    }
  }

  items(): readonly number[] {
    return this.heap;
  }

  private worse(a: number, b: number): boolean {
    const ga = this.gains[a]!;
    const gb = this.gains[b]!;
    return ga < gb || (ga === gb && a > b);
  }

  private up(p: number): void {
    const h = this.heap;
    while (p > 0) {
      const q = (p - 1) >> 1;
      if (!this.worse(h[p]!, h[q]!)) break;
      [h[p], h[q]] = [h[q]!, h[p]!];
      p = q;
    }
  }

  private down(p: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const w = r < h.length && this.worse(h[r]!, h[l]!) ? r : l;
      if (!this.worse(h[w]!, h[p]!)) break;
      [h[p], h[w]] = [h[w]!, h[p]!];
      p = w;
    }
  }
}

// Summed in input order so the total does not depend on the order the solver happened to place accounts.
function sumAssigned(gains: Float64Array, assignment: readonly (string | null)[]): number {
  let total = 0;
  for (let i = 0; i < assignment.length; i++) if (assignment[i] !== null) total += gains[i]!;
  return total;
}

function checkSlots(field: string, slots: unknown): void {
  if (typeof slots !== 'number' || !Number.isSafeInteger(slots) || slots < 0) {
    throw invalid(field, 'a non-negative integer', slots);
  }
}

function invalid(field: string, expected: string, got: unknown): RepayriskError {
  return new RepayriskError('invalid_argument', `${field}: expected ${expected}, got ${show(got)}`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  return typeof v;
}
