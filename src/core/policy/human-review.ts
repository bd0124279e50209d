/**
 * Automated-decision rights (China PIPL art. 24; GDPR and UK GDPR art. 22): a customer may ask that a person, not
 * automation, decide. The requests and their resolutions are events the ledger records; this module holds their
 * vocabulary and the one rule that turns an account's events into its state at an instant, shared by the score
 * path, the audit read and the ledger's checks.
 */

/** A customer asked for a human decision, or a person closed the requests standing at that time. */
export const REVIEW_EVENT_KINDS = ['requested', 'resolved'] as const;
export type ReviewEventKind = (typeof REVIEW_EVENT_KINDS)[number];

/** Channels a request may come through: those a customer can use, and the lender's web site. */
export const REVIEW_CHANNELS = ['call', 'sms', 'email', 'app', 'web', 'letter', 'visit'] as const;
export type ReviewChannel = (typeof REVIEW_CHANNELS)[number];

/** How a person closed a request: the automated suggestion stands, they decided otherwise, or the customer withdrew. */
export const REVIEW_OUTCOMES = ['upheld', 'changed', 'withdrawn'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

/** What the state rule reads of an event. */
export interface ReviewEventLike {
  event_id: string;
  kind: ReviewEventKind;
  /** ISO 8601 instant. */
  ts: string;
}

/** An account's review state at one instant. */
export interface ReviewState<E extends ReviewEventLike> {
  /** True while a request for a human decision stands. */
  open: boolean;
  /** The time of the earliest standing request (as recorded), or null when none stands. */
  open_since: string | null;
  /** The standing requests, oldest first (a customer may ask again, another way, before anyone acts). */
  open_requests: E[];
}

/** Code point order, which is UTF-8 byte order: how the ledger's stores order ids. */
function codePointOrder(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Review events in the ledger's order: `ts`, then `event_id` in byte order. */
export function reviewOrder(a: ReviewEventLike, b: ReviewEventLike): number {
  return Date.parse(a.ts) - Date.parse(b.ts) || codePointOrder(a.event_id, b.event_id);
}

/**
 * The review state of one account at `atMs` (epoch ms): the requests made at or before it that no resolution
 * closed. A resolution closes every request made at or before its own time (the same millisecond included), so a
 * request made after a resolution stands until the next one. Events after `atMs` are not looked at: a decision at
 * an instant sees the state of that instant.
 */
export function reviewStateAt<E extends ReviewEventLike>(events: readonly E[], atMs: number): ReviewState<E> {
  let open: E[] = [];
  for (const e of [...events].sort(reviewOrder)) {
    if (Date.parse(e.ts) > atMs) break;
    if (e.kind === 'requested') open.push(e);
    else open = [];
  }
  return { open: open.length > 0, open_since: open[0]?.ts ?? null, open_requests: open };
}
