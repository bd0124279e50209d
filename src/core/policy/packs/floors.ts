import type { FieldIssue } from '../../schema/issues.ts';
import { NO_OFFER_FLOORS, type OfferFloors } from '../plan-offer.ts';
import { type Guardrails, minuteOf, type Rules } from '../schema.ts';
import type { Pack } from './schema.ts';

/**
 * Where a guardrail field of one pack's accounts was set: the path to name in an error (the policy-wide
 * `guardrails.…` or the pack's own `packs.guardrails.<pack>.…`).
 */
export type PathOf = (field: string) => string;

/**
 * Every way guardrails `g`, applied to the accounts of `pack`, are looser than the pack's rules. A policy may
 * tighten a pack, never loosen it: each issue names the pack and the clause it would break.
 */
export function floorIssues(g: Guardrails, pack: Pack, pathOf: PathOf): FieldIssue[] {
  const out: FieldIssue[] = [];
  const r = pack.rules;
  const cite = (source: string) => `(the floor of rule pack ${pack.pack}, ${source})`;
  const issue = (field: string, message: string, got: string) =>
    out.push({ path: pathOf(field), message, got });
  if (r.contact_hours) {
    const h = r.contact_hours;
    if (minuteOf(g.contact_hours.start) < minuteOf(h.start))
      issue(
        'contact_hours.start',
        `expected ${h.start} or later ${cite(h.source)}`,
        JSON.stringify(g.contact_hours.start),
      );
    if (minuteOf(g.contact_hours.end) > minuteOf(h.end))
      issue(
        'contact_hours.end',
        `expected ${h.end} or earlier ${cite(h.source)}`,
        JSON.stringify(g.contact_hours.end),
      );
  }
  if (r.call_attempts) {
    const c = r.call_attempts;
    if (g.caps.call.attempts > c.max)
      issue(
        'caps.call.attempts',
        `expected at most ${c.max} call attempts ${cite(c.source)}`,
        String(g.caps.call.attempts),
      );
    if (g.caps.call.days < c.days)
      issue(
        'caps.call.days',
        `expected a window of at least ${c.days} days ${cite(c.source)}`,
        String(g.caps.call.days),
      );
  }
  if (r.conversation_cooldown && g.conversation_cooldown_days < r.conversation_cooldown.days)
    issue(
      'conversation_cooldown_days',
      `expected at least ${r.conversation_cooldown.days} days ${cite(r.conversation_cooldown.source)}`,
      String(g.conversation_cooldown_days),
    );
  const connected = r.connected_calls_per_day;
  if (connected && g.connected_calls_per_day !== null && g.connected_calls_per_day > connected.max)
    issue(
      'connected_calls_per_day',
      `expected at most ${connected.max} connected calls a day ${cite(connected.source)}`,
      String(g.connected_calls_per_day),
    );
  return out;
}

/**
 * The most connected calls a day for the accounts of `pack`: the pack's cap, or the policy's where it is
 * tighter; null when neither sets one.
 */
export function connectedCallCap(g: Guardrails, pack: Pack): number | null {
  const p = pack.rules.connected_calls_per_day?.max ?? null;
  const q = g.connected_calls_per_day;
  if (p === null) return q;
  return q === null ? p : Math.min(p, q);
}

const offerFloorCache = new WeakMap<Rules['plan'], Map<string, OfferFloors>>();

/**
 * The offer rules of a plan for the accounts of `pack` (plan-offer.ts `sizeOffer`): forbearance and its debt-advice
 * referral where the pack requires them (or the policy's `plan.forbearance.accounts` is `all`), and the pack's
 * fewest payments. A pack's requirement holds whatever the policy says: `accounts: none` beside such a pack is
 * refused at load (select.ts), and would change nothing here. Built once per plan section and pack.
 */
export function offerFloorsOf(plan: Rules['plan'], pack: Pack): OfferFloors {
  let byPack = offerFloorCache.get(plan);
  if (!byPack) {
    byPack = new Map();
    offerFloorCache.set(plan, byPack);
  }
  let floors = byPack.get(pack.pack);
  if (!floors) {
    const r = pack.rules;
    const forbearance = r.forbearance
      ? `${pack.pack}: ${r.forbearance.source}`
      : plan.forbearance.accounts === 'all'
        ? 'policy: plan.forbearance.accounts all'
        : null;
    const minTerm = r.no_lump_sum
      ? { months: r.no_lump_sum.min_months, source: `${pack.pack}: ${r.no_lump_sum.source}` }
      : null;
    floors = forbearance === null && minTerm === null ? NO_OFFER_FLOORS : { forbearance, minTerm };
    byPack.set(pack.pack, floors);
  }
  return floors;
}

/**
 * The problems of a policy's `plan.forbearance.accounts` (at `path`) against `pack`: `none` switches off what the
 * pack requires, refused naming the pack's clause.
 */
export function planFloorIssues(accounts: unknown, pack: Pack, path: string): FieldIssue[] {
  const rule = pack.rules.forbearance;
  if (!rule || accounts !== 'none') return [];
  return [
    {
      path,
      message: `expected "required" or "all": forbearance in plan offers cannot be switched off (the floor of rule pack ${pack.pack}, ${rule.source})`,
      got: JSON.stringify(accounts),
    },
  ];
}
