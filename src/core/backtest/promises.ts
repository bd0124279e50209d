import type { Segment } from '../policy/schema.ts';
import { SEGMENTS } from '../policy/schema.ts';
import { type MatchedPromise, matchPromises } from '../promises/match.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import type { ContactRow, PaymentRow } from '../schema/tables.ts';
import type { PromiseRate, PromiseRates } from './types.ts';

/** A snapshot's promises are those made in the 30 days after its decision (its outcome window, DESIGN §4). */
export const PROMISE_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** What one replayed snapshot needs to find its promises and what became of them. */
export interface SnapshotPromiseInput {
  /** The account's contacts before the decision (earlier open promises take payments first). */
  contacts: readonly ContactRow[];
  /** Its contacts from the decision to the next snapshot's (a promise belongs to one snapshot only). */
  later: readonly ContactRow[];
  payments: readonly PaymentRow[];
  decisionMs: number;
  /** Up to when payments and promises are known (the account's last decision in the replay). */
  knownUntilMs: number;
  timezone: string;
  /** The account's `promise_grace_days` (its rule pack's guardrails). */
  graceDays: number;
}

/**
 * The promises made in a snapshot's window (from its decision, for `PROMISE_WINDOW_DAYS` days or until the next
 * snapshot's decision), matched to the payments known by `knownUntilMs` (core/promises/match.ts): kept, broken, or
 * still open then.
 */
export function snapshotPromises(s: SnapshotPromiseInput): MatchedPromise[] {
  const end = s.decisionMs + PROMISE_WINDOW_DAYS * DAY_MS;
  const matched = matchPromises([...s.contacts, ...s.later], s.payments, {
    graceDays: s.graceDays,
    now: s.knownUntilMs,
    timezone: s.timezone,
  });
  return matched.filter((p) => {
    const ms = Date.parse(p.made_at);
    return ms >= s.decisionMs && ms < end;
  });
}

interface Counts {
  promises: number;
  kept: number;
  broken: number;
  open: number;
}

const zero = (): Counts => ({ promises: 0, kept: 0, broken: 0, open: 0 });

/**
 * Promise counts by the snapshot's segment and by the treatment logged for it (what was actually done: the
 * promises were made and kept under it, not under a replayed policy's choice).
 */
export class PromiseTally {
  private readonly all = zero();
  private readonly bySegment = new Map<Segment, Counts>();
  private readonly byTreatment = new Map<Treatment, Counts>();

  /** Adds one snapshot's promises; `treatment` null when the snapshot has no logged treatment. */
  add(segment: Segment, treatment: Treatment | null, promises: readonly MatchedPromise[]): void {
    if (!promises.length) return;
    const targets = [this.all, at(this.bySegment, segment)];
    if (treatment) targets.push(at(this.byTreatment, treatment));
    for (const p of promises)
      for (const c of targets) {
        c.promises++;
        c[p.status]++;
      }
  }

  /** The rates: kept / (kept + broken), promises still open left out; null where none was settled. */
  summary(): PromiseRates {
    return {
      window_days: PROMISE_WINDOW_DAYS,
      overall: rate('all', this.all),
      by_segment: SEGMENTS.filter((s) => this.bySegment.has(s)).map((s) => rate(s, this.bySegment.get(s)!)),
      by_treatment: TREATMENTS.filter((t) => this.byTreatment.has(t)).map((t) =>
        rate(t, this.byTreatment.get(t)!),
      ),
    };
  }
}

function at<K>(map: Map<K, Counts>, key: K): Counts {
  let c = map.get(key);
  if (!c) {
    c = zero();
    map.set(key, c);
  }
  return c;
}

function rate(key: string, c: Counts): PromiseRate {
  const settled = c.kept + c.broken;
  return { key, ...c, kept_rate: settled ? c.kept / settled : null };
}
