import type { AccountRow, ContactRow } from '../schema/tables.ts';
import { allocateCalls, type CallCandidate, type CallSlots } from './capacity.ts';
import { decide } from './decide.ts';
import type { Policy } from './load.ts';
import type { Decision, Scores } from './types.ts';

/** One account of a batch: its snapshot, scores and contact history. */
export interface BatchItem {
  account: AccountRow;
  scores: Scores;
  contacts: readonly ContactRow[];
}

/**
 * One decision per account per batch: for each position of `accountIds` holding an id already seen earlier, the
 * first position that holds it (a repeated account is refused, not decided twice — two decisions for one account
 * in one batch would each spend a call slot and count no contact of the other).
 */
export function repeatedAccounts(accountIds: readonly (string | null)[]): Map<number, number> {
  const first = new Map<string, number>();
  const repeats = new Map<number, number>();
  accountIds.forEach((id, i) => {
    if (id === null) return;
    const at = first.get(id);
    if (at === undefined) first.set(id, i);
    else repeats.set(i, at);
  });
  return repeats;
}

/** The call slots a policy declares, as the allocator takes them; null = unlimited. */
export function policySlots(policy: Policy): CallSlots | null {
  const cap = policy.capacity;
  if (!cap) return null;
  if ('totalSlots' in cap) return { kind: 'total', slots: cap.totalSlots };
  return { kind: 'teams', teams: cap.teams.map((t) => ({ name: t.name, slots: t.slots })) };
}

/**
 * Decides a day's batch. Each account is decided on its own; then, when calls are limited and too few, the
 * day's human-call slots go to the accounts where a call adds the most expected net recovery over the treatment
 * they would get without one (their decision with `callCapacityExhausted`), and the others spill to that
 * treatment. While slots suffice, every call the strategy chose keeps its slot. Field visits are rationed the same
 * way, first, against `visitSlots`.
 * `slots` overrides the policy's call capacity (null = unlimited; undefined = the policy's). `visitSlots` is the
 * number of field-visit slots left for this batch (undefined = the policy's `visitCapacity.slots`; null =
 * unlimited): the API passes what the ledger says is left of the day's, so requests share one day's visits.
 */
export function decideBatch(
  items: readonly BatchItem[],
  now: number,
  policy: Policy,
  slots: CallSlots | null = policySlots(policy),
  visitSlots: number | null = policy.visitCapacity?.slots ?? null,
): Decision[] {
  const out = items.map((it) => decide(it.account, it.scores, { now, contacts: it.contacts }, policy));
  // Field visits first: a visit that gets no slot spills, possibly to a call, which then competes for call slots.
  const visitSpilled = allocateVisits(items, out, now, policy, visitSlots);
  if (!slots) return out;
  const callers: number[] = [];
  const spills: Decision[] = [];
  const gains: { gain: number; account: AccountRow }[] = [];
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.treatment !== 'human_call') continue;
    const it = items[i]!;
    const spill = decide(
      it.account,
      it.scores,
      {
        now,
        contacts: it.contacts,
        callCapacityExhausted: true,
        ...(visitSpilled.has(i) ? { visitCapacityExhausted: true } : {}),
      },
      policy,
    );
    callers.push(i);
    spills.push(spill);
    gains.push({ gain: out[i]!.expected.net - spill.expected.net, account: it.account });
  }
  const assignment = assignCallSlots(gains, slots, policy);
  for (let k = 0; k < callers.length; k++) {
    const i = callers[k]!;
    const team = assignment[k] ?? null;
    const spill = spills[k]!;
    if (team === null) out[i] = spill;
    else {
      const d = out[i]!;
      const gain = gains[k]!.gain;
      d.call_team = team;
      d.reason_codes.push('CALL_SLOT');
      d.reasons.push(
        `call slot of team ${team}: the call adds ${gain.toFixed(2)} expected net over ${spill.treatment}`,
      );
    }
  }
  return out;
}

/**
 * Gives the field-visit slots left (`slots`; null = unlimited) to the visits that add the most expected net
 * recovery over their next-best treatment, the way call slots are given (`assignCallSlots`), and replaces the
 * others in `out` by that treatment (`CAPACITY_SPILL`). Returns the positions that spilled.
 */
function allocateVisits(
  items: readonly BatchItem[],
  out: Decision[],
  now: number,
  policy: Policy,
  slots: number | null,
): Set<number> {
  const spilled = new Set<number>();
  if (slots === null) return spilled;
  const visitors: number[] = [];
  const spills: Decision[] = [];
  const gains: { gain: number; account: AccountRow }[] = [];
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.treatment !== 'field_visit') continue;
    const it = items[i]!;
    const spill = decide(
      it.account,
      it.scores,
      { now, contacts: it.contacts, visitCapacityExhausted: true },
      policy,
    );
    visitors.push(i);
    spills.push(spill);
    gains.push({ gain: out[i]!.expected.net - spill.expected.net, account: it.account });
  }
  const assignment = assignCallSlots(gains, { kind: 'total', slots: Math.max(0, slots) }, policy);
  visitors.forEach((i, k) => {
    if (assignment[k] === null) {
      out[i] = spills[k]!;
      spilled.add(i);
    } else {
      out[i]!.reason_codes.push('VISIT_SLOT');
      out[i]!.reasons.push(
        `one of the day's visit slots: the visit adds ${gains[k]!.gain.toFixed(2)} expected net over ${spills[k]!.treatment}`,
      );
    }
  });
  return spilled;
}

/**
 * Which of the day's call candidates get a slot (team name, or null = spill): capacity rations calls, it does not
 * overrule the strategy — while slots are left every chosen call gets one, and only when they run short does the
 * expected gain over the next-best treatment decide. Shifting every gain by more than the spread of all gains
 * makes "more calls" win first and "more gain" second (a matrix policy may choose a call whose expected value is
 * below its fallback's; expected-value mode never does). Teams call only the products and regions they serve.
 */
export function assignCallSlots(
  candidates: readonly { gain: number; account: Pick<AccountRow, 'product' | 'region'> }[],
  slots: CallSlots,
  policy: Policy,
): (string | null)[] {
  const teams = policy.capacity && 'teams' in policy.capacity ? policy.capacity.teams : null;
  let spread = 1;
  for (const c of candidates) spread += Math.abs(c.gain);
  const shifted = candidates.map((c): CallCandidate => {
    const candidate: CallCandidate = { gain: c.gain + spread };
    if (teams && slots.kind === 'teams')
      candidate.eligibleTeams = teams
        .filter(
          (t) =>
            (!t.products || t.products.includes(c.account.product)) &&
            (!t.regions || t.regions.includes(c.account.region)),
        )
        .map((t) => t.name);
    return candidate;
  });
  return allocateCalls(shifted, slots).assignment;
}
