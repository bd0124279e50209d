import type { ReviewEventRecord } from './contract.ts';

/** An account's automated-decision review state at one instant, from its review events. */
export interface ReviewState {
  /** True while a request for a human decision stands. */
  open: boolean;
  /** The time of the earliest request still standing (ISO 8601 UTC), or null when none stands. */
  open_since: string | null;
  /** The requests standing, oldest first (a customer may ask again, through another channel, before anyone acts). */
  open_requests: ReviewEventRecord[];
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Review events in the ledger's order: `ts`, then `event_id` in byte order. */
export function reviewOrder(a: ReviewEventRecord, b: ReviewEventRecord): number {
  return Date.parse(a.ts) - Date.parse(b.ts) || utf8Order(a.event_id, b.event_id);
}

/**
 * The review state of one account at `atMs` (epoch ms): the requests made at or before it that no resolution
 * closed. A resolution closes every request made at or before its own time (the same millisecond included), so a
 * request made after a resolution stands until the next one. Events after `atMs` are not looked at: a decision
 * replayed at its own instant sees the state it was made under.
 */
export function reviewStateAt(events: readonly ReviewEventRecord[], atMs: number): ReviewState {
  let open: ReviewEventRecord[] = [];
  for (const e of [...events].sort(reviewOrder)) {
    if (Date.parse(e.ts) > atMs) break;
    if (e.kind === 'requested') open.push(e);
    else open = [];
  }
  return { open: open.length > 0, open_since: open[0]?.ts ?? null, open_requests: open };
}
