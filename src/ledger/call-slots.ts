import type { Treatment } from '../core/schema/enums.ts';
import type { CallSlotLimit, DecisionRecord, Ledger } from './contract.ts';
import { LedgerError } from './schema-sql.ts';

/**
 * The capacity check of `Ledger.appendDecisions(rows, answer, limit)`, shared by every store: what the rows take
 * (call slots per team, field-visit slots), whether it fits beside what is used, and the error when it does not.
 */

/** The treatment that takes one of the day's field-visit slots (`CallSlotLimit.visits`). */
export const VISIT_TREATMENT: Treatment = 'field_visit';

/** What is used of the day's capacity since a bound: call slots per team and field visits. */
export interface CapacityUsed {
  calls: ReadonlyMap<string, number>;
  visits: number;
}

/** The field-visit slots `rows` take: one per decision whose treatment is a field visit. */
export function visitsTaken(rows: readonly DecisionRecord[]): number {
  let n = 0;
  for (const r of rows) if (r.treatment === VISIT_TREATMENT) n++;
  return n;
}

/** True when `rows` take something `limit` bounds (a call slot under `limit.slots`, a visit under `limit.visits`). */
export function takesCapacity(rows: readonly DecisionRecord[], limit: CallSlotLimit): boolean {
  return (
    (limit.slots !== undefined && rows.some((r) => r.call_team !== null)) ||
    (limit.visits !== undefined && visitsTaken(rows) > 0)
  );
}

/** The call slots `rows` take, per team (decisions without a `call_team` take none). */
export function slotsTaken(rows: readonly DecisionRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) if (r.call_team !== null) out.set(r.call_team, (out.get(r.call_team) ?? 0) + 1);
  return out;
}

/**
 * Null when `rows` fit the limit beside `used` (call slots per team and visits taken since `limit.sinceMs`);
 * otherwise the `call_slots_taken` error naming the visits, pool or team, its capacity, what is used and what the
 * rows ask. Visits and calls share the error code: either way the caller decides again with what is left.
 */
export function slotShortfall(
  used: CapacityUsed,
  rows: readonly DecisionRecord[],
  limit: CallSlotLimit,
): LedgerError | null {
  if (limit.visits !== undefined) {
    const want = visitsTaken(rows);
    if (want > 0 && used.visits + want > limit.visits)
      return new LedgerError(
        'call_slots_taken',
        `field visits have ${limit.visits} slot(s) today, ${used.visits} already taken: no room for ${want} more; nothing was written (decide again with the slots left)`,
      );
  }
  return limit.slots ? callShortfall(used.calls, rows, limit.slots) : null;
}

function callShortfall(
  used: ReadonlyMap<string, number>,
  rows: readonly DecisionRecord[],
  slots: NonNullable<CallSlotLimit['slots']>,
): LedgerError | null {
  const asked = slotsTaken(rows);
  if (asked.size === 0) return null;
  if (slots.kind === 'total') {
    let inUse = 0;
    for (const n of used.values()) inUse += n;
    let want = 0;
    for (const n of asked.values()) want += n;
    return inUse + want <= slots.slots ? null : taken('the call pool', slots.slots, inUse, want);
  }
  const caps = new Map(slots.teams.map((t) => [t.name, t.slots]));
  for (const [team, want] of asked) {
    const cap = caps.get(team) ?? 0;
    const inUse = used.get(team) ?? 0;
    if (inUse + want > cap) return taken(`team ${team}`, cap, inUse, want);
  }
  return null;
}

function taken(who: string, cap: number, used: number, want: number): LedgerError {
  return new LedgerError(
    'call_slots_taken',
    `${who} has ${cap} call slot(s) today, ${used} already taken: no room for ${want} more; nothing was written (decide again with the slots left)`,
  );
}

/**
 * Runs limited appends one at a time in this process: the single-process stores read the slots used and append
 * inside one turn, so two appends never both spend the last slot. (PostgreSQL does this in the database instead.)
 */
export class SlotTurns {
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `step` after every step queued before it has settled. */
  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.last.then(step);
    this.last = next.catch(() => undefined);
    return next;
  }
}

/**
 * A single-process store's limited append: in one turn, reads what is used since `limit.sinceMs` (`store`'s
 * `callSlotsUsed` and `visitsUsed`), refuses rows that do not fit (`call_slots_taken`, nothing written), else
 * appends.
 */
export function appendWithinLimit(
  turns: SlotTurns,
  rows: readonly DecisionRecord[],
  limit: CallSlotLimit,
  store: Pick<Ledger, 'callSlotsUsed' | 'visitsUsed'>,
  append: () => Promise<void>,
): Promise<void> {
  if (!takesCapacity(rows, limit)) return append();
  return turns.run(async () => {
    const [calls, visits] = await Promise.all([
      store.callSlotsUsed(limit.sinceMs),
      limit.visits === undefined ? 0 : store.visitsUsed(limit.sinceMs),
    ]);
    const short = slotShortfall({ calls, visits }, rows, limit);
    if (short) throw short;
    await append();
  });
}
