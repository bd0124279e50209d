import { RepayriskError } from '../errors.ts';
import { brokenPromiseFollowUp, followUpFirst } from '../promises/follow-up.ts';
import { type DecisionTreatment, TREATMENTS, type Treatment } from '../schema/enums.ts';
import type { AccountRow } from '../schema/tables.ts';
import { dayOf } from '../time/dates.ts';
import { isTimeZone, localClock } from '../time/timezone.ts';
import { channelsByCost, chooseChannel } from './channel.ts';
import { expectedValue } from './expected-value.ts';
import { armOf } from './experiment.ts';
import { type Constraints, constraintsFor, type GuardrailHit } from './guardrails.ts';
import { type Handover, handoverOf } from './handover.ts';
import { isoInZoneAt, utcIsoAt } from './instant-memo.ts';
import type { Policy } from './load.ts';
import { offerFloorsOf } from './packs/floors.ts';
import { floorsOf } from './packs/select.ts';
import { type OfferFloors, type PlanOffer, type SizedOffer, sizeOffer } from './plan-offer.ts';
import { type ReasonCode, ruleTexts, scoreText } from './reasons.ts';
import type { PolicyChannel, Rules, Segment } from './schema.ts';
import { type Stage, stageIndexOf, stageReach, stagesOf } from './staging.ts';
import type { DecideContext, Decision, Expected, Scores } from './types.ts';

/**
 * What to do with one account today (DESIGN §6). The strategy (matrix or expected value) ranks the treatments;
 * the guardrails then rule out what is unlawful and the first lawful treatment with a lawful channel wins, so
 * a guardrail always beats the strategy. Pure: the same inputs and `context.now` give the same decision.
 * @throws RepayriskError (invalid_argument) for a score outside [0, 1] or an unknown time zone.
 */
export function decide(
  account: AccountRow,
  scores: Scores,
  context: DecideContext,
  policy: Policy,
): Decision {
  checkInputs(account, scores, context);
  const arm = policy.experiment
    ? armOf(account.account_id, policy.experiment.salt, policy.experiment.challengerShare)
    : null;
  const rules = arm === 'challenger' && policy.challenger ? policy.challenger : policy.champion;
  const segment = segmentOf(scores, rules);
  const out = new DecisionBuilder(account, context.now, segment, rules.mode, policy.version, arm);

  // The account's rule pack (by region) sets its legal floors; the policy's guardrails for that pack apply.
  const floors = floorsOf(policy.packs, account);
  const c = constraintsFor(account, context.contacts, context.now, floors.guardrails, floors.pack);
  // Suppression first: a deceased or bankrupt customer goes to specialist review whatever the arrears.
  if (c.suppressed.length) {
    out.fire(c.suppressed);
    out.say('SUPPRESSED', `no collection contact, route to specialist review: ${details(c.suppressed)}`);
    return out.hold('hold', expectedValue('hold', segment, scores, account.amount_overdue, 0, rules));
  }
  // A person, not automation, decides for a customer who asked for one: the scores and the strategy's suggestion
  // are handed over, and nothing is contacted or escalated automatically.
  if (context.humanReview) {
    const suggestion =
      rules.mode === 'matrix'
        ? matrixPreference(rules, segment, scores, out)
        : valuePreference(account, rules, segment, scores, c, out);
    const right = floors.pack.rules.automated_decision_rights;
    out.fire([
      {
        name: 'human_review',
        detail: `human decision requested at ${context.humanReview.requested_at}${right ? ` (${floors.pack.pack}: ${right.source})` : ''}`,
      },
    ]);
    out.say(
      'HUMAN_REVIEW_REQUESTED',
      `human decision requested at ${context.humanReview.requested_at}: no automated treatment (the strategy would try ${suggestion[0] ?? 'hold'})`,
    );
    return out.humanReview(
      suggestion[0] ?? 'hold',
      expectedValue('hold', segment, scores, account.amount_overdue, 0, rules),
    );
  }
  if (account.days_past_due < rules.min_days_past_due) {
    out.say(
      'NOT_DELINQUENT',
      `${account.days_past_due} days past due, collections start at ${rules.min_days_past_due}`,
    );
    return out.hold('hold', expectedValue('hold', segment, scores, account.amount_overdue, 0, rules));
  }

  let ranked =
    rules.mode === 'matrix'
      ? matrixPreference(rules, segment, scores, out)
      : valuePreference(account, rules, segment, scores, c, out);
  // A promise broken lately is followed up first; the guardrails below still decide what is lawful.
  const followUp = brokenPromiseFollowUp(
    account,
    context.contacts,
    context.payments,
    context.now,
    rules.promises,
    floors.guardrails.promise_grace_days,
  );
  if (followUp) {
    out.say('BROKEN_PROMISE_FOLLOW_UP', followUp.reason);
    ranked = followUpFirst(ranked, followUp.treatments);
  }
  const first = ranked[0] ?? 'hold';
  // The staged flow: which stages the account has reached (computed once, only when a policy stages).
  const stages = stagesOf(rules);
  const reach = stages
    ? stageReach(
        stages,
        context.stageEvidence ? [...context.contacts, ...context.stageEvidence] : context.contacts,
        context.now,
        rules.staging!.tried_within_days,
        (s) => ruledOut(s, account, rules, c),
      )
    : null;
  for (let i = 0; i < ranked.length; i++) {
    const t = ranked[i]!;
    if (t === 'hold') {
      if (i > 0) out.say('ALL_BLOCKED', 'no collection treatment is lawful today: hold');
      return out.hold(first, expectedValue('hold', segment, scores, account.amount_overdue, 0, rules));
    }
    const stage = stages ? stageIndexOf(stages, t) : -1;
    if (stage > 0 && !reach![stage]!.reached) {
      out.say(
        'STAGE_NOT_REACHED',
        `${t} is in stage ${stage + 1} (${stages![stage]!.name}): ${reach![stage]!.why}; trying ${ranked[i + 1] ?? 'hold'}`,
      );
      continue;
    }
    const blocks = c.treatment[t];
    if (blocks) {
      out.fire(blocks);
      const protectedCustomer = t === 'legal' && blocks.some((b) => b.name.endsWith('_no_legal'));
      // "Prefer a plan offer" (DESIGN §6): next in line, even when the policy's lists leave it out.
      const plan = ranked.indexOf('plan_offer');
      const movePlan = protectedCustomer && (plan === -1 || plan > i + 1);
      if (movePlan) {
        if (plan !== -1) ranked.splice(plan, 1);
        ranked.splice(i + 1, 0, 'plan_offer');
      }
      out.say('FALLBACK', `${t} blocked (${details(blocks)}); trying ${ranked[i + 1] ?? 'hold'}`);
      if (movePlan)
        out.say(
          'HARDSHIP_PLAN',
          'never legal for a vulnerable or hardship customer: a plan offer comes first',
        );
      continue;
    }
    if (t === 'human_call' && context.callCapacityExhausted) {
      out.say('CAPACITY_SPILL', `no human-call slot left today; trying ${ranked[i + 1] ?? 'hold'}`);
      continue;
    }
    if (t === 'field_visit' && context.visitCapacityExhausted) {
      out.say('CAPACITY_SPILL', `no field-visit slot left today; trying ${ranked[i + 1] ?? 'hold'}`);
      continue;
    }
    const choice = chooseChannel(t, account.preferred_channel, rules, c);
    out.fire(choice.skipped);
    if (!choice.channel) {
      out.say(
        'FALLBACK',
        `${t} has no lawful channel (${details(choice.skipped)}); trying ${ranked[i + 1] ?? 'hold'}`,
      );
      continue;
    }
    if (stage > 0)
      out.say('STAGE_ESCALATED', `${t}, stage ${stage + 1} (${stages![stage]!.name}): ${reach![stage]!.why}`);
    if (choice.preferred) out.say('PREFERRED_CHANNEL', ruleTexts(rules).preferred[choice.channel]);
    else
      out.say(
        'CHEAPEST_CHANNEL',
        `${choice.channel} is the cheapest effective lawful channel for ${t} (preferred: ${account.preferred_channel})`,
      );
    let offer: PlanOffer | null = null;
    if (t === 'plan_offer') {
      // The account's pack may require forbearance and forbid a lump sum (packs/floors.ts offerFloorsOf).
      const offerFloors = offerFloorsOf(rules.plan, floors.pack);
      const sized = sizeOffer(account, scores.ability, rules.plan, offerFloors);
      sayOffer(out, sized, offerFloors);
      offer = sized.offer;
    }
    const cost = rules.treatments[t].cost + rules.channels[choice.channel].cost;
    const expected = expectedValue(t, segment, scores, account.amount_overdue, cost, rules);
    const handover =
      t === 'agency_placement'
        ? handoverOf(account, context.contacts, context.now, c, floors.pack, (ms, date) =>
            promiseOpen(ms, date, account.timezone, context.now, floors.guardrails.promise_grace_days),
          )
        : null;
    return out.contact(first, t, choice.channel, c, offer, expected, account.timezone, handover);
  }
  return out.hold(first, expectedValue('hold', segment, scores, account.amount_overdue, 0, rules));
}

/**
 * The treatment of a decision made without a review request (backtests and book scoring never pass one).
 * @throws RepayriskError (refused) for `human_review`: a caller that can meet one must handle it itself.
 */
export function automatedTreatment(t: DecisionTreatment): Treatment {
  if (t === 'human_review')
    throw new RepayriskError('refused', 'a human_review decision where no review request can exist');
  return t;
}

/** The matrix cell of the scores: each score is high at or above its threshold. */
export function segmentOf(scores: Scores, rules: Rules): Segment {
  const w = scores.willingness >= rules.segments.willingness_high ? 'high' : 'low';
  const a = scores.ability >= rules.segments.ability_high ? 'high' : 'low';
  return `${w}_willingness_${a}_ability` as Segment;
}

const preferenceCache = new WeakMap<Rules, Map<Segment, readonly Treatment[]>>();

/** Treatments in the order the matrix prefers them: the cell's list, then fallbacks breadth-first, then hold. */
export function matrixOrder(rules: Rules, segment: Segment): readonly Treatment[] {
  let bySegment = preferenceCache.get(rules);
  if (!bySegment) {
    bySegment = new Map();
    preferenceCache.set(rules, bySegment);
  }
  let order = bySegment.get(segment);
  if (!order) {
    const list: Treatment[] = [];
    const queue = [...rules.matrix[segment]];
    while (queue.length) {
      const t = queue.shift()!;
      // A treatment the policy has not enabled is never chosen, even where a fallback list names it.
      if (list.includes(t) || !enabled(rules, t)) continue;
      list.push(t);
      if (t !== 'hold') queue.push(...rules.treatments[t].fallback);
    }
    if (!list.includes('hold')) list.push('hold');
    order = list;
    bySegment.set(segment, order);
  }
  return order;
}

function matrixPreference(rules: Rules, segment: Segment, scores: Scores, out: DecisionBuilder): Treatment[] {
  sayScores(out, scores, rules);
  out.say('MATRIX_CELL', ruleTexts(rules).matrixCell[segment]);
  return [...matrixOrder(rules, segment)];
}

function valuePreference(
  account: AccountRow,
  rules: Rules,
  segment: Segment,
  scores: Scores,
  c: Constraints,
  out: DecisionBuilder,
): Treatment[] {
  sayScores(out, scores, rules);
  // Each treatment is priced on the channel it would actually use, so the ranking and the decision agree.
  const values = TREATMENTS.flatMap((t, i) => {
    if (!enabled(rules, t)) return [];
    let cost = 0;
    if (t !== 'hold') {
      const ch =
        chooseChannel(t, account.preferred_channel, rules, c).channel ?? channelsByCost(t, rules)[0]!;
      cost = rules.treatments[t].cost + rules.channels[ch].cost;
    }
    return [{ t, i, e: expectedValue(t, segment, scores, account.amount_overdue, cost, rules) }];
  }).sort((a, b) => b.e.net - a.e.net || a.i - b.i);
  const [best, next] = values;
  const outside = scores.byTreatment ? (scores.responseOutsideSupport ?? []) : [];
  if (outside.length)
    out.say(
      'RESPONSE_OUTSIDE_SUPPORT',
      `no fitted response used for ${outside.join(', ')}: outside the logged support for such accounts, lift tables used`,
    );
  out.say(
    'EXPECTED_VALUE_BEST',
    `${best!.t} has the largest expected net recovery, ${money(best!.e.net)}` +
      (next ? ` (next: ${next.t}, ${money(next.e.net)})` : ''),
  );
  return values.map((v) => v.t);
}

/** Whether the strategy may choose `t` (hold always; the staged flow's treatments only once enabled). */
export function enabled(rules: Rules, t: Treatment): boolean {
  return t === 'hold' || rules.treatments[t].enabled;
}

/**
 * Why every treatment of `stage` is impossible today (a guardrail blocks it, or none of its channels is lawful),
 * or null when one of them is possible. Call capacity does not rule a stage out: a stage is skipped for the law,
 * never for want of agents.
 */
function ruledOut(stage: Stage, account: AccountRow, rules: Rules, c: Constraints): string | null {
  const why: string[] = [];
  for (const t of stage.treatments) {
    const blocks = c.treatment[t];
    if (blocks) {
      why.push(`${t}: ${[...new Set(blocks.map((b) => b.name))].join(', ')}`);
      continue;
    }
    const choice = chooseChannel(t, account.preferred_channel, rules, c);
    if (choice.channel) return null;
    why.push(`${t}: no lawful channel (${[...new Set(choice.skipped.map((b) => b.name))].join(', ')})`);
  }
  return why.join('; ');
}

/** Whether a promise made at `madeMs` with `date` is open at `now` (its date plus the grace days not past). */
function promiseOpen(
  madeMs: number,
  date: string | null,
  tz: string,
  now: number,
  graceDays: number,
): boolean {
  const due = date === null ? localClock(tz, madeMs).day : dayOf(date);
  return due + graceDays >= localClock(tz, now).day;
}

/**
 * `score ≥ threshold` or `score < threshold` as a reader can check it: three decimals, or as many more (up to
 * nine) as it takes for the printed score to fall on the side of the threshold the comparison says. A
 * willingness of 0.5998 read "0.600 < 0.6".
 */
export function scoreVersus(score: number, threshold: number): string {
  return `${scoreText(score, threshold)} ${score >= threshold ? '≥' : '<'} ${threshold}`;
}

const NO_DRIVERS: readonly string[] = [];

/** The scores against the thresholds, then the drivers; the fixed parts of the texts come from `ruleTexts`. */
function sayScores(out: DecisionBuilder, scores: Scores, rules: Rules): void {
  const { willingness_high: wt, ability_high: at } = rules.segments;
  const texts = ruleTexts(rules);
  out.say(
    scores.willingness >= wt ? 'WILLINGNESS_HIGH' : 'WILLINGNESS_LOW',
    texts.willingness(scores.willingness),
  );
  out.say(scores.ability >= at ? 'ABILITY_HIGH' : 'ABILITY_LOW', texts.ability(scores.ability));
  // The first three of each (index loops: no copy of the lists per decision).
  const w = scores.drivers?.willingness ?? NO_DRIVERS;
  for (let i = 0; i < Math.min(3, w.length); i++)
    out.say('WILLINGNESS_DRIVER', `willingness score driven by ${w[i]}`);
  const a = scores.drivers?.ability ?? NO_DRIVERS;
  for (let i = 0; i < Math.min(3, a.length); i++)
    out.say('ABILITY_DRIVER', `ability score driven by ${a[i]}`);
}

/** The offer's terms in the reasons; the pack's offer rules that changed them fire as guardrails. */
function sayOffer(out: DecisionBuilder, sized: SizedOffer, floors: OfferFloors): void {
  const o = sized.offer;
  const basis = o.capacity_basis === 'declared_income' ? 'declared income' : 'the contractual instalment';
  const f = o.forbearance;
  if (f) {
    const above = `the policy's most generous plan asks ${money(f.plan_payment)} a month, above the capacity of ${money(o.capacity)} from ${basis}`;
    out.fire([{ name: 'forbearance', detail: `${above} (${f.source})` }]);
    out.say(
      f.kind === 'token_payment' ? 'FORBEARANCE_TOKEN_PAYMENT' : 'FORBEARANCE_INTEREST_FREEZE',
      `${f.kind === 'token_payment' ? 'a token payment' : 'a reduced payment'} of ${money(o.monthly_payment)} a month ` +
        `for ${o.term_months} months with interest and charges frozen, ${f.clears_balance ? 'clearing the balance' : 'then a review'}: ` +
        `${above}${o.affordable ? '' : ", and the policy's least token payment is above it"} (${f.source})`,
    );
  } else {
    const terms =
      `${money(o.monthly_payment)} a month for ${o.term_months} months` +
      (o.term_extension_months ? `, ${o.term_extension_months} months' extension` : '') +
      (o.interest_relief ? `, ${Math.round(o.interest_relief * 100)}% of the APR waived` : '');
    if (o.affordable)
      out.say('PLAN_SIZED', `${terms}, within a capacity of ${money(o.capacity)} from ${basis}`);
    else
      out.say(
        'PLAN_ABOVE_CAPACITY',
        `${terms}: the policy's most generous terms still exceed the capacity of ${money(o.capacity)} from ${basis}`,
      );
  }
  if (sized.minTermRaised && floors.minTerm) {
    const why = `never the whole ${money(o.amount)} in fewer than ${floors.minTerm.months} payments (${floors.minTerm.source})`;
    out.fire([{ name: 'no_lump_sum', detail: why }]);
    out.say('NO_LUMP_SUM', `spread over ${o.term_months} payments: ${why}`);
  }
  if (o.debt_advice_referral)
    out.say('DEBT_ADVICE_REFERRAL', `the customer is referred to free debt advice (${floors.forbearance})`);
}

const money = (x: number) => x.toFixed(2);
const details = (hits: readonly GuardrailHit[]) => hits.map((h) => `${h.name}: ${h.detail}`).join('; ');

const SCORE_KEYS = ['willingness', 'ability'] as const;

function checkInputs(account: AccountRow, scores: Scores, context: DecideContext): void {
  for (const k of SCORE_KEYS) {
    const s = scores[k];
    if (!(s >= 0 && s <= 1))
      throw new RepayriskError('invalid_argument', `scores.${k}: expected a probability in [0, 1], got ${s}`);
  }
  if (scores.byTreatment)
    for (const [t, r] of Object.entries(scores.byTreatment))
      for (const k of ['pPay', 'pCover'] as const)
        if (!(r[k] >= 0 && r[k] <= 1))
          throw new RepayriskError(
            'invalid_argument',
            `scores.byTreatment.${t}.${k}: expected a probability in [0, 1], got ${r[k]}`,
          );
  if (!Number.isFinite(context.now))
    throw new RepayriskError(
      'invalid_argument',
      `context.now: expected epoch milliseconds, got ${context.now}`,
    );
  if (!isTimeZone(account.timezone))
    throw new RepayriskError(
      'invalid_argument',
      `account.timezone: expected an IANA time zone (e.g. America/Chicago), got ${JSON.stringify(account.timezone)}`,
    );
}

/** Collects reasons and fired guardrails while `decide` walks the preferences, then shapes the decision. */
class DecisionBuilder {
  private readonly codes: ReasonCode[] = [];
  private readonly reasons: string[] = [];
  private readonly fired: string[] = [];
  constructor(
    private readonly account: AccountRow,
    private readonly now: number,
    private readonly segment: Segment,
    private readonly mode: Rules['mode'],
    private readonly version: string,
    private readonly arm: Decision['experiment_arm'],
  ) {}

  say(code: ReasonCode, text: string): void {
    this.codes.push(code);
    this.reasons.push(text);
  }

  fire(hits: readonly GuardrailHit[]): void {
    for (const h of hits) if (!this.fired.includes(h.name)) this.fired.push(h.name);
  }

  hold(first: Treatment, expected: Expected): Decision {
    return this.build(first, 'hold', null, null, null, expected);
  }

  humanReview(suggestion: Treatment, expected: Expected): Decision {
    return this.build(suggestion, 'human_review', null, null, null, expected);
  }

  contact(
    first: Treatment,
    t: Treatment,
    channel: PolicyChannel,
    c: Constraints,
    offer: PlanOffer | null,
    expected: Expected,
    tz: string,
    handover: Handover | null = null,
  ): Decision {
    // A visit keeps to the visit window inside the contact hours (guardrails.ts `visitWindow`).
    const visit = t === 'field_visit';
    const timing = visit ? c.visitTiming() : { earliestMs: c.earliestMs, outside: c.outsideHours };
    const outside = timing.outside;
    const earliest = timing.earliestMs;
    if (outside) {
      this.fire([outside]);
      this.say('SCHEDULED', `${outside.detail}: first contact at ${isoInZoneAt(tz, earliest, this.now)}`);
    } else this.say('CONTACT_NOW', visit ? 'inside the visit window' : 'inside the customer’s contact hours');
    return this.build(first, t, channel, isoInZoneAt(tz, earliest, this.now), offer, expected, handover);
  }

  private build(
    first: Treatment,
    treatment: DecisionTreatment,
    channel: PolicyChannel | null,
    earliest: string | null,
    offer: PlanOffer | null,
    expected: Expected,
    handover: Handover | null = null,
  ): Decision {
    return {
      account_id: this.account.account_id,
      decided_at: utcIsoAt(this.now),
      treatment,
      channel,
      earliest_contact_at: earliest,
      segment: this.segment,
      mode: this.mode,
      first_choice: first,
      offer,
      expected,
      reason_codes: this.codes,
      reasons: this.reasons,
      guardrails: this.fired,
      policy_version: this.version,
      call_team: null,
      experiment_arm: this.arm,
      handover,
    };
  }
}
