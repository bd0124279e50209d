/**
 * Every reason code a decision can carry, with what it means. Codes are stable (dashboards and audits key on
 * them); the sentence in `Decision.reasons` beside each gives the particulars.
 */
export const REASON_CODES = {
  NOT_DELINQUENT: 'fewer days past due than the policy’s min_days_past_due: hold',
  SUPPRESSED: 'a suppression guardrail holds all collection contact; route to specialist review',
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
  FALLBACK: 'a treatment was blocked by a guardrail or had no lawful channel; the next one is tried',
  HARDSHIP_PLAN: 'legal was blocked for a vulnerable or hardship customer, so a plan offer is tried next',
  CAPACITY_SPILL: 'no human-call slot was left today; the next-best treatment is tried',
  ALL_BLOCKED: 'every collection treatment was blocked today: hold',
  CALL_SLOT: 'a batch gave this call one of the day’s slots (team and the expected gain over the next-best)',
  PREFERRED_CHANNEL: 'the customer’s preferred channel is used',
  CHEAPEST_CHANNEL:
    'the cheapest effective lawful channel is used (preferred one unavailable or not allowed)',
  PLAN_SIZED: 'the plan’s terms, within the customer’s capacity',
  PLAN_ABOVE_CAPACITY: 'even the policy’s most generous plan terms exceed the customer’s capacity',
  CONTACT_NOW: 'now is inside the customer’s contact hours',
  SCHEDULED: 'now is outside the contact hours; the contact is scheduled for the next allowed time',
} as const;
export type ReasonCode = keyof typeof REASON_CODES;
