/** Enumerations of the data contract (DESIGN §3). One place, so schemas, generator and policy agree. */

export const PRODUCTS = ['card', 'personal_loan', 'bnpl', 'auto'] as const;
export type Product = (typeof PRODUCTS)[number];

export const PREFERRED_CHANNELS = ['sms', 'email', 'app', 'call', 'letter'] as const;
export type PreferredChannel = (typeof PREFERRED_CHANNELS)[number];

export const CONTACT_CHANNELS = ['sms', 'email', 'app', 'call', 'visit', 'letter', 'legal'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

export const CONTACT_OUTCOMES = [
  'delivered',
  'no_answer',
  'right_party',
  'promise_to_pay',
  'refused',
  'dispute',
  'wrong_party',
  // Last, so the codes of the others (features/history.ts) do not move.
  'opt_out',
] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

export const EMPLOYMENT_STATUSES = ['employed', 'self_employed', 'unemployed', 'retired', 'student'] as const;
export type EmploymentStatus = (typeof EMPLOYMENT_STATUSES)[number];

/**
 * What a policy can do with a delinquent account on a day. `hold` = no collection contact. The staged flow's
 * `field_visit` (an agent at the customer's address) and `agency_placement` (the account handed to a collection
 * agency with its record) come last, so the codes of the others (logged treatments, tapes) do not move.
 */
export const TREATMENTS = [
  'hold',
  'gentle_nudge',
  'plan_offer',
  'human_call',
  'legal',
  'field_visit',
  'agency_placement',
] as const;
export type Treatment = (typeof TREATMENTS)[number];

/**
 * What a decision can tell the caller to do: a treatment, or `human_review` — the customer asked that a person,
 * not automation, decide (PIPL art. 24, GDPR art. 22): no automated contact, the case goes to a human with the
 * scores and the strategy's suggestion. Not a treatment: it has no cost, response or channel of its own.
 */
export const DECISION_TREATMENTS = [...TREATMENTS, 'human_review'] as const;
export type DecisionTreatment = (typeof DECISION_TREATMENTS)[number];
