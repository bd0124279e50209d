import { assignCallSlots, policySlots } from '../policy/batch.ts';
import { channelsByCost } from '../policy/channel.ts';
import { automatedTreatment, decide, segmentOf } from '../policy/decide.ts';
import { responseOf } from '../policy/expected-value.ts';
import type { Policy } from '../policy/load.ts';
import { POLICY_CHANNELS, type PolicyChannel, type Rules, SEGMENTS } from '../policy/schema.ts';
import type { Decision, Scores } from '../policy/types.ts';
import { type ContactChannel, TREATMENTS, type Treatment } from '../schema/enums.ts';
import type { AccountRow, ContactRow, PaymentRow, TruthRow } from '../schema/tables.ts';
import { bucketOfDays } from './buckets.ts';
import { NO_CHANNEL, Tape } from './tape.ts';

/** One snapshot as the replay sees it: the account and history, the model's scores, what was logged, what came. */
export interface ReplayInput {
  account: AccountRow;
  contacts: readonly ContactRow[];
  /**
   * The account's payments, when the history has them: the decision follows up a broken promise with them (the
   * matcher ignores those dated on or after the decision's day, so later ones do not leak in).
   */
  payments?: readonly PaymentRow[];
  scores: Scores;
  logged: { treatment: Treatment; propensity: number } | null;
  /** Paid within 30 days; NaN without an outcome. */
  paid30: number;
  truth: TruthRow | null;
}

const T_INDEX = new Map(TREATMENTS.map((t, i) => [t, i]));
const SEG_INDEX = new Map(SEGMENTS.map((s, i) => [s, i]));
const bin = (p: number) => Math.min(9, Math.max(0, Math.floor(p * 10)));

/** A call decision waiting for the day's slots: its spill alternative and the gain of calling. */
interface CallCandidate {
  index: number;
  date: string;
  gain: number;
  account: AccountRow;
  spill: Decision;
  input: ReplayInput;
}

/** Candidates grouped by snapshot date, in order of first appearance. */
function byDate(candidates: readonly CallCandidate[]): Map<string, CallCandidate[]> {
  const out = new Map<string, CallCandidate[]>();
  for (const c of candidates) {
    const list = out.get(c.date);
    if (list) list.push(c);
    else out.set(c.date, [c]);
  }
  return out;
}

/**
 * Replays one policy (or the logged decisions, `policy` null) over snapshots and keeps, per snapshot, what each
 * estimator makes of the choice. Call capacity applies per snapshot date, across every account of that date, after
 * all snapshots were added (`finish`).
 */
export class PolicyReplay {
  readonly tape = new Tape();
  readonly guardrailHits = new Map<string, number>();
  readonly months: string[] = [];
  private readonly monthIndex = new Map<string, number>();
  private readonly accounts = new Map<string, number>();
  private readonly calls: CallCandidate[] = [];
  private readonly visits: CallCandidate[] = [];
  /**
   * Under a staged policy, each account's replayed contacts so far (channel and instant): later snapshots count
   * them as tried stages (`stageEvidence`), as the history would once the policy ran. Decided before capacity.
   */
  private readonly replayed = new Map<string, { ts: string; channel: ContactChannel }[]>();

  /**
   * @param policy the policy to replay; null replays the logged treatments (the historical policy itself).
   * @param rules the rules whose response model (q̂ for the doubly robust estimator) and costs price a choice
   *   (the policy's own rules; for the logged decisions, the champion's).
   * @param decisionMs the decision instant of a snapshot date.
   */
  constructor(
    readonly policy: Policy | null,
    readonly rules: Rules,
    private readonly decisionMs: (asOfDate: string) => number,
  ) {}

  /** Decides and records a chunk of snapshots. */
  add(inputs: readonly ReplayInput[]): void {
    for (const input of inputs) {
      if (!this.policy) {
        if (!input.logged) continue;
        const t = input.logged.treatment;
        this.record(input, t, this.loggedCost(t), true, null, Number.NaN);
        continue;
      }
      const now = this.decisionMs(input.account.as_of_date);
      const staged = this.policy.champion.staging || this.policy.challenger?.staging;
      const evidence = staged ? this.replayed.get(input.account.account_id) : undefined;
      const context = {
        now,
        contacts: input.contacts,
        ...(input.payments ? { payments: input.payments } : {}),
        ...(evidence ? { stageEvidence: evidence } : {}),
      };
      const d = decide(input.account, input.scores, context, this.policy);
      if (staged && d.channel && d.channel !== 'agency' && d.earliest_contact_at) {
        const list = this.replayed.get(input.account.account_id);
        const attempt = { ts: d.earliest_contact_at, channel: d.channel };
        if (list) list.push(attempt);
        else this.replayed.set(input.account.account_id, [attempt]);
      }
      for (const g of d.guardrails) this.guardrailHits.set(g, (this.guardrailHits.get(g) ?? 0) + 1);
      const index = this.record(
        input,
        automatedTreatment(d.treatment),
        d.expected.cost,
        false,
        d.channel,
        d.expected.recovery,
      );
      // A visit or a call competes for the day's slots; the decision it falls back to without one is kept beside it.
      const limited =
        d.treatment === 'field_visit' && this.policy.visitCapacity
          ? { list: this.visits, exhausted: { visitCapacityExhausted: true } }
          : d.treatment === 'human_call' && this.policy.capacity
            ? { list: this.calls, exhausted: { callCapacityExhausted: true } }
            : null;
      if (limited) {
        const spill = decide(input.account, input.scores, { ...context, ...limited.exhausted }, this.policy);
        limited.list.push({
          index,
          date: input.account.as_of_date,
          gain: d.expected.net - spill.expected.net,
          account: input.account,
          spill,
          input,
        });
      }
    }
  }

  /**
   * Applies the visit capacity, then the call capacity, day by day: visits and calls that get no slot are replaced
   * by their spill decision (a visit's spill that is a call then competes for the call slots).
   */
  finish(): void {
    if (this.policy?.visitCapacity) this.finishVisits(this.policy, this.policy.visitCapacity.slots);
    const slots = this.policy ? policySlots(this.policy) : null;
    if (!slots || !this.policy) return;
    for (const day of byDate(this.calls).values()) {
      const assignment = assignCallSlots(day, slots, this.policy);
      day.forEach((c, k) => {
        if (assignment[k] === null)
          this.write(
            c.index,
            c.input,
            automatedTreatment(c.spill.treatment),
            c.spill.expected.cost,
            false,
            c.spill.channel,
            c.spill.expected.recovery,
          );
      });
    }
    this.calls.length = 0;
  }

  private finishVisits(policy: Policy, slots: number): void {
    for (const day of byDate(this.visits).values()) {
      const assignment = assignCallSlots(day, { kind: 'total', slots }, policy);
      day.forEach((c, k) => {
        if (assignment[k] !== null) return;
        const s = c.spill;
        this.write(
          c.index,
          c.input,
          automatedTreatment(s.treatment),
          s.expected.cost,
          false,
          s.channel,
          s.expected.recovery,
        );
        if (s.treatment !== 'human_call' || !policy.capacity) return;
        const context = {
          now: this.decisionMs(c.input.account.as_of_date),
          contacts: c.input.contacts,
          ...(c.input.payments ? { payments: c.input.payments } : {}),
          callCapacityExhausted: true,
          visitCapacityExhausted: true,
        };
        const next = decide(c.input.account, c.input.scores, context, policy);
        this.calls.push({ ...c, gain: s.expected.net - next.expected.net, spill: next });
      });
    }
    this.visits.length = 0;
  }

  /** Cost of a logged treatment under the champion's prices: handling plus its cheapest channel. */
  private loggedCost(t: Treatment): number {
    if (t === 'hold') return 0;
    const ch = channelsByCost(t, this.rules)[0]!;
    return this.rules.treatments[t].cost + this.rules.channels[ch].cost;
  }

  private record(
    input: ReplayInput,
    t: Treatment,
    cost: number,
    onPolicy: boolean,
    channel: PolicyChannel | null,
    expected: number,
  ): number {
    const i = this.tape.push();
    const tp = this.tape;
    const a = input.account;
    const month = a.as_of_date.slice(0, 7);
    let m = this.monthIndex.get(month);
    if (m === undefined) {
      m = this.months.length;
      this.months.push(month);
      this.monthIndex.set(month, m);
    }
    let acc = this.accounts.get(a.account_id);
    if (acc === undefined) {
      acc = this.accounts.size;
      this.accounts.set(a.account_id, acc);
    }
    tp.segment[i] = SEG_INDEX.get(segmentOf(input.scores, this.rules))!;
    tp.bucket[i] = bucketOfDays(a.days_past_due);
    tp.month[i] = m;
    tp.wBin[i] = bin(input.scores.willingness);
    tp.aBin[i] = bin(input.scores.ability);
    tp.account[i] = acc;
    this.write(i, input, t, cost, onPolicy, channel, expected);
    return i;
  }

  /** Writes what each estimator makes of choosing `t` for snapshot `i`. */
  private write(
    i: number,
    input: ReplayInput,
    t: Treatment,
    cost: number,
    onPolicy: boolean,
    channel: PolicyChannel | null,
    expected: number,
  ): void {
    const tp = this.tape;
    const overdue = input.account.amount_overdue;
    tp.treatment[i] = T_INDEX.get(t)!;
    tp.channel[i] = channel === null ? NO_CHANNEL : POLICY_CHANNELS.indexOf(channel);
    tp.expected[i] = expected;
    tp.cost[i] = cost;
    const truth = input.truth as unknown as Record<string, number> | null;
    if (truth && onPolicy) {
      tp.sim[i] = truth.expected_recovery!;
      tp.simCure[i] = truth.p_pay! * truth.p_cover_given_pay!;
    } else if (truth) {
      tp.sim[i] = truth[`expected_recovery_${t}`]!;
      tp.simCure[i] = truth[`p_pay_${t}`]! * truth[`p_cover_${t}`]!;
    } else {
      tp.sim[i] = Number.NaN;
      tp.simCure[i] = Number.NaN;
    }
    const paid = input.paid30;
    if (!input.logged || !Number.isFinite(paid)) {
      tp.weight[i] = Number.NaN;
      tp.ipw[i] = tp.ipwCure[i] = tp.dr[i] = tp.drCure[i] = Number.NaN;
      return;
    }
    const realised = Math.min(paid, overdue);
    const cured = paid >= overdue - 0.005 ? 1 : 0;
    if (onPolicy) {
      tp.weight[i] = 1;
      tp.ipw[i] = tp.dr[i] = realised;
      tp.ipwCure[i] = tp.drCure[i] = cured;
      return;
    }
    const w = input.logged.treatment === t ? 1 / input.logged.propensity : 0;
    tp.weight[i] = w;
    tp.ipw[i] = w * realised;
    tp.ipwCure[i] = w * cured;
    const seg = segmentOf(input.scores, this.rules);
    const q = (x: Treatment) => {
      const r = responseOf(x, seg, input.scores, this.rules);
      const cover = r.pCover + (1 - r.pCover) * this.rules.response.partial_recovery;
      return { recovery: overdue * r.pPay * cover, cure: r.pPay * r.pCover };
    };
    const chosen = q(t);
    const logged = q(input.logged.treatment);
    tp.dr[i] = chosen.recovery + w * (realised - logged.recovery);
    tp.drCure[i] = chosen.cure + w * (cured - logged.cure);
  }

  /** Distinct accounts seen. */
  get accountCount(): number {
    return this.accounts.size;
  }
}
