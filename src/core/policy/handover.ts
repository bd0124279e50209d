import type { AccountRow, ContactRow } from '../schema/tables.ts';
import { instantMs } from '../time/instant.ts';
import type { Constraints } from './guardrails.ts';
import type { Pack } from './packs/schema.ts';

/**
 * What an agency needs to carry on collecting lawfully where the lender stops (docs/policy.md "The staged flow"):
 * the floors it inherits, what the customer asked for, and how much contact there has been — the caps, cooldowns
 * and the connected-call count run on across the lender and its agencies (cn-2025 counts them together), and the
 * collection process is recorded with the decision (cn-2025's record keeping). JSON-ready.
 */
export interface Handover {
  /** The rule pack (and its version) whose floors the account was collected under. */
  rule_pack: string;
  rule_pack_version: string;
  days_past_due: number;
  /** Currency units. */
  amount_overdue: number;
  balance: number;
  /** The flags that limit collection, as the lender holds them. */
  flags: {
    hardship: boolean;
    vulnerable: boolean;
    do_not_call: boolean;
    complaint_open: boolean;
    phone_valid: boolean;
    email_valid: boolean;
  };
  legal_notice_date: string | null;
  /** Channels not to use now, each with the guardrails that block it (opt-outs, third parties, caps, cooldown …). */
  blocked_channels: { channel: string; guardrails: string[] }[];
  /** Contact attempts in the history the decision saw, by channel. */
  contacts_by_channel: Record<string, number>;
  /** The latest contacts, newest first (at most `LAST_CONTACTS`). */
  last_contacts: { ts: string; channel: string; outcome: string }[];
  /** The last conversation (right party, promise, refusal, dispute): the cooldown runs from it. */
  last_conversation_at: string | null;
  /** Promises to pay whose date (plus the grace days) has not passed. */
  open_promises: { made_at: string; amount: number | null; promise_date: string | null }[];
}

/** How many of the latest contacts a handover lists. */
export const LAST_CONTACTS = 10;
const CONVERSATION = new Set(['right_party', 'promise_to_pay', 'refused', 'dispute']);

/**
 * The record handed over with an agency placement decided at `now` (contacts after `now` are left out). `c` are the
 * account's constraints at `now`; `openPromiseUntil` says whether a promise made at `ts` with date `date` is open.
 */
export function handoverOf(
  account: AccountRow,
  contacts: readonly ContactRow[],
  now: number,
  c: Constraints,
  pack: Pack,
  promiseOpen: (madeMs: number, date: string | null) => boolean,
): Handover {
  const past = contacts
    .map((x) => ({ x, ms: instantMs(x.ts) }))
    .filter((p) => p.ms <= now)
    .sort((a, b) => b.ms - a.ms);
  const byChannel: Record<string, number> = {};
  let lastTalk: string | null = null;
  const promises: Handover['open_promises'] = [];
  for (const { x, ms } of past) {
    byChannel[x.channel] = (byChannel[x.channel] ?? 0) + 1;
    if (lastTalk === null && CONVERSATION.has(x.outcome)) lastTalk = x.ts;
    if (x.outcome === 'promise_to_pay' && promiseOpen(ms, x.promise_date))
      promises.push({ made_at: x.ts, amount: x.promise_amount, promise_date: x.promise_date });
  }
  return {
    rule_pack: pack.pack,
    rule_pack_version: pack.version,
    days_past_due: account.days_past_due,
    amount_overdue: account.amount_overdue,
    balance: account.balance,
    flags: {
      hardship: account.hardship_flag,
      vulnerable: account.vulnerable_flag,
      do_not_call: account.do_not_call,
      complaint_open: account.complaint_open,
      phone_valid: account.phone_valid,
      email_valid: account.email_valid,
    },
    legal_notice_date: account.legal_notice_date,
    blocked_channels: Object.entries(c.channel).map(([channel, hits]) => ({
      channel,
      guardrails: [...new Set((hits ?? []).map((h) => h.name))],
    })),
    contacts_by_channel: byChannel,
    last_contacts: past
      .slice(0, LAST_CONTACTS)
      .map(({ x }) => ({ ts: x.ts, channel: x.channel, outcome: x.outcome })),
    last_conversation_at: lastTalk,
    open_promises: promises,
  };
}
