import { ARCHIVE_LOOKBACK } from '../core/features/definitions.ts';
import { type BatchItem, decideBatch } from '../core/policy/batch.ts';
import type { CallSlots } from '../core/policy/capacity.ts';
import { decide } from '../core/policy/decide.ts';
import type { Policy } from '../core/policy/load.ts';
import { floorsOf } from '../core/policy/packs/select.ts';
import type { Decision } from '../core/policy/types.ts';
import type { ContactRow } from '../core/schema/tables.ts';
import { type AccountArchive, scoreArchives } from '../core/scoring/score.ts';
import { instantMs } from '../core/time/instant.ts';
import type { DecisionRecord } from '../ledger/contract.ts';
import type { LiveState } from './live-types.ts';
import { withResponses } from './response-scores.ts';

/** One scored account as the API returns it and the batch scorer writes it. */
export interface ScoredAccount {
  decision_id: string;
  account_id: string;
  as_of_date: string;
  decided_at: string;
  scores: { willingness: number; ability: number; expected_recovery: number };
  segment: Decision['segment'];
  treatment: Decision['treatment'];
  channel: Decision['channel'];
  earliest_contact_at: string | null;
  offer: Decision['offer'];
  reason_codes: string[];
  reasons: string[];
  guardrails: string[];
  model_version: string;
  policy_version: string;
  experiment_arm: Decision['experiment_arm'];
  call_team: string | null;
  /** The record handed to the agency with an agency_placement; else null. */
  handover: Decision['handover'];
}

export interface ScoreOptions {
  /** Contacts the ledger holds for these accounts (merged with the archives' own). */
  ledgerContacts?: ReadonlyMap<string, readonly ContactRow[]>;
  /** Call slots left for this batch; undefined = the policy's capacity; null = unlimited. */
  slots?: CallSlots | null;
  /** Field-visit slots left for this batch; undefined = the policy's visit capacity; null = unlimited. */
  visitSlots?: number | null;
  /** Makes decision ids (the adapter passes a UUID factory; tests pass a counter). */
  newId: () => string;
  requestId?: string | null;
  /**
   * Accounts whose customer's request for a human decision stands now (the ledger's review events), with the
   * time of the request: they get `human_review`, never an automated treatment, and take no call slot.
   */
  humanReview?: ReadonlyMap<string, { requested_at: string }>;
}

/**
 * Scores accounts with the live champion and decides them with the live policy, as one batch: the path both the
 * score API and `repayrisk score` take, so a batch and a single account get the same answer for the same time.
 * Returns what to send back and what the ledger must record.
 */
export function scoreAndDecide(
  archives: readonly AccountArchive[],
  state: LiveState,
  now: number,
  opts: ScoreOptions,
): { results: ScoredAccount[]; records: DecisionRecord[] } {
  const merged = archives.map((a) => withLedgerContacts(a, opts.ledgerContacts?.get(a.account.account_id)));
  const scores = withResponses(
    merged,
    scoreArchives(merged, state.champion),
    state.response,
    state.champion.version,
  );
  const shadow = state.challenger ? scoreArchives(merged, state.challenger) : null;
  const items = merged.map((a, i) => ({
    account: a.account,
    scores: scores[i]!,
    contacts: a.contacts as readonly ContactRow[],
  }));
  const decisions = decideWithReviews(items, now, state, opts);
  const results: ScoredAccount[] = [];
  const records: DecisionRecord[] = [];
  decisions.forEach((d, i) => {
    const s = scores[i]!;
    const id = opts.newId();
    const r: ScoredAccount = {
      decision_id: id,
      account_id: d.account_id,
      as_of_date: merged[i]!.account.as_of_date,
      decided_at: d.decided_at,
      scores: { willingness: s.willingness, ability: s.ability, expected_recovery: d.expected.recovery },
      segment: d.segment,
      treatment: d.treatment,
      channel: d.channel,
      earliest_contact_at: d.earliest_contact_at,
      offer: d.offer,
      reason_codes: d.reason_codes,
      reasons: d.reasons,
      guardrails: d.guardrails,
      model_version: state.champion.version,
      policy_version: d.policy_version,
      experiment_arm: d.experiment_arm,
      call_team: d.call_team,
      handover: d.handover,
    };
    results.push(r);
    const sh = shadow?.[i];
    records.push({
      decision_id: id,
      decided_at: r.decided_at,
      account_id: r.account_id,
      as_of_date: r.as_of_date,
      model_version: r.model_version,
      policy_version: r.policy_version,
      experiment_arm: r.experiment_arm,
      willingness: s.willingness,
      ability: s.ability,
      expected_recovery: r.scores.expected_recovery,
      segment: r.segment,
      treatment: r.treatment,
      channel: r.channel,
      earliest_contact_at: r.earliest_contact_at,
      call_team: r.call_team,
      offer: r.offer,
      reason_codes: r.reason_codes,
      reasons: r.reasons,
      guardrails: r.guardrails,
      shadow:
        sh && state.challenger
          ? { model_version: state.challenger.version, willingness: sh.willingness, ability: sh.ability }
          : null,
      request_id: opts.requestId ?? null,
      drivers: s.drivers
        ? { willingness: [...(s.drivers.willingness ?? [])], ability: [...(s.drivers.ability ?? [])] }
        : null,
      ...rulePackOf(state, merged[i]!.account),
    });
  });
  return { results, records };
}

/** The rule pack whose floors the account was decided under (by its region), as the ledger records it. */
function rulePackOf(
  state: LiveState,
  account: AccountArchive['account'],
): { rule_pack: string; rule_pack_version: string } {
  const pack = floorsOf(state.policy.packs, account).pack;
  return { rule_pack: pack.pack, rule_pack_version: pack.version };
}

/**
 * The batch's decisions in input order: accounts with a standing review request are decided on their own with it
 * (`human_review`, no call slot), the others together as one batch (call capacity shared among them).
 */
function decideWithReviews(
  items: readonly BatchItem[],
  now: number,
  state: LiveState,
  opts: ScoreOptions,
): Decision[] {
  const reviews = opts.humanReview;
  if (!reviews?.size) return decideBatch(items, now, state.policy, opts.slots, opts.visitSlots);
  const automated = items.filter((it) => !reviews.has(it.account.account_id));
  const batch = decideBatch(automated, now, state.policy, opts.slots, opts.visitSlots);
  let k = 0;
  return items.map((it) => {
    const review = reviews.get(it.account.account_id);
    if (!review) return batch[k++]!;
    return decide(it.account, it.scores, { now, contacts: it.contacts, humanReview: review }, state.policy);
  });
}

/** The account's contacts plus the ledger's, without counting one attempt twice (same instant, channel, outcome). */
function withLedgerContacts(a: AccountArchive, ledger: readonly ContactRow[] | undefined): AccountArchive {
  if (!ledger?.length) return a;
  const key = (c: { ts: string; channel: string; outcome: string }) =>
    `${instantMs(c.ts)}|${c.channel}|${c.outcome}`;
  const seen = new Set(a.contacts.map(key));
  const extra = ledger.filter((c) => !seen.has(key(c)));
  return extra.length ? { ...a, contacts: [...a.contacts, ...extra] } : a;
}

const DAY_MS = 86_400_000;

/**
 * The instant (ms) from which the ledger's recorded contacts are read for a batch, so the merged history covers
 * both what the features read — ARCHIVE_LOOKBACK.contactsDays before the earliest `as_of_date` in the batch, the
 * same window the archive is asked for — and what the live policy's contact caps and conversation cooldown count
 * back from now (a policy may set a cap window of up to a year).
 */
export function contactHistorySince(policy: Policy, asOfDates: readonly string[], now: number): number {
  const g = policy.guardrails;
  const policyDays = Math.max(g.conversation_cooldown_days, ...Object.values(g.caps).map((c) => c.days));
  let since = now - policyDays * DAY_MS;
  for (const d of asOfDates) since = Math.min(since, Date.parse(d) - ARCHIVE_LOOKBACK.contactsDays * DAY_MS);
  return since;
}

/**
 * Each account's recorded contacts cut to its own window (`contactHistorySince` of its own `as_of_date`), from
 * contacts read once for a batch from the batch's earliest window (`batchSince`): an account decided with others,
 * in a batch request or a micro-batch of concurrent requests, gets the history it would get alone.
 */
export function ownWindows(
  read: ReadonlyMap<string, readonly ContactRow[]>,
  accounts: readonly { account_id: string; as_of_date: string }[],
  policy: Policy,
  now: number,
  batchSince: number,
): Map<string, readonly ContactRow[]> {
  const out = new Map<string, readonly ContactRow[]>();
  for (const a of accounts) {
    const list = read.get(a.account_id);
    if (!list?.length || out.has(a.account_id)) continue;
    const since = contactHistorySince(policy, [a.as_of_date], now);
    out.set(a.account_id, since <= batchSince ? list : list.filter((c) => instantMs(c.ts) >= since));
  }
  return out;
}

/** Call slots left today: the policy's capacity minus what the ledger says is taken; null = unlimited. */
export function remainingSlots(policy: Policy, used: ReadonlyMap<string, number>): CallSlots | null {
  const cap = policy.capacity;
  if (!cap) return null;
  if ('totalSlots' in cap) {
    let taken = 0;
    for (const n of used.values()) taken += n;
    return { kind: 'total', slots: Math.max(0, cap.totalSlots - taken) };
  }
  return {
    kind: 'teams',
    teams: cap.teams.map((t) => ({ name: t.name, slots: Math.max(0, t.slots - (used.get(t.name) ?? 0)) })),
  };
}

/** Field-visit slots left today: the policy's visit capacity minus the visits the ledger holds; null = unlimited. */
export function remainingVisits(policy: Policy, used: number): number | null {
  return policy.visitCapacity ? Math.max(0, policy.visitCapacity.slots - used) : null;
}
