import { POLICY_CHANNELS, type PolicyChannel, type Rules, SEGMENTS, type Segment } from './schema.ts';

/**
 * Every reason code a decision can carry, with what it means. Codes are stable (dashboards and audits key on
 * them); the sentence in `Decision.reasons` beside each gives the particulars.
 */
export const REASON_CODES = {
  NOT_DELINQUENT: 'fewer days past due than the policy’s min_days_past_due: hold',
  SUPPRESSED: 'a suppression guardrail holds all collection contact; route to specialist review',
  HUMAN_REVIEW_REQUESTED:
    'the customer asked for a human decision: no automated treatment, the case goes to a person with the scores and the strategy’s suggestion',
  WILLINGNESS_HIGH: 'the willingness score is at or above segments.willingness_high',
  WILLINGNESS_LOW: 'the willingness score is below segments.willingness_high',
  ABILITY_HIGH: 'the ability score is at or above segments.ability_high',
  ABILITY_LOW: 'the ability score is below segments.ability_high',
  WILLINGNESS_DRIVER:
    'a feature behind the willingness score (from the model’s explanation), strongest first',
  ABILITY_DRIVER: 'a feature behind the ability score, strongest first',
  MATRIX_CELL: 'matrix mode: the segment’s cell and its preference list',
  EXPECTED_VALUE_BEST:
    'expected-value mode: the treatment with the largest expected net recovery, and the runner-up',
  RESPONSE_OUTSIDE_SUPPORT:
    'expected-value mode: the fitted response of these treatments lies outside the logged support for such accounts, so their lift tables were used',
  BROKEN_PROMISE_FOLLOW_UP:
    'a promise to pay broke within the policy’s promises.broken_promise_follow_up_days: its follow-up treatments are tried first',
  FALLBACK: 'a treatment was blocked by a guardrail or had no lawful channel; the next one is tried',
  HARDSHIP_PLAN: 'legal was blocked for a vulnerable or hardship customer, so a plan offer is tried next',
  CAPACITY_SPILL: 'no human-call (or field-visit) slot was left today; the next-best treatment is tried',
  ALL_BLOCKED: 'every collection treatment was blocked today: hold',
  STAGE_NOT_REACHED:
    'staging: the treatment’s stage is not reached (the stage before was neither tried within staging.tried_within_days nor ruled out today); the next one is tried',
  STAGE_ESCALATED:
    'staging: the treatment’s stage is reached, because the stage before was tried lately (the contact named) or is ruled out today (the guardrails named)',
  CALL_SLOT: 'a batch gave this call one of the day’s slots (team and the expected gain over the next-best)',
  VISIT_SLOT:
    'a batch gave this field visit one of the day’s visit slots (visit_capacity; the expected gain over the next-best)',
  PREFERRED_CHANNEL: 'the customer’s preferred channel is used',
  CHEAPEST_CHANNEL:
    'the cheapest effective lawful channel is used (preferred one unavailable or not allowed)',
  PLAN_SIZED: 'the plan’s terms, within the customer’s capacity',
  PLAN_ABOVE_CAPACITY: 'even the policy’s most generous plan terms exceed the customer’s capacity',
  FORBEARANCE_TOKEN_PAYMENT:
    'forbearance (the account’s rule pack, e.g. uk-conc CONC 7.3.5G): the most generous plan exceeds the capacity, so a token payment with interest and charges frozen, then a review',
  FORBEARANCE_INTEREST_FREEZE:
    'forbearance: the most generous plan exceeds the capacity, so a reduced payment of the capacity with interest and charges frozen, then a review or the balance cleared',
  NO_LUMP_SUM:
    'the plan was spread over the rule pack’s fewest payments: never the whole amount at once (uk-conc CONC 7.3.10R)',
  DEBT_ADVICE_REFERRAL: 'the offer refers the customer to free debt advice (uk-conc CONC 7.3.5G)',
  CONTACT_NOW: 'now is inside the customer’s contact hours',
  SCHEDULED: 'now is outside the contact hours; the contact is scheduled for the next allowed time',
} as const;
export type ReasonCode = keyof typeof REASON_CODES;

/**
 * The parts of the reason texts that depend only on the rule set (thresholds, matrix cells, channels), built once
 * per rule set and reused by every decision: a decision then only prints its own numbers (scores, amounts) and
 * joins. The texts are exactly those `decide` wrote when it built them per decision.
 */
export interface RuleTexts {
  /** `willingness 0.666 ≥ 0.6`: the score printed by `scoreVersus` against `segments.willingness_high`. */
  willingness: (score: number) => string;
  /** `ability 0.060 < 0.5`, against `segments.ability_high`. */
  ability: (score: number) => string;
  /** `segment high_willingness_low_ability → plan_offer, then human_call` (MATRIX_CELL), per segment. */
  matrixCell: Readonly<Record<Segment, string>>;
  /** `app is the customer's preferred channel` (PREFERRED_CHANNEL), per channel. */
  preferred: Readonly<Record<PolicyChannel, string>>;
}

const ruleTextCache = new WeakMap<Rules, RuleTexts>();

/** The rule set's fixed reason texts (built on first use, then shared: rule sets are never edited in place). */
export function ruleTexts(rules: Rules): RuleTexts {
  let texts = ruleTextCache.get(rules);
  if (!texts) {
    const { willingness_high: wt, ability_high: at } = rules.segments;
    texts = {
      willingness: versus('willingness', wt),
      ability: versus('ability', at),
      matrixCell: Object.fromEntries(
        SEGMENTS.map((s) => [s, `segment ${s} → ${rules.matrix[s].join(', then ')}`]),
      ) as Record<Segment, string>,
      preferred: Object.fromEntries(
        POLICY_CHANNELS.map((c) => [c, `${c} is the customer's preferred channel`]),
      ) as Record<PolicyChannel, string>,
    };
    ruleTextCache.set(rules, texts);
  }
  return texts;
}

/** `name score ≥ threshold` / `name score < threshold` with both comparison tails built once. */
function versus(name: string, threshold: number): (score: number) => string {
  const above = ` ≥ ${threshold}`;
  const below = ` < ${threshold}`;
  return (score) => `${name} ${scoreText(score, threshold)}${score >= threshold ? above : below}`;
}

/**
 * `score` as a reader can check it against `threshold`: three decimals, or as many more (up to nine) as it takes
 * for the printed score to fall on the side of the threshold the comparison says (a willingness of 0.5998 reads
 * 0.600 only with "< 0.6" beside it, so it is printed 0.5998). Rounding to three decimals moves a score by at most
 * 0.0005, so a score further than 0.001 from the threshold is printed with three without checking.
 */
export function scoreText(score: number, threshold: number): string {
  let digits = 3;
  let text = score.toFixed(digits);
  if (Math.abs(score - threshold) > 0.001) return text;
  const above = score >= threshold;
  while (digits < 9 && Number(text) >= threshold !== above) text = score.toFixed(++digits);
  return text;
}
