import type { CallSlotLimit, DecisionRecord } from './contract.ts';
import { LedgerError } from './schema-sql.ts';

/**
 * The capacity check of `Ledger.appendDecisions(rows, answer, limit)`, shared by every store: what the rows take,
 * whether it fits beside what is used, and the error when it does not.
 */

/** The call slots `rows` take, per team (decisions without a `call_team` take none). */
export function slotsTaken(rows: readonly DecisionRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) if (r.call_team !== null) out.set(r.call_team, (out.get(r.call_team) ?? 0) + 1);
  return out;
}

/**
 * Null when `rows` fit the limit beside `used` (slots taken since `limit.sinceMs`, per team); otherwise the
 * `call_slots_taken` error naming the pool or team, its capacity, what is used and what the rows ask.
 */
export function slotShortfall(
  used: ReadonlyMap<string, number>,
  rows: readonly DecisionRecord[],
  limit: CallSlotLimit,
): LedgerError | null {
  const asked = slotsTaken(rows);
  if (asked.size === 0) return null;
  if (limit.slots.kind === 'total') {
    let inUse = 0;
    for (const n of used.values()) inUse += n;
    let want = 0;
    for (const n of asked.values()) want += n;
    return inUse + want <= limit.slots.slots ? null : taken('the call pool', limit.slots.slots, inUse, want);
  }
  const caps = new Map(limit.slots.teams.map((t) => [t.name, t.slots]));
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
 * A single-process store's limited append: in one turn, reads the slots used since `limit.sinceMs`, refuses rows
 * that do not fit (`call_slots_taken`, nothing written), else appends.
 */
export function appendWithinLimit(
  turns: SlotTurns,
  rows: readonly DecisionRecord[],
  limit: CallSlotLimit,
  used: (sinceMs: number) => Promise<Map<string, number>>,
  append: () => Promise<void>,
): Promise<void> {
  if (slotsTaken(rows).size === 0) return append();
  return turns.run(async () => {
    const short = slotShortfall(await used(limit.sinceMs), rows, limit);
    if (short) throw short;
    await append();
  });
}
